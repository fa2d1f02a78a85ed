"""`submit write|verify|restore|migrate|audit`, `worker`, `jobs list|show|cancel`: jobs queued across nodes (docs/queue.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from lto_archive import (QueueNode, cancel_queued_job, list_queued_jobs, queued_job_queue, run_queue_worker,
                         show_queued_job, submit_job)

from .catalog_cmds import catalog_option
from .common import emit, human_bytes

_QUEUE_HELP = ("The queue (default: the queue of the library the catalog says holds the job's cartridge, "
               "library:NAME, else archive); a library's own queue sends its jobs only to its nodes.")


def _json(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")(f)


def _queue(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--queue", default=None, help=_QUEUE_HELP)(f)


def _barcode(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--barcode", default=None,
                        help="The cartridge the job needs: the worker's library loads it; no two nodes use it at once.")(f)


def _submitted(kind: str, args: dict[str, Any], catalog_path: str | None, queue: str | None, as_json: bool) -> None:
    args = {k: v for k, v in args.items() if v not in (None, (), [])}
    queue = queue or queued_job_queue(args, catalog=catalog_path)
    job = submit_job(kind, args, catalog=catalog_path, queue=queue)
    emit({"status": "ok", "job": job, "kind": kind, "queue": queue}, as_json,
         lambda: click.echo(f"job {job} queued ({kind}, queue {queue}): lto-archive jobs show {job}"))


@click.group("submit")
def submit() -> None:
    """Queue a job for a worker node (the shared PostgreSQL catalog holds the queue)."""


@submit.command("write")
@click.argument("sources", nargs=-1, required=True)
@_barcode
@click.option("--span", default=None, metavar="PATTERN",
              help="Span the worker's library cartridges whose barcodes match PATTERN (a set of cartridges).")
@click.option("--format", "fmt", default=None, help="tar (default), cpio, ltfs, axf ...")
@click.option("--hashes", default=None, help="Checksums, e.g. xxh128,md5.")
@click.option("--operator", default=None)
@click.option("--production", default=None)
@_queue
@catalog_option
@_json
def submit_write(sources: tuple[str, ...], barcode: str | None, span: str | None, fmt: str | None,
                 hashes: str | None, operator: str | None, production: str | None, queue: str | None,
                 catalog_path: str | None, as_json: bool) -> None:
    """Queue a write of SOURCES (paths as the worker node sees them)."""
    _submitted("write", {"sources": list(sources), "barcode": barcode, "span": span, "format": fmt,
                         "hashes": hashes, "operator": operator, "production": production}, catalog_path, queue,
               as_json)


@submit.command("migrate")
@click.option("--from-barcode", "from_barcodes", multiple=True, required=True,
              help="A source cartridge in the worker's library (repeatable: several onto one target).")
@click.option("--to-barcode", required=True, help="The target cartridge in the worker's library.")
@click.option("--format", "fmt", default=None, help="The target's format (default: as docs/migration.md says).")
@click.option("--staging", default=None, help="A folder on the worker with room for one source (one drive).")
@_queue
@catalog_option
@_json
def submit_migrate(from_barcodes: tuple[str, ...], to_barcode: str, fmt: str | None, staging: str | None, queue: str | None,
                   catalog_path: str | None, as_json: bool) -> None:
    """Queue a migration of cartridges onto another in the worker's library (docs/migration.md)."""
    _submitted("migrate", {"from_barcodes": list(from_barcodes), "to_barcode": to_barcode, "format": fmt,
                           "staging": staging}, catalog_path, queue, as_json)


@submit.command("audit")
@click.option("--cartridge", "cartridges", multiple=True, help="Audit these (default: whatever is due).")
@click.option("--kind", type=click.Choice(["full", "sample"]), default=None)
@click.option("--seed", type=int, default=None, help="Repeat a run's random choices.")
@_queue
@catalog_option
@_json
def submit_audit(cartridges: tuple[str, ...], kind: str | None, seed: int | None, queue: str | None,
                 catalog_path: str | None, as_json: bool) -> None:
    """Queue the audits due on the worker's drive or library (docs/audit.md)."""
    _submitted("audit", {"cartridges": list(cartridges), "kind": kind, "seed": seed}, catalog_path, queue, as_json)


@submit.command("verify")
@_barcode
@_queue
@catalog_option
@_json
def submit_verify(barcode: str | None, queue: str | None, catalog_path: str | None, as_json: bool) -> None:
    """Queue a full read-back of a cartridge (--barcode) or of what is in the worker's drive."""
    _submitted("verify", {"barcode": barcode}, catalog_path, queue, as_json)


