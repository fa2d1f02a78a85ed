"""POSIX pax archives written straight into a RecordStream.

Headers come from the stdlib `tarfile` (TarInfo.tobuf, PAX format, UTF-8);
file data is streamed by the RecordStream without passing through Python
buffers. The archive ends with the two zero blocks, padded to a whole record.

A job that spans cartridges writes one archive in several volumes, in GNU
tar's multi-volume layout for POSIX archives (what `tar --format=posix -cM`
writes, so `tar -xM` joins the volumes; see docs/spanning.md): a volume that
more volumes follow ends on a record boundary without end-of-archive blocks,
possibly inside a file; the next volume starts with the rest of that file
(`start_part` writes either header).
"""

from __future__ import annotations

import grp
import posixpath
import pwd
import stat as stat_mod
import tarfile
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, BinaryIO, NamedTuple

from ..streaming import RecordStream

BLOCK = tarfile.BLOCKSIZE  # 512


class MemberPlacement(NamedTuple):
    """Where a member landed in the tape file (byte offsets from its start). (A tuple: one per file, made
    faster than a frozen dataclass.)"""

    header_offset: int   # first header block (pax header included)
    data_offset: int
    size: int            # as declared in the header
    copied: int          # bytes actually read from the source
    read_error: OSError | None

    @property
    def end_offset(self) -> int:
        """Offset just past the member's data padding."""
        return self.data_offset + self.size + (-self.size % BLOCK)


