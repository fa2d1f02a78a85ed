"""Jobs queued across nodes: `submit` on any machine, `worker` on the nodes with drives (docs/queue.md).

The queue is procrastinate (PyPI), in the same PostgreSQL database as the shared catalog: a submitted
job is one procrastinate job of the task `lto_archive.job` carrying its kind (write, verify, restore,
migrate, audit) and arguments. A worker takes one job at a time and runs it through the public API against its own
drive or library, recording into the shared catalog; procrastinate hands each job to exactly one
worker. A job that names a cartridge carries it as its lock, so no two nodes use one cartridge at once.

A worker killed mid-job (kill -9, power cut) stops sending its heartbeat; every worker, before it takes
new jobs, gives the jobs of workers silent for `stalled_after` seconds back to the queue, and another
node finishes them. That is safe because a job is append-safe and journaled ("Nothing claimed is ever
lost"): the next write to that cartridge closes the session the dead node left open first.

What each job did (its node, attempts, progress and result) is in the catalog's `queued_jobs` rows
(catalog/queued.py): `jobs show`.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import socket
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..catalog import Catalog as CatalogStore
from ..catalog import catalog_target
from ..catalog import queued as _queued
from ..errors import LtoArchiveError, UsageError
from ..progress import Progress
from ..tape import TapeDevice
from .audit import audit_run
from .migrate import migrate
from .queue_places import Rerouted, check_place, leasing, library_queue, record_places, route
from .queue_restore import queued_restore
from .reading import verify
from .targets import open_device
from .writing import write

TASK = "lto_archive.job"
DEFAULT_QUEUE = "archive"
KINDS = ("write", "verify", "restore", "migrate", "audit")
JOB_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class Node:
    """What a worker has: a drive (`device`) or a library, and the catalog (PostgreSQL) it records into."""

    catalog: str
    device: str | None = None
    library: str | None = None
    name: str = ""
    library_name: str = ""          # the name every node sharing this library gives it (its queue, its leases)
    lease_wait: float = 86400.0     # how long a job waits for a drive or cartridge another job holds

    @property
    def place(self) -> str:
        """The library's (or drive's) name across nodes: `library_name`, else the spec (a vlib: its folder)."""
        if self.library_name:
            return self.library_name
        spec = self.target
        if spec.startswith("vlib:"):
            return f"vlib:{os.path.realpath(spec[5:])}"
        return spec if self.library else f"{socket.gethostname()}:{spec}"

    @property
    def target(self) -> str:
        spec = self.library or self.device
        if not spec:
            raise UsageError("a worker needs --device or --library: the drive or library it runs jobs on")
        return spec


def queue_url(catalog: str | None) -> str:
    """The PostgreSQL database of the queue: the shared catalog's (`--catalog`, `$LTO_ARCHIVE_CATALOG`)."""
    kind, where = catalog_target(catalog)
    if kind != "postgresql":
        raise UsageError("jobs are queued in the shared PostgreSQL catalog: give --catalog postgresql://user@host/db "
                         "(or set $LTO_ARCHIVE_CATALOG); a catalog file on one machine has no queue")
    return str(where)


def _app(url: str, node: Node | None = None) -> Any:
    try:
        import procrastinate
    except ImportError:
        raise UsageError("the job queue needs procrastinate: pip install 'lto-archive[postgresql]'") from None
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    if node is not None:
        class HandOn(procrastinate.BaseRetryStrategy):
            """A job whose cartridge is in another library goes to that library's queue, at once."""

            def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
                if not isinstance(exception, Rerouted):
                    return None
                return procrastinate.RetryDecision(retry_at=datetime.datetime.now(datetime.timezone.utc),
                                                   queue=exception.queue)

        @app.task(name=TASK, pass_context=True, retry=HandOn())
        def run(context: Any, kind: str, args: dict[str, Any]) -> None:
            check_place(node, args)
            run_job(node, int(context.job.id), kind, args)
            record_places(node)
    return app


def _has_queue(cat: CatalogStore) -> bool:
    return bool(cat.conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = "
                                 "'procrastinate_jobs' AND table_schema = current_schema()").fetchone()[0])


def _ensure_schema(url: str) -> None:
    """The catalog's tables (migrated) and procrastinate's, made once in the database: checked without the
    write lock, then again under it (one node applies the schema while the others wait)."""
    with CatalogStore.open(url) as cat:
        if _has_queue(cat):
            return
        with cat.transaction():
            if not _has_queue(cat):
                cat.conn.execute(_app(url).schema_manager.get_schema())


