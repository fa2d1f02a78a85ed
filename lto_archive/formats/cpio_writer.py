"""SVR4 cpio archives ("newc", magic 070701, and its "crc" variant, 070702) written into a RecordStream.

The layout is what GNU cpio writes with `-H newc` / `-H crc`: for each member
a 110-byte ASCII header (magic and 13 eight-digit hex fields), the NUL-ended
name padded so that header + name is a multiple of 4 bytes, then the data
(a symlink's data is its target) padded to a multiple of 4. The archive ends
with the member "TRAILER!!!" and, here, zeros to a whole tape record, so
`cpio -i` reads the tape file straight from the drive or from `dd`.

What newc cannot hold, and what we do about it:

- a file of 4 GiB or more (the size field is 32 bits): `preflight` refuses
  the whole job before anything is written, naming every such file and
  pointing to `--format tar` or `--format ltfs`. A file that grew past the
  limit between the scan and its copy is not written at all (never a
  truncated member): `add_file` reports it as a read error.
- modification times before 1970 or after 2106 (32-bit unsigned seconds):
  refused by `preflight` too. Sub-second precision is dropped (cpio keeps
  whole seconds); the manifest keeps the exact time.
- a member literally named "TRAILER!!!" would end the archive for every
  reader: refused (UnstorableName).

Every member gets nlink 1 (directories 2) and its own inode number, so no
reader mistakes two members for hard links of each other; a hard-linked
source file is stored as full copies, as the TAR writer does.

The crc variant and its cost
----------------------------
In "crc" archives the header carries the sum of the file's bytes (mod 2^32),
and the header precedes the data: the sum must be known before the first
data byte is handed to the stream, which cannot rewrite bytes it already
took. We therefore:

- read files up to `CRC_BUFFER_LIMIT` (32 MiB: sidecars, metadata, stills)
  once, into memory, sum them, then stream exactly those bytes: one read,
  and the sum matches the data by construction;
- read larger files TWICE: a checksum-only pre-pass (`os.preadv` on the open
  file into an 8 MiB buffer, not counted as progress, page cache permitting
  the second read is cheap, but a clip bigger than RAM really is read twice
  from the card), then the normal copy, during which the hash thread sums
  the bytes again. After the copy the writer waits for the hash thread
  (`flush_hashes`) and compares: if the two reads differed (a file changed
  in place, a flaky card reader), the member's crc does not match its data
  and the file is reported as a read error, never as good.

So `--format cpio-crc` costs one extra read of every large file plus a byte
sum (about 2 GB/s with numpy, which is used when installed; about 150 MB/s
in pure Python). Plain newc (`--format cpio`) has no such cost, and our
manifest's hashes protect every file either way.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import stat as stat_mod
import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..errors import SourceError, UnstorableName
from ..streaming import RecordStream

# optional: only makes the crc byte sum fast; imported on first use (importing numpy costs
# ~0.15 s, and every write job loads this module through the format registry)
_np: Any = False    # False: not imported yet; None: not installed

__all__ = ["CpioWriter", "CpioPlacement", "CpioLimitError", "NEWC_MAGIC", "CRC_MAGIC", "HEADER_SIZE",
           "MAX_FILE_SIZE", "MAX_MTIME", "TRAILER_NAME", "byte_sum", "newc_header", "member_overhead",
           "preflight", "CRC_BUFFER_LIMIT"]

NEWC_MAGIC = b"070701"
CRC_MAGIC = b"070702"
HEADER_SIZE = 110
MAX_FILE_SIZE = 0xFFFFFFFF        # 4 GiB - 1: the largest size a newc header can state
MAX_MTIME = 0xFFFFFFFF            # seconds since 1970, unsigned 32 bits (year 2106)
TRAILER_NAME = "TRAILER!!!"
CRC_BUFFER_LIMIT = 32 << 20       # crc: files up to this size are read once, into memory
PRESUM_BUFFER = 8 << 20           # crc: read size of the checksum pre-pass of larger files
_MASK = 0xFFFFFFFF


class CpioLimitError(SourceError):
    """A source cannot be stored in a newc cpio archive (too big, a time out of range)."""


def byte_sum(data: Any) -> int:
    """The sum of the bytes of `data` (not reduced): the cpio "crc" checksum before mod 2^32."""
    n = len(data)
    if not n:
        return 0
    if n >= 4096 and _numpy() is not None:
        return int(_np.frombuffer(data, dtype=_np.uint8).sum(dtype=_np.uint64))
    return sum(data if isinstance(data, bytes) else bytes(data))


def _numpy() -> Any:
    global _np
    if _np is False:
        try:
            import numpy
            _np = numpy
        except ImportError:  # pragma: no cover - depends on the machine
            _np = None
    return _np


def _align4(n: int) -> int:
    return -n % 4


def _encode(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape") + b"\0"


def newc_header(magic: bytes, *, ino: int, mode: int, uid: int, gid: int, nlink: int, mtime: int,
                filesize: int, namesize: int, check: int = 0, devmajor: int = 0, devminor: int = 0,
                rdevmajor: int = 0, rdevminor: int = 0) -> bytes:
    """One 110-byte newc/crc header (lower-case hex, as GNU cpio writes it)."""
    fields = (ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
              namesize, check)
    for v in fields:
        if not 0 <= v <= _MASK:
            raise ValueError(f"cpio header field value {v} does not fit in 32 bits")
    return magic + b"".join(b"%08x" % v for v in fields)


def member_overhead(name: str, size: int, record_size: int = 0) -> int:
    """Bytes a member takes on tape beyond its data: header, name, both paddings."""
    head = HEADER_SIZE + len(_encode(name))
    return head + _align4(head) + _align4(size)


def _mtime(ns: int) -> int:
    sec = ns // 1_000_000_000
    return min(max(sec, 0), MAX_MTIME)   # preflight refused what is out of range; this is only a race


def preflight(entries: list[Any]) -> None:
    """Refuse, before anything is written, sources a newc archive cannot hold.

    `entries` are the scanned SourceEntry objects (name, path, kind, size, st).
    """
    too_big = [e for e in entries if e.kind == "file" and e.size > MAX_FILE_SIZE]
    if too_big:
        shown = "; ".join(f"{e.path} ({e.size} bytes)" for e in too_big[:10])
        more = f" and {len(too_big) - 10} more" if len(too_big) > 10 else ""
        raise CpioLimitError(
            f"{shown}{more}: cpio (newc) cannot hold a file of 4 GiB or more; nothing was written. "
            f"Write these sources with --format tar or --format ltfs",
            path=str(too_big[0].path), files=[str(e.path) for e in too_big], limit=MAX_FILE_SIZE)
    for e in entries:
        if e.name == TRAILER_NAME:
            raise UnstorableName(
                f"{e.path}: a member named {TRAILER_NAME!r} would end a cpio archive for every reader; "
                f"rename it or write with --format tar or --format ltfs", path=str(e.path))
    bad_time = [e for e in entries if e.kind in ("file", "dir", "symlink")
                and not 0 <= e.st.st_mtime_ns // 1_000_000_000 <= MAX_MTIME]
    if bad_time:
        shown = "; ".join(str(e.path) for e in bad_time[:10])
        more = f" and {len(bad_time) - 10} more" if len(bad_time) > 10 else ""
        raise CpioLimitError(
            f"{shown}{more}: modification time before 1970 or after 2106, which cpio (newc) cannot "
            f"store; nothing was written. Write these sources with --format tar or --format ltfs",
            path=str(bad_time[0].path), files=[str(e.path) for e in bad_time])


@dataclass(frozen=True)
class CpioPlacement:
    """Where a member landed in the tape file (byte offsets from its start)."""

    header_offset: int
    data_offset: int
    size: int            # as declared in the header
    copied: int          # bytes actually read from the source
    read_error: OSError | None
    check: int = 0       # the header's checksum field (crc archives; 0 in newc)

    @property
    def end_offset(self) -> int:
        """Offset just past the member's data padding."""
        return self.data_offset + self.size + _align4(self.size)


