"""The public API: everything a script needs, from `lto_archive` and nothing deeper (docs/api.md).

    import lto_archive as lto
    with lto.create_vtape("A001", barcode="A00001L9") as a:
        result = lto.write(["/media/card"], [a, lto.Folder("/media/shuttle")])
        result.raise_for_status()
"""

from __future__ import annotations

from ..errors import (ArchiveError, CartridgeNotFound, ChangerError, CorruptArchive, DeviceError, DeviceNotFound,
                      DriveFull, EmptySlot, EndOfMedium, ExitCode, SlotFull, GenerationError, Interrupted, JobIncomplete, LtoArchiveError, NoMedium,
                      NoNextCartridge, RestoreConflict, SourceError, UnsafePath, UnstorableName, UsageError,
                      VerificationFailed, WriteProtected)
from ..hashing import DEFAULT_ALGORITHMS
from ..progress import DestinationProgress, Progress, ProgressCallback
from ..jobs.write import formats as archive_formats
from ..library import DriveInfo, Library, LibraryStatus, SlotInfo
from ..manifest import Manifest
from ..tape import TapeDevice
from ..version import __version__
from .catalog import (DEFAULT_CATALOG_HELP, Catalog, CatalogError, FileHit, Recorded, RestorePlan, default_path,
                      verify_custody_log)
from .catalog import export_cartridge, import_cartridge
from .targets import (MOUNT_PREFIX, Folder, LtfsMount, Target, create_vlib, create_vtape, drive_map, is_library_spec,
                      open_device, open_library, open_tape, parse_capacity, parse_size, partition_room)
from .ltfs import LtfsReport, check_ltfs, format_ltfs, has_data, is_ltfs, recover_ltfs
from .reading import list_files, restore, restore_from_catalog, verify
from .results import FileEntry, FormatResult, Listing, Position, ReadResult, WriteResult, place_text
from .tools import (AXF_FAILED, AXF_MISSING, AXF_PROVEN, AXF_UNPROVEN, CERTIFICATE_FORMATS, MHL_FORMATS, MHL_IN_PLACE,
                    MHL_TRANSFER, REPORT_FORMATS, AxfScanReport, CreatorInfo, DriveSurvey, MhlVerifyReport, ScsiDevice,
                    build_report, certificate_format, generate_key, issue_certificate, load_private_key,
                    load_public_key, mhl_check_formats, mhl_create_generation, mhl_verify_tree, naming_convention,
                    scan_axf, survey_drive, verify_certificate, write_report)
from .paperwork import make_paperwork, open_paperwork
from .catalog import copy_catalog, migrate_catalog
from .migrate import Migration, migrate, migrations
from .queue import (QueueNode, cancel_queued_job, list_queued_jobs, queued_job_queue, run_queue_worker,
                    show_queued_job, submit_job)
from .health import (HealthReport, cartridge_health, health_flags, health_summary, read_cartridge_health,
                     record_health_readings, record_load_health)
from .writing import DEFAULT_LOG_DIR, write
from .job_report import check_report_path, write_job_report
from .audit import (AuditPlan, AuditPolicy, AuditRun, audit_plan, audit_policy, audit_report, audit_run, metrics,
                    write_audit_report)

__all__ = [
    "__version__",
    # targets
    "create_vtape", "create_vlib", "open_device", "open_tape", "open_library", "format_ltfs", "check_ltfs",
    "recover_ltfs", "LtfsReport", "Folder", "LtfsMount",
    "TapeDevice", "Library", "LibraryStatus", "DriveInfo", "SlotInfo", "Target", "MOUNT_PREFIX", "is_library_spec", "is_ltfs", "has_data",
    "partition_room", "drive_map",
    "parse_size", "parse_capacity",
    # jobs
    "write", "verify", "restore", "restore_from_catalog", "list_files", "archive_formats", "DEFAULT_ALGORITHMS",
    "DEFAULT_LOG_DIR", "DestinationProgress", "Progress", "ProgressCallback", "Manifest", "write_job_report",
    "check_report_path", "migrate", "migrations", "Migration", "export_cartridge", "import_cartridge",
    # results
    "WriteResult", "ReadResult", "Listing", "FileEntry", "Position", "FormatResult", "place_text",
    # catalog
    "Catalog", "CatalogError", "verify_custody_log", "make_paperwork", "open_paperwork", "FileHit", "Recorded", "RestorePlan", "default_path", "DEFAULT_CATALOG_HELP",
    "copy_catalog", "migrate_catalog",
    "QueueNode", "submit_job", "run_queue_worker", "list_queued_jobs", "show_queued_job", "cancel_queued_job",
    "queued_job_queue",
    # certificates, ASC MHL, reports, AXF scans, drives
    "generate_key", "issue_certificate", "load_private_key", "load_public_key", "verify_certificate",
    "CERTIFICATE_FORMATS", "certificate_format", "scan_axf", "AxfScanReport", "AXF_PROVEN", "AXF_FAILED",
    "AXF_UNPROVEN", "AXF_MISSING", "CreatorInfo", "MhlVerifyReport", "mhl_create_generation", "mhl_verify_tree",
    "MHL_FORMATS", "mhl_check_formats", "MHL_IN_PLACE", "MHL_TRANSFER", "REPORT_FORMATS", "build_report",
    "naming_convention", "write_report", "ScsiDevice", "DriveSurvey", "survey_drive",
    # health (docs/health.md)
    "HealthReport", "cartridge_health", "read_cartridge_health", "health_flags", "record_health_readings",
    "health_summary", "record_load_health",
    # errors
    "LtoArchiveError", "ExitCode", "UsageError", "DeviceError", "DeviceNotFound", "NoMedium", "WriteProtected",
    "GenerationError", "EndOfMedium", "ChangerError", "CartridgeNotFound", "DriveFull", "SlotFull", "EmptySlot", "NoNextCartridge", "SourceError",
    "UnstorableName", "ArchiveError", "CorruptArchive", "UnsafePath", "RestoreConflict", "VerificationFailed",
    "JobIncomplete", "Interrupted",
    # audits
    "audit_policy", "audit_plan", "audit_run", "audit_report", "write_audit_report", "AuditPolicy", "AuditPlan",
    "AuditRun", "metrics",
]