def submit(kind: str, args: dict[str, Any], *, catalog: str | None = None, queue: str | None = None) -> int:
    """Queue one job; its id. `args` are the API call's keyword arguments (sources, dest, patterns, barcode,
    format, hashes ...); a job naming a `barcode` holds that cartridge's lock while it runs. `queue`: default
    the queue `job_queue` chooses (the library holding the job's cartridge, else the shared one)."""
    if kind not in KINDS:
        raise UsageError(f"unknown job kind {kind!r}: one of {', '.join(KINDS)}")
    url = queue_url(catalog)
    _ensure_schema(url)
    queue = queue or route(args, url, DEFAULT_QUEUE)
    app = _app(url)
    lock = next((f"cartridge:{args[k]}" for k in ("barcode", "to_barcode") if args.get(k)), None)
    with app.open():
        return int(app.configure_task(name=TASK, queue=queue, lock=lock).defer(kind=kind, args=args))


def job_queue(args: dict[str, Any], *, catalog: str | None = None) -> str:
    """The queue a job goes to by default: that of the library the catalog says holds the cartridge it names
    first (`library:NAME`), else the shared one (`archive`)."""
    url = queue_url(catalog)
    _ensure_schema(url)
    return route(args, url, DEFAULT_QUEUE)


def _waiting_writer(cat: CatalogStore, job_id: int) -> Any:
    def on_wait(what: str | None) -> None:
        _queued.progressed(cat, job_id, {"phase": "waiting", "path": what} if what else {"phase": "starting"})
    return on_wait


