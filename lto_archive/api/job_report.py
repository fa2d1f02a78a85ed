"""The HTML job report for scripts and the CLI's `--report FILE`: what a write, verify or restore did, for a producer."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import LtoArchiveError
from ..manifest import iso, utc_now
from ..report.job_report import JobContext, write_job_report as _render_to
from ..report.render import check_output
from ..version import __version__

PathLike = str | os.PathLike[str]


def check_report_path(output: PathLike) -> None:
    """A usage error now (before the job runs) when the report could not be written to `output` later."""
    check_output(output, "job report")


def write_job_report(result: Any, output: PathLike, *, command: str = "write", production: str | None = None,
                     operator: str | None = None, targets: Sequence[str] = (), started: float | None = None,
                     finished: float | None = None) -> Path | None:
    """Write the HTML job report of `result` (a WriteResult or ReadResult, its `.to_dict()`, or the
    LtoArchiveError that ended the job before it had one) to `output` ("-": standard output). `started`,
    `finished`: when the command ran (seconds since the epoch; finished: now)."""
    if isinstance(result, LtoArchiveError):
        doc: dict[str, Any] = {"status": "error", **result.to_dict()}
    elif isinstance(result, dict):
        doc = result
    else:
        doc = result.to_dict()
    ctx = JobContext(command=command, production=production, operator=operator, targets=[str(t) for t in targets],
                     started=iso(started) if started is not None else "",
                     finished=iso(utc_now() if finished is None else finished),
                     generator=f"lto-archive {__version__}")
    return _render_to(doc, ctx, output)


__all__ = ["write_job_report", "check_report_path"]
