"""Digital rushes report (CST RT-030 2.3.2): per clip, the camera, card, reel, scene, shot and take,
file names and sizes, file type, duration, start timecode and frame rate, as CSV, JSON or a
printable HTML page for the lab.

    from lto_archive.report import build_report, write_report
    report = build_report(["/media/A001R1AB"], production="Film", operator="Jane DIT")
    write_report(report, "html", "A001R1AB-report.html")

Technical metadata comes from ffprobe (Debian package ffmpeg); a field that cannot be read is
"not available" with the reason, never guessed.
"""

from .build import build_report
from .clips import ClipGroup, group_clips
from .model import NOT_AVAILABLE, ClipReport, Field, FileEntry, FrameRange, Report
from .naming import DEFAULT_PATTERNS, NamingConvention, naming_convention
from .probe import ProbeInfo, ProbeResult, find_ffprobe, interpret, read_dpx_header, run_ffprobe
from .render import FORMATS, render, render_csv, render_html, render_json, write_report
from .timecode import format_timecode, parse_rate, parse_timecode, rate_display

__all__ = [
    "DEFAULT_PATTERNS", "FORMATS", "NOT_AVAILABLE", "ClipGroup", "ClipReport", "Field", "FileEntry", "FrameRange",
    "NamingConvention", "ProbeInfo", "ProbeResult", "Report", "build_report", "find_ffprobe", "format_timecode",
    "group_clips", "interpret", "naming_convention", "parse_rate", "parse_timecode", "rate_display",
    "read_dpx_header", "render", "render_csv", "render_html", "render_json", "run_ffprobe", "write_report",
]