def _progress_writer(cat: CatalogStore, job_id: int) -> Any:
    last: list[Any] = [0.0, None]

    def on_progress(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_S and p.phase == last[1] \
                and not (p.bytes_total and p.bytes_done >= p.bytes_total):
            return
        last[:] = [now, p.phase]
        _queued.progressed(cat, job_id, {"phase": p.phase, "bytes_done": p.bytes_done, "bytes_total": p.bytes_total,
                                         "files_done": p.files_done, "files_total": p.files_total,
                                         "path": p.path})
    return on_progress


def _check_loaded(node: Node, barcode: str | None) -> None:
    """A node with one drive runs a job that names a cartridge only when that cartridge is in the drive."""
    if not barcode or node.library:
        return
    with open_device(node.target) as dev:
        loaded = dev.medium().barcode if isinstance(dev, TapeDevice) else None
    if loaded != barcode:
        raise UsageError(f"this node's drive {node.target} holds {loaded or 'a cartridge without a barcode'}, "
                         f"the job needs {barcode}: run it on a node whose library holds it, or load it here",
                         barcode=barcode)


def _write(node: Node, args: dict[str, Any], common: dict[str, Any]) -> Any:
    extra = {k: args[k] for k in ("format", "hashes", "operator", "production", "block_size") if args.get(k)}
    if args.get("span"):                      # a span set over the node's library: the barcode pattern(s)
        if not node.library:
            raise UsageError("a spanning write needs a worker with --library: the cartridges come from its robot")
        common = {**common, "barcode": None, "library": node.library}
        extra["span"] = args["span"]
    return write(list(args["sources"]), node.target, log_dir=args.get("log_dir"), **common, **extra)


def _recorded_before(cat: CatalogStore, job_id: int, kind: str) -> dict[str, Any] | None:
    """What an earlier attempt of this write recorded before its node stopped without telling the queue
    (it is not written twice): its sessions, or None."""
    sessions = _queued.recorded_sessions(cat, job_id) if kind == "write" else []
    if not sessions:
        return None
    bad = [s["status"] for s in sessions if s["status"] != "ok"]
    return {"status": bad[0] if bad else "ok", "recorded_by_an_earlier_attempt": True, "sessions": sessions,
            "files": sum(s["files"] for s in sessions)}


def _migrate(node: Node, args: dict[str, Any], common: dict[str, Any]) -> Any:
    if not node.library:
        raise UsageError("a queued migration needs a worker with --library: the robot loads source and target")
    return migrate(library=node.library, source_barcodes=list(args.get("from_barcodes") or ()),
                   target_barcode=args.get("to_barcode"), format=args.get("format"), staging=args.get("staging"),
                   catalog=node.catalog, operator=args.get("operator"))


def _audit(node: Node, args: dict[str, Any], common: dict[str, Any]) -> Any:
    return audit_run(node.catalog, libraries=[node.library] if node.library else [],
                     devices=[] if node.library else [node.target], cartridges=list(args.get("cartridges") or ()),
                     kind=args.get("kind"), seed=args.get("seed"))


def _call(node: Node, kind: str, args: dict[str, Any], cat: CatalogStore, progress: Any, job_id: int) -> Any:
    if kind not in ("migrate", "audit"):
        _check_loaded(node, args.get("barcode"))
    spec = node.target
    where = {"barcode": args.get("barcode"), "library": node.library} if node.library else {}
    common = {"catalog": node.catalog, "progress": progress, **where}
    if kind == "write":
        return _write(node, args, {**common, "queue_job": job_id})
    if kind in RUNNERS:
        return RUNNERS[kind](node, args, common)
    if kind == "verify":
        return verify(spec, **common)
    rec = _queued.queued_job(cat, job_id) or {}
    return queued_restore(spec, args, common, int(rec.get("attempt") or 1))


RUNNERS = {"migrate": _migrate, "audit": _audit}


def run_job(node: Node, job_id: int, kind: str, args: dict[str, Any]) -> None:
    """Run one queued job on this node and record what it did (never raises for a job's own failure).

    A job an earlier attempt finished (its node died before the queue heard) is not run again: one whose
    result is recorded stays as it is; a write whose sessions the catalog holds is finished with them."""
    with CatalogStore.open(node.catalog) as cat:
        before = _queued.queued_job(cat, job_id)
        if before is not None and before["finished"] and before["status"] != "running":
            return
        _queued.started(cat, job_id, kind, args, node.name or socket.gethostname())
        done = _recorded_before(cat, job_id, kind)
        if done is not None:
            _queued.finished(cat, job_id, done["status"], done)
            return
        try:
            with leasing(node, job_id, _waiting_writer(cat, job_id)):
                result = _call(node, kind, args, cat, _progress_writer(cat, job_id), job_id)
        except LtoArchiveError as exc:
            _queued.finished(cat, job_id, "failed", {"error": exc.to_dict() if hasattr(exc, "to_dict")
                                                     else {"message": str(exc)}, "exit_code": int(exc.exit_code)})
            return
        doc = result.to_dict()
        _queued.finished(cat, job_id, str(doc.get("status") or "ok"), doc)


async def _work(url: str, node: Node, queues: Sequence[str], once: bool, poll: float, stalled_after: float) -> int:
    app = _app(url, node)
    await asyncio.to_thread(record_places, node)     # what this node's library holds, for submit
    async with app.open_async():
        while True:
            for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
                await app.job_manager.retry_job(job)         # its node died: another one finishes it
            await app.run_worker_async(queues=list(queues), concurrency=1, wait=False, install_signal_handlers=False,
                                       listen_notify=False, update_heartbeat_interval=max(stalled_after / 4, 0.05),
                                       stalled_worker_timeout=stalled_after, delete_jobs="never")
            left = ran = 0
            for q in queues:
                for state in ("todo", "doing"):
                    left += len(list(await app.job_manager.list_jobs_async(queue=q, status=state)))
                ran += len(list(await app.job_manager.list_jobs_async(queue=q, status="succeeded")))
            if once and not left:
                return ran
            await asyncio.sleep(poll)


def run_worker(node: Node, *, queues: Sequence[str] = (DEFAULT_QUEUE,), once: bool = False, poll: float = 2.0,
               stalled_after: float = 30.0) -> int:
    """Take jobs from `queues` and run them on this node, one at a time, until stopped (Ctrl-C), or with
    `once` until no job is waiting or running anywhere. Jobs of a worker silent for `stalled_after` seconds
    are retried here first. Returns how many jobs of these queues have succeeded."""
    url = queue_url(node.catalog or None)
    _ensure_schema(url)
    node = replace(node, catalog=url)
    own = library_queue(node.place)
    return asyncio.run(_work(url, node, [*queues, *([own] if own not in queues else [])], once, poll,
                             stalled_after))


def list_jobs(*, catalog: str | None = None, queue: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Every queued job (newest first) with its state, and what the catalog says it did."""
    url = queue_url(catalog)
    _ensure_schema(url)
    app = _app(url)
    with app.open(), CatalogStore.open(url) as cat:
        jobs = app.job_manager.list_jobs(queue=queue, status=status)
        return [_job_doc(j, cat) for j in sorted(jobs, key=lambda j: -int(j.id))]


def _job_doc(job: Any, cat: CatalogStore) -> dict[str, Any]:
    rec = _queued.queued_job(cat, int(job.id)) or {}
    kw = job.task_kwargs or {}
    return {"id": int(job.id), "kind": kw.get("kind"), "state": job.status, "queue": job.queue, "lock": job.lock,
            "attempts": job.attempts, "args": kw.get("args", {}), "node": rec.get("node"),
            "status": rec.get("status"), "progress": rec.get("progress", {}), "result": rec.get("result", {}),
            "started": rec.get("started"), "finished": rec.get("finished")}


#: The papers a job leaves, by how their names end: its copy log (`<session>.json`, `.log`) and, beside it, what
#: api/paperwork.py writes; reports and certificates a result names.
DOCUMENT_KINDS = ((".paperwork.7z", "paperwork"), (".custody.jsonl", "custody excerpt"),
                  (".journal.jsonl", "journal"), (".json", "copy log"), (".log", "copy log (text)"),
                  (".html", "report"), (".pdf", "report"), (".csv", "report"))
_BESIDE_COPY_LOG = (".log", ".paperwork.7z", ".custody.jsonl")


def _kind(path: str) -> str | None:
    return next((kind for end, kind in DOCUMENT_KINDS if path.endswith(end)), None)


#: The keys of a result that name papers (never its sources, files or destinations)
PAPER_KEYS = frozenset({"log", "logs", "copy_log", "report", "certificate", "paperwork", "custody_excerpt"})


def _named_files(value: Any, paper: bool = False) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _named_files(v, paper or k in PAPER_KEYS)
    elif isinstance(value, list):
        for v in value:
            yield from _named_files(v, paper)
    elif paper and isinstance(value, str) and os.path.isabs(value) and _kind(value):
        yield value


def job_documents(result: dict[str, Any]) -> list[dict[str, str]]:
    """The papers of a job that exist on this machine: every file its result names (absolute paths only) and,
    beside each copy log, its text log, custody excerpt and paperwork .7z. (kind, path, name) each; only
    files the result names or that sit beside them under the session's name, never anything else."""
    found: dict[str, str] = {}
    for path in _named_files(result):
        found.setdefault(path, _kind(path) or "")
        if path.endswith(".json"):
            for end in _BESIDE_COPY_LOG:
                found.setdefault(path[:-len(".json")] + end, _kind(end) or "")
    return [{"kind": kind, "path": path, "name": os.path.basename(path)} for path, kind in found.items()
            if os.path.isfile(path)]


def show_job(job_id: int, *, catalog: str | None = None) -> dict[str, Any]:
    """One queued job, with the papers it left (`documents`: job_documents)."""
    for doc in list_jobs(catalog=catalog):
        if doc["id"] == job_id:
            return {**doc, "documents": job_documents(doc["result"] or {})}
    raise UsageError(f"no queued job {job_id} (see: lto-archive jobs list)")


def cancel_job(job_id: int, *, catalog: str | None = None) -> dict[str, Any]:
    """Cancel a job still waiting; a running one is asked to stop at its next file boundary is not offered:
    a tape job is stopped on its node (Ctrl-C there), so a cartridge is never left to a half-cancel."""
    url = queue_url(catalog)
    app = _app(url)
    with app.open():
        ok = app.job_manager.cancel_job_by_id(job_id)
    if not ok:
        raise UsageError(f"job {job_id} cannot be cancelled: it is not waiting (see: lto-archive jobs show {job_id})")
    return show_job(job_id, catalog=catalog)


# the names the package exports (lto_archive.submit_job ...)
QueueNode, submit_job, run_queue_worker, list_queued_jobs, show_queued_job, cancel_queued_job, queued_job_queue = (
    Node, submit, run_worker, list_jobs, show_job, cancel_job, job_queue)

__all__ = ["Node", "submit", "job_queue", "library_queue", "run_worker", "run_job", "list_jobs", "show_job", "cancel_job", "queue_url", "KINDS",
           "DEFAULT_QUEUE", "TASK", "QueueNode", "submit_job", "run_queue_worker", "list_queued_jobs",
           "show_queued_job", "cancel_queued_job", "queued_job_queue"]
