"""Any byte stream -> fixed-size tape records, written by device threads.

The producer (a format writer) fills large reusable chunk buffers: headers are
copied in, file data is read straight into them with `readinto` (no copy).
Hashing of file bytes is registered as tasks on the chunk and runs on a hash
thread; each device has its own writer thread that slices a chunk into records.
Chunks are handed over whole (many records at a time), because per-record
hand-offs cost as much as they save (measured: threads joined per record ran at half a plain loop's speed).
Memory is bounded by the pool: `chunks * chunk_size`, whatever the job size.

    producer ──chunk──▶ hash thread ──chunk──▶ writer thread per device ──▶ pool
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import DeviceError, UsageError
from .progress import DestinationProgress
from .tape.device import MAX_RECORD, TapeDevice, WriteFlags
from .tape.speed import DriveSpeedModel

KiB = 1024
MiB = 1024 * KiB
DEFAULT_RECORD_SIZE = 512 * KiB
MIN_RECORD_SIZE = 4 * KiB
MAX_RECORD_SIZE = 1 * MiB
DEFAULT_CHUNK_SIZE = 2 * MiB   # measured: 2 MiB beats 8 MiB by ~1.7x to a virtual tape (cache-resident hand-offs)
DEFAULT_CHUNKS = 16


class Readable(Protocol):
    """What copy_from reads from: an open file, io.BytesIO, or any object with readinto()."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


def check_record_size(size: int) -> int:
    """Tape record sizes we write: 4 KiB .. 1 MiB, a multiple of 512 (tar and cpio blocks)."""
    if not MIN_RECORD_SIZE <= size <= MAX_RECORD_SIZE or size % 512:
        raise UsageError(f"block size {size} is not allowed: use 4K .. 1M in multiples of 512 bytes "
                         f"(512K is the LTFS default and a good choice)", block_size=size)
    assert size <= MAX_RECORD
    return size


class _Chunk:
    __slots__ = ("buf", "view", "fill", "limit", "tasks", "pending", "short")

    def __init__(self, size: int) -> None:
        self.buf = bytearray(size)
        self.view = memoryview(self.buf)
        self.fill = 0
        self.limit = size      # where the chunk is full: its size, or less after a short record (below)
        self.tasks: list[tuple[Callable[..., Any], int, int]] = []
        self.pending = 0
        # record slots that are not full records, in order: (offset in chunk, real length; 0: a filemark). They
        # take only their real bytes in the chunk (LTFS ends a record with every file: a chunk holds many small
        # files, not one a record slot), so the records after one start where it ends, and the chunk is full at
        # `limit`, where no whole record fits any more.
        self.short: list[tuple[int, int]] = []

    def reset(self) -> None:
        self.fill = 0
        self.limit = len(self.buf)
        self.tasks.clear()
        self.short.clear()


_CALL = -1  # task marker: call fn() with no data (runs after all earlier hash tasks)


class _Barrier:
    """Passed down the pipeline by `sync`: each device thread sets its event when it gets there."""

    __slots__ = ("events",)

    def __init__(self, events: list[threading.Event]) -> None:
        self.events = events


@dataclass
class DeviceStatus:
    """What one destination device has taken so far."""

    device: TapeDevice
    records_written: int = 0   # record slots taken: records and filemarks (see RecordStream)
    flags: WriteFlags = WriteFlags.NONE
    error: BaseException | None = None
    own_slots: int = 0         # records and filemarks written to this device alone (RecordStream.each_device)
    own_bytes: int = 0         # the bytes of those records (room accounting: jobs/room.py)
    bytes_written: int = 0     # bytes of the shared records written to it (its progress)
    # the host buffer (the stream's chunk pool) as this device found it: chunks still waiting behind the
    # one it takes, at its fullest and emptiest while the producer was filling it (the final drain left out)
    backlog: int = 0
    backlog_high: int = 0
    backlog_low: int | None = None
    underruns_at_start: int = 0    # the drive's own count when the stream began (a speed model's TapeStats)

    def __post_init__(self) -> None:
        speed = getattr(self.device, "speed", None)
        if isinstance(speed, DriveSpeedModel):
            speed.reset_watermarks()
            self.underruns_at_start = speed.stats.underruns

    def note_backlog(self, waiting: int) -> None:
        self.backlog = waiting
        if waiting > self.backlog_high:
            self.backlog_high = waiting
        if self.backlog_low is None or waiting < self.backlog_low:
            self.backlog_low = waiting

    def flow(self, pool: int, chunk_size: int) -> dict[str, Any]:
        """This destination's flow for a job's --json: its bytes, the host buffer's watermarks (in chunks
        of `chunk_size`, `pool` of them) and, with a drive-speed model (tape/speed.py), the drive
        buffer's watermarks and the underruns (shoe-shine events) during this stream."""
        host = {"chunks": pool, "chunk_bytes": chunk_size, "high": self.backlog_high, "low": self.backlog_low}
        speed = getattr(self.device, "speed", None)
        drive = None
        if isinstance(speed, DriveSpeedModel):
            st = speed.stats
            drive = {"generation": speed.generation.name, "native_mb_s": speed.native / 1e6,
                     "floor_mb_s": speed.floor / 1e6, "buffer_bytes": speed.buffer_bytes,
                     "high_bytes": st.buffer_high_bytes, "low_bytes": st.buffer_low_bytes,
                     "underruns": st.underruns - self.underruns_at_start,
                     "host_wait_seconds": round(st.host_wait_seconds, 6)}
        return {"bytes": self.bytes_written, "host_buffer": host, "drive": drive}

    def write_own(self, data: bytes | bytearray | memoryview, record_size: int, *, pad: bool = False) -> None:
        """Write bytes straight to this device as records of `record_size`; the last one
        short, or zero-padded to a whole record with `pad`. Only inside `each_device`."""
        mv = memoryview(data)
        for off in range(0, len(mv), record_size):
            rec = mv[off:off + record_size]
            if pad and len(rec) < record_size:
                rec = memoryview(bytes(rec) + bytes(record_size - len(rec)))
            self.flags |= self.device.write_record(rec)
            self.own_slots += 1
            self.own_bytes += len(rec)

    def filemark_own(self) -> None:
        self.flags |= self.device.write_filemarks(1)
        self.own_slots += 1


