"""The store side of audits: the policy, each audit of a cartridge and its restore drill, what proves a cartridge.

The statements are in the SQL the catalog's engines share (the PostgreSQL connection translates SQLite's
few spellings). The catalog is a store: nothing here reads a tape (lto_archive/audit runs the audits and records them here).
Tables (schema migration 6): `audit_policy` (one row), `audits`, `audit_drills`. Health readings (migration 7,
catalog/health.py) are read only through that module's functions, by `health_warnings` and
`drive_error_counters`, which answer nothing when the module or its table is not there.
"""

from __future__ import annotations

import importlib
import sqlite3
from dataclasses import asdict, dataclass, fields
from collections.abc import Sequence
from typing import Any

from ..manifest import iso, utc_now
from .schema import CatalogError
from .store import Catalog

AUDIT_KINDS = ("full", "sample")
AUDIT_RESULTS = ("ok", "failed", "incomplete", "error")


@dataclass(frozen=True)
class Policy:
    """How often each cartridge is proven: fully every `full_months`, a sample of `sample_files` files every
    `sample_months` in between, `drill_files` files restored by each audit's drill; `grace_days` after the due
    date it is overdue."""

    full_months: int = 12
    sample_months: int = 3
    sample_files: int = 5
    drill_files: int = 2
    grace_days: int = 30

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


POLICY_FIELDS = tuple(f.name for f in fields(Policy))


def get_policy(cat: Catalog) -> Policy:
    """The catalog's policy (the defaults until one is set)."""
    found = cat.query(f"SELECT {', '.join(POLICY_FIELDS)} FROM audit_policy WHERE id = 1")
    return Policy(**found[0]) if found else Policy()


def set_policy(cat: Catalog, **changes: int | None) -> Policy:
    """Change some of the policy's values (None: keep); the policy now in force."""
    new = asdict(get_policy(cat)) | {k: v for k, v in changes.items() if v is not None}
    unknown = set(new) - set(POLICY_FIELDS)
    if unknown:
        raise CatalogError(f"no audit policy setting {sorted(unknown)[0]!r} (known: {', '.join(POLICY_FIELDS)})")
    if new["full_months"] < 1 or new["sample_months"] < 1 or min(new.values()) < 0:
        raise CatalogError("audit policy: full_months and sample_months are at least 1, the others at least 0",
                           **new)
    with cat.transaction():
        cols = (*POLICY_FIELDS, "changed")
        cat.conn.execute(f"INSERT INTO audit_policy(id, {', '.join(cols)}) VALUES (1, {', '.join('?' * len(cols))}) "
                         f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols)}",
                         (*(new[k] for k in POLICY_FIELDS), iso(utc_now())))
    return Policy(**new)


def cartridges(cat: Catalog) -> list[dict[str, Any]]:
    """Every cartridge holding catalogued copies, with what proves it from ordinary verifications.

    `proven_all`: the time since which every copy on it was proven at least once (the earliest of each copy's
    latest ok verification; None while one copy never was); `failing`: copies whose latest check failed.
    """
    return cat.query("""
        SELECT d.id, d.label, d.barcode, d.location, d.generation, d.first_seen,
               count(*) AS files, coalesce(sum(f.size), 0) AS bytes,
               CASE WHEN count(*) = count(p.ok) THEN min(p.ok) END AS proven_all,
               sum(CASE WHEN p.last_result = 'failed' THEN 1 ELSE 0 END) AS failing
        FROM destinations d
        JOIN copies c ON c.destination_id = d.id
        JOIN files f ON f.id = c.file_id
        JOIN (SELECT c2.id AS copy_id,
                     (SELECT max(v.at) FROM verifications v WHERE v.copy_id = c2.id AND v.result = 'ok') AS ok,
                     (SELECT v.result FROM verifications v WHERE v.copy_id = c2.id
                      ORDER BY v.at DESC, v.id DESC LIMIT 1) AS last_result
              FROM copies c2) p ON p.copy_id = c.id
        WHERE d.kind = 'tape'
        GROUP BY d.id ORDER BY d.label""")


def sample_candidates(cat: Catalog, destination_id: int) -> list[str]:
    """The paths a sample or a drill may pick on this cartridge: whole files written ok, in path order."""
    return [r[0] for r in cat.conn.execute(
        "SELECT DISTINCT f.path FROM copies c JOIN files f ON f.id = c.file_id WHERE c.destination_id = ? "
        "AND c.status = 'ok' AND c.part_number IS NULL ORDER BY f.path", (destination_id,))]


def copies_on(cat: Catalog, destination_id: int, paths: Sequence[str]) -> list[dict[str, Any]]:
    """The whole-file copies of these paths on this destination, with what locating to each needs: path, size,
    mtime, hashes {algorithm: hex}, session_id, format, tape_file, partition, block, block_offset,
    header_offset, record_size, job_start_block, status; in path order."""
    out: list[dict[str, Any]] = []
    wanted = sorted(set(paths))
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        out += cat.query(
            "SELECT f.id AS file_id, f.path, f.size, f.mtime, j.session_id, j.format, c.tape_file, c.partition, "
            "c.block, c.block_offset, c.header_offset, j.record_size, j.start_block AS job_start_block, c.status "
            "FROM copies c JOIN files f ON f.id = c.file_id JOIN jobs j ON j.id = c.job_id "
            f"WHERE c.destination_id = ? AND c.part_number IS NULL AND f.path IN ({', '.join('?' * len(chunk))}) "
            "ORDER BY f.path, j.started DESC, c.id", (destination_id, *chunk))
    for row in out:
        row["hashes"] = dict(cat.conn.execute("SELECT algorithm, hex FROM file_hashes WHERE file_id = ?",
                                              (row.pop("file_id"),)).fetchall())
    return out


