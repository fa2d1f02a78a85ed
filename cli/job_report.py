"""`--report FILE`: the HTML job report of write, verify and restore, written whatever the job's outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
import time
from pathlib import Path
from typing import Any

import click

import lto_archive
from lto_archive import LtoArchiveError, UsageError


def report_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--report FILE` (parameter `report_path`)."""
    return click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
                        help="Also write an HTML job report to FILE (for a producer: the job, destinations, "
                             "read-back, problems, hashes, times); written even when the job fails.")(f)


class JobOutcome:
    """What the command hands the report: its result once it has one."""

    def __init__(self) -> None:
        self.result: Any = None


@contextmanager
def job_report(path: Path | None, command: str, *, as_json: bool, production: str | None = None,
               operator: str | None = None, targets: Sequence[Any] = ()) -> Iterator[JobOutcome]:
    """Around a command's job: FILE is checked first (a usage error before anything runs), then written from
    the result, or from the error that ended the job. A usage error writes no report."""
    outcome = JobOutcome()
    if path is None:
        yield outcome
        return
    lto_archive.check_report_path(path)
    started = time.time()
    try:
        yield outcome
    except (UsageError, click.ClickException):
        raise
    except (LtoArchiveError, KeyboardInterrupt) as exc:
        what = outcome.result if outcome.result is not None else exc if isinstance(exc, LtoArchiveError) else None
        if what is None:
            what = {"status": "interrupted", "message": "stopped by a signal before the job had a result"}
        _write(what, path, command, as_json, production, operator, targets, started)
        raise
    _write(outcome.result, path, command, as_json, production, operator, targets, started)


def _write(what: Any, path: Path, command: str, as_json: bool, production: str | None, operator: str | None,
           targets: Sequence[Any], started: float) -> None:
    if what is None:
        return
    try:
        lto_archive.write_job_report(what, path, command=command, production=production, operator=operator,
                                     targets=[str(t) for t in targets if t is not None], started=started)
    except (OSError, LtoArchiveError) as exc:     # never hides the job's own outcome
        click.secho(f"warning: the job report {path} could not be written: {exc}", fg="yellow", err=True)
        return
    click.echo(f"job report: {path}", err=as_json)
