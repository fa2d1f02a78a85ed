"""The catalog's chain of custody: every event appended to a hash-chained log (lto_archive/chain.py).

Appending reads the head and inserts the next entry in one write transaction, so concurrent writers
(several jobs recording at once) extend one chain and never fork it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..chain import CHECKPOINT, canonical, checkpoint_data, link
from ..manifest import CHANGED, OK, READ_ERROR, iso, utc_now
from .store import Catalog

EVENTS = ("write", "verify", "restore", "audit", "migration", "certificate", "location", "library-import",
          "library-export", "catalog-import", CHECKPOINT)


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    seq, at, event, subject, data, prev, hash_ = row
    return {"seq": seq, "at": at, "event": event, "subject": subject, "data": json.loads(data), "prev": prev,
            "hash": hash_}


def head(cat: Catalog) -> dict[str, Any] | None:
    row = cat.conn.execute("SELECT seq, at, event, subject, data, prev, hash FROM custody "
                           "ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else _entry(row)


def append(cat: Catalog, event: str, subject: str, data: dict[str, Any], *, at: str | None = None) -> dict[str, Any]:
    """Add one event at the end of the chain; the entry as stored."""
    if event not in EVENTS:
        raise ValueError(f"unknown custody event {event!r}")
    with cat.transaction():
        entry = link(head(cat), at or iso(utc_now()), event, subject, data)
        cat.conn.execute("INSERT INTO custody(seq, at, event, subject, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (entry["seq"], entry["at"], entry["event"], entry["subject"],
                          json.dumps(entry["data"], sort_keys=True, ensure_ascii=False), entry["prev"], entry["hash"]))
    return entry


def append_checkpoint(cat: Catalog, sign: Any = None, *, at: str | None = None) -> dict[str, Any]:
    """A checkpoint naming the head; `sign(message: bytes) -> str` adds a signature over what it states."""
    with cat.transaction():
        stated = checkpoint_data(head(cat))
        data = dict(stated, **({"signature": sign(canonical(stated))} if sign is not None else {}))
        entry = append(cat, CHECKPOINT, "catalog", data, at=at)
    return entry


def entries(cat: Catalog, *, subject: str | None = None) -> Iterator[dict[str, Any]]:
    """The chain in order (every entry, or those about one subject)."""
    sql = "SELECT seq, at, event, subject, data, prev, hash FROM custody"
    args: tuple[Any, ...] = ()
    if subject is not None:
        sql += " WHERE subject = ?"
        args = (subject,)
    for row in cat.conn.execute(sql + " ORDER BY seq", args):
        yield _entry(row)


# --- what the jobs append, as they record into the catalog (catalog/record.py, the API) -------------------

CUSTODY_SCHEMA = 5       # the migration that made the chain (catalog/schema.py)


def _recorded_something(cat: Catalog, recorded: Any) -> bool:
    """Whether a recording is an event: something was recorded, in a catalog that has the chain (a catalog
    held at an older schema version on purpose, by tests of upgrades, has none)."""
    return bool(recorded.destination) and bool(recorded.files or recorded.verifications or recorded.jobs) and \
        cat.schema_version >= CUSTODY_SCHEMA


def write_event(cat: Catalog, result: Any, recorded: Any, *, tape: bool = True) -> dict[str, Any] | None:
    """A write job recorded on one destination (a cartridge or a folder): its session, files and bytes; on a
    cartridge (`tape`), the session's on-tape custody record it committed (`tape_record`)."""
    if not _recorded_something(cat, recorded):
        return None
    s = result.manifest.session
    files = [r for r in result.manifest.files if r.kind == "file" and r.status in (OK, CHANGED, READ_ERROR)]
    tape_record = getattr(result, "custody_record", None) if tape else None     # its on-tape custody record (catalog/anchor.py)
    return append(cat, "write", recorded.destination, {
        "session": s.session_id, "format": s.format, "status": getattr(result, "status", None) or s.status,
        "files": recorded.files, "bytes": sum(r.size for r in files), "operator": s.operator or "",
        **({"tape_record": tape_record} if tape_record else {})})


def read_event(cat: Catalog, phase: str, result: Any, recorded: Any, who: str = "") -> dict[str, Any] | None:
    """A verify or a restore recorded (phase 'verify' or 'restore'): what it proved, what failed."""
    if phase not in ("verify", "restore") or not _recorded_something(cat, recorded):
        return None
    parts = getattr(result, "tape_files", None) or getattr(result, "sessions", None) or []
    sessions = sorted({str(sid) for t in parts if (sid := getattr(t, "session_id", None))})
    return append(cat, phase, recorded.destination, {
        "sessions": sessions or sorted(set(recorded.jobs)),
        "verified": sum(len(t.verified) for t in parts), "failed": sum(len(t.failed) for t in parts),
        "unproven": sum(len(t.unproven) for t in parts), "operator": who})


def import_event(cat: Catalog, recorded: Any, source: str) -> dict[str, Any] | None:
    """A cartridge or a folder whose rows were rebuilt from what it holds (catalog import)."""
    if not _recorded_something(cat, recorded):
        return None
    return append(cat, "catalog-import", recorded.destination, {
        "from": source, "sessions": sorted(set(recorded.jobs)), "files": recorded.files})


def excerpt(cat: Catalog, session_id: str) -> list[dict[str, Any]]:
    """The chain from the first entry about a session (its write) to the head: a contiguous part of the chain
    that `custody verify --excerpt` checks without the catalog (empty when no entry names the session)."""
    first = None
    for seq, data in cat.conn.execute("SELECT seq, data FROM custody WHERE data LIKE ? ORDER BY seq",
                                      (f"%{session_id}%",)):
        named = json.loads(data)
        if named.get("session") == session_id or session_id in (named.get("sessions") or []):
            first = int(seq)
            break
    if first is None:
        return []
    return [_entry(row) for row in cat.conn.execute(
        "SELECT seq, at, event, subject, data, prev, hash FROM custody WHERE seq >= ? ORDER BY seq", (first,))]
