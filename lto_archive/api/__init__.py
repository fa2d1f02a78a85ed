"""The public API: everything a script needs, from `lto_archive` and nothing deeper (docs/api.md).

    import lto_archive as lto
    with lto.create_vtape("A001", barcode="A00001L9") as a:
        result = lto.write(["/media/card"], [a, lto.Folder("/media/shuttle")])
        result.raise_for_status()
"""

from __future__ import annotations

from ..errors import (ArchiveError, CartridgeNotFound, ChangerError, CorruptArchive, DeviceError, DeviceNotFound,
                      EndOfMedium, ExitCode, GenerationError, JobIncomplete, LtoArchiveError, NoMedium,
                      NoNextCartridge, RestoreConflict, SourceError, UnsafePath, UnstorableName, UsageError,
                      VerificationFailed, WriteProtected)
from ..hashing import DEFAULT_ALGORITHMS
from ..jobs.progress import Progress, ProgressCallback
from ..jobs.write import formats
from ..library import Library
from ..manifest import Manifest
from ..tape import TapeDevice
from ..version import __version__
from .catalog import DEFAULT_CATALOG_HELP, Catalog, CatalogError, FileHit, Recorded, RestorePlan, default_path
from .devices import (MOUNT_PREFIX, Folder, LtfsMount, Target, create_vlib, create_vtape, drive_map, format_ltfs,
                      has_data, is_library_spec, is_ltfs, open_device, open_library, open_tape, parse_size)
from .reading import list_files, restore, restore_from_catalog, verify
from .results import FileEntry, FormatResult, Listing, Position, ReadResult, WriteResult
from .writing import DEFAULT_LOG_DIR, write

__all__ = [
    "__version__",
    # targets
    "create_vtape", "create_vlib", "open_device", "open_tape", "open_library", "format_ltfs", "Folder", "LtfsMount",
    "TapeDevice", "Library", "Target", "MOUNT_PREFIX", "is_library_spec", "is_ltfs", "has_data", "drive_map",
    "parse_size",
    # jobs
    "write", "verify", "restore", "restore_from_catalog", "list_files", "formats", "DEFAULT_ALGORITHMS",
    "DEFAULT_LOG_DIR", "Progress", "ProgressCallback", "Manifest",
    # results
    "WriteResult", "ReadResult", "Listing", "FileEntry", "Position", "FormatResult",
    # catalog
    "Catalog", "CatalogError", "FileHit", "Recorded", "RestorePlan", "default_path", "DEFAULT_CATALOG_HELP",
    # errors
    "LtoArchiveError", "ExitCode", "UsageError", "DeviceError", "DeviceNotFound", "NoMedium", "WriteProtected",
    "GenerationError", "EndOfMedium", "ChangerError", "CartridgeNotFound", "NoNextCartridge", "SourceError",
    "UnstorableName", "ArchiveError", "CorruptArchive", "UnsafePath", "RestoreConflict", "VerificationFailed",
    "JobIncomplete",
]
