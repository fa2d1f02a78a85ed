"""Copying one catalog into another (`lto-archive catalog copy --from sqlite:... --to postgresql://...`).

A laptop's catalog moves into the house catalog: every row is matched in the target by what it means,
never by its id (the destination by barcode, volume UUID, folder or label; a job by its session id; a
file by path, size, time and compatible hashes; a copy by file, destination and job; a verification by
all it says), so running the copy twice changes nothing and two catalogs that share cartridges merge
without duplicates. Foreign keys are rewritten to the target's ids. The chain of custody is copied
entry for entry (hashes kept) when the target's chain is the same chain or empty; a target with a
chain of its own keeps it, and the result says how many entries were left for `custody export`.

The whole copy is one write transaction on the target: it lands whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .store import Catalog


@dataclass(frozen=True)
class TableSpec:
    """A table copied row by row: matched on `key` (after the foreign keys are rewritten)."""

    name: str
    key: tuple[str, ...]
    fks: dict[str, str] = field(default_factory=dict)
    has_id: bool = True


#: Every table of the schema, in an order where what a row points to is copied before it. `files` and
#: `destinations` are matched by the store's own rules, `file_hashes` travel with their file, `custody`
#: is a chain; `schema_version` is the target's own.
TABLES: tuple[TableSpec, ...] = (
    TableSpec("jobs", ("session_id",), {"destination_id": "destinations"}),
    TableSpec("copies", ("destination_id", "job_id", "file_id"),
              {"file_id": "files", "destination_id": "destinations", "job_id": "jobs"}),
    TableSpec("verifications", ("copy_id", "at", "who", "host", "phase", "result", "message"), {"copy_id": "copies"}),
    TableSpec("settings", ("key",), has_id=False),
    TableSpec("span_volumes", ("set_id", "sequence"), {"job_id": "jobs", "destination_id": "destinations"},
              has_id=False),
    TableSpec("queued_jobs", ("job_id",), has_id=False),
    TableSpec("lease_events", ("resource", "event", "at", "node")),
    TableSpec("cartridge_places", ("barcode",), has_id=False),
    TableSpec("audit_policy", ("id",)),
    TableSpec("audits", ("destination_id", "at", "kind"), {"destination_id": "destinations"}),
    TableSpec("audit_drills", ("audit_id", "path"), {"audit_id": "audits"}),
    TableSpec("health_readings", ("label", "device", "read_at")),
    TableSpec("migrations", ("at", "source_id", "target_id"), {"source_id": "destinations", "target_id": "destinations"}),
    TableSpec("copy_lineage", ("copy_id", "derived_from"),
              {"copy_id": "copies", "derived_from": "copies", "migration_id": "migrations"}, has_id=False),
    TableSpec("superseded", ("destination_id",),
              {"destination_id": "destinations", "by_id": "destinations", "migration_id": "migrations"}, has_id=False),
)
SPECIAL = ("destinations", "files", "file_hashes", "custody", "schema_version",
           "web_users")    # accounts belong to the web view of one catalog: never copied


@dataclass
class CopyResult:
    source: str
    target: str
    added: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)
    custody_left: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "added": self.added, "matched": self.matched,
                "custody_left": self.custody_left, "notes": self.notes}


def _rows(cat: Catalog, table: str, order: str = "") -> list[dict[str, Any]]:
    cur = cat.conn.execute(f"SELECT * FROM {table}{' ORDER BY ' + order if order else ''}")
    cols = [d[0] for d in cur.description or ()]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _find(dst: Catalog, spec: TableSpec, row: dict[str, Any]) -> Any:
    conds, args = [], []
    for k in spec.key:
        if row[k] is None:
            conds.append(f"{k} IS NULL")
        else:
            conds.append(f"{k} = ?")
            args.append(row[k])
    found = dst.conn.execute(f"SELECT {'id' if spec.has_id else '1'} FROM {spec.name} WHERE "
                             + " AND ".join(conds), args).fetchone()
    return None if found is None else found[0]


def _insert(dst: Catalog, table: str, row: dict[str, Any]) -> int | None:
    cols = [c for c in row if c != "id"]
    cur = dst.conn.execute(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                           [row[c] for c in cols])
    return cur.lastrowid if "id" in row else None


def _count(res: CopyResult, table: str, added: bool) -> None:
    bucket = res.added if added else res.matched
    bucket[table] = bucket.get(table, 0) + 1


def _copy_destinations(src: Catalog, dst: Catalog, res: CopyResult) -> dict[int, int]:
    ids = {}
    for row in _rows(src, "destinations", "id"):
        found = dst.find_destination(barcode=row["barcode"], volume_uuid=row["volume_uuid"], folder=row["folder"],
                                     label=row["label"])
        if found is not None:
            ids[row["id"]] = int(found["id"])
            _count(res, "destinations", False)
            continue
        new = _insert(dst, "destinations", row)
        assert new is not None
        ids[row["id"]] = new
        _count(res, "destinations", True)
    return ids


def _copy_files(src: Catalog, dst: Catalog, res: CopyResult) -> dict[int, int]:
    hashes: dict[int, dict[str, str]] = {}
    for fid, algo, hx in src.conn.execute("SELECT file_id, algorithm, hex FROM file_hashes").fetchall():
        hashes.setdefault(fid, {})[algo] = hx
    before = dst.counts()["files"]
    ids = {int(r["id"]): dst.file(r["path"], r["size"], r["mtime"], hashes.get(r["id"], {}))
           for r in _rows(src, "files", "id")}
    new = dst.counts()["files"] - before
    res.added["files"], res.matched["files"] = new, len(ids) - new
    return ids


def _copy_table(src: Catalog, dst: Catalog, spec: TableSpec, ids: dict[str, dict[int, int]],
                res: CopyResult) -> None:
    mine: dict[int, int] = {}
    for row in _rows(src, spec.name, "id" if spec.has_id else ""):
        for col, table in spec.fks.items():
            row[col] = ids[table][row[col]]
        found = _find(dst, spec, row)
        added = found is None
        if added:
            found = _insert(dst, spec.name, row)
        _count(res, spec.name, added)
        if spec.has_id and found is not None:
            mine[row["id"]] = int(found)
    ids[spec.name] = mine


def _copy_custody(src: Catalog, dst: Catalog, res: CopyResult) -> None:
    cols = "seq, at, event, subject, data, prev, hash"
    theirs = src.conn.execute(f"SELECT {cols} FROM custody ORDER BY seq").fetchall()
    ours = [r[0] for r in dst.conn.execute("SELECT hash FROM custody ORDER BY seq").fetchall()]
    if [r[6] for r in theirs[:len(ours)]] != ours:
        res.custody_left = len([r for r in theirs if r[6] not in set(ours)])
        if res.custody_left:
            res.notes.append(f"the target's chain of custody is its own: {res.custody_left} entries of the source's "
                             "were not copied (keep them with 'lto-archive custody export')")
        return
    for r in theirs[len(ours):]:
        dst.conn.execute(f"INSERT INTO custody({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)", tuple(r))
        _count(res, "custody", True)
    res.matched["custody"] = len(ours)


def copy_catalog(src: Catalog, dst: Catalog) -> CopyResult:
    """Everything `src` knows, added to `dst` (see the module): one transaction on `dst`."""
    res = CopyResult(src.location, dst.location)
    with dst.transaction():
        ids = {"destinations": _copy_destinations(src, dst, res), "files": _copy_files(src, dst, res)}
        for spec in TABLES:
            _copy_table(src, dst, spec, ids, res)
        _copy_custody(src, dst, res)
    return res


def uncovered_tables(cat: Catalog) -> set[str]:
    """Tables of the schema `copy_catalog` does not know how to copy (a new migration must add its tables)."""
    return cat.conn.table_names() - {s.name for s in TABLES} - set(SPECIAL)


__all__ = ["copy_catalog", "CopyResult", "TableSpec", "TABLES", "uncovered_tables"]