@lru_cache(maxsize=256)
def _uname(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


@lru_cache(maxsize=256)
def _gname(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def _pax_time(ns: int) -> str:
    sec, frac = divmod(ns, 1_000_000_000)
    return f"{sec}.{frac:09d}".rstrip("0").rstrip(".") if frac else str(sec)


_OCTAL7 = 8 ** 7     # uid, gid: 7 octal digits and a NUL
_OCTAL11 = 8 ** 11   # size, mtime: 11 octal digits and a NUL
_DEV_PREFIX = bytes(8 + 8 + 155 + 12)   # devmajor, devminor, prefix, the block's padding
_CHKSUM_CONST = 8 * ord(" ") + sum(tarfile.POSIX_MAGIC)


def _ustar(name: bytes, kind: bytes, size: int, mode: int, mtime: int, uid: int, gid: int,
           linkname: bytes, uname: bytes, gname: bytes) -> bytes:
    """One ustar header block, exactly as tarfile's PAX_FORMAT writes it (checksum: 6 octal
    digits, NUL, space; magic "ustar\\0" "00"; no prefix)."""
    numbers = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode, uid, gid, size, mtime)
    # the checksum: every byte, the checksum field as 8 spaces; the NUL padding adds nothing
    chksum = (sum(name) + sum(numbers) + _CHKSUM_CONST + kind[0] + sum(linkname) + sum(uname) + sum(gname))
    return b"".join((name.ljust(100, b"\0"), numbers, b"%06o\0 " % chksum, kind, linkname.ljust(100, b"\0"),
                     tarfile.POSIX_MAGIC, uname.ljust(32, b"\0"), gname.ljust(32, b"\0"), _DEV_PREFIX))


def _pax_record(keyword: str, value: str) -> bytes:
    """"LEN keyword=value\\n", LEN counting its own digits (as tarfile computes it)."""
    body = f" {keyword}={value}\n".encode()
    n = p = 0
    while True:
        n = len(body) + len(str(p))
        if n == p:
            return str(p).encode() + body
        p = n


@lru_cache(maxsize=256)
def _owner_fields(uid: int, gid: int) -> tuple[bytes, bytes] | None:
    """The uname and gname fields of an owner, or None if it needs pax fields (tarfile then)."""
    uname, gname = _uname(uid), _gname(gid)
    if not (0 <= uid < _OCTAL7 and 0 <= gid < _OCTAL7 and uname.isascii() and len(uname) <= 32
            and gname.isascii() and len(gname) <= 32):
        return None
    return uname.encode(), gname.encode()


@lru_cache(maxsize=64)
def _pax_block(size: int) -> bytes:
    """The header block of a pax extended header of `size` bytes (it depends on nothing else)."""
    return _ustar(b"././@PaxHeader", tarfile.XHDTYPE, size, 0, 0, 0, 0, b"", b"", b"")


@lru_cache(maxsize=256)
def _fixed_fields(kind: bytes, mode: int, uid: int, gid: int, linkname: bytes, uname: bytes, gname: bytes
                  ) -> tuple[bytes, bytes, int]:
    """What a ustar block of these (usually repeated) fields holds besides its name, size, mtime and checksum:
    the mode, uid and gid fields; the type, link name, magic, owner names and the rest; and those bytes' sum
    plus the checksum field's 8 spaces (as `_ustar` sums them)."""
    ids = b"%07o\0%07o\0%07o\0" % (mode, uid, gid)
    tail = b"".join((kind, linkname.ljust(100, b"\0"), tarfile.POSIX_MAGIC, uname.ljust(32, b"\0"),
                     gname.ljust(32, b"\0"), _DEV_PREFIX))
    return ids, tail, sum(ids) + sum(tail) + 8 * ord(" ")


@lru_cache(maxsize=64)
def _pax_padding(length: int) -> bytes:
    return bytes(-length % BLOCK)


def fast_header(name: str, kind: bytes, size: int, mode: int, mtime_ns: int, uid: int = 0, gid: int = 0,
                linkname: str = "") -> bytes | None:
    """The header tarfile's PAX_FORMAT would write for a member whose only pax field is a
    sub-second mtime, without building a TarInfo (a third of a small file's cost); None when
    anything else needs a pax field (a long or non-ASCII name, a huge size, ...): use tarfile.
    The fields a frame sequence repeats (mode, owner, type) are made once (`_fixed_fields`)."""
    if kind == tarfile.DIRTYPE and not name.endswith("/"):
        name += "/"      # as TarInfo.get_info does, before any length check
    owner = _owner_fields(uid, gid)
    if (owner is None or not (name.isascii() and len(name) <= 100 and linkname.isascii() and len(linkname) <= 100)
            or not 0 <= size < _OCTAL11 or not 0 <= mtime_ns < _OCTAL11 * 1_000_000_000):
        return None
    mtime, frac = divmod(mtime_ns, 1_000_000_000)
    ids, tail, fixed = _fixed_fields(kind, mode & 0o7777, uid, gid, linkname.encode(), *owner)
    raw = name.encode()
    times = b"%011o\0%011o\0" % (size, mtime)
    block = b"".join((raw.ljust(100, b"\0"), ids, times, b"%06o\0 " % (fixed + sum(raw) + sum(times)), tail))
    if not frac:
        return block
    record = _pax_record("mtime", f"{mtime}.{frac:09d}".rstrip("0"))    # (frac > 0: a digit stays)
    return b"".join((_pax_block(len(record)), record, _pax_padding(len(record)), block))


class TarWriter:
    """Writes one pax archive (one tape file) into a RecordStream."""

    def __init__(self, stream: RecordStream) -> None:
        self.stream = stream
        self.closed = False

    def _header(self, name: str, kind: bytes, size: int, mode: int, mtime_ns: int,
                uid: int = 0, gid: int = 0, linkname: str = "") -> bytes:
        fast = fast_header(name, kind, size, mode, mtime_ns, uid, gid, linkname)
        if fast is not None:
            return fast
        info = tarfile.TarInfo(name)
        info.type = kind
        info.size = size
        info.mode = stat_mod.S_IMODE(mode)
        info.mtime = mtime_ns // 1_000_000_000
        info.uid, info.gid = uid, gid
        info.uname, info.gname = _uname(uid), _gname(gid)
        info.linkname = linkname
        if mtime_ns % 1_000_000_000:
            info.pax_headers = {"mtime": _pax_time(mtime_ns)}
        return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")

    def add_directory(self, name: str, st: Any) -> int:
        """A directory member; returns its header offset."""
        offset = self.stream.offset
        self.stream.write(self._header(name.rstrip("/") + "/", tarfile.DIRTYPE, 0, st.st_mode, st.st_mtime_ns,
                                       st.st_uid, st.st_gid))
        return offset

    def add_symlink(self, name: str, target: str, st: Any) -> int:
        offset = self.stream.offset
        self.stream.write(self._header(name, tarfile.SYMTYPE, 0, st.st_mode, st.st_mtime_ns,
                                       st.st_uid, st.st_gid, linkname=target))
        return offset

    def add_file(self, name: str, source: BinaryIO, st: Any, hasher: Any | None = None) -> MemberPlacement:
        """Stream a regular file of st.st_size bytes.

        If the source delivers fewer bytes (it shrank or a read failed), the
        member is completed with zeros so the archive stays valid; the caller
        sees `copied < size` and must not call the file good.
        """
        stream = self.stream
        header_offset = stream.offset
        size = st.st_size
        stream.write(self._header(name, tarfile.REGTYPE, size, st.st_mode, st.st_mtime_ns, st.st_uid, st.st_gid))
        data_offset = stream.offset
        copied, error = stream.copy_from(source, size, hasher)
        if copied < size:
            stream.zero_fill(size - copied)
        pad = -size % BLOCK
        if pad:
            stream.write(bytes(pad))
        return MemberPlacement(header_offset, data_offset, size, copied, error)

    def add_bytes(self, name: str, data: bytes, mtime_ns: int, mode: int = 0o644) -> MemberPlacement:
        """A small member made in memory (manifest, checksum lists)."""
        return self.add_chunks(name, [data], mtime_ns, mode)

    def add_chunks(self, name: str, chunks: Iterable[bytes], mtime_ns: int, mode: int = 0o644,
                   size: int | None = None) -> MemberPlacement:
        """A member made in parts (a manifest of 10^6 files: never joined into one bytes). Given its
        `size`, the parts may be any iterable (e.g. read back from a spool file), taken once."""
        if size is None:
            chunks = list(chunks)
            size = sum(len(c) for c in chunks)
        header_offset = self.stream.offset
        self.stream.write(self._header(name, tarfile.REGTYPE, size, mode, mtime_ns))
        data_offset = self.stream.offset
        written = 0
        for c in chunks:
            self.stream.write(c)
            written += len(c)
        if written != size:
            raise ValueError(f"member {name}: {written} bytes given for a header of {size}")
        pad = -size % BLOCK
        if pad:
            self.stream.write(bytes(pad))
        return MemberPlacement(header_offset, data_offset, size, size, None)

    def start_part(self, name: str, st: Any, offset: int = 0, volume: int = 1, *, length: int | None = None,
                   number: int = 1, source: Any = None) -> int:
        """The headers of a file's data from byte `offset`; returns the header offset.

        0: the file's own header, with its whole size. Else GNU tar's POSIX continuation:
        a global header with GNU.volume.filename/size/offset (size: the bytes left), then
        a regular member `DIR/GNUFileParts/NAME.VOLUME` of that many bytes (`volume`
        counts from 1). The caller streams the data, then ends the volume inside it (after
        a whole number of blocks, `end_volume`) or calls `pad_data(st.st_size - offset)`
        after the last byte. (`length`, `number`, `source`: what formats that name or sum parts
        need; TAR's headers do not depend on them, so a part may end earlier than planned.)"""
        header_offset = self.stream.offset
        self.stream.write(self._part_headers(name, st, offset, volume))
        return header_offset

    def pad_data(self, length: int) -> None:
        """Zeros after a member's `length` data bytes up to the next 512-byte block."""
        if length % BLOCK:
            self.stream.write(bytes(-length % BLOCK))

    def part_overhead(self, name: str, st: Any, offset: int = 0, volume: int = 1) -> int:
        """Bytes of headers before the data of a file's part starting at `offset` on volume `volume`."""
        return len(self._part_headers(name, st, offset, volume))

    def _part_headers(self, name: str, st: Any, offset: int, volume: int) -> bytes:
        if offset == 0:
            return self._header(name, tarfile.REGTYPE, st.st_size, st.st_mode, st.st_mtime_ns, st.st_uid, st.st_gid)
        rest = st.st_size - offset
        head, base = posixpath.split(name)
        return tarfile.TarInfo.create_pax_global_header({
            "GNU.volume.filename": name, "GNU.volume.size": str(rest), "GNU.volume.offset": str(offset)}) + \
            self._header(f"{head or '.'}/GNUFileParts/{base}.{volume}", tarfile.REGTYPE, rest, 0o644,
                         st.st_mtime_ns, st.st_uid, st.st_gid)

    def end_volume(self) -> None:
        """End this volume: more volumes follow, so no end-of-archive blocks; the last record
        ends here, short if need be (zeros would read as the end of the archive)."""
        if not self.closed:
            self.stream.end_record()
            self.closed = True

    def close(self) -> None:
        """End-of-archive: two zero blocks; the stream pads to a whole record."""
        if not self.closed:
            self.stream.write(bytes(2 * BLOCK))
            self.closed = True
