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
usual with what is complete (its status: interrupted). A second signal, or a Ctrl-C in a job that
cannot stop at a boundary, stops at once: `abandon` drops what is buffered, and the KeyboardInterrupt
leaves as `errors.Interrupted` (exit 130, or 143 for SIGTERM); the tape file it leaves open is closed
by the next job (jobs/append.py).

The plan before (`jobs.session.plan_job`) and the lifecycle steps the jobs share
(`jobs.session`) are the same for every job, so a rule about commit points,
early warning, verify or copy logs is written once.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ..errors import DeviceError, Interrupted
from ..interrupts import signal_name, signal_of, stop_requests
from ..scan import SourceEntry

R = TypeVar("R")


class WriteJob(Generic[R]):
    """One write job as the engine drives it (see the module's docstring for the steps)."""

    pending: list[SourceEntry]    # what is still to be written, in order
    interruptible = False         # stops at a file boundary on SIGINT/SIGTERM (`interrupt`)

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
        """A signal asked the job to stop: take nothing more (`pending` emptied, each said not written)."""
        raise NotImplementedError

    def abandon(self) -> None:
        """Stop at once (a second signal): drop what is buffered, write nothing more."""


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
            return job.finish()
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


__all__ = ["WriteJob", "run"]
