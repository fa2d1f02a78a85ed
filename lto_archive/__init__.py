"""lto-archive: write footage to LTO tape in open formats and prove every copy.

The public API (docs/api.md): a script imports `lto_archive` and nothing deeper.
"""

from .version import __version__  # first: the engine's modules read it while the API below is imported
from .api import (
    create_vtape, create_vlib, open_device, open_tape, open_library, format_ltfs,
    Folder, LtfsMount, TapeDevice, Library, Target, MOUNT_PREFIX,
    is_library_spec, is_ltfs, has_data, drive_map, parse_size, write,
    verify, restore, restore_from_catalog, list_files, formats, DEFAULT_ALGORITHMS,
    DEFAULT_LOG_DIR, Progress, ProgressCallback, Manifest, WriteResult, ReadResult,
    Listing, FileEntry, Position, FormatResult, Catalog, CatalogError,
    FileHit, Recorded, RestorePlan, default_path, DEFAULT_CATALOG_HELP, LtoArchiveError,
    ExitCode, UsageError, DeviceError, DeviceNotFound, NoMedium, WriteProtected,
    GenerationError, EndOfMedium, ChangerError, CartridgeNotFound, NoNextCartridge, SourceError,
    UnstorableName, ArchiveError, CorruptArchive, UnsafePath, RestoreConflict, VerificationFailed,
    JobIncomplete,
)

__all__ = [
    "__version__", "create_vtape", "create_vlib", "open_device", "open_tape", "open_library",
    "format_ltfs", "Folder", "LtfsMount", "TapeDevice", "Library", "Target",
    "MOUNT_PREFIX", "is_library_spec", "is_ltfs", "has_data", "drive_map", "parse_size",
    "write", "verify", "restore", "restore_from_catalog", "list_files", "formats",
    "DEFAULT_ALGORITHMS", "DEFAULT_LOG_DIR", "Progress", "ProgressCallback", "Manifest", "WriteResult",
    "ReadResult", "Listing", "FileEntry", "Position", "FormatResult", "Catalog",
    "CatalogError", "FileHit", "Recorded", "RestorePlan", "default_path", "DEFAULT_CATALOG_HELP",
    "LtoArchiveError", "ExitCode", "UsageError", "DeviceError", "DeviceNotFound", "NoMedium",
    "WriteProtected", "GenerationError", "EndOfMedium", "ChangerError", "CartridgeNotFound", "NoNextCartridge",
    "SourceError", "UnstorableName", "ArchiveError", "CorruptArchive", "UnsafePath", "RestoreConflict",
    "VerificationFailed", "JobIncomplete",
]
