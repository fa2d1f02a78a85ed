"""Counters every emulated device keeps, and an optional drive-speed model.

The model (enabled per virtual cartridge) answers one question a DIT cares
about: would a real drive have shoe-shined with this host feeding it?

    host ──records──▶ drive buffer (buffer_bytes) ──▶ tape at rate r

- Speed matching: between two host writes the drive moves tape at
  r = clamp(host rate, floor, native), where the host rate is the size of the
  arriving record over the time since the previous write. So a host feeding
  at or above the floor never drains the buffer, and a host above `native`
  fills it.
- Underrun (a shoe-shine event): while streaming, if the drive would move
  more than the buffer holds, it runs dry, stops and counts one underrun. A
  stopped drive starts again only when the buffer holds `restart_bytes`
  (default: a full buffer).
- A full buffer makes the host wait: the excess is drained at `native`.
  `host_wait_seconds` adds up these waits; with `throttle` the model really
  sleeps them, so a demo on tmpfs runs at a real drive's speed.
- A flush (non-immediate filemark, and any read or move) writes the buffer
  out at `native` (slept when throttling) and stops the drive; that is not an
  underrun.

Arithmetic is in integer nanoseconds and bytes, so results are exact and
repeatable with an injected clock. Generations without a published floor
(LTO-1…4, LTO-10) are assumed to have none: floor = native (set `min_mb_s`
to override).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable

from ..errors import UsageError
from ..generations import Generation

GiB = 1024**3
NS = 1_000_000_000


@dataclass
class TapeStats:
    """What a device has done since it was opened (or loaded)."""

    records_written: int = 0
    bytes_written: int = 0
    filemarks_written: int = 0
    records_read: int = 0
    bytes_read: int = 0
    underruns: int = 0            # speed model: buffer ran dry while streaming (shoe-shine)
    flushes: int = 0              # speed model: buffer written out on request
    host_wait_seconds: float = 0.0  # speed model: time a real drive would have kept the host waiting
    buffer_high_bytes: int = 0    # speed model: the drive buffer at its fullest (since reset_watermarks)
    buffer_low_bytes: int | None = None   # ...at its emptiest while the tape was moving (None: it never moved)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SpeedSettings:
    """The `speed` object of the virtual-tape sidecar."""

    enabled: bool = False
    buffer_bytes: int = GiB
    restart_bytes: int | None = None     # None: a full buffer
    throttle: bool = False
    min_mb_s: float | None = None        # override the generation's speed-matching floor
    native_mb_s: float | None = None     # override the generation's native rate

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "speed settings") -> "SpeedSettings":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown key(s) {', '.join(unknown)} in {where}; known: {', '.join(sorted(known))}",
                             keys=unknown)
        s = cls(**data)
        s.validate()
        return s

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self) -> None:
        if self.buffer_bytes < 1:
            raise UsageError(f"speed buffer_bytes must be at least 1, not {self.buffer_bytes}")
        if self.restart_bytes is not None and not 0 < self.restart_bytes <= self.buffer_bytes:
            raise UsageError(f"speed restart_bytes must be 1..buffer_bytes, not {self.restart_bytes}")
        for name in ("min_mb_s", "native_mb_s"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise UsageError(f"speed {name} must be positive, not {v}")


class DriveSpeedModel:
    """The drive buffer and tape motion of one drive (see the module docstring)."""

    def __init__(self, generation: Generation, settings: SpeedSettings, stats: TapeStats, *,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        settings.validate()
        native = settings.native_mb_s if settings.native_mb_s is not None else generation.native_mb_s
        floor = settings.min_mb_s
        if floor is None:
            floor = generation.min_mb_s if generation.min_mb_s is not None else native
        if floor > native:
            raise UsageError(f"speed floor {floor} MB/s is above the native rate {native} MB/s")
        self.generation = generation
        self.settings = settings
        self.stats = stats
        self.native = round(native * 10**6)     # bytes per second
        self.floor = round(floor * 10**6)
        self.buffer_bytes = settings.buffer_bytes
        self.restart_bytes = settings.restart_bytes or settings.buffer_bytes
        self.throttle = settings.throttle
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self.level = 0            # bytes in the drive buffer
        self.streaming = False    # tape moving
        self._last: int | None = None

    def _now(self) -> int:
        return round(self._clock() * NS)

    def _drain(self, now: int, arriving: int) -> None:
        """Move tape from the last event to `now`, matched to a host delivering `arriving` bytes."""
        last = self._last if self._last is not None else now
        dt = now - last
        if not self.streaming or dt <= 0:
            return
        lo = self.floor * dt // NS
        hi = self.native * dt // NS
        moved = min(max(arriving, lo), hi)
        if moved > self.level:
            # ran dry before the next data arrived: the drive stops (shoe-shine)
            self.stats.underruns += 1
            self.level = 0
            self.streaming = False
        else:
            self.level -= moved

    def _wait(self, seconds_ns: int) -> int:
        if seconds_ns <= 0:
            return 0
        self.stats.host_wait_seconds += seconds_ns / NS
        if self.throttle:
            self._sleep(seconds_ns / NS)
        return seconds_ns if self.throttle else 0

    def reset_watermarks(self) -> None:
        """Start a new window for the buffer's high and low watermarks (a job's stream calls it)."""
        self.stats.buffer_high_bytes = self.level
        self.stats.buffer_low_bytes = None

    def on_write(self, nbytes: int) -> None:
        """The host hands the drive one record of `nbytes`."""
        now = self._now()
        moving = self.streaming
        self._drain(now, nbytes)
        st = self.stats
        if moving and (st.buffer_low_bytes is None or self.level < st.buffer_low_bytes):
            st.buffer_low_bytes = self.level      # the emptiest point: just before this record arrived
        self.level += nbytes
        if self.level > st.buffer_high_bytes:
            st.buffer_high_bytes = min(self.level, self.buffer_bytes)
        if not self.streaming and self.level >= self.restart_bytes:
            self.streaming = True
        if self.level > self.buffer_bytes:
            excess = self.level - self.buffer_bytes
            self.streaming = True
            now += self._wait(-(-excess * NS // self.native))
            self.level = self.buffer_bytes
        self._last = now

    def flush(self) -> None:
        """Write the buffer out and stop (filemark, read, locate...)."""
        now = self._now()
        self._drain(now, 0)
        if self.level:
            self.stats.flushes += 1
            now += self._wait(-(-self.level * NS // self.native))
            self.level = 0
        self.streaming = False
        self._last = now