@submit.command("restore")
@click.argument("dest")
@click.argument("patterns", nargs=-1)
@_barcode
@click.option("--overwrite", is_flag=True, default=None)
@_queue
@catalog_option
@_json
def submit_restore(dest: str, patterns: tuple[str, ...], barcode: str | None, overwrite: bool | None, queue: str | None,
                   catalog_path: str | None, as_json: bool) -> None:
    """Queue a restore into DEST (a folder on the worker node) of the files matching PATTERNS."""
    _submitted("restore", {"dest": dest, "patterns": list(patterns), "barcode": barcode, "overwrite": overwrite},
               catalog_path, queue, as_json)


@click.command("worker")
@click.option("--device", default=None, help="The drive this node runs jobs on (/dev/nst0, vtape:DIR).")
@click.option("--library", default=None, help="The library this node runs jobs on (/dev/sgN, vlib:DIR).")
@click.option("--queue", "queues", multiple=True, help="Queues to take jobs from (repeatable; default: archive).")
@click.option("--name", default="", help="This node's name in the jobs' records (default: the host name).")
@click.option("--library-name", default="", metavar="NAME",
              help="The library's name, the same on every node sharing its robot: its queue library:NAME and the "
                   "leases of its drives (default: the --library spec; a vlib: its folder).")
@click.option("--lease-wait", default=86400.0, show_default=True, metavar="SECONDS",
              help="How long a job waits for a drive or cartridge another job holds before it fails.")
@click.option("--once", is_flag=True, help="Stop when no job is waiting or running (scripts, tests).")
@click.option("--stalled-after", default=30.0, show_default=True, metavar="SECONDS",
              help="A node silent this long is dead: its job is given to another.")
@click.option("--poll", default=2.0, show_default=True, metavar="SECONDS", help="How often to look for new jobs.")
@catalog_option
@_json
def worker(device: str | None, library: str | None, queues: tuple[str, ...], name: str, library_name: str,
           lease_wait: float, once: bool, stalled_after: float, poll: float, catalog_path: str | None,
           as_json: bool) -> None:
    """Run queued jobs on this node's drive or library, one at a time, until Ctrl-C (or --once). It takes the
    jobs of --queue (default: archive) and of its library's own queue, library:NAME."""
    node = QueueNode(catalog=catalog_path or "", device=device, library=library, name=name,
                     library_name=library_name, lease_wait=lease_wait)
    done = run_queue_worker(node, queues=queues or ("archive",), once=once, poll=poll, stalled_after=stalled_after)
    emit({"status": "ok", "succeeded": done}, as_json, lambda: click.echo(f"{done} job(s) done in these queues"))


@click.group("jobs")
def jobs() -> None:
    """Jobs queued across nodes: list, show, cancel."""


def _line(j: dict[str, Any]) -> str:
    p = j["progress"] or {}
    done = f" {human_bytes(p['bytes_done'])}" + (f" of {human_bytes(p['bytes_total'])}" if p.get("bytes_total") else "") \
        if p.get("bytes_done") is not None else ""
    return (f"{j['id']:>6}  {j['kind'] or '?':<8} {j['state']:<10} {j['status'] or '':<11} {j['node'] or '':<14}"
            f" attempts {j['attempts']}{done}")


@jobs.command("list")
@click.option("--state", default=None, help="Only jobs in this state (todo, doing, succeeded, failed, cancelled).")
@_queue
@catalog_option
@_json
def jobs_list(state: str | None, queue: str | None, catalog_path: str | None, as_json: bool) -> None:
    """Every queued job, newest first: its state in the queue, the node that ran it, its result."""
    found = list_queued_jobs(catalog=catalog_path, queue=queue, status=state)
    emit({"jobs": found}, as_json, lambda: [click.echo(_line(j)) for j in found] or click.echo("no queued job"))


@jobs.command("show")
@click.argument("job_id", type=int)
@catalog_option
@_json
def jobs_show(job_id: int, catalog_path: str | None, as_json: bool) -> None:
    """One job: what was asked, where it ran, how far it got, what it gave."""
    j = show_queued_job(job_id, catalog=catalog_path)

    def text() -> None:
        click.echo(_line(j))
        click.echo(f"  asked:    {j['args']}")
        click.echo(f"  started:  {j['started'] or '-'}   finished: {j['finished'] or '-'}")
        res = j["result"] or {}
        if res.get("error"):
            click.echo(f"  error:    {res['error'].get('message')}")
        for d in j.get("documents") or []:
            click.echo(f"  {d['kind'] + ':':<17} {d['path']}")
    emit(j, as_json, text)


@jobs.command("cancel")
@click.argument("job_id", type=int)
@catalog_option
@_json
def jobs_cancel(job_id: int, catalog_path: str | None, as_json: bool) -> None:
    """Cancel a job that is still waiting (a running tape job is stopped on its node, with Ctrl-C)."""
    j = cancel_queued_job(job_id, catalog=catalog_path)
    emit(j, as_json, lambda: click.echo(f"job {job_id}: {j['state']}"))


__all__ = ["submit", "worker", "jobs"]
