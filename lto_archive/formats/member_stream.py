"""What the archive readers (TAR, CPIO, AXF) share: one byte stream, read and skipped by offset.

A reader takes a TapeFileReader (`read_view`, `skip`: no copies) or any binary
stream (`read`); it counts the stream offset of the next unread byte itself, so
member positions mean the same whatever the stream is. Once an archive is found
damaged, that error sticks: every later call raises it again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Generic, Iterator

from ..errors import ArchiveError, CorruptArchive
from .member import E, Member

DEFAULT_CHUNK = 1 << 20


@dataclass(slots=True)
class Skipped:
    """A member the reader stepped over (a kind lto-archive does not restore, a damaged sparse map)."""

    offset: int          # stream offset of its header
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path!r} at byte {self.offset} ({self.reason})"


@dataclass(slots=True)
class Damage:
    """A damaged region the reader read past: from `offset`, `length` bytes, up to the next good header.

    `after`: the last good member before it; `lost`: the members whose names were seen in it."""

    offset: int
    length: int
    reason: str
    after: str | None = None
    lost: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f" after {self.after!r}" if self.after is not None else ""
        lost = f"; members lost: {', '.join(repr(p) for p in self.lost)}" if self.lost else ""
        return f"at byte {self.offset}, {self.length} bytes{where} ({self.reason}){lost}"


class MemberStreamReader(Generic[E]):
    """Base of the format readers: stream access, offsets, the sticky error, iteration over `next()`.

    Every reader yields Member (member.py); E is the type of its format's `extra`."""

    _stream: Any
    _error: ArchiveError | None
    _last_path: str | None

    def _open_stream(self, stream: BinaryIO | Any, start_offset: int | None) -> None:
        self._stream = stream
        self._view = getattr(stream, "read_view", None)
        self._read = getattr(stream, "read", None)
        if self._view is None and self._read is None:
            raise TypeError(f"{type(self).__name__} needs a stream with read() or read_view()")
        if start_offset is None:
            try:
                start_offset = int(stream.tell())
            except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                start_offset = 0
        self._start = start_offset
        self._pos = start_offset          # stream offset of the next unread byte
        self._back = b""                  # bytes read ahead and given back (a resync found a header in them)
        self.skipped: list[Skipped] = []  # members stepped over, in archive order
        self.damaged: list[Damage] = []   # damaged regions read past, in archive order

    def _read_some(self, n: int) -> Any:
        """Up to n bytes (fewer only at end of stream); bytes, bytearray or memoryview."""
        if n <= 0:
            return b""
        if self._back:
            take, self._back = self._back[:n], self._back[n:]
            self._pos += len(take)
            return take if len(take) == n else take + bytes(self._read_some(n - len(take)))
        if self._view is not None:
            v = self._view(n)
            if len(v) == n or not len(v):
                self._pos += len(v)
                return v
            parts = bytearray(v)
            while len(parts) < n:
                v = self._view(n - len(parts))
                if not len(v):
                    break
                parts += v
            self._pos += len(parts)
            return parts
        b = self._read(n)
        if b is None:
            raise ArchiveError(f"the stream is non-blocking and had no data; {type(self).__name__} needs a "
                               f"blocking stream")
        if len(b) == n or not b:
            self._pos += len(b)
            return b
        parts = bytearray(b)
        while len(parts) < n:
            b = self._read(n - len(parts))
            if not b:
                break
            parts += b
        self._pos += len(parts)
        return parts

    def _skip(self, n: int) -> int:
        """Drop up to n bytes; returns how many were there."""
        if n <= 0:
            return 0
        if self._back:
            k = min(n, len(self._back))
            self._back = self._back[k:]
            self._pos += k
            return k + self._skip(n - k)
        s = self._stream
        skip = getattr(s, "skip", None)
        if skip is not None and self._view is not None:
            k = skip(n)
            self._pos += k
            return k
        try:
            seekable = s.seekable()
        except (AttributeError, ValueError, OSError):
            seekable = False
        if seekable and n > 65536:
            cur = s.tell()
            end = s.seek(0, io.SEEK_END)
            k = min(n, max(0, end - cur))
            s.seek(cur + k)
            self._pos += k
            return k
        left = n
        while left > 0:
            b = self._read(min(left, DEFAULT_CHUNK))
            if not b:
                break
            left -= len(b)
        self._pos += n - left
        return n - left

    def _give_back(self, data: bytes) -> None:
        """Bytes just read are to be read again (before anything still unread)."""
        self._back = data + self._back
        self._pos -= len(data)

    def _drain_rest(self) -> int:
        """Read and drop the rest of the stream; how many bytes that was."""
        total = len(self._back)
        self._pos += total
        self._back = b""
        skip_to_end = getattr(self._stream, "skip_to_end", None)
        if skip_to_end is not None:
            k = skip_to_end()
            self._pos += k
            return total + k
        while True:
            k = self._skip(DEFAULT_CHUNK)
            total += k
            if k < DEFAULT_CHUNK:
                return total

    def _after(self) -> str:
        return f" after {self._last_path!r}" if self._last_path is not None else ""

    def _corrupt(self, message: str, *, offset: int, path: str | None = None, **data: Any) -> CorruptArchive:
        e = CorruptArchive(message, offset=offset, path=path, **data)
        self._error = e   # every later call raises the same error
        return e

    def next(self) -> Member[E] | None:
        raise NotImplementedError

    def iter_data(self, member: Member[E], chunk_size: int = DEFAULT_CHUNK) -> Iterator[memoryview | bytes]:
        raise NotImplementedError

    def read_data(self, member: Member[E]) -> bytes:
        """All data of `member` as one bytes object (small members only)."""
        return b"".join(self.iter_data(member))

    def readinto_data(self, member: Member[E], sink: Any) -> int:
        """Write the data of `member` to `sink.write()`; returns bytes written."""
        n = 0
        for chunk in self.iter_data(member):
            sink.write(chunk)
            n += len(chunk)
        return n

    def check_damage(self) -> None:
        """After iteration: raise one error naming every member skipped and every damaged region read
        past (CorruptArchive when there was damage), so that a restore that went on is never "ok"."""
        if not self.skipped and not self.damaged:
            return
        parts = []
        if self.damaged:
            parts.append(f"{len(self.damaged)} damaged region(s) read past: "
                         + "; ".join(str(d) for d in self.damaged))
        if self.skipped:
            parts.append(f"{len(self.skipped)} member(s) not restored: " + "; ".join(str(s) for s in self.skipped))
        message = ". ".join(parts)
        first = self.damaged[0].offset if self.damaged else self.skipped[0].offset
        cls = CorruptArchive if self.damaged else ArchiveError
        raise cls(message, offset=first, skipped=[str(s) for s in self.skipped],
                  damaged=[str(d) for d in self.damaged])

    @property
    def offset(self) -> int:
        """Stream offset of the next unread byte."""
        return self._pos

    def __iter__(self) -> Iterator[Member[E]]:
        while True:
            m = self.next()
            if m is None:
                return
            yield m


__all__ = ["MemberStreamReader", "DEFAULT_CHUNK", "Skipped", "Damage"]
