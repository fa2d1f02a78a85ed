"""lto-archive: write footage to LTO tape in open formats and prove every copy.

The public API (docs/api.md): a script imports `lto_archive` and nothing deeper. The names below come from
`lto_archive.api` (and the bench and demo entry points), imported on first use: importing one part of the
library (`lto_archive.tape`, say) stays cheap and never loads the rest through this package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .api import (
        create_vtape, create_vlib, open_device, open_tape, open_library, format_ltfs, check_ltfs,
        recover_ltfs, LtfsReport, Folder, LtfsMount, TapeDevice, Library, LibraryStatus, DriveInfo, SlotInfo,
        Target, MOUNT_PREFIX, is_library_spec, is_ltfs, has_data, partition_room, drive_map, parse_size, parse_capacity, write, verify,
        restore, restore_from_catalog, list_files, archive_formats, DEFAULT_ALGORITHMS, DEFAULT_LOG_DIR,
        Progress, DestinationProgress, ProgressCallback, Manifest, WriteResult, ReadResult, Listing, FileEntry, Position,
        FormatResult, place_text, Catalog, CatalogError, verify_custody_log, make_paperwork, open_paperwork, FileHit, Recorded, RestorePlan, default_path,
        DEFAULT_CATALOG_HELP, generate_key, issue_certificate, load_private_key, load_public_key,
        verify_certificate, CERTIFICATE_FORMATS, certificate_format, scan_axf, AxfScanReport, AXF_PROVEN,
        AXF_FAILED, AXF_UNPROVEN, AXF_MISSING, CreatorInfo, MhlVerifyReport, mhl_create_generation,
        mhl_verify_tree, MHL_FORMATS, mhl_check_formats, MHL_IN_PLACE, MHL_TRANSFER, REPORT_FORMATS,
        build_report, naming_convention, write_report, ScsiDevice, DriveSurvey, survey_drive,
        LtoArchiveError, ExitCode, UsageError, DeviceError, DeviceNotFound, NoMedium, WriteProtected,
        GenerationError, EndOfMedium, ChangerError, CartridgeNotFound, DriveFull, SlotFull, EmptySlot,
        NoNextCartridge, SourceError, UnstorableName, ArchiveError, CorruptArchive, UnsafePath,
        RestoreConflict, VerificationFailed, JobIncomplete, Interrupted,
        write_job_report, check_report_path,
        copy_catalog, migrate_catalog,
        migrate, migrations, Migration, export_cartridge, import_cartridge,
        QueueNode, submit_job, run_queue_worker, list_queued_jobs, show_queued_job, cancel_queued_job, queued_job_queue,
        audit_policy, audit_plan, audit_run, audit_report, write_audit_report, AuditPolicy, AuditPlan, AuditRun,
        metrics,
        HealthReport, cartridge_health, read_cartridge_health, health_flags, record_health_readings, health_summary,
        record_load_health,
    )
    from .bench import run_benchmark
    from .bench_ltfs import run_index_benchmark
    from .bench_million import run_million_benchmark
    from .demo import make_sample_card
    from .web import add_web_user, create_app, remove_web_user, serve_web, web_users

__all__ = [
    "__version__",
    "create_vtape", "create_vlib", "open_device", "open_tape", "open_library", "format_ltfs", "check_ltfs",
    "recover_ltfs", "LtfsReport", "Folder", "LtfsMount", "TapeDevice", "Library", "LibraryStatus",
    "DriveInfo", "SlotInfo", "Target", "MOUNT_PREFIX", "is_library_spec", "is_ltfs", "has_data", "partition_room",
    "drive_map",
    "parse_size", "parse_capacity", "write", "verify", "restore", "restore_from_catalog", "list_files", "archive_formats",
    "DEFAULT_ALGORITHMS", "DEFAULT_LOG_DIR", "Progress", "DestinationProgress", "ProgressCallback", "Manifest", "WriteResult",
    "ReadResult", "Listing", "FileEntry", "Position", "FormatResult", "place_text", "Catalog",
    "CatalogError", "verify_custody_log", "make_paperwork", "open_paperwork", "FileHit", "Recorded", "RestorePlan", "default_path", "DEFAULT_CATALOG_HELP",
    "generate_key", "issue_certificate", "load_private_key", "load_public_key", "verify_certificate",
    "CERTIFICATE_FORMATS", "certificate_format", "scan_axf", "AxfScanReport", "AXF_PROVEN", "AXF_FAILED",
    "AXF_UNPROVEN", "AXF_MISSING", "CreatorInfo", "MhlVerifyReport", "mhl_create_generation",
    "mhl_verify_tree", "MHL_FORMATS", "mhl_check_formats", "MHL_IN_PLACE", "MHL_TRANSFER", "REPORT_FORMATS",
    "build_report", "naming_convention", "write_report", "ScsiDevice", "DriveSurvey", "survey_drive",
    "LtoArchiveError", "ExitCode", "UsageError", "DeviceError", "DeviceNotFound", "NoMedium",
    "WriteProtected", "GenerationError", "EndOfMedium", "ChangerError", "CartridgeNotFound", "DriveFull",
    "SlotFull", "EmptySlot", "NoNextCartridge", "SourceError", "UnstorableName", "ArchiveError",
    "CorruptArchive", "UnsafePath", "RestoreConflict", "VerificationFailed", "JobIncomplete",
    "Interrupted", "make_sample_card", "run_benchmark", "run_index_benchmark", "run_million_benchmark",
    "write_job_report", "check_report_path",
    "copy_catalog", "migrate_catalog",
    "migrate", "migrations", "Migration", "export_cartridge", "import_cartridge",
    "QueueNode", "submit_job", "run_queue_worker", "list_queued_jobs", "show_queued_job", "cancel_queued_job",
    "queued_job_queue",
    "create_app", "serve_web", "add_web_user", "remove_web_user", "web_users",
    "audit_policy", "audit_plan", "audit_run", "audit_report", "write_audit_report", "AuditPolicy", "AuditPlan",
    "AuditRun", "metrics",
    "HealthReport", "cartridge_health", "read_cartridge_health", "health_flags", "record_health_readings",
    "health_summary", "record_load_health",
]

_HOME = {name: f"{__name__}.api" for name in __all__[1:]} | {
    "make_sample_card": f"{__name__}.demo",
    **{n: f"{__name__}.web" for n in ("create_app", "serve_web", "add_web_user", "remove_web_user", "web_users")},
    "run_benchmark": f"{__name__}.bench",
    "run_index_benchmark": f"{__name__}.bench_ltfs",
    "run_million_benchmark": f"{__name__}.bench_million",
}


def __getattr__(name: str) -> Any:
    """A public name, from the module that defines it, on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