class _MemReader:
    """readinto() over bytes already in memory (the crc path's single read)."""

    __slots__ = ("_mv", "_pos")

    def __init__(self, mv: memoryview) -> None:
        self._mv = mv
        self._pos = 0

    def readinto(self, b: Any) -> int:
        n = min(len(b), len(self._mv) - self._pos)
        b[:n] = self._mv[self._pos:self._pos + n]
        self._pos += n
        return n


class _SumTee:
    """A hasher that also sums the bytes (runs on the stream's hash thread)."""

    __slots__ = ("inner", "total")

    def __init__(self, inner: Any | None) -> None:
        self.inner = inner
        self.total = 0

    def update(self, data: Any) -> None:
        if self.inner is not None:
            self.inner.update(data)
        self.total += byte_sum(data)


def _changed_between_passes(what: str) -> OSError:
    return OSError(errno.EIO, f"the {what}'s bytes differed between the checksum pass and the copy (changed in "
                              f"place or an unreliable reader): the crc stored in the cpio header does not match "
                              f"the data on tape")


def _fileno(source: Any) -> int | None:
    """The descriptor behind `source` (or behind the job's CountingReader wrapper), if any."""
    for obj in (source, getattr(source, "_raw", None)):
        fn = getattr(obj, "fileno", None)
        if fn is None:
            continue
        try:
            return int(fn())
        except (OSError, ValueError, io.UnsupportedOperation):
            continue
    return None


