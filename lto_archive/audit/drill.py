"""Reading chosen files of one cartridge: a sampled audit, and a restore drill timed file by file.

Both locate straight to each file through the catalog (jobs/catalog_restore.py: the read engine's catalog
restore, which hashes every byte read and compares it with the catalog's hashes), and record what they
proved as verifications. The files are picked with a seeded random generator (`pick`), so a run is
repeated exactly by giving its recorded seed. A drill then hashes each restored file again from the scratch
folder and compares it with the catalog: the file a person would get back is the file that was archived.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog.audits import copies_on
from ..catalog.search import CartridgePlan, PlanEntry, RestorePlan
from ..catalog.store import Catalog
from ..errors import LtoArchiveError
from ..hashing import MultiHasher
from ..jobs.catalog_restore import restore_from_plan
from ..tape.device import TapeDevice

CHUNK = 1 << 20


def pick(candidates: list[str], count: int, seed: int, label: str, what: str) -> list[str]:
    """`count` of the candidates, chosen by a generator seeded with the run's seed, the cartridge and the purpose
    (the same seed picks the same files again)."""
    rng = random.Random(f"{seed}:{label}:{what}")
    return sorted(rng.sample(candidates, min(count, len(candidates))))


def cartridge_entries(cat: Catalog, destination_id: int, paths: list[str]) -> dict[str, PlanEntry]:
    """These files as the catalog restore locates them on this cartridge (path -> its copy here; the newest job's
    when a path was written twice), whatever other copies exist: an audit reads this cartridge, never a
    better copy elsewhere."""
    out: dict[str, PlanEntry] = {}
    for c in copies_on(cat, destination_id, paths):
        if c["path"] not in out:
            out[c["path"]] = PlanEntry(c["path"], c["size"], c["mtime"], c["hashes"], c["session_id"], c["format"],
                                       c["tape_file"], c["partition"], c["block"], c["block_offset"],
                                       c["header_offset"], c["record_size"], c["job_start_block"], c["status"], None)
    return out


def cartridge_plan(cat: Catalog, label: str, entries: list[PlanEntry]) -> RestorePlan:
    """A catalog restore's plan of these entries, all from this cartridge, in tape order."""
    plan = RestorePlan()
    row = cat.find_destination(label=label) or {}
    plan.tapes = {label: {"location": row.get("location") or "", "volume_uuid": row.get("volume_uuid"),
                          "generation": row.get("generation"), "formats": sorted({e.format for e in entries})}}
    plan.loaded = [label]
    plan.append(CartridgePlan(label, sorted(entries, key=lambda e: (e.position, e.path))))
    return plan


@dataclass
class Reading:
    """What reading chosen files proved: files read, those that failed (path, reason)."""

    files: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ok"


def read_sample(cat: Catalog, label: str, device: TapeDevice, paths: list[str], scratch: Path,
                entries: dict[str, PlanEntry]) -> Reading:
    """Read these files of the cartridge in `device` (restored into a scratch folder, then removed)."""
    plan = cartridge_plan(cat, label, [entries[p] for p in paths if p in entries])
    where = Path(tempfile.mkdtemp(prefix="audit-sample-", dir=scratch))
    try:
        result = restore_from_plan(plan, lambda _: device, where, overwrite=True, catalog=cat, who="audit")
    finally:
        shutil.rmtree(where, ignore_errors=True)
    found = {e.path for c in plan for e in c.entries}
    failures = [{"path": f["path"], "reason": f.get("reason", "")} for f in result.failed]
    failures += [{"path": p, "reason": "no copy on this cartridge the catalog can read"} for p in paths
                 if p not in found]
    failures += [{"path": u["path"], "reason": u.get("reason", "unproven")} for u in result.unproven]
    status = "failed" if failures else result.status
    return Reading(len(result.verified) + len(result.failed), failures, status)


def _hash_on_disk(path: Path, hashes: dict[str, str]) -> str:
    """'' when the file on disk has the catalog's hashes, else why not."""
    if not path.is_file():
        return "not restored"
    hasher = MultiHasher(sorted(hashes))
    with open(path, "rb") as fp:
        while chunk := fp.read(CHUNK):
            hasher.update(chunk)
    bad = [a for a, h in hasher.hexdigests().items() if h != hashes[a]]
    return f"restored file's {', '.join(bad)} differs from the catalog" if bad else ""


def drill(cat: Catalog, label: str, device: TapeDevice, paths: list[str], scratch: Path,
          entries: dict[str, PlanEntry]) -> list[dict[str, Any]]:
    """Restore each file on its own into a scratch folder, compare it with the catalog, time it (seconds from
    the locate to the compared file on disk); one dict per file: path, bytes, seconds, result, message."""
    where = Path(tempfile.mkdtemp(prefix="audit-drill-", dir=scratch))
    out = []
    try:
        for path in paths:
            entry = entries.get(path)
            if entry is None:
                out.append({"path": path, "bytes": 0, "seconds": 0.0, "result": "failed",
                            "message": "no copy on this cartridge the catalog can read"})
                continue
            start = time.perf_counter()
            try:
                result = restore_from_plan(cartridge_plan(cat, label, [entry]), lambda _: device, where,
                                           overwrite=True, catalog=cat, who="audit")
                why = "; ".join(f["reason"] for f in [*result.failed, *result.unproven]) or \
                    _hash_on_disk(where / path, entry.hashes)
            except LtoArchiveError as exc:
                why = exc.message
            seconds = time.perf_counter() - start
            out.append({"path": path, "bytes": entry.size, "seconds": round(seconds, 6),
                        "result": "failed" if why else "ok", "message": why})
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return out


__all__ = ["pick", "cartridge_entries", "cartridge_plan", "Reading", "read_sample", "drill"]
