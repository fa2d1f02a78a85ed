"""`audit run`: the audits that are due, on the cartridges the given drives hold or the given libraries load.

For each cartridge, in the plan's order (plan.py): a full audit reads the whole cartridge back with the read
engine's verify (every file compared with its session's manifest or LTFS index); a sampled audit reads the
policy's number of files, chosen with the run's seed, by locating straight to each (drill.py). Then a
restore drill restores the policy's number of other random files into a scratch folder, compares them with
the catalog and times each. What was proven goes into the catalog (verifications, the audit and its drill)
and the chain of custody (event "audit"). A cartridge no given drive or library holds is skipped, and said.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..catalog.audits import get_policy, record_audit, sample_candidates
from ..catalog.custody import append
from ..catalog.record import record_read
from ..catalog.store import Catalog
from ..errors import JobIncomplete, LtoArchiveError, UsageError, VerificationFailed
from ..jobs.read import verify_tape
from ..progress import ProgressCallback
from ..problems import summarise
from ..tape.device import TapeDevice
from .clock import iso
from .drill import Reading, cartridge_entries, drill, pick, read_sample
from .plan import CartridgeState, Place, plan_audits
from .reach import Reach

RESULT_OF = {"ok": "ok", "failed": "failed", "damaged": "failed", "incomplete": "incomplete", "refused": "error"}


@dataclass
class AuditOutcome:
    """One cartridge's audit: what was read, what failed, its drill."""

    cartridge: str
    kind: str
    reason: str
    result: str
    files: int
    failures: list[dict[str, Any]]
    seconds: float
    device: str
    seed: int
    drill: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    audit_id: int | None = None
    sampled: list[str] = field(default_factory=list)      # a sample's files (a full audit reads them all)

    def to_dict(self) -> dict[str, Any]:
        return {"cartridge": self.cartridge, "kind": self.kind, "reason": self.reason, "result": self.result,
                "files": self.files, "failed": len(self.failures), "failures": self.failures,
                "seconds": round(self.seconds, 6), "device": self.device, "seed": self.seed, "drill": self.drill,
                "message": self.message, "audit_id": self.audit_id,
                "sampled": self.sampled}


@dataclass
class AuditRun:
    now: datetime
    seed: int
    audited: list[AuditOutcome] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)     # cartridge, why

    @property
    def status(self) -> str:
        results = {a.result for a in self.audited} | {d["result"] for a in self.audited for d in a.drill}
        for worst in ("failed", "error", "incomplete"):
            if worst in results:
                return worst
        return "incomplete" if self.skipped else "ok"

    def raise_for_status(self) -> None:
        """A file that failed: VerificationFailed (exit 3); a cartridge not audited (skipped, a device error, a
        file not proven): JobIncomplete (exit 5)."""
        failed = [f"{a.cartridge}: {f['path'] or f['reason']}" for a in self.audited for f in a.failures
                  if a.result == "failed"]
        failed += [f"{a.cartridge}: drill {d['path']}" for a in self.audited for d in a.drill if d["result"] != "ok"]
        if failed:
            raise VerificationFailed(f"audit: {len(failed)} file(s) FAILED: {'; '.join(failed[:10])}",
                                     files=failed)
        missed = [f"{s['cartridge']}: {s['why']}" for s in self.skipped]
        missed += [f"{a.cartridge}: {a.message or a.result}" for a in self.audited if a.result != "ok"]
        if missed:
            raise JobIncomplete(f"audit: {len(missed)} cartridge(s) not proven: {'; '.join(missed[:10])}",
                                cartridges=missed)

    def to_dict(self) -> dict[str, Any]:
        return {"now": iso(self.now), "seed": self.seed, "status": self.status,
                "audited": [a.to_dict() for a in self.audited], "skipped": self.skipped}


def _full(cat: Catalog, device: TapeDevice, catalogued: list[str], progress: ProgressCallback | None = None) -> Reading:
    """The whole cartridge read back; `files`: the catalogued files it proved or failed (the session's own
    metadata files, on an LTFS volume, are read and judged too, but not counted)."""
    raw = verify_tape(device, progress=progress)
    record_read(cat, raw, device.medium(), "audit")
    failures = [{"path": f["path"], "reason": f.get("reason", "")} for f in raw.failed]
    failures += [{"path": u["path"], "reason": u.get("reason", "unproven")} for u in raw.unproven]
    failures += [{"path": "", "reason": e.message} for e in raw.errors]
    known = set(catalogued)
    files = sum(p in known for t in raw.tape_files for p in t.verified) + len(raw.failed)
    return Reading(files, failures, RESULT_OF.get(raw.status, "error"))