class CpioWriter:
    """Writes one newc (or, with crc=True, crc) cpio archive into a RecordStream."""

    def __init__(self, stream: RecordStream, *, crc: bool = False) -> None:
        self.stream = stream
        self.crc = crc
        self.magic = CRC_MAGIC if crc else NEWC_MAGIC
        self.closed = False
        self._ino = itertools.count(1)
        self._buf: bytearray | None = None
        self._part_check: int | None = None     # cpio-crc part: the sum in its header, its checksum pass's error,
        self._part_pre_error: OSError | None = None     # and what sums the bytes copied
        self._part_tee: _SumTee | None = None

    # --- headers ------------------------------------------------------------
    def _check_open(self, name: str) -> None:
        if self.closed:
            raise ValueError(f"cannot add {name!r}: the cpio archive is closed")
        if name == TRAILER_NAME:
            raise UnstorableName(f"a member named {TRAILER_NAME!r} would end the cpio archive", path=name)

    def _write_header(self, name: str, mode: int, size: int, mtime_ns: int, uid: int = 0, gid: int = 0,
                      check: int = 0) -> tuple[int, int]:
        """Header + name + padding; returns (header offset, data offset)."""
        stream = self.stream
        offset = stream.offset
        encoded = _encode(name)
        nlink = 2 if stat_mod.S_ISDIR(mode) else 1
        head = newc_header(self.magic, ino=next(self._ino), mode=mode, uid=uid & _MASK, gid=gid & _MASK,
                           nlink=nlink, mtime=_mtime(mtime_ns), filesize=size, namesize=len(encoded),
                           check=check & _MASK)
        pad = _align4(offset + HEADER_SIZE + len(encoded))
        stream.write(head + encoded + bytes(pad))
        return offset, stream.offset

    def _pad_data(self, size: int) -> None:
        pad = _align4(size)
        if pad:
            self.stream.write(bytes(pad))

    # --- members ------------------------------------------------------------
    def add_directory(self, name: str, st: Any) -> int:
        """A directory member; returns its header offset."""
        name = name.rstrip("/") or "/"
        self._check_open(name)
        mode = stat_mod.S_IFDIR | stat_mod.S_IMODE(st.st_mode)
        offset, _ = self._write_header(name, mode, 0, st.st_mtime_ns, st.st_uid, st.st_gid)
        return offset

    def add_symlink(self, name: str, target: str, st: Any) -> int:
        """A symlink member (its data is the target, no NUL; crc field 0, as GNU cpio writes)."""
        self._check_open(name)
        data = target.encode("utf-8", "surrogateescape")
        mode = stat_mod.S_IFLNK | (stat_mod.S_IMODE(st.st_mode) or 0o777)
        offset, _ = self._write_header(name, mode, len(data), st.st_mtime_ns, st.st_uid, st.st_gid)
        self.stream.write(data)
        self._pad_data(len(data))
        return offset

    def add_bytes(self, name: str, data: bytes, mtime_ns: int, mode: int = 0o644) -> CpioPlacement:
        """A small member made in memory (session record, manifest, checksum lists)."""
        self._check_open(name)
        check = byte_sum(data) & _MASK if self.crc else 0
        header_offset, data_offset = self._write_header(
            name, stat_mod.S_IFREG | stat_mod.S_IMODE(mode), len(data), mtime_ns, check=check)
        self.stream.write(data)
        self._pad_data(len(data))
        return CpioPlacement(header_offset, data_offset, len(data), len(data), None, check)

    def add_file(self, name: str, source: BinaryIO, st: Any, hasher: Any | None = None) -> CpioPlacement:
        """Stream a regular file of st.st_size bytes.

        If the source delivers fewer bytes (it shrank or a read failed), the
        member is completed with zeros so the archive stays valid; the caller
        sees `copied < size` or `read_error` and must not call the file good.
        A file too big for newc is not written at all (see the module notes).
        """
        self._check_open(name)
        stream = self.stream
        size = st.st_size
        mode = stat_mod.S_IFREG | stat_mod.S_IMODE(st.st_mode)
        if size > MAX_FILE_SIZE:
            at = stream.offset
            return CpioPlacement(at, at, size, 0, OSError(
                errno.EFBIG, f"not written: the file is now {size} bytes, and cpio (newc) cannot hold a file "
                             f"of 4 GiB or more (write it with --format tar or --format ltfs)"))
        if not self.crc:
            header_offset, data_offset = self._write_header(name, mode, size, st.st_mtime_ns, st.st_uid, st.st_gid)
            copied, error = stream.copy_from(source, size, hasher)
            if copied < size:
                stream.zero_fill(size - copied)
            self._pad_data(size)
            return CpioPlacement(header_offset, data_offset, size, copied, error)
        if size <= CRC_BUFFER_LIMIT:
            return self._add_file_crc_buffered(name, source, st, mode, hasher)
        return self._add_file_crc_two_pass(name, source, st, mode, hasher)

    def _add_file_crc_buffered(self, name: str, source: BinaryIO, st: Any, mode: int,
                               hasher: Any | None) -> CpioPlacement:
        """crc, small file: one read into memory, sum, then stream exactly those bytes."""
        size = st.st_size
        buf = bytearray(size)
        mv = memoryview(buf)
        got = 0
        error: OSError | None = None
        while got < size:
            try:
                n = source.readinto(mv[got:])
            except OSError as exc:
                error = exc
                break
            if not n:
                break
            got += n
        check = byte_sum(mv[:got]) & _MASK
        header_offset, data_offset = self._write_header(name, mode, size, st.st_mtime_ns, st.st_uid, st.st_gid,
                                                        check=check)
        copied, _ = self.stream.copy_from(_MemReader(mv[:got]), size, hasher)
        if copied < size:
            self.stream.zero_fill(size - copied)
        self._pad_data(size)
        return CpioPlacement(header_offset, data_offset, size, copied, error, check)

    def _add_file_crc_two_pass(self, name: str, source: BinaryIO, st: Any, mode: int,
                               hasher: Any | None) -> CpioPlacement:
        """crc, large file: a checksum-only pre-pass, then the copy, summed again and compared."""
        stream = self.stream
        size = st.st_size
        spool = None
        fd = _fileno(source)
        if fd is not None:
            check, pre_error = self._presum_fd(fd, size)
        else:
            # no descriptor: keep a copy while summing, then copy from it (memory up to the limit, then disk)
            spool = tempfile.SpooledTemporaryFile(max_size=CRC_BUFFER_LIMIT)
            check, pre_error = self._presum_spool(source, size, spool)
            spool.seek(0)
            source = spool  # type: ignore[assignment]
        check &= _MASK
        try:
            header_offset, data_offset = self._write_header(name, mode, size, st.st_mtime_ns, st.st_uid,
                                                            st.st_gid, check=check)
            tee = _SumTee(hasher)
            copied, error = stream.copy_from(source, size, tee)
            if copied < size:
                stream.zero_fill(size - copied)
            self._pad_data(size)
        finally:
            if spool is not None:
                spool.close()
        stream.flush_hashes()          # the tee's sum is complete only now
        if spool is not None:
            error = error or pre_error    # the copy came from the spool: the source's own error counts
        if tee.total & _MASK != check:
            error = error or pre_error or _changed_between_passes("file")
        return CpioPlacement(header_offset, data_offset, size, copied, error, check)

    def _presum_fd(self, fd: int, size: int) -> tuple[int, OSError | None]:
        if self._buf is None:
            self._buf = bytearray(PRESUM_BUFFER)
        mv = memoryview(self._buf)
        preadv = getattr(os, "preadv", None)
        start = os.lseek(fd, 0, os.SEEK_CUR)
        total = got = 0
        try:
            while got < size:
                want = mv[:min(len(mv), size - got)]
                if preadv is not None:
                    n = preadv(fd, [want], start + got)
                else:  # pragma: no cover - platforms without preadv
                    data = os.pread(fd, len(want), start + got)
                    n = len(data)
                    want[:n] = data
                if not n:
                    break
                total += byte_sum(mv[:n])
                got += n
        except OSError as exc:
            return total, exc
        return total, None

    @staticmethod
    def _presum_spool(source: BinaryIO, size: int, spool: Any) -> tuple[int, OSError | None]:
        buf = bytearray(min(PRESUM_BUFFER, size) or 1)
        mv = memoryview(buf)
        total = got = 0
        try:
            while got < size:
                n = source.readinto(mv[:min(len(mv), size - got)])
                if not n:
                    break
                total += byte_sum(mv[:n])
                spool.write(mv[:n])
                got += n
        except OSError as exc:
            return total, exc
        return total, None

    # --- parts of a file split across the cartridges of a span set (docs/spanning.md) -----------
    @staticmethod
    def part_name(name: str, number: int) -> str:
        """The member holding part `number` (from 1) of a split file: `NAME.part0001`, ... so that
        `cpio -i` then `cat NAME.part* > NAME` joins them (the manifest lists each part)."""
        return f"{name}.part{number:04d}"

    def part_overhead(self, name: str, st: Any, offset: int = 0, volume: int = 1) -> int:
        return HEADER_SIZE + len(_encode(self.part_name(name, 9999))) + 4

    def start_part(self, name: str, st: Any, offset: int = 0, volume: int = 1, *, length: int,
                   number: int, source: Any = None) -> int:
        """The header of `length` bytes of a file from byte `offset`: the file itself when that is
        all of it, else the member `NAME.partNNNN`. The caller streams the data (cpio-crc: through
        `part_hasher`), then `pad_data`. cpio-crc sums the part from `source`'s descriptor first
        (the sum goes in the header), reading it twice as a whole file over the buffer limit is."""
        whole = offset == 0 and length == st.st_size
        member = name if whole else self.part_name(name, number)
        self._check_open(member)
        check = 0
        self._part_check, self._part_tee = None, None
        if self.crc:
            fd = _fileno(source)
            if fd is None:
                raise ValueError("a cpio-crc part is summed from the source file's descriptor before its header")
            check, self._part_pre_error = self._presum_fd(fd, length)
            check &= _MASK
            self._part_check = check
        mode = stat_mod.S_IFREG | stat_mod.S_IMODE(st.st_mode)
        header_offset, _ = self._write_header(member, mode, length, st.st_mtime_ns, st.st_uid, st.st_gid,
                                              check=check)
        return header_offset

    def part_hasher(self, hasher: Any) -> Any:
        """What the part's bytes go through: cpio-crc also sums them, to compare with its header."""
        if self._part_check is None:
            return hasher
        self._part_tee = _SumTee(hasher)
        return self._part_tee

    def part_error(self) -> OSError | None:
        """cpio-crc, once the part's hash tasks have run: an error when the bytes copied do not sum
        to what the header says (the file changed between the two passes, or could not be read)."""
        tee, check = self._part_tee, self._part_check
        self._part_check, self._part_tee = None, None
        if tee is None or tee.total & _MASK == check:
            return None
        return self._part_pre_error or _changed_between_passes("part")

    def pad_data(self, length: int) -> None:
        self._pad_data(length)

    def end_volume(self) -> None:
        """A cpio volume is a whole archive: it ends with its trailer like any other."""
        self.close()

    def close(self) -> None:
        """End of archive: the TRAILER!!! member, then zeros to a whole tape record."""
        if self.closed:
            return
        name = _encode(TRAILER_NAME)
        head = newc_header(self.magic, ino=0, mode=0, uid=0, gid=0, nlink=1, mtime=0, filesize=0,
                           namesize=len(name))
        pad = _align4(self.stream.offset + HEADER_SIZE + len(name))
        self.stream.write(head + name + bytes(pad))
        self.stream.pad_to_record()
        self.closed = True
