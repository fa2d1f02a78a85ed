"""The store side of jobs queued across nodes: who ran each, how far it got, what it gave.

The queue itself (what is waiting, which node holds which job, retries) is procrastinate's, in the
same PostgreSQL database (api/queue.py); these rows are what a person asks afterwards: `jobs show`.
"""

from __future__ import annotations

import json
from typing import Any

from ..manifest import iso, utc_now
from .store import Catalog


def started(cat: Catalog, job_id: int, kind: str, args: dict[str, Any], node: str) -> None:
    """Job `job_id` began (again, after a node died) on `node`."""
    now = iso(utc_now())
    with cat.transaction():
        row = cat.conn.execute("SELECT attempt FROM queued_jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            cat.conn.execute("INSERT INTO queued_jobs(job_id, kind, args, node, attempt, status, started) "
                             "VALUES (?, ?, ?, ?, 1, 'running', ?)",
                             (job_id, kind, json.dumps(args, sort_keys=True), node, now))
        else:
            cat.conn.execute("UPDATE queued_jobs SET node = ?, attempt = ?, status = 'running', started = ?, "
                             "finished = NULL WHERE job_id = ?", (node, int(row[0]) + 1, now, job_id))


def progressed(cat: Catalog, job_id: int, progress: dict[str, Any]) -> None:
    with cat.transaction():
        cat.conn.execute("UPDATE queued_jobs SET progress = ? WHERE job_id = ?", (json.dumps(progress), job_id))


def finished(cat: Catalog, job_id: int, status: str, result: dict[str, Any]) -> None:
    with cat.transaction():
        cat.conn.execute("UPDATE queued_jobs SET status = ?, result = ?, finished = ? WHERE job_id = ?",
                         (status, json.dumps(result, default=str), iso(utc_now()), job_id))


def recorded_sessions(cat: Catalog, job_id: int) -> list[dict[str, Any]]:
    """The write sessions the catalog holds for queued job `job_id` (api/writing.py records a whole job in one
    transaction, so these are all of its sessions or none): session, cartridge, status, files."""
    cur = cat.conn.execute("SELECT j.session_id, d.label, j.status, (SELECT count(*) FROM copies c WHERE c.job_id = j.id) "
                           "FROM jobs j JOIN destinations d ON d.id = j.destination_id WHERE j.queue_job = ? "
                           "ORDER BY j.session_id, d.label", (job_id,))
    return [dict(zip(("session_id", "destination", "status", "files"), row)) for row in cur.fetchall()]


def queued_job(cat: Catalog, job_id: int) -> dict[str, Any] | None:
    cur = cat.conn.execute("SELECT job_id, kind, args, node, attempt, status, progress, result, started, finished "
                           "FROM queued_jobs WHERE job_id = ?", (job_id,))
    row = cur.fetchone()
    if row is None:
        return None
    doc = dict(zip(("job_id", "kind", "args", "node", "attempt", "status", "progress", "result", "started",
                    "finished"), row))
    for k in ("args", "progress", "result"):
        doc[k] = json.loads(doc[k] or "{}")
    return doc


__all__ = ["started", "progressed", "finished", "queued_job", "recorded_sessions"]
