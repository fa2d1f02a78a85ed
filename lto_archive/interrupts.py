"""Stopping a job cleanly on SIGINT (Ctrl-C) and SIGTERM.

For the duration of a job that can stop at a file boundary, `stop_requests()` installs one handler
for both signals (main thread only; the old handlers come back after). The first signal only sets
`StopRequest.signum`: the engine sees it between two entries and closes the session with what is
complete. A second signal raises `StopNow`, a KeyboardInterrupt carrying the signal number: the job
stops at once (the tape file is left open; the next job closes it, jobs/append.py). At the job and
command-line boundaries a KeyboardInterrupt becomes `errors.Interrupted` (exit 130 or 143).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopNow(KeyboardInterrupt):
    """A second SIGINT or SIGTERM during a job: stop at once."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    """SIGINT, SIGTERM, ... (the number when Python does not know it)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def signal_of(exc: BaseException) -> int:
    """The signal that raised a KeyboardInterrupt: its `signum` when it carries one, else SIGINT (Ctrl-C)."""
    signum = getattr(exc, "signum", None)
    return int(signum) if isinstance(signum, int) else int(signal.SIGINT)


def interrupted_message(signum: int, files: list[Any]) -> str:
    """What an interrupted write says: how many files are complete, how many were not written."""
    done = sum(1 for f in files if f.status not in ("not-written", "lost"))
    left = len(files) - done
    return (f"interrupted by {signal_name(signum)}: the session was closed with the {done} file(s) taken "
            f"before; {left} file(s) not written (write them in a new job)")


class StopRequest:
    """Set by the first signal of a job: `signum` is None until a stop is asked."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def asked(self) -> bool:
        return self.signum is not None


@contextmanager
def stop_requests(enabled: bool = True) -> Iterator[StopRequest]:
    """While the block runs, the first SIGINT/SIGTERM sets the request's `signum` and a second one
    raises StopNow. Not `enabled`, or not on the main thread: nothing is installed (a signal then
    does what it did before: Ctrl-C raises KeyboardInterrupt)."""
    request = StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if request.signum is not None:
            raise StopNow(signum)
        request.signum = signum

    old: dict[int, Any] = {}
    try:
        for sig in SIGNALS:
            old[sig] = signal.signal(sig, handler)
        yield request
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)


__all__ = ["SIGNALS", "interrupted_message", "StopNow", "StopRequest", "signal_name", "signal_of", "stop_requests"]
