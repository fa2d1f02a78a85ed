"""What needs attention, from the catalog: the last jobs, copies never read back, failed proofs, full tapes.

For `lto-archive status`: one screen that says what was done last and what to do next.
"""

from __future__ import annotations

from typing import Any

from .store import Catalog

NEARLY_FULL = 0.95     # a cartridge this full (used / native capacity) is flagged


def _rows(cat: Catalog, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = cat.conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def recent_jobs(cat: Catalog, limit: int = 5) -> list[dict[str, Any]]:
    """The newest write jobs (as the jobs reported them), newest first."""
    return _rows(cat, "SELECT j.session_id, j.started, j.finished, j.status, j.format, j.operator, d.label AS destination, "
                      "(SELECT count(*) FROM copies c WHERE c.job_id = j.id) AS files "
                      "FROM jobs j JOIN destinations d ON d.id = j.destination_id WHERE j.recorded_from = 'job' "
                      "ORDER BY j.started DESC, j.id DESC LIMIT ?", (limit,))


def attention(cat: Catalog) -> list[dict[str, Any]]:
    """Each destination with something to do: copies never read back, a latest proof that failed, nearly full."""
    items: list[dict[str, Any]] = []
    for row in _rows(cat, "SELECT d.label, d.kind, "
                          "(SELECT count(*) FROM copies c WHERE c.destination_id = d.id AND NOT EXISTS "
                          " (SELECT 1 FROM verifications v WHERE v.copy_id = c.id)) AS unproven, "
                          "(SELECT count(*) FROM copies c WHERE c.destination_id = d.id AND "
                          " (SELECT v.result FROM verifications v WHERE v.copy_id = c.id ORDER BY v.at DESC, v.id DESC "
                          "  LIMIT 1) = 'failed') AS failed, "
                          "d.capacity, d.used FROM destinations d ORDER BY d.label"):
        if row["failed"]:
            items.append({"destination": row["label"], "kind": row["kind"], "severity": "error",
                          "what": f"{row['failed']} copies failed their last verification: restore them from another "
                                  f"copy and verify this {row['kind']} again"})
        if row["unproven"]:
            items.append({"destination": row["label"], "kind": row["kind"], "severity": "warning",
                          "what": f"{row['unproven']} copies never read back: lto-archive verify"})
        if row["capacity"] and row["used"] and row["used"] >= NEARLY_FULL * row["capacity"]:
            items.append({"destination": row["label"], "kind": row["kind"], "severity": "note",
                          "what": f"{row['used'] * 100 // row['capacity']}% full"})
    return items


def overview(cat: Catalog, *, jobs: int = 5) -> dict[str, Any]:
    counts = _rows(cat, "SELECT (SELECT count(*) FROM destinations WHERE kind = 'tape') AS tapes, "
                        "(SELECT count(*) FROM destinations WHERE kind = 'folder') AS folders, "
                        "(SELECT count(*) FROM files) AS files")[0]
    return {"catalog": str(cat.path), **counts, "recent_jobs": recent_jobs(cat, jobs), "attention": attention(cat)}
