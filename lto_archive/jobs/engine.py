"""The write engine: one loop that drives every write job, whatever its target.

A job is one session of one kind of target: a tape file on one or more drives
(jobs/write.py), a session appended to LTFS volumes (jobs/ltfs_write.py), a copy
onto a mounted LTFS volume (jobs/ltfs_mounted.py), or a set over cartridges from
a supply (span/tape_span.py, span/ltfs_span.py). The engine runs them all the same way:

    start     load, position, open: a failure here raises, nothing is written
    begin     the session's first records (session.json)
    add_next  one source entry after the other, until `pending` is empty
    commit    the session's metadata and its commit point (filemark, index)
    fail      a device failure part-way: what reached the tape stays, the rest is said
    finish    close the session, read back, folders, copy log: the job's result

SIGINT and SIGTERM: a job that can stop at a file boundary (`interruptible`) gets a handler for the
duration of the run (lto_archive/interrupts.py). The first signal is seen between two entries:
`interrupt` marks what is still pending as not written, and the session is committed and finished as
usual with what is complete (its status: interrupted; `close_job_session`), and `settle_interrupted`
makes the result, each set and every destination say interrupted. This holds for every job: tape files
and their fan-out, LTFS volumes, LTFS mounts, span sets (the open cartridge closed as the set's last). A
second signal, or a Ctrl-C in a job that cannot stop at a boundary, stops at once: `abandon` drops what
is buffered and commits the journal with what the drives took, and the KeyboardInterrupt leaves as
`errors.Interrupted` (exit 130, or 143 for SIGTERM); the tape file it leaves open is closed by the next
job (jobs/append.py), an LTFS volume is made consistent by `ltfs recover` from the journal.

The plan before (`jobs.session.plan_job`) and the lifecycle steps the jobs share
(`jobs.session`) are the same for every job, so a rule about commit points,
early warning, verify or copy logs is written once.
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence
from typing import Any, Generic, TypeVar

from ..errors import DeviceError, Interrupted
from ..interrupts import signal_name, signal_of, stop_requests
from ..manifest import NOT_WRITTEN, FileRecord, SessionInfo
from ..scan import SourceEntry
from .session import close_session, new_record

R = TypeVar("R")


class WriteJob(Generic[R]):
    """One write job as the engine drives it (see the module's docstring for the steps)."""

    pending: MutableSequence[SourceEntry]    # what is still to be written, in order (a deque: taken from the left)
    interruptible = False         # stops at a file boundary on SIGINT/SIGTERM (`interrupt`)
    interrupted: int | None = None   # the signal that stopped the job at a file boundary

    def start(self) -> None:
        """Load, position and open the targets (the constructor did it when there is nothing more)."""

    def begin(self) -> None:
        """The session's first records, before the sources (none, unless the format has them)."""

    def add_next(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def fail(self, exc: DeviceError) -> None:
        raise NotImplementedError

    def finish(self) -> R:
        raise NotImplementedError

    def interrupt(self, signum: int) -> None:
        """A signal asked the job to stop: take nothing more (`pending` emptied, each said not written, in
        `stopped_records()`); `commit` then closes the session with what is complete."""
        self.interrupted = signum
        self.stopped_records().extend(not_written(self.pending, signum))

    def stopped_records(self) -> list[FileRecord]:
        """Where the records of the entries a signal left go: the open session's (its manifest's) files."""
        return self.records  # type: ignore[attr-defined,no-any-return]

    def abandon(self) -> None:
        """Stop at once (a second signal): drop what is buffered, write nothing more (the job's RecordStream,
        when it has one, stops without its filemark or index); its journal keeps every entry the drives took,
        so `ltfs recover` or `verify --manifest` proves them."""
        stream = getattr(self, "stream", None)
        if stream is not None:
            stream.abort()
        journal = getattr(self, "journal", None)
        if journal is not None:
            journal.commit(force=True)
            journal.close()


def run(job: WriteJob[R]) -> R:
    """Start the job (errors raise: nothing written), write every entry, commit; a device failure
    part-way goes to the job (`fail`), which says what is on tape; then the job's result. A signal
    stops an interruptible job at the next entry; a KeyboardInterrupt leaves as Interrupted."""
    closed = False      # the commit point (or the failure) is behind: what is on tape is said
    with stop_requests(enabled=job.interruptible) as stop:
        try:
            job.start()
            try:
                job.begin()
                while job.pending:
                    if stop.signum is not None:
                        job.interrupt(stop.signum)
                        break
                    job.add_next()
                job.commit()
            except DeviceError as exc:
                job.fail(exc)
            closed = True
            return settle_interrupted(job.finish(), job.interrupted)
        except KeyboardInterrupt as exc:
            job.abandon()
            raise stopped_at_once(signal_of(exc), closed) from None


def stopped_at_once(signum: int, closed: bool) -> Interrupted:
    """The error of a job a signal stopped at once (a second one, or Ctrl-C in a job that cannot stop at a
    file boundary): before its session was closed, or after (read back, copy log not finished)."""
    if closed:
        return Interrupted(f"stopped at once by {signal_name(signum)} after the session was closed on tape: "
                           "its read-back and copy log did not finish (verify it with 'lto-archive verify')",
                           signum)
    return Interrupted(f"stopped at once by {signal_name(signum)}: the session was not closed (the next write "
                       "closes an open tape file first; an LTFS volume needs 'lto-archive ltfs recover')", signum)


def not_written(pending: MutableSequence[SourceEntry], signum: int) -> list[FileRecord]:
    """The records of the entries a signal left (`pending` emptied): each not written, saying why."""
    why = f"not written: the job was interrupted ({signal_name(signum)}) before this file"
    out = []
    for entry in pending:
        rec = new_record(entry)
        rec.status, rec.message = NOT_WRITTEN, why
        out.append(rec)
    pending.clear()
    return out


def close_job_session(session: SessionInfo, records: Sequence[FileRecord], started: Any, tracker: Any,
                      failed: bool = False, interrupted: int | None = None) -> None:
    """jobs.session.close_session, and the status `interrupted` for a session a signal closed at a file
    boundary (a device failure says failed whatever stopped the job)."""
    close_session(session, records, started, tracker, failed=failed)
    if interrupted is not None and not failed:
        session.status = "interrupted"


def settle_interrupted(result: R, signum: int | None) -> R:
    """The result of a job a signal stopped at a file boundary: it (each set) says so, and every destination
    that holds the session (written, read back or not) says interrupted rather than ok."""
    if signum is None:
        return result
    results: list[Any] = result if isinstance(result, list) else [result]
    for r in results:
        r.interrupted = signum
        for d in getattr(r, "destinations", None) or []:
            if d.get("status") in ("ok", "written"):
                d["status"] = "interrupted"
        for v in getattr(r, "volumes", None) or []:      # a span set: the cartridge a signal closed
            if v.manifest.session.status == "interrupted":
                v.interrupted = signum
        for f in getattr(r, "folders", None) or []:      # a span set's --copy-to folders (FolderResult)
            if f.status == "ok":
                f.status = "interrupted"
    return result


__all__ = ["WriteJob", "run", "not_written", "close_job_session", "settle_interrupted"]
