"""The rest of the public API, from the library's other parts: Blu-ray/LTO archive certificates (BAF), ASC MHL
folders, reports of what a job holds, AXF-style volume scans and drive surveys. Names that would be ambiguous
beside the rest of the API carry their subject (mhl_, axf_, REPORT_, CERTIFICATE_)."""

from __future__ import annotations

from ..baf import generate_key, load_private_key, load_public_key, verify_certificate
from .custody import issue_certificate      # baf's, with its event in the chain of custody
from ..baf.certificate import FORMATS as CERTIFICATE_FORMATS
from ..baf.certificate import format_for as certificate_format
from ..formats.axf.scan import FAILED as AXF_FAILED
from ..formats.axf.scan import MISSING as AXF_MISSING
from ..formats.axf.scan import PROVEN as AXF_PROVEN
from ..formats.axf.scan import UNPROVEN as AXF_UNPROVEN
from ..formats.axf.scan import ScanReport as AxfScanReport
from ..formats.axf.scan import scan_volume as scan_axf
from ..mhl import CreatorInfo
from ..mhl import VerifyReport as MhlVerifyReport
from ..mhl import create_generation as mhl_create_generation
from ..mhl import verify_tree as mhl_verify_tree
from ..mhl.hashes import MHL_FORMATS
from ..mhl.hashes import check_formats as mhl_check_formats
from ..mhl.model import IN_PLACE as MHL_IN_PLACE
from ..mhl.model import TRANSFER as MHL_TRANSFER
from ..report import FORMATS as REPORT_FORMATS
from ..report import build_report, naming_convention, write_report
from ..tape.scsi import ScsiDevice
from ..tape.scsi.survey import DriveSurvey
from ..tape.scsi.survey import survey as survey_drive

__all__ = [
    "generate_key", "issue_certificate", "load_private_key", "load_public_key", "verify_certificate",
    "CERTIFICATE_FORMATS", "certificate_format",
    "scan_axf", "AxfScanReport", "AXF_PROVEN", "AXF_FAILED", "AXF_UNPROVEN", "AXF_MISSING",
    "CreatorInfo", "MhlVerifyReport", "mhl_create_generation", "mhl_verify_tree", "MHL_FORMATS", "mhl_check_formats",
    "MHL_IN_PLACE", "MHL_TRANSFER",
    "REPORT_FORMATS", "build_report", "naming_convention", "write_report",
    "ScsiDevice", "DriveSurvey", "survey_drive",
]