def audit_one(cat: Catalog, item: CartridgeState, device: TapeDevice, *, now: datetime, seed: int, scratch: Path,
              device_name: str = "", progress: ProgressCallback | None = None) -> AuditOutcome:
    """Audit the cartridge `item` names, loaded in `device`; recorded in the catalog and its custody log."""
    policy = get_policy(cat)
    candidates = sample_candidates(cat, item.destination_id)
    kind = item.kind if item.kind == "sample" and candidates else "full"    # nothing to sample: read it all
    start = time.perf_counter()
    message, drilled = "", []
    sampled = [] if kind == "full" else pick(candidates, policy.sample_files, seed, item.label, "sample")
    drilled_paths = pick(candidates, policy.drill_files, seed, item.label, "drill") if policy.drill_files else []
    entries = cartridge_entries(cat, item.destination_id, sampled + drilled_paths)
    try:
        if kind == "full":
            reading = _full(cat, device, candidates, progress)
        else:
            reading = read_sample(cat, item.label, device, sampled, scratch, entries)
        reading.status = RESULT_OF.get(reading.status, reading.status)
        if drilled_paths:
            drilled = drill(cat, item.label, device, drilled_paths, scratch, entries)
    except LtoArchiveError as exc:
        reading, message = Reading(status="error"), exc.message
    seconds = time.perf_counter() - start
    if not message and reading.failures:
        message = summarise((f["path"] or item.label, f["reason"]) for f in reading.failures)
    outcome = AuditOutcome(item.label, kind, item.reason, reading.status, reading.files, reading.failures, seconds,
                           device_name, seed, drilled, message, sampled=sampled)
    outcome.audit_id = record_audit(cat, item.destination_id, at=iso(now), kind=kind, reason=item.reason,
                                    result=reading.status, files=reading.files, failed=len(reading.failures),
                                    seconds=seconds, device=device_name, seed=seed, message=message, drills=drilled)
    append(cat, "audit", item.label, {
        "at": iso(now), "kind": kind, "reason": item.reason, "result": reading.status, "files": reading.files,
        "failed": [f["path"] for f in reading.failures][:50], "seed": seed, "device": device_name,
        "sampled": sampled,
        "drill": [{"path": d["path"], "result": d["result"], "seconds": d["seconds"]} for d in drilled]})
    return outcome


def _chosen(cat: Catalog, now: datetime, places: dict[str, Place], cartridges: Sequence[str], kind: str | None,
            ) -> list[CartridgeState]:
    plan = plan_audits(cat, now, places)
    if not cartridges:
        return [c for c in plan.due if kind is None or c.kind == kind]
    by_name = {c.label.upper(): c for c in plan.cartridges}
    out = []
    for name in cartridges:
        row = cat.find_destination(barcode=name, volume_uuid=name, label=name)
        item = by_name.get(str(row["label"]).upper()) if row else by_name.get(name.upper())
        if item is None:
            raise UsageError(f"no cartridge {name!r} with catalogued files (see: lto-archive audit plan)",
                             cartridge=name)
        item.kind, item.reason = kind or "full", "asked"
        out.append(item)
    return out


def run_audits(cat: Catalog, reaches: Sequence[Reach], *, now: datetime, seed: int | None = None,
               scratch: Path | None = None, cartridges: Sequence[str] = (), kind: str | None = None,
               limit: int | None = None, progress: ProgressCallback | None = None) -> AuditRun:
    """The audits due at `now` (or those of `cartridges`, of `kind`), on what the `reaches` hold."""
    seed = random.SystemRandom().randrange(1 << 32) if seed is None else seed
    places: dict[str, Place] = {}
    owner: dict[str, Reach] = {}
    for reach in reaches:
        for label, place in reach.places(cat).items():
            places.setdefault(label, place)
            owner.setdefault(label, reach)
    run = AuditRun(now, seed)
    scratch = Path(scratch) if scratch is not None else Path(tempfile.gettempdir())
    for item in _chosen(cat, now, places, cartridges, kind)[:limit]:
        found = owner.get(item.label)
        if found is None:
            run.skipped.append({"cartridge": item.label, "why": "in no drive or library given: load it, or give "
                                "its library (--library)"})
            continue
        try:
            device = found.open(item.label)
        except LtoArchiveError as exc:
            run.skipped.append({"cartridge": item.label, "why": exc.message})
            continue
        try:
            run.audited.append(audit_one(cat, item, device, now=now, seed=seed, scratch=scratch,
                                         device_name=found.name, progress=progress))
        finally:
            found.done(device)
    return run


__all__ = ["AuditOutcome", "AuditRun", "audit_one", "run_audits", "RESULT_OF"]
