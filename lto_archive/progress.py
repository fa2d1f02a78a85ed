"""Progress reports from jobs to whoever shows them (the CLI draws bars).

A core module: the write/read engines, MHL verification and the BAF check all report through
`ProgressTracker`, so it lives below all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CountingReader", "DestinationProgress", "Progress", "ProgressCallback", "ProgressTracker"]


@dataclass(frozen=True)
class DestinationProgress:
    """One destination of a job that writes several (tape A, tape B, a shuttle drive): its own bytes and
    rate, and how full its buffer is (0.0 .. 1.0; None where it has none), so a slow one is visible."""

    name: str
    kind: str                # "tape", "folder", "mount"
    bytes_done: int
    elapsed: float
    buffer_fill: float | None = None
    state: str = "writing"   # "writing", "done", "failed"

    @property
    def rate(self) -> float:
        return self.bytes_done / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(frozen=True)
class Progress:
    phase: str               # "write", "verify", "restore", "list"
    bytes_done: int
    bytes_total: int | None
    files_done: int
    files_total: int | None
    path: str                # the file being worked on
    elapsed: float           # seconds since the job started
    destinations: tuple[DestinationProgress, ...] = ()   # a job writing several: each one's own progress

    @property
    def rate(self) -> float:
        """Bytes per second so far."""
        return self.bytes_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if not self.bytes_total or not self.rate:
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) / self.rate)


ProgressCallback = Callable[[Progress], None]


class ProgressTracker:
    """Counts bytes and files; calls back at most every `interval` seconds
    (and always at a file start), so a fast job is not slowed by reporting."""

    def __init__(self, phase: str, callback: ProgressCallback | None, bytes_total: int | None = None,
                 files_total: int | None = None, interval: float = 0.2) -> None:
        self.phase = phase
        self.callback = callback
        self.bytes_total = bytes_total
        self.files_total = files_total
        self.bytes_done = 0
        self.files_done = 0
        self.path = ""
        self.interval = interval
        self.start = time.monotonic()
        self._last = 0.0
        # a job writing several destinations sets this: each one's progress, sampled at most every `interval`
        # (a report at every file start of 10^5 small files would sample them 10^5 times) and at the end
        self.sampler: Callable[[], tuple[DestinationProgress, ...]] | None = None
        self._sampled: tuple[DestinationProgress, ...] = ()
        self._sampled_at: float | None = None
        self._sampled_by: Callable[[], tuple[DestinationProgress, ...]] | None = None   # (a new stream: sampled anew)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _emit(self, fresh: bool = False) -> None:
        if self.callback is not None:
            now = self._last = time.monotonic()
            sampler = self.sampler
            if sampler is None:
                self._sampled, self._sampled_by = (), None
            elif (fresh or sampler is not self._sampled_by or self._sampled_at is None
                  or now - self._sampled_at >= self.interval):
                self._sampled, self._sampled_at, self._sampled_by = sampler(), now, sampler
            self.callback(Progress(self.phase, self.bytes_done, self.bytes_total, self.files_done,
                                   self.files_total, self.path, now - self.start, self._sampled))

    def file_started(self, path: str) -> None:
        self.path = path
        self._emit()

    def file_done(self) -> None:
        self.files_done += 1

    def add_bytes(self, n: int) -> None:
        self.bytes_done += n
        if self.callback is not None and time.monotonic() - self._last >= self.interval:
            self._emit()

    def finish(self) -> None:
        self._emit(fresh=True)


class _RawReader(Protocol):
    def readinto(self, buf: bytearray | memoryview, /) -> int | None: ...


class CountingReader:
    """Wraps a raw file so the tracker sees bytes as they are read (one call per chunk)."""

    __slots__ = ("_raw", "_tracker")

    def __init__(self, raw: _RawReader, tracker: ProgressTracker) -> None:
        self._raw = raw
        self._tracker = tracker

    def readinto(self, buf: bytearray | memoryview) -> int | None:
        n = self._raw.readinto(buf)
        if n:
            self._tracker.add_bytes(n)
        return n
