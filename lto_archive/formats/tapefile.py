"""One tape file as a binary stream.

A tape file is the run of records between two filemarks (or between a filemark
and end of data). `TapeFileReader` turns it into a readable, non-seekable byte
stream for a format reader (TAR, CPIO) and remembers, cheaply, which tape block
held which byte, so that the write side's "member X starts in record N" and the
read side's byte offsets speak the same language: restore can later `locate`
straight to the record holding a member's header.

Hot path: one `device.read_record()` per record; `read_view(n)` hands out
memoryview slices of that record (no copy), `readinto(b)` copies once into the
caller's buffer. Record sizes are kept as run-length runs, so the bookkeeping
for a tape file of millions of equal records is a handful of tuples.
"""

from __future__ import annotations

import io
from bisect import bisect_right
from typing import NamedTuple

from ..errors import EndOfData
from ..tape.device import MAX_RECORD, TapeDevice

__all__ = ["TapeFileReader", "RecordRun"]

_EMPTY = memoryview(b"")


class RecordRun(NamedTuple):
    """`count` consecutive records of `size` bytes each, the first of which is
    record number `first_record` of this reader and starts at tape-file byte
    `start_offset`."""

    start_offset: int
    first_record: int
    size: int
    count: int


class TapeFileReader(io.RawIOBase):
    """A readable stream over the records of ONE tape file.

    It starts at the device's current position and ends at the next filemark,
    which it consumes (the device is then at the first record of the next tape
    file; `ended_at_filemark` is True), or at end of data (`ended_at_eod`;
    EndOfData from the device ends the stream cleanly, it is not an error here:
    whether a missing filemark means damage is for the format reader to say).
    Once ended, the stream never touches the device again.

    Offsets are tape-file byte offsets: 0 is the first byte of the tape file's
    first record. When the reader starts in the middle of a tape file (restore
    located to the record holding a member), pass `base_offset` (that record's
    tape-file offset, as the write side recorded it) and `base_record` (its
    index within the tape file) so that offsets and blocks keep their meaning.

    - `tell()`: tape-file offset of the next byte the caller will get.
    - `bytes_read`, `records_read`: what came from the device so far (bytes in
      records, including bytes not yet handed to the caller).
    - `block_of(offset) -> (block, offset_in_record)`: which device block
      (`Position.block`) holds a byte already read, and where in that record.
    - `read_view(n)`: up to n bytes of the current record as a memoryview, no
      copy; an empty view at the end of the tape file.
    - `skip(n)`: drop up to n bytes without copying; returns how many.
    """

    def __init__(
        self,
        device: TapeDevice,
        max_record: int = MAX_RECORD,
        *,
        start_block: int | None = None,
        partition: int | None = None,
        base_offset: int = 0,
        base_record: int = 0,
    ) -> None:
        super().__init__()
        self._device = device
        self._max_record = int(max_record)
        if start_block is None or partition is None:
            pos = device.position()
            if start_block is None:
                start_block = pos.block
            if partition is None:
                partition = pos.partition
        #: device block number of this reader's first record
        self.start_block: int = start_block
        self.partition: int = partition
        self.base_offset: int = base_offset
        self.base_record: int = base_record
        self.ended_at_filemark = False
        self.ended_at_eod = False
        self.records_read = 0
        self.bytes_read = 0
        # current record and read cursor within it
        self._rec: memoryview = _EMPTY
        self._pos = 0
        self._consumed = base_offset      # tape-file offset of the next byte handed out
        # run-length record map: parallel lists for bisect
        self._run_starts: list[int] = []
        self._runs: list[RecordRun] = []
        # the open run, kept in plain attributes (cheap to extend)
        self._run_start = base_offset
        self._run_first = 0
        self._run_size = -1
        self._run_count = 0

    # --- io.RawIOBase -----------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._consumed

    def readinto(self, b) -> int:  # type: ignore[override]
        """Fill `b` from as many records as needed (one copy per byte);
        fewer bytes only at the end of the tape file."""
        outer = memoryview(b)
        dst = outer.cast("B") if (outer.format != "B" or outer.ndim != 1) else outer
        try:
            n = len(dst)
            done = 0
            while done < n:
                v = self.read_view(n - done)
                k = len(v)
                if not k:
                    break
                dst[done:done + k] = v
                done += k
            return done
        finally:
            if dst is not outer:
                dst.release()
            outer.release()

    # --- zero-copy access ------------------------------------------------
    def read_view(self, n: int) -> memoryview:
        """Up to `n` bytes of the current record, as a memoryview (no copy).

        Returns an empty view only at the end of the tape file. The view stays
        valid after further reads (records are immutable bytes objects)."""
        pos = self._pos
        rec = self._rec
        avail = len(rec) - pos
        if avail <= 0:
            if not self._next_record():
                return _EMPTY
            rec = self._rec
            pos = 0
            avail = len(rec)
        if n >= avail:
            n = avail
        self._pos = pos + n
        self._consumed += n
        return rec[pos:pos + n]

    def peek_view(self) -> memoryview:
        """The rest of the current record as a memoryview (no copy), nothing consumed; when it is used up,
        the next record is read first (empty at the end of the tape file). A reader parses the headers of
        a member whole in it in one step (formats/tar_fast.py), then takes them with `read_view`."""
        if self._pos >= len(self._rec) and not self._next_record():
            return _EMPTY
        return self._rec[self._pos:]

    def skip(self, n: int) -> int:
        """Drop up to `n` bytes (whole records are read, never copied)."""
        left = n
        while left > 0:
            k = len(self.read_view(left))
            if not k:
                break
            left -= k
        return n - left

    def skip_to_end(self) -> int:
        """Read and drop everything up to the filemark (or EOD). Returns the
        number of bytes dropped. Records are still read one by one so that the
        block map stays complete."""
        dropped = len(self._rec) - self._pos
        self._consumed += dropped
        self._pos = len(self._rec)
        while self._next_record():
            k = len(self._rec)
            dropped += k
            self._consumed += k
            self._pos = k
        return dropped

    @property
    def at_end(self) -> bool:
        """True once the filemark (or EOD) ending this tape file was read."""
        return self.ended_at_filemark or self.ended_at_eod

    def _next_record(self) -> bool:
        if self.ended_at_filemark or self.ended_at_eod or self.closed:
            return False
        try:
            rec = self._device.read_record(self._max_record)
        except EndOfData:
            self.ended_at_eod = True
            self._rec = _EMPTY
            self._pos = 0
            return False
        size = len(rec)
        if not size:
            self.ended_at_filemark = True
            self._rec = _EMPTY
            self._pos = 0
            return False
        if size != self._run_size:
            self._close_run()
            self._run_start = self.base_offset + self.bytes_read
            self._run_first = self.records_read
            self._run_size = size
            self._run_count = 1
        else:
            self._run_count += 1
        self.records_read += 1
        self.bytes_read += size
        self._rec = rec if type(rec) is memoryview else memoryview(rec)
        self._pos = 0
        return True

    def _close_run(self) -> None:
        if self._run_count:
            self._run_starts.append(self._run_start)
            self._runs.append(RecordRun(self._run_start, self._run_first, self._run_size, self._run_count))
            self._run_count = 0

    # --- where bytes came from ---------------------------------------------
    def runs(self) -> list[RecordRun]:
        """The record map so far: runs of equal-sized records, in order."""
        out = list(self._runs)
        if self._run_count:
            out.append(RecordRun(self._run_start, self._run_first, self._run_size, self._run_count))
        return out

    def record_of(self, offset: int) -> tuple[int, int]:
        """(record index within this tape file, offset within that record) of
        an already read tape-file byte offset. Record indexes count from the
        tape file's first record (`base_record` is added)."""
        end = self.base_offset + self.bytes_read
        if offset < self.base_offset or offset >= end:
            raise ValueError(
                f"byte offset {offset} has not been read from this tape file "
                f"(read so far: {self.base_offset}..{end})")
        if self._run_count and offset >= self._run_start:
            start, first, size = self._run_start, self._run_first, self._run_size
        else:
            i = bisect_right(self._run_starts, offset) - 1
            start, first, size, _ = self._runs[i]
        k, within = divmod(offset - start, size)
        return self.base_record + first + k, within

    def block_of(self, offset: int) -> tuple[int, int]:
        """(device block number, offset within that record) holding the
        already read tape-file byte `offset`."""
        rec, within = self.record_of(offset)
        return self.start_block + (rec - self.base_record), within

    def close(self) -> None:
        """Forget the current record. Does not move the tape: call
        `skip_to_end()` first to leave the device at the next tape file."""
        self._rec = _EMPTY
        self._pos = 0
        super().close()
