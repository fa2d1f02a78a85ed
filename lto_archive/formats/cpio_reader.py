"""A strict, streaming cpio reader: SVR4 "newc" (070701), "crc" (070702) and POSIX "odc" (070707).

    reader = CpioReader(stream)           # any binary stream: read()/readinto(), or read_view()
    for member in reader:                 # Member (member.py), as TarReader yields
        for chunk in reader.iter_data(member):
            ...

It has the TarReader interface (see tar_reader.py): members carry `path`,
`kind` ('file', 'dir', 'symlink', 'hardlink', 'other'), `size`, `mode`,
`mtime`, `mtime_ns`, `uid`, `gid`, `linkname`, `header_offset`,
`data_offset`; `iter_data`, `read_data`, `readinto_data`. A member is
yielded only once its header and name are complete and valid, so when a tape
file is damaged every member before the damage can still be read; the
CorruptArchive (with the byte offset and what was expected) comes from the
iteration, or from `iter_data` when the damage is inside that member's data.

Format details
--------------
- The format of the archive is fixed by its first header; a later header
  with another magic is damage, not a format switch.
- newc/crc: header and name padded to 4 bytes, data padded to 4 bytes,
  offsets counted from the start of the archive (tape-file offset 0).
  odc: no padding at all.
- A symlink's target is its data; it is read with the header, so the member
  has `linkname` set and `size` 0 (as TarReader reports links).
- crc: the sum of a regular file's bytes is checked as its data streams by
  `iter_data`. As GNU cpio does (it extracts the file, then says "checksum
  error"), a mismatch does not stop the archive: it is noted in
  `crc_mismatches`, the following members are read as usual, and the end of
  the iteration raises CorruptArchive naming every such member. So one
  damaged file (or one our writer reported as read twice differently)
  never hides the members after it, and is never passed over in silence.
  Data that is skipped (listing) is not checked, as in TAR. The field is not
  checked for symlinks (GNU cpio writes 0 there).
- Devices, fifos and sockets are kind 'other' (listed, never restored).

Hard links
----------
newc/crc (GNU cpio, bsdcpio): all links of a file are written with the same
(dev, ino) and nlink > 1; the data comes with ONE of them, in GNU cpio's
output the last, and the others have size 0. As GNU cpio does on
extraction, the size-0 links are held back until the member with the data
has been yielded, then yielded right after it as kind 'hardlink' with
`linkname` = that member's path (so a restore can link them to the restored
file). Links whose data member comes first are yielded as 'hardlink' at once.
If no link of a file has data (an empty file), at the trailer the first of
them is yielded as an empty 'file' and the others as hard links to it.
Members held back are thus yielded out of archive order (their
`header_offset` still says where they are); if the archive is damaged before
their data member, they are not yielded.
odc: every link carries the data; like GNU cpio, a later link of an inode
already seen is a 'hardlink' to the first (its data is skipped).

Old binary cpio (`cpio -H bin`) is recognised and refused with a clear
ArchiveError.
"""

from __future__ import annotations

import stat as stat_mod
from collections import deque
from typing import Any, BinaryIO, Iterator

from ..errors import ArchiveError, CorruptArchive
from .member import CpioExtra, Member
from .member_stream import DEFAULT_CHUNK, Damage, MemberStreamReader
from .cpio_writer import byte_sum

__all__ = ["CpioMember", "CpioReader", "NEWC", "CRC", "ODC", "MAGICS", "BINARY_MAGICS"]

NEWC = "newc"
CRC = "crc"
ODC = "odc"
MAGICS = {b"070701": NEWC, b"070702": CRC, b"070707": ODC}
BINARY_MAGICS = (b"\xc7\x71", b"\x71\xc7")     # 0o070707 as a little- or big-endian short
_NEWC_HEADER = 110
_ODC_HEADER = 76
TRAILER_NAME = "TRAILER!!!"
#: longest name / symlink target we accept (a damaged size field must not make us allocate gigabytes)
MAX_NAME = 1 << 20
_HEX = b"0123456789abcdefABCDEF"
_OCT = b"01234567"
_NEWC_FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize", "devmajor", "devminor",
                "rdevmajor", "rdevminor", "namesize", "check")
# odc: (name, width) after the 6-byte magic, all octal
_ODC_FIELDS = (("dev", 6), ("ino", 6), ("mode", 6), ("uid", 6), ("gid", 6), ("nlink", 6), ("rdev", 6),
               ("mtime", 11), ("namesize", 6), ("filesize", 11))