@dataclass
class StreamStats:
    bytes_written: int = 0
    records: int = 0
    devices: list[DeviceStatus] = field(default_factory=list)


class RecordStream:
    """Producer side of the pipeline; one instance per tape file (archive session).

    `offset` is the number of bytes produced so far, i.e. the byte offset in the
    tape file of the next byte: record number = offset // record_size.

    Formats that write short records or filemarks inside the stream (LTFS) use
    `end_record` and `filemark`: each takes a whole record *slot*, so the
    rule "address = start + offset // record_size" stays exact (a filemark
    takes an address, as on tape); only the real bytes go to the device.

    What differs per device (an LTFS volume's index, an AXF volume's header and
    footer) is written with `each_device` at a record boundary, once every
    device has taken the shared records: a device's address of shared slot k is
    then its start + its `own_slots` so far + k.
    """

    def __init__(self, devices: TapeDevice | Sequence[TapeDevice], record_size: int = DEFAULT_RECORD_SIZE,
                 *, chunk_size: int = DEFAULT_CHUNK_SIZE, chunks: int = DEFAULT_CHUNKS) -> None:
        self.record_size = check_record_size(record_size)
        if isinstance(devices, TapeDevice):
            devices = [devices]
        if not devices:
            raise UsageError("a record stream needs at least one device")
        per_chunk = max(1, chunk_size // record_size)
        self.chunk_size = per_chunk * record_size
        self.pool = max(2, chunks)
        self.started = time.monotonic()
        self._draining = False      # the producer is done (close, sync): backlog samples would only show that
        self._free: queue.SimpleQueue[_Chunk] = queue.SimpleQueue()
        self._chunks_left = max(2, chunks) - 1   # allocated on demand: small jobs stay cheap
        self._lock = threading.Lock()
        self.offset = 0
        self.slack = 0     # slot bytes not written: short records' rest, filemarks (room accounting: jobs/room.py)
        self.status = [DeviceStatus(d) for d in devices]
        self._hash_q: queue.SimpleQueue[_Chunk | threading.Event | _Barrier | None] = queue.SimpleQueue()
        self._dev_qs: list[queue.SimpleQueue[_Chunk | _Barrier | None]] = [queue.SimpleQueue() for _ in devices]
        self._hash_error: BaseException | None = None
        self._threads = [threading.Thread(target=self._hash_loop, name="lto-hash", daemon=True)]
        self._threads += [threading.Thread(target=self._device_loop, args=(i,), name=f"lto-dev{i}", daemon=True)
                          for i in range(len(devices))]
        for t in self._threads:
            t.start()
        self._cur = _Chunk(self.chunk_size)
        self._closed = False

    # --- what the producer sees -------------------------------------------
    @property
    def flags(self) -> WriteFlags:
        """Early-warning flags seen by any live device so far."""
        if len(self.status) == 1:        # asked once per file: no enum arithmetic for one device
            s = self.status[0]
            return s.flags if s.error is None else WriteFlags.NONE
        f = WriteFlags.NONE
        for s in self.status:
            if s.error is None:
                f |= s.flags
        return f

    def flow(self) -> list[dict[str, Any]]:
        """Each device's flow (DeviceStatus.flow), in device order: for a job's --json."""
        return [st.flow(self.pool, self.chunk_size) for st in self.status]

    def destination_progress(self) -> tuple[DestinationProgress, ...]:
        """Each device's progress now: bytes, rate and how full its share of the host buffer is (a
        ProgressTracker's sampler)."""
        elapsed = time.monotonic() - self.started
        done = self._closed
        return tuple(DestinationProgress(getattr(st.device, "name", "") or f"tape {i}", "tape", st.bytes_written,
                                         elapsed, 0.0 if done else st.backlog / self.pool,
                                         "failed" if st.error is not None else "done" if done else "writing")
                     for i, st in enumerate(self.status))

    @property
    def live_devices(self) -> list[DeviceStatus]:
        return [s for s in self.status if s.error is None]

    def check(self) -> None:
        """Raise the device error once no device is left to write to."""
        if self._hash_error is not None:
            raise self._hash_error
        if not self.live_devices:
            raise self.status[0].error  # type: ignore[misc]

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Copy bytes (headers, padding, metadata) into the stream."""
        cur = self._cur
        n = len(data)
        if cur.fill + n < cur.limit:      # a header: one copy, the chunk stays open
            cur.view[cur.fill:cur.fill + n] = data
            cur.fill += n
            self.offset += n
            return
        mv = memoryview(data)
        while mv:
            cur = self._cur
            n = min(len(mv), cur.limit - cur.fill)
            cur.view[cur.fill:cur.fill + n] = mv[:n]
            cur.fill += n
            self.offset += n
            mv = mv[n:]
            if cur.fill == cur.limit:
                self._submit()

    def zero_fill(self, count: int) -> None:
        zeros = bytes(min(count, self.chunk_size))
        while count > 0:
            n = min(count, len(zeros))
            self.write(zeros[:n] if n < len(zeros) else zeros)
            count -= n

    def pad_to_record(self) -> None:
        rest = -self.offset % self.record_size
        if rest:
            self.zero_fill(rest)

    def end_record(self) -> None:
        """End the current record here: it goes to tape short, without padding."""
        used = self.offset % self.record_size
        if used:
            self._skip_slot_rest(used)

    def filemark(self) -> None:
        """Put a filemark in the stream (after ending the current record)."""
        self.end_record()
        self._skip_slot_rest(0)

    def _skip_slot_rest(self, used: int) -> None:
        """The slot's rest is skipped in the stream (its offset), not in the chunk: the next record starts
        where this one's bytes end, and the chunk is full once no whole record fits after them."""
        cur = self._cur
        rs = self.record_size
        cur.short.append((cur.fill - used, used))
        rest = rs - used
        self.offset += rest
        self.slack += rest
        cur.limit = cur.fill + (len(cur.buf) - cur.fill) // rs * rs
        if cur.fill == cur.limit:
            self._submit()

    @property
    def record_number(self) -> int:
        """Slots (records and filemarks) begun before the next byte: its record's index."""
        return self.offset // self.record_size

    def copy_from(self, source: Readable, size: int, hasher: Any | None = None) -> tuple[int, OSError | None]:
        """Read up to `size` bytes from `source` straight into the stream.

        `hasher.update` sees exactly those bytes, on the hash thread. Returns
        (bytes copied, the read error if one stopped it); fewer bytes than
        `size` with no error means the source ended early (it shrank).
        """
        update = hasher.update if hasher is not None else None
        copied = 0
        while copied < size:
            cur = self._cur
            want = min(size - copied, cur.limit - cur.fill)
            start = cur.fill
            try:
                n = source.readinto(cur.view[start:start + want])
            except OSError as exc:
                return copied, exc
            if not n:
                return copied, None
            if update is not None:
                cur.tasks.append((update, start, start + n))
            cur.fill += n
            copied += n
            self.offset += n
            if cur.fill == cur.limit:
                self._submit()
        return copied, None

    @property
    def device_offset(self) -> int:
        """The furthest any live device has got: shared bytes plus its own records (room checks)."""
        if len(self.status) == 1:        # asked once per file
            s = self.status[0]
            return self.offset + (s.own_slots * self.record_size if s.error is None else 0)
        own = max((s.own_slots for s in self.live_devices), default=0)
        return self.offset + own * self.record_size

    def sync(self) -> None:
        """Hand over everything taken so far and wait until every device has written it
        (and every hash task has run). Only at a record boundary."""
        if self.offset % self.record_size:
            raise RuntimeError("sync inside a record: end or pad the record first")
        self._draining = True
        if self._cur.fill or self._cur.tasks or self._cur.short:
            self._submit()
        done = [threading.Event() for _ in self._dev_qs]
        self._hash_q.put(_Barrier(done))
        for ev in done:
            ev.wait()
        self._draining = False
        self.check()

    def each_device(self, fn: Callable[[int, DeviceStatus], None]) -> None:
        """Write something of each device's own: `fn(i, status)` calls `status.write_own` /
        `status.filemark_own`, after every shared record so far is on every device.
        A device that fails is dropped, as one failing in the stream; raises once none is left."""
        if not self._closed:
            self.sync()
        for i, st in enumerate(self.status):
            if st.error is None:
                try:
                    fn(i, st)
                except (DeviceError, OSError) as exc:
                    st.error = exc
        self.check()

    def call_after_hashing(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the hash thread once every byte given so far is hashed."""
        self._cur.tasks.append((fn, _CALL, _CALL))

    def flush_hashes(self) -> None:
        """Wait until every hash task given so far has run (before a manifest is made). A closed or aborted
        stream's hash thread has already stopped: there is nothing to wait for."""
        if self._closed:
            return
        done = threading.Event()
        self._hash_q.put(done)
        done.wait()
        cur = self._cur
        for fn, start, end in cur.tasks:
            fn() if start == _CALL else fn(cur.view[start:end])
        cur.tasks.clear()

    def close(self) -> StreamStats:
        """Pad to a whole record, hand over the rest and wait for every device.

        Raises the device error if no device took the whole stream.
        """
        if self._closed:
            raise RuntimeError("stream already closed")
        self.pad_to_record()
        self._draining = True
        if self._cur.fill or self._cur.tasks or self._cur.short:
            self._submit(final=True)
        self._finish()
        self.check()
        return StreamStats(self.offset, self.offset // self.record_size, self.status)

    def abort(self) -> None:
        """Stop without writing what is still buffered (the job is failing)."""
        if not self._closed:
            self._cur.reset()
            self._finish()

    # --- internals ------------------------------------------------------------
    def _finish(self) -> None:
        self._closed = True
        self._hash_q.put(None)
        for t in self._threads:
            t.join()

    def _submit(self, final: bool = False) -> None:
        self.check()
        self._hash_q.put(self._cur)
        if not final:
            self._cur = self._next_chunk()

    def _next_chunk(self) -> _Chunk:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        if self._chunks_left > 0:
            self._chunks_left -= 1
            return _Chunk(self.chunk_size)
        return self._free.get()

    def _release(self, chunk: _Chunk) -> None:
        with self._lock:
            chunk.pending -= 1
            done = chunk.pending == 0
        if done:
            chunk.reset()
            self._free.put(chunk)

    def _hash_loop(self) -> None:
        while True:
            chunk = self._hash_q.get()
            if isinstance(chunk, threading.Event):
                chunk.set()
                continue
            if chunk is None or isinstance(chunk, _Barrier):
                for q in self._dev_qs:
                    q.put(chunk)
                if chunk is None:
                    return
                continue
            if self._hash_error is None:
                view = chunk.view
                try:
                    for fn, start, end in chunk.tasks:
                        if start == _CALL:
                            fn()
                        else:
                            fn(view[start:end])
                except BaseException as exc:  # a bug; surface it to the producer
                    self._hash_error = exc
            chunk.pending = len(self._dev_qs)
            for q in self._dev_qs:
                q.put(chunk)

    @staticmethod
    def _write_chunk(status: DeviceStatus, chunk: _Chunk, write: Callable[[Any], WriteFlags], rs: int) -> None:
        """A chunk's records in order: whole records of `rs` bytes, and the short ones and filemarks where
        `chunk.short` says (each at the offset where the records before it end)."""
        view, short, fill = chunk.view, chunk.short, chunk.fill
        if not short:
            for off in range(0, fill, rs):
                status.flags |= write(view[off:off + rs])
                status.bytes_written += rs
                status.records_written += 1
            return
        pos = i = 0
        while True:
            if i < len(short) and short[i][0] == pos:
                n = short[i][1]
                i += 1
                status.flags |= write(view[pos:pos + n]) if n else status.device.write_filemarks(1)
            elif pos < fill:
                n = rs
                status.flags |= write(view[pos:pos + rs])
            else:
                return
            pos += n
            status.bytes_written += n
            status.records_written += 1

    def _device_loop(self, index: int) -> None:
        status = self.status[index]
        q = self._dev_qs[index]
        write = status.device.write_record
        rs = self.record_size
        while True:
            chunk = q.get()
            if chunk is None:
                return
            if isinstance(chunk, _Barrier):
                chunk.events[index].set()
                continue
            if status.error is None:
                if not self._draining:
                    status.note_backlog(q.qsize())
                try:
                    self._write_chunk(status, chunk, write, rs)
                except (DeviceError, OSError) as exc:
                    status.error = exc
                except BaseException as exc:
                    status.error = exc
            self._release(chunk)