def record_audit(cat: Catalog, destination_id: int, *, at: str, kind: str, reason: str, result: str, files: int,
                 failed: int, seconds: float, device: str, seed: int | None, message: str = "",
                 drills: Sequence[dict[str, Any]] = ()) -> int:
    """One audit and its drill's files (path, bytes, seconds, result, message), in one transaction; its id."""
    if kind not in AUDIT_KINDS or result not in AUDIT_RESULTS:
        raise ValueError(f"audit kind {kind!r} / result {result!r}")
    with cat.transaction():
        cur = cat.conn.execute(
            "INSERT INTO audits(destination_id, at, kind, reason, result, files, failed, seconds, device, seed, "
            "message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (destination_id, at, kind, reason, result, files, failed, seconds, device, seed, message))
        audit_id = int(cur.lastrowid)
        cat.conn.executemany(
            "INSERT INTO audit_drills(audit_id, path, bytes, seconds, result, message) VALUES (?, ?, ?, ?, ?, ?)",
            [(audit_id, d["path"], d["bytes"], d["seconds"], d["result"], d.get("message", "")) for d in drills])
    return audit_id


def audits(cat: Catalog, *, label: str | None = None) -> list[dict[str, Any]]:
    """Every audit, oldest first (or those of one cartridge), with its cartridge's label."""
    where, args = ("WHERE d.label = ? OR d.barcode = ?", (label, label)) if label else ("", ())
    return cat.query("SELECT a.*, d.label FROM audits a JOIN destinations d ON d.id = a.destination_id "
                     f"{where} ORDER BY a.at, a.id", args)


def drills(cat: Catalog) -> list[dict[str, Any]]:
    """Every file a drill restored, oldest first, with its audit's time, cartridge and seed."""
    return cat.query("SELECT r.path, r.bytes, r.seconds, r.result, r.message, a.at, a.seed, a.id AS audit_id, "
                     "d.label FROM audit_drills r JOIN audits a ON a.id = r.audit_id "
                     "JOIN destinations d ON d.id = a.destination_id ORDER BY a.at, a.id, r.id")


def archived_bytes_by_day(cat: Catalog) -> list[tuple[str, int]]:
    """Bytes written to cartridges by jobs, per day the job started (YYYY-MM-DD, UTC), oldest first."""
    return [(day, int(n)) for day, n in cat.conn.execute(
        "SELECT substr(j.started, 1, 10) AS day, sum(f.size) FROM jobs j "
        "JOIN destinations d ON d.id = j.destination_id "
        "JOIN copies c ON c.job_id = j.id JOIN files f ON f.id = c.file_id "
        "WHERE d.kind = 'tape' AND j.started != '' GROUP BY day ORDER BY day")]


def _has_table(cat: Catalog, word: str) -> bool:
    """A table whose name holds `word` (the connection's `table_names` where it has one: PostgreSQL too)."""
    names = getattr(cat.conn, "table_names", None)
    tables = names() if callable(names) else {
        r[0] for r in cat.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return any(word in str(t) for t in tables)


MEDIUM_FLAGS = ("migrate soon", "watch")     # health flags about the cartridge (not "clean the drive")


def _health(cat: Catalog) -> Any:
    """catalog/health.py (catalog schema 7, another part of issue 17), when it and its tables are there."""
    if not _has_table(cat, "health"):
        return None
    try:
        return importlib.import_module(f"{__package__}.health")
    except ImportError:
        return None


def health_warnings(cat: Catalog) -> dict[str, dict[str, Any]]:
    """Cartridges whose health readings call for a look at the medium: {label: {"at": ISO time of the latest
    reading, "warnings": ["migrate soon: why", ...]}}, from catalog/health.py's `flags(catalog)` and
    `readings(catalog, label)`; {} without health readings."""
    health = _health(cat)
    out: dict[str, dict[str, Any]] = {}
    if health is None:
        return out
    try:
        for flag in health.flags(cat):
            if flag.kind in MEDIUM_FLAGS:
                entry = out.setdefault(str(flag.label), {"at": health.readings(cat, flag.label)[-1].read_at,
                                                         "warnings": []})
                entry["warnings"].append(f"{flag.kind}: {flag.why}")
    except (AttributeError, IndexError, sqlite3.Error, CatalogError):
        return {}
    return out


def drive_error_counters(cat: Catalog) -> dict[str, dict[str, int]]:
    """{drive: {counter: value}} from each drive's latest health reading (catalog/health.py's `labels` and
    `readings`): corrected_errors, uncorrected_errors, tapealert_flags (how many raised); {} without readings."""
    health = _health(cat)
    if health is None:
        return {}
    latest: dict[str, Any] = {}
    try:
        for label in health.labels(cat):
            for r in health.readings(cat, label):
                if r.device and (r.device not in latest or str(r.read_at) >= str(latest[r.device].read_at)):
                    latest[r.device] = r
        return {str(d): {k: int(v) for k, v in (("corrected_errors", r.corrected_errors),
                                                ("uncorrected_errors", r.uncorrected_errors),
                                                ("tapealert_flags", len(r.tapealert or ()))) if v is not None}
                for d, r in sorted(latest.items())}
    except (AttributeError, sqlite3.Error, CatalogError):
        return {}


__all__ = ["Policy", "POLICY_FIELDS", "AUDIT_KINDS", "AUDIT_RESULTS", "get_policy", "set_policy", "cartridges",
           "sample_candidates", "copies_on", "record_audit", "audits", "drills", "archived_bytes_by_day",
           "health_warnings", "drive_error_counters", "MEDIUM_FLAGS"]