#: what CpioReader yields: the Member all readers share, with CPIO's own header fields as its extra.
#: `size` is the number of data bytes `iter_data` yields: the file's size for 'file', 0 for every
#: other kind (`extra.stored_size` is what the header says follows it). `mtime` is whole seconds.
CpioMember = Member[CpioExtra]


def _kind(mode: int) -> str:
    t = stat_mod.S_IFMT(mode)
    if t == stat_mod.S_IFREG:
        return "file"
    if t == stat_mod.S_IFDIR:
        return "dir"
    if t == stat_mod.S_IFLNK:
        return "symlink"
    return "other"


#: bytes read at a time while looking for the next header after damage
SCAN = 1 << 16


class CpioReader(MemberStreamReader[CpioExtra]):
    """Iterate over the members of one cpio archive read from `stream`.

    `start_offset`: the stream's offset of its first byte (default
    `stream.tell()` when the stream can say, else 0); newc padding is
    computed from these offsets, so they must count from the start of the
    archive. `drain`: after the trailer, read and drop the rest of the
    stream (record padding), so a TapeFileReader leaves the device at the
    next tape file.

    After iteration: `format` ('newc', 'crc', 'odc'), `ended_cleanly`
    (trailer found), `end_offset` (offset of the trailer's header),
    `trailing_bytes` (dropped after it), `members_read`.
    """

    def __init__(self, stream: BinaryIO | Any, *, start_offset: int | None = None, drain: bool = True) -> None:
        self._open_stream(stream, start_offset)
        self._drain = drain
        self.format: str | None = None
        self._magic: bytes | None = None
        self._current: CpioMember | None = None
        self._remaining = 0          # data bytes of _current not yet read (for iter_data)
        self._skip_after = 0         # bytes after those: padding, or data of a member that yields none
        self._data_started = False
        self._last_path: str | None = None
        self._done = False
        self._trailer_seen = False
        self._error: ArchiveError | None = None
        self._queue: deque[CpioMember] = deque()
        # hard links: (dev..., ino) -> path of the member that has the data / members waiting for it
        self._link_data: dict[tuple[int, ...], str] = {}
        self._link_wait: dict[tuple[int, ...], list[CpioMember]] = {}
        self.ended_cleanly = False
        self.end_offset: int | None = None
        self.trailing_bytes = 0
        self.members_read = 0
        #: members whose data did not match the header's crc: path, offset, expected, actual
        self.crc_mismatches: list[dict[str, Any]] = []

    def next(self) -> CpioMember | None:
        """The next member, or None after the trailer."""
        if self._error is not None:
            raise self._error
        if self._done:
            return None
        try:
            self._finish_current()
            m = self._queue.popleft() if self._queue else None
            while m is None and not self._trailer_seen:
                m = self._read_member_or_resync()
                if m is not None:
                    m = self._resolve_links(m)
            if m is None and self._trailer_seen:
                m = self._queue.popleft() if self._queue else None
        except ArchiveError as e:
            self._error = e
            raise
        if m is None:
            self._done = True
            self._end()
            if self.crc_mismatches:
                bad = self.crc_mismatches
                shown = "; ".join(f"{b['path']!r} (member at byte {b['offset']}: the header says {b['expected']}, "
                                  f"the data sums to {b['actual']})" for b in bad[:10])
                more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
                raise self._corrupt(
                    f"crc checksum mismatch in {len(bad)} member(s): {shown}{more}; their data is damaged",
                    offset=bad[0]["offset"], path=bad[0]["path"], files=[b["path"] for b in bad])
            return None
        self._current = m
        self._data_started = False
        if m.data_offset == self._pos and m.kind == "file":
            self._remaining = m.size
            self._skip_after = self._pad(m.data_offset + m.extra.stored_size)
        else:
            # held back (already passed), or a kind whose stored data (if any) is not member data
            self._remaining = 0
            self._skip_after = 0 if m.data_offset != self._pos else (
                m.extra.stored_size + self._pad(m.data_offset + m.extra.stored_size))
        self._last_path = m.path
        self.members_read += 1
        return m

    def _pad(self, end: int) -> int:
        return -end % 4 if self.format != ODC else 0

    def _finish_current(self) -> None:
        m = self._current
        if m is None:
            return
        self._current = None
        want = self._remaining + self._skip_after
        if want:
            got = self._skip(want)
            if got < self._remaining:
                done = m.size - self._remaining + got
                raise self._corrupt(
                    f"the archive ends inside {m.path!r} after {done} of {m.size} bytes "
                    f"(at byte {self._pos}): the tape file is truncated",
                    offset=self._pos, path=m.path, expected=m.size, actual=done)
            if got < want:
                raise self._corrupt(
                    f"the archive ends in the data or padding after {m.path!r} (at byte {self._pos}): "
                    f"the tape file is truncated", offset=self._pos, path=m.path)
        self._remaining = 0
        self._skip_after = 0

    def _resolve_links(self, m: CpioMember) -> CpioMember | None:
        """Hard-link bookkeeping; returns the member to yield now, or None (held back)."""
        if m.kind != "file" or m.extra.nlink < 2:
            return m
        if self.format == ODC:
            key = (m.devmajor, m.extra.ino)
            first = self._link_data.get(key)
            if first is None:
                self._link_data[key] = m.path
                return m
            m.kind, m.linkname, m.size = "hardlink", first, 0
            return m
        key = (m.devmajor, m.devminor, m.extra.ino)
        if m.extra.stored_size > 0:
            self._link_data.setdefault(key, m.path)
            for w in self._link_wait.pop(key, []):
                w.kind, w.linkname = "hardlink", m.path
                self._queue.append(w)
            return m
        holder = self._link_data.get(key)
        if holder is not None:
            m.kind, m.linkname = "hardlink", holder
            return m
        self._link_wait.setdefault(key, []).append(m)
        return None

    def _flush_waiting(self) -> None:
        """At the trailer: links of files none of whose members had data (empty files)."""
        for group in self._link_wait.values():
            first = group[0]
            self._queue.append(first)
            for w in group[1:]:
                w.kind, w.linkname = "hardlink", first.path
                self._queue.append(w)
        self._link_wait.clear()

    def _read_member_or_resync(self) -> CpioMember | None:
        """The next header, reading on past a damaged one to the next magic, as GNU cpio does."""
        while True:
            try:
                return self._read_member()
            except CorruptArchive as e:
                if self._magic is None or not self._resync(e):
                    raise
                self._error = None

    def _resync(self, e: CorruptArchive) -> bool:
        """After a damaged header: read on to the next magic (4-byte aligned in newc and crc), leave the
        stream there and note the region in `damaged`; False when the stream ends first."""
        assert self._magic is not None
        off = int(e.data.get("offset", self._pos))
        align = 1 if self.format == ODC else 4
        tail, tail_at = b"", self._pos
        while True:
            chunk = bytes(self._read_some(SCAN))
            if not chunk:
                return False
            buf, at = tail + chunk, tail_at
            i = buf.find(self._magic, 1 if at == off else 0)
            while i >= 0 and (at + i - self._start) % align:
                i = buf.find(self._magic, i + 1)
            if i >= 0:
                self._give_back(buf[i:])
                self.damaged.append(Damage(off, at + i - off, e.message, self._last_path))
                return True
            tail, tail_at = buf[-5:], at + len(buf) - len(buf[-5:])

    def _read_member(self) -> CpioMember | None:
        """Parse one header + name (+ symlink target); None at the trailer."""
        off = self._pos
        magic = bytes(self._read_some(6))
        if len(magic) < 6:
            return self._at_eof(off, len(magic))
        if self._magic is None:
            if magic[:2] in BINARY_MAGICS:
                raise ArchiveError(
                    f"the archive at byte {off} is an old binary cpio archive (cpio -H bin), which lto-archive "
                    f"does not read; convert it with `cpio -i` then `cpio -o -H newc`", offset=off)
            fmt = MAGICS.get(magic)
            if fmt is None:
                raise self._corrupt(
                    f"no cpio header at byte {off}: expected the magic 070701 (newc), 070702 (crc) or 070707 "
                    f"(odc), found {magic!r}; this is not a cpio archive", offset=off, path=None)
            self._magic, self.format = magic, fmt
        elif magic != self._magic:
            what = "zeros" if magic == bytes(6) else repr(magic)
            raise self._corrupt(
                f"bad cpio header at byte {off}{self._after()}: expected the magic "
                f"{self._magic.decode()} ({self.format}), found {what}; the archive is damaged"
                + (" or ends without its TRAILER!!! member" if magic == bytes(6) else ""),
                offset=off, path=self._last_path, expected=self._magic.decode())
        if self.format == ODC:
            return self._read_odc(off)
        return self._read_newc(off)

    def _header_rest(self, off: int, n: int) -> bytes:
        rest = bytes(self._read_some(n))
        if len(rest) < n:
            raise self._corrupt(
                f"the archive ends inside a cpio header at byte {off}{self._after()} "
                f"({6 + len(rest)} of {6 + n} bytes): the tape file is truncated", offset=off, path=self._last_path)
        return rest

    def _number(self, raw: bytes, field: str, digits: bytes, base: int, off: int) -> int:
        if not raw or raw.translate(None, digits):
            kind = "hex" if base == 16 else "octal"
            raise self._corrupt(
                f"bad cpio header at byte {off}{self._after()}: field {field} is {raw!r}, expected "
                f"{len(raw)} {kind} digits; the archive is damaged", offset=off, path=self._last_path, field=field)
        return int(raw, base)

    def _read_newc(self, off: int) -> CpioMember | None:
        rest = self._header_rest(off, _NEWC_HEADER - 6)
        f = {name: self._number(rest[8 * i:8 * i + 8], name, _HEX, 16, off) for i, name in enumerate(_NEWC_FIELDS)}
        name = self._read_name(off, f["namesize"])
        self._skip_exact(self._pad(self._pos), off, name, "the padding after the name")
        if name == TRAILER_NAME:
            self._at_trailer(off)
            return None
        return self._make_member(off, name, f["mode"], f["filesize"], f["mtime"], f["uid"], f["gid"], f["nlink"],
                                 f["ino"], f["devmajor"], f["devminor"], f["rdevmajor"], f["rdevminor"], f["check"])

    def _read_odc(self, off: int) -> CpioMember | None:
        rest = self._header_rest(off, _ODC_HEADER - 6)
        f: dict[str, int] = {}
        pos = 0
        for name, width in _ODC_FIELDS:
            f[name] = self._number(rest[pos:pos + width], name, _OCT, 8, off)
            pos += width
        name = self._read_name(off, f["namesize"])
        if name == TRAILER_NAME:
            self._at_trailer(off)
            return None
        return self._make_member(off, name, f["mode"], f["filesize"], f["mtime"], f["uid"], f["gid"], f["nlink"],
                                 f["ino"], f["dev"], 0, f["rdev"], 0, 0)

    def _read_name(self, off: int, namesize: int) -> str:
        if namesize < 2 or namesize > MAX_NAME:
            raise self._corrupt(
                f"bad cpio header at byte {off}{self._after()}: name size {namesize} "
                f"({'empty name' if namesize < 2 else f'over the {MAX_NAME}-byte limit'}); the header is damaged",
                offset=off, path=self._last_path)
        raw = bytes(self._read_some(namesize))
        if len(raw) < namesize:
            raise self._corrupt(
                f"the archive ends inside the name of the member at byte {off}{self._after()}: "
                f"the tape file is truncated", offset=off, path=self._last_path)
        if raw[-1] != 0 or 0 in raw[:-1]:
            raise self._corrupt(
                f"bad cpio header at byte {off}{self._after()}: the name ({namesize} bytes) is not "
                f"one NUL-ended string; the header is damaged", offset=off, path=self._last_path)
        return raw[:-1].decode("utf-8", "surrogateescape")

    def _skip_exact(self, n: int, off: int, path: str, what: str) -> None:
        if n and self._skip(n) < n:
            raise self._corrupt(
                f"the archive ends in {what} of {path!r} (member at byte {off}): the tape file is truncated",
                offset=self._pos, path=path)

    def _make_member(self, off: int, name: str, mode: int, filesize: int, mtime: int, uid: int, gid: int,
                     nlink: int, ino: int, devmajor: int, devminor: int, rdevmajor: int, rdevminor: int,
                     check: int) -> CpioMember:
        kind = _kind(mode)
        path = name
        if kind == "dir":
            path = name.rstrip("/") or "/"
        data_offset = self._pos
        linkname = ""
        if kind == "symlink":
            if filesize > MAX_NAME:
                raise self._corrupt(
                    f"symlink {path!r} at byte {off} claims a {filesize}-byte target (limit {MAX_NAME}): "
                    f"the header is damaged", offset=off, path=path)
            raw = bytes(self._read_some(filesize))
            if len(raw) < filesize:
                raise self._corrupt(
                    f"the archive ends inside the target of symlink {path!r} (member at byte {off}): "
                    f"the tape file is truncated", offset=self._pos, path=path)
            self._skip_exact(self._pad(self._pos), off, path, "the padding after the target")
            linkname = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        fmt = self.format or NEWC
        end = data_offset + filesize
        extra = CpioExtra(format=fmt, stored_size=filesize, nlink=nlink, ino=ino, rdevmajor=rdevmajor,
                          rdevminor=rdevminor, check=check, raw_mode=mode)
        return Member(
            path=path, kind=kind, size=filesize if kind == "file" else 0, mode=mode & 0o7777,
            mtime=float(mtime), mtime_ns=mtime * 1_000_000_000, extra=extra, uid=uid, gid=gid, linkname=linkname,
            header_offset=off, data_offset=data_offset, end_offset=end + (-end % 4 if fmt != ODC else 0),
            devmajor=devmajor, devminor=devminor)

    def _at_eof(self, off: int, got: int) -> None:
        if got:
            raise self._corrupt(
                f"the archive ends inside a cpio header at byte {off}{self._after()} ({got} bytes): "
                f"the tape file is truncated", offset=off, path=self._last_path)
        if off == self._start and self.members_read == 0 and not self._link_wait:
            raise self._corrupt(f"the tape file is empty: no cpio header at byte {off}", offset=off, path=None)
        raise self._corrupt(
            f"the archive ends at byte {off}{self._after()} without its TRAILER!!! member: "
            f"the tape file is truncated", offset=off, path=self._last_path)

    def _at_trailer(self, off: int) -> None:
        self._trailer_seen = True
        self.ended_cleanly = True
        self.end_offset = off
        self._flush_waiting()

    def _end(self) -> None:
        if self._drain:
            self.trailing_bytes = self._drain_rest()

    # --- data -----------------------------------------------------------------
    def evidence(self, member: CpioMember) -> tuple[str, str | None] | None:
        """What a "crc" archive proves about a file whose data was read to its end: ("cpio crc", why it
        fails or None). None for newc and odc, which carry no checksum."""
        if self.format != CRC or member.kind != "file":
            return None
        bad = next((b for b in self.crc_mismatches if b["offset"] == member.header_offset), None)
        return "cpio crc", (None if bad is None else f"its data sums to {bad['actual']}, its header says "
                                                     f"{bad['expected']}")

    def iter_data(self, member: CpioMember, chunk_size: int = DEFAULT_CHUNK) -> Iterator[memoryview | bytes]:
        """Yield the data of `member` (the member last returned) in chunks of at
        most `chunk_size` bytes, member.size bytes in total, then consume its
        padding. In crc archives the sum is checked at the end (a mismatch is
        noted in `crc_mismatches` and raised when the archive ends). Raises
        CorruptArchive when the stream ends inside the data (the chunks
        yielded before are genuine)."""
        if member is not self._current or self._data_started:
            raise ValueError(
                f"the data of {member.path!r} is no longer available: read it right after the "
                f"member is returned, once")
        self._data_started = True
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        view = self._view
        read = self._read
        checking = self.format == CRC and member.kind == "file"
        total = 0
        while self._remaining:
            want = chunk_size if chunk_size < self._remaining else self._remaining
            if self._back:
                chunk, self._back = self._back[:want], self._back[want:]
            else:
                chunk = view(want) if view is not None else read(want)
            k = len(chunk) if chunk is not None else 0
            if not k:
                done = member.size - self._remaining
                self._current = None
                raise self._corrupt(
                    f"the archive ends inside {member.path!r} after {done} of {member.size} bytes "
                    f"(at byte {self._pos}): the tape file is truncated",
                    offset=self._pos, path=member.path, expected=member.size, actual=done)
            self._remaining -= k
            self._pos += k
            if checking:
                total += byte_sum(chunk)
            yield chunk
        if self._skip_after:
            pad = self._skip_after
            got = self._skip(pad)
            self._skip_after = 0
            if got < pad:
                self._current = None
                raise self._corrupt(
                    f"the archive ends in the padding after {member.path!r} (at byte {self._pos}): "
                    f"the tape file is truncated", offset=self._pos, path=member.path)
        if checking and total & 0xFFFFFFFF != member.extra.check:
            # reported when the archive ends (see the module notes): the stream is still in step
            self.crc_mismatches.append({"path": member.path, "offset": member.header_offset,
                                        "expected": f"{member.extra.check:08x}", "actual": f"{total & 0xFFFFFFFF:08x}"})
