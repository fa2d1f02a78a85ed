"""Audits for scripts and the CLI: the catalog's audit policy, what is due (plan), doing it (run) on drives or
libraries, and the report; `now` sets the clock (a simulated year of audits). See docs/audit.md."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..progress import ProgressCallback
from ..audit import (AuditPlan, AuditRun, DriveReach, LibraryReach, Place, Reach, clock, metrics_text, plan_audits,
                     report_document, report_html, run_audits)
from ..catalog.audits import Policy, get_policy, set_policy
from ..errors import LtoArchiveError
from ..fsutil import atomic_write
from .catalog import CatalogArg, catalog_store
from .targets import open_library, open_tape

PathLike = str | os.PathLike[str]
Drives = Mapping[int, str] | Iterable[str] | None


def audit_policy(catalog: CatalogArg = None, **changes: int | None) -> Policy:
    """The catalog's audit policy; with changes (full_months=, sample_months=, sample_files=, drill_files=,
    grace_days=), set first."""
    with catalog_store(catalog) as store:
        assert store is not None
        return set_policy(store, **changes) if any(v is not None for v in changes.values()) else get_policy(store)


@contextmanager
def _reaches(devices: Sequence[str], libraries: Sequence[str], drive_devices: Drives,
             problems: list[dict[str, str]]) -> Iterator[list[Reach]]:
    """The drives and libraries given, opened (one that cannot be is a problem, not an error)."""
    with ExitStack() as stack:
        out: list[Reach] = []
        for spec in libraries:
            try:
                out.append(LibraryReach(spec, stack.enter_context(open_library(spec, drive_devices=drive_devices))))
            except LtoArchiveError as exc:
                problems.append({"where": spec, "why": exc.message})
        for spec in devices:
            try:
                out.append(DriveReach(spec, stack.enter_context(open_tape(spec))))
            except LtoArchiveError as exc:
                problems.append({"where": spec, "why": exc.message})
        yield out


def audit_plan(catalog: CatalogArg = None, *, now: str | datetime | None = None, devices: Sequence[str] = (),
               libraries: Sequence[str] = (), drive_devices: Drives = None) -> AuditPlan:
    """Every cartridge's state at `now` (default: the real time) and what is due, in the order `audit_run` takes
    it: grouped by library (in the order given), loaded cartridges first, the oldest due first."""
    when = clock(now)
    problems: list[dict[str, str]] = []
    with catalog_store(catalog, create=False) as store, _reaches(devices, libraries, drive_devices, problems) as rs:
        assert store is not None
        places: dict[str, Place] = {}
        for r in rs:
            for label, place in r.places(store).items():
                places.setdefault(label, place)
        plan = plan_audits(store, when, places)
    plan.problems = problems
    return plan


def audit_run(catalog: CatalogArg = None, *, devices: Sequence[str] = (), libraries: Sequence[str] = (),
              now: str | datetime | None = None, seed: int | None = None, scratch: PathLike | None = None,
              cartridges: Sequence[str] = (), kind: str | None = None, limit: int | None = None,
              drive_devices: Drives = None, progress: ProgressCallback | None = None) -> AuditRun:
    """Do the audits due at `now` on the cartridges the `devices` hold or the `libraries` load (or those of
    `cartridges`, whatever is due; `kind` 'full' or 'sample'). Every audit and drill is recorded in the catalog
    and its custody log; `seed` (recorded) repeats a run's random choices. `raise_for_status()`: exit 3 when a
    file failed, 5 when a cartridge could not be audited."""
    problems: list[dict[str, str]] = []
    with catalog_store(catalog, create=False) as store, _reaches(devices, libraries, drive_devices, problems) as rs:
        assert store is not None
        run = run_audits(store, rs, now=clock(now), seed=seed, scratch=None if scratch is None else Path(scratch),
                         cartridges=cartridges, kind=kind, limit=limit, progress=progress)
    run.skipped += [{"cartridge": p["where"], "why": p["why"]} for p in problems]
    return run


def audit_report(catalog: CatalogArg = None, *, now: str | datetime | None = None) -> dict[str, Any]:
    """Every cartridge's last proof, what is due, what failed and the drills' times, as of `now`."""
    with catalog_store(catalog, create=False) as store:
        assert store is not None
        return report_document(store, clock(now))


def write_audit_report(doc: dict[str, Any], path: PathLike) -> Path:
    """The report as one self-contained HTML page at `path` (written whole or not at all)."""
    atomic_write(Path(path), report_html(doc))
    return Path(path)


def metrics(catalog: CatalogArg = None, *, now: str | datetime | None = None, days: int = 30,
            output: PathLike | None = None) -> str:
    """The catalog's numbers in the Prometheus text format (cartridges by audit state, bytes archived per day, audit
    age, drill times, drive error counters when health readings exist); `output`: also written there, whole or not
    at all, as node_exporter's textfile collector needs (a .prom file in its folder)."""
    with catalog_store(catalog, create=False) as store:
        assert store is not None
        text = metrics_text(store, clock(now), days=days)
    if output is not None:
        atomic_write(Path(output), text)
    return text


AuditPolicy = Policy

__all__ = ["AuditPolicy", "AuditPlan", "AuditRun", "audit_policy", "audit_plan", "audit_run", "audit_report",
           "write_audit_report", "report_html", "metrics"]
