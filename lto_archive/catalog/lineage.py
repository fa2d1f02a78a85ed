"""The store side of migration: which cartridge was moved to which, the new copies' lineage, superseded sources.

A migration (lto_archive/migration) reads an old cartridge, writes its files to a new one and proves the new
copy. The catalog then holds one `migrations` row per source cartridge, a `copy_lineage` row per new copy
naming the copy it was read from, and, only when the migration was proven, a `superseded` row for the source:
the old cartridge and its copies stay (nothing is deleted), `catalog search` shows both copies, and `baf`
counts the new copy as a copy of its own once its read-back proved it.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from ..manifest import iso, utc_now
from .store import Catalog


def destination_id(cat: Catalog, label: str) -> int | None:
    """The destination a barcode, an LTFS volume ('ltfs:<uuid>') or a catalog label names."""
    row = cat.conn.execute("SELECT id FROM destinations WHERE label = ? OR barcode = ? OR volume_uuid = ? "
                           "ORDER BY id LIMIT 1", (label, label, label.removeprefix("ltfs:"))).fetchone()
    return None if row is None else int(row[0])


def catalog_hashes(cat: Catalog, dest_id: int) -> dict[str, dict[str, str]]:
    """Every file the catalog holds on a destination: path -> {algorithm: hex} (all its copies' hashes)."""
    out: dict[str, dict[str, str]] = {}
    for path, algo, hexdigest in cat.conn.execute(
            "SELECT f.path, h.algorithm, h.hex FROM copies c JOIN files f ON f.id = c.file_id "
            "JOIN file_hashes h ON h.file_id = f.id WHERE c.destination_id = ? ORDER BY f.path", (dest_id,)):
        out.setdefault(path, {})[algo] = hexdigest
    return out


def record_migration(cat: Catalog, source_id: int, target_id: int, *, status: str, files: int, size: int,
                     sessions: list[tuple[str, str]], who: str = "", message: str = "") -> int:
    """One source cartridge moved to a target: its row (status 'proven' or 'failed'); the migration id."""
    with cat.transaction():
        cur = cat.conn.execute(
            "INSERT INTO migrations(at, source_id, target_id, status, files, bytes, sessions, who, host, message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (iso(utc_now()), source_id, target_id, status, files, size, json.dumps([list(s) for s in sessions]),
             who, socket.gethostname(), message))
        return int(cur.lastrowid or 0)


def link_copies(cat: Catalog, migration_id: int, source_id: int, target_id: int, target_sessions: list[str]) -> int:
    """Each new copy (on the target, in the migration's sessions) derives from the source's copy of the same
    file (same catalogued file; else same path and size). The number of new copies linked."""
    linked = 0
    marks = ",".join("?" * len(target_sessions))
    if not marks:
        return 0
    with cat.transaction():
        new = cat.conn.execute(
            f"SELECT c.id, c.file_id, f.path, f.size FROM copies c JOIN jobs j ON j.id = c.job_id "
            f"JOIN files f ON f.id = c.file_id WHERE c.destination_id = ? AND j.session_id IN ({marks})",
            (target_id, *target_sessions)).fetchall()
        for copy_id, file_id, path, size in new:
            old = cat.conn.execute(
                "SELECT c.id FROM copies c JOIN files f ON f.id = c.file_id WHERE c.destination_id = ? AND "
                "(c.file_id = ? OR (f.path = ? AND f.size = ?)) ORDER BY c.file_id = ? DESC, c.id",
                (source_id, file_id, path, size, file_id)).fetchall()
            for (old_id,) in old[:1]:
                cat.conn.execute("INSERT OR IGNORE INTO copy_lineage(copy_id, derived_from, migration_id) "
                                 "VALUES (?, ?, ?)", (copy_id, old_id, migration_id))
                linked += 1
    return linked


def supersede(cat: Catalog, source_id: int, by_id: int, migration_id: int) -> None:
    """Mark the source cartridge superseded by the target (after proof only); its rows all stay."""
    with cat.transaction():
        cat.conn.execute("INSERT OR REPLACE INTO superseded(destination_id, by_id, migration_id, at) "
                         "VALUES (?, ?, ?, ?)", (source_id, by_id, migration_id, iso(utc_now())))


def _label(cat: Catalog, dest_id: int) -> str:
    row = cat.conn.execute("SELECT label FROM destinations WHERE id = ?", (dest_id,)).fetchone()
    return str(row[0]) if row else f"#{dest_id}"


def superseded_by(cat: Catalog, label: str) -> dict[str, Any] | None:
    """Whether a cartridge was superseded: {"by", "at", "migration"}, else None."""
    dest = destination_id(cat, label)
    row = None if dest is None else cat.conn.execute(
        "SELECT by_id, at, migration_id FROM superseded WHERE destination_id = ?", (dest,)).fetchone()
    if row is None:
        return None
    return {"by": _label(cat, int(row[0])), "at": row[1], "migration": int(row[2])}


def migrations(cat: Catalog, label: str | None = None) -> list[dict[str, Any]]:
    """The migrations recorded (all, or those from or to one cartridge), oldest first."""
    dest = destination_id(cat, label) if label is not None else None
    if label is not None and dest is None:
        return []
    where, args = ("WHERE source_id = ? OR target_id = ?", (dest, dest)) if dest is not None else ("", ())
    out = []
    for row in cat.conn.execute("SELECT id, at, source_id, target_id, status, files, bytes, sessions, who, host, "
                                f"message FROM migrations {where} ORDER BY id", args).fetchall():
        mid, at, src, tgt, status, files, size, sessions, who, host, message = row
        copies = cat.conn.execute("SELECT count(*) FROM copy_lineage WHERE migration_id = ?", (mid,)).fetchone()[0]
        out.append({"id": mid, "at": at, "source": _label(cat, src), "target": _label(cat, tgt), "status": status,
                    "files": files, "bytes": size, "sessions": json.loads(sessions), "who": who, "host": host,
                    "message": message, "copies_linked": int(copies)})
    return out


def derived_from(cat: Catalog, copy_id: int) -> list[int]:
    """The copies a copy was migrated from (empty for a copy written from the sources)."""
    return [int(r[0]) for r in cat.conn.execute(
        "SELECT derived_from FROM copy_lineage WHERE copy_id = ? ORDER BY derived_from", (copy_id,))]


__all__ = ["destination_id", "catalog_hashes", "record_migration", "link_copies", "supersede", "superseded_by",
           "migrations", "derived_from"]
