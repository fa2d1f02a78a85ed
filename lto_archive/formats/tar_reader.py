"""A strict, streaming TAR reader.

Why not `tarfile`: in stream mode it treats a damaged header as the end of the
archive (a restore would silently stop early), it cannot say where on the tape
a member began, and it copies data through its own buffers. This reader keeps
the stdlib for what it is good at - `tarfile.TarInfo.frombuf` parses one
512-byte ustar/gnu/v7 header, checks its checksum and decodes base-256
numbers - and does the rest itself: pax extended ('x') and global ('g')
records, GNU long names and link names ('L', 'K'), the ustar prefix field,
byte offsets of every member, and a clear CorruptArchive for every way a tape
file can be damaged.

    reader = TarReader(stream)            # any binary stream: read()/readinto()
    for member in reader:                 # Member (member.py), in archive order
        for chunk in reader.iter_data(member):
            ...                           # memoryview/bytes, member.size in total

Members are yielded only when their header is complete and valid, so when a
tape file is damaged every member before the damage can still be restored;
the CorruptArchive comes from the iteration (or from `iter_data` when the
damage is inside that member's data).

Streams that offer `read_view(n) -> memoryview` (TapeFileReader) are read
without any copy: data chunks are slices of the tape records themselves.
Other streams are read with `read()`, so each chunk is a fresh bytes object
(one copy, the one from the kernel) that stays valid as long as the caller
keeps it.

Multi-volume archives (GNU tar `-M`, and lto-archive jobs that span
cartridges): a volume may begin with the rest of a file from the previous
volume, as GNU tar writes it - a pax global header with GNU.volume.filename /
size / offset then a regular member `DIR/GNUFileParts/NAME.N`, or in GNU
format an 'M' header - and is yielded as that file with `part_offset` set.
With `volume=True` a volume may end without end-of-archive blocks, also inside
a file's data on a block boundary: `continues` is then True and `cut` says
which member was cut after how many data bytes. Without `volume`, a
continuation reads as GNU tar without -M reads it: the member
`DIR/GNUFileParts/NAME.N`, or an error for an 'M' header.
"""

from __future__ import annotations

import tarfile
from typing import Any, BinaryIO, Iterator

from ..errors import ArchiveError
from .member import Member, TarExtra
from .member_stream import DEFAULT_CHUNK, Damage, MemberStreamReader, Skipped
from .tar_fast import plain_member, whole_data
from .tar_dialects import header_path, member_of, octal, parse_pax_lenient, parse_pax_records, pax_int
from .tar_header import header_info
from .tar_quick import quick_header
from .tar_sparse import SparseMap, expand, is_sparse, old_gnu_entries, pax_map, read_map_text, sparse_name

__all__ = ["TarMember", "TarReader", "BLOCK", "parse_pax_records"]

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
#: longest pax / GNU long-name record we accept (a damaged size field must not
#: make us allocate gigabytes)
MAX_META = 16 << 20
#: a member larger than this is a damaged size field (base-256 garbage): no tape holds 2 PiB
MAX_MEMBER = 1 << 51

_KINDS = {
    b"0": "file", b"\0": "file", b"7": "file",
    b"1": "hardlink", b"2": "symlink", b"3": "chardev", b"4": "blockdev",
    b"5": "dir", b"6": "fifo",
}
_UNSUPPORTED = {
    b"M": "a GNU multi-volume continuation (the member started on another tape; read the volumes in order)",
    b"N": "an old GNU long-name record",
    b"X": "a Solaris extended header",
    b"A": "a Solaris ACL record",
    b"E": "a Solaris extended attribute",
    b"I": "an inode-only record",
}
_META_TYPES = (b"x", b"g", b"L", b"K", b"V")
#: type flags (as byte values) of the header blocks whose parse a reader keeps by their bytes: pax headers
_CACHED_TYPES = frozenset(b"xg")


#: what TarReader yields: the Member all readers share, with the pax records as its extra
TarMember = Member[TarExtra]


def _padded(n: int) -> int:
    return (n + BLOCK - 1) & ~(BLOCK - 1)


def _parse(buf: bytes) -> tarfile.TarInfo | str:
    """The header in `buf`, or why it is not one."""
    ti = quick_header(buf)       # the plain case, in one struct unpack
    if ti is not None:
        return ti
    try:
        return header_info(buf, "utf-8", "surrogateescape")   # tarfile.TarInfo.frombuf, faster
    except (tarfile.HeaderError, ValueError) as e:
        return "checksum mismatch" if "checksum" in str(e) else f"unreadable header: {e}"


class BadHeader(Exception):
    """Raised inside the reader for a header whose checksum is right but whose fields are impossible (a
    negative or absurd size, an empty name): read on past it to the next valid header, as GNU tar does."""

    def __init__(self, offset: int, reason: str, named: str | None) -> None:
        super().__init__(reason)
        self.offset, self.reason, self.named = offset, reason, named


class SkipMember(Exception):
    """Raised inside the reader for a member it steps over: `stored` data bytes follow its header."""

    def __init__(self, path: str, reason: str, stored: int) -> None:
        super().__init__(reason)
        self.path, self.reason, self.stored = path, reason, stored


def _member_kind(t: bytes, sparse: bool, merged: dict[str, str], path: str, stored: int) -> str:
    """The member kind of type flag `t` (`sparse`: a GNU sparse member); SkipMember for what lto-archive does
    not restore (GNU tar extracts an unknown type as a file; lto-archive steps over it and says so)."""
    if sparse:
        return "file"
    if t == b"D":
        return "dir"   # a GNU incremental dump directory: a directory, its listing as data
    kind = _KINDS.get(t)
    if kind is None:
        what = _UNSUPPORTED.get(t, f"of unknown type {t!r}")
        what = what if t not in _UNSUPPORTED else f"{what}, type {t.decode('latin-1')!r}"
        raise SkipMember(merged.get("path", path), f"{what}, which lto-archive does not restore", stored)
    return kind


class TarReader(MemberStreamReader[TarExtra]):
    """Iterate over the members of one tar archive read from `stream`.

    `start_offset`: the stream's offset of its first byte in the coordinates
    you want offsets in (default: `stream.tell()` when the stream can say,
    else 0). `global_pax`: pax global ('g') values in force at the start, when
    reading starts in the middle of an archive. `drain`: after the end-of-archive
    blocks, read and drop the rest of the stream (record padding), so that a
    TapeFileReader leaves the device at the next tape file.

    After iteration: `ended_cleanly` (end-of-archive blocks found),
    `end_offset` (offset of the first end-of-archive block), `trailing_bytes`
    (bytes after that, dropped), `members_read`, `volume_label`.
    """

    def __init__(
        self,
        stream: BinaryIO | Any,
        *,
        start_offset: int | None = None,
        global_pax: dict[str, str] | None = None,
        drain: bool = True,
        volume: bool = False,
    ) -> None:
        self._open_stream(stream, start_offset)
        self._drain = drain
        self.global_pax: dict[str, str] = dict(global_pax or {})
        self._current: TarMember | None = None
        self._remaining = 0               # stored data bytes of _current not yet read
        self._stored = 0                  # stored data bytes of _current (its size unless sparse)
        self._smap: SparseMap | None = None   # _current is a sparse file: its map
        self._pad = 0                     # padding after _current's data
        self._data_started = False
        self._last_path: str | None = None
        self._done = False
        self._error: ArchiveError | None = None
        self.ended_cleanly = False
        self.end_offset: int | None = None
        self.trailing_bytes = 0
        self.members_read = 0
        self.volume_label: str | None = None
        self._volume = volume
        self._continuation: tuple[str, int, int] | None = None   # GNU.volume.filename, size, offset
        self.continues = False                   # volume mode: the archive goes on in the next volume
        self.cut: tuple[TarMember, int] | None = None   # ...inside this member, after this many data bytes
        self._pushed: tuple[int, bytes, tarfile.TarInfo] | None = None   # the valid header found past a bad one
        self._meta_cache: dict[bytes, tarfile.TarInfo | str] = {}   # pax header blocks parsed (_meta_header)
        self._peek = getattr(stream, "peek_view", None) if self._view is not None else None   # tar_fast.py

    def next(self) -> TarMember | None:
        """The next member, or None at the end of the archive."""
        if self._error is not None:
            raise self._error
        if self._done:
            return None
        try:
            self._finish_current()
            m = self._read_member()
            while isinstance(m, Skipped):
                m = self._read_member()
        except ArchiveError as e:
            self._error = e
            raise
        if m is None:
            self._done = True
            return None
        self._current = m
        self._remaining = self._stored
        self._pad = _padded(self._stored) - self._stored
        self._data_started = False
        self._last_path = m.path
        self.members_read += 1
        return m

    def _finish_current(self) -> None:
        m = self._current
        if m is None:
            return
        self._current = None
        want = self._remaining + self._pad
        if want:
            got = self._skip(want)
            if got < self._remaining and self._cut_by_volume_end(m, self._stored - self._remaining + got):
                return
            if got < self._remaining:
                done = self._stored - self._remaining + got
                raise self._corrupt(
                    f"the archive ends inside {m.path!r} after {done} of {self._stored} bytes "
                    f"(at byte {self._pos}): the tape file is truncated",
                    offset=self._pos, path=m.path, expected=self._stored, actual=done)
            if got < want:
                raise self._corrupt(
                    f"the archive ends in the padding after {m.path!r} (at byte {self._pos}): "
                    f"the tape file is truncated", offset=self._pos, path=m.path)
        self._remaining = 0
        self._pad = 0

    def _read_meta_data(self, size: int, what: str, hdr_off: int) -> bytes:
        if size > MAX_META or size < 0:
            raise BadHeader(hdr_off, f"{what} claims {size} bytes (limit {MAX_META})", None)
        total = _padded(size)
        data = self._read_some(total) if total else b""
        if len(data) < total:
            raise self._corrupt(
                f"the archive ends inside {what} at byte {hdr_off}{self._after()}: "
                f"the tape file is truncated", offset=self._pos, path=self._last_path)
        return bytes(data[:size])

    def _read_member(self) -> TarMember | Skipped | None:
        """The next member (or a Skipped one), None at the end; a header with impossible fields is damage
        read past (`BadHeader`): the region up to the next valid header is noted, with the member it cost.
        The plain member whole in the current tape record is taken in one step (tar_fast.py)."""
        if self._peek is not None and self._pushed is None and self._continuation is None and not (
                self._back or self.global_pax) and (m := plain_member(self, self._peek)) is not None:
            return m
        try:
            return self._read_headers()
        except BadHeader as bad:
            found = self._resync(bad.offset, bad.reason, None, bad.named)
            if found is None:
                return None
            self._pushed = found
            return Skipped(bad.offset, bad.named or "", bad.reason)    # not a member: read on from `found`

    def _read_headers(self) -> TarMember | Skipped | None:
        header_offset: int | None = None
        pax: dict[str, str] = {}
        longname: str | None = None
        longlink: str | None = None
        pending = None   # description of meta blocks read for the member to come
        while True:
            if self._pushed is not None:
                ti, self._pushed = self._pushed, None
            else:
                off = self._pos
                buf = self._read_some(BLOCK)
                if len(buf) < BLOCK:
                    return self._at_eof(off, len(buf), pending)
                buf = bytes(buf)
                if buf == ZERO_BLOCK:
                    ti = self._zeros(off, pending, pax.get("path", longname))
                elif buf[156] in _CACHED_TYPES:
                    ti = self._meta_header(buf)
                else:
                    ti = _parse(buf)
            if isinstance(ti, str):     # damaged: read on to the next valid header, as GNU tar does
                ti = self._resync(off, ti, pending, pax.get("path", longname))
            if ti is None:
                return None
            if isinstance(ti, tuple):   # a header after damage: what came before it is lost
                off, buf, ti = ti
                header_offset, pax, longname, longlink, pending = None, {}, None, None, None
            t = ti.type
            if t in _META_TYPES:
                if t != b"g" and header_offset is None:
                    header_offset = off
                size = ti.size
                if t == b"x" or t == b"g":
                    what = "a pax extended header" if t == b"x" else "a pax global header"
                    data = self._read_meta_data(size, what, off)
                    recs, problem = parse_pax_lenient(data)
                    if problem:    # as GNU tar: the records before the bad one count, the member is read
                        self.damaged.append(Damage(off, BLOCK + _padded(size), f"{what} is damaged: {problem}",
                                                   self._last_path))
                    if t == b"g" and self._volume and "GNU.volume.filename" in recs:
                        self._continuation = self._volume_keywords(recs, off)
                        recs = {k: v for k, v in recs.items() if not k.startswith("GNU.volume.")}
                    if t == b"g":
                        for k, v in recs.items():
                            if v == "":
                                self.global_pax.pop(k, None)
                            else:
                                self.global_pax[k] = v
                    else:
                        pax.update(recs)
                        pending = f"the pax header of {recs['path']!r}" if "path" in recs else "a pax header"
                elif t == b"L":
                    data = self._read_meta_data(size, "a GNU long name", off)
                    longname = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                    pending = f"the GNU long name {longname!r}"
                elif t == b"K":
                    data = self._read_meta_data(size, "a GNU long link name", off)
                    longlink = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                    pending = pending or "a GNU long link name"
                else:  # 'V': GNU volume label, not a member
                    self._read_meta_data(size, "a GNU volume label", off)
                    self.volume_label = ti.name
                    if header_offset == off:
                        header_offset = None
                continue
            if t == b"M" and self._volume and not self._continuation and octal(buf[369:381]) == 0:
                continue   # GNU tar's "continuation" of a member not begun yet: its own header follows
            if header_offset is None:
                header_offset = off
            try:
                return self._make_member(buf, ti, header_offset, pax, longname, longlink)
            except SkipMember as skip:
                return self._step_over(skip, header_offset)

    def _meta_header(self, buf: bytes) -> tarfile.TarInfo | str:
        """`_parse(buf)` for a pax header block: a writer gives nearly every member the same one (the same
        name and mode, only its size varies), so its parse is kept by its bytes (a few at a time; only its
        type, size and validity are used, never changed)."""
        cache = self._meta_cache
        ti = cache.get(buf)
        if ti is None:
            if len(cache) >= 16:
                cache.clear()
            ti = cache[buf] = _parse(buf)
        return ti

    def _zeros(self, off: int, pending: str | None, named: str | None
               ) -> tuple[int, bytes, tarfile.TarInfo] | str | None:
        """A zero block at `off`: None at the end of the archive (only zeros, or nothing, follow); else
        zeros in the middle of it, as a damaged region: the header after them, or why that is no header."""
        if not self._drain or self._volume:
            nxt = None
        else:
            nxt = self._after_zeros()
        if nxt is None:
            if pending:     # the member it announced is lost: damage, and the archive ends here
                self.damaged.append(Damage(off, BLOCK, f"end-of-archive right after {pending}", self._last_path,
                                           [named] if named else []))
            self._end(off)
            return None
        at, buf = nxt
        ti = _parse(buf)
        if isinstance(ti, str):
            return f"zero blocks, then {ti} at byte {at}"
        self.damaged.append(Damage(off, at - off, "zero blocks in the middle of the archive", self._last_path,
                                   [named] if named else []))
        return at, buf, ti

    def _after_zeros(self) -> tuple[int, bytes] | None:
        """Read on over zero blocks: the first block that is not zeros (its offset), None at the end."""
        while True:
            at = self._pos
            buf = self._read_some(BLOCK)
            if len(buf) < BLOCK:
                return None
            if buf != ZERO_BLOCK:
                return at, bytes(buf)

    def _resync(self, off: int, reason: str, pending: str | None, named: str | None
                ) -> tuple[int, bytes, tarfile.TarInfo] | None:
        """After a bad header at `off`: the next block that is a valid header (its offset, bytes, parse),
        the region before it noted in `damaged`; None when the stream ends first (noted too). Nothing
        valid anywhere and no member read yet: CorruptArchive, this is not a tar archive."""
        while True:
            at = self._pos
            buf = self._read_some(BLOCK)
            if len(buf) < BLOCK:
                break
            buf = bytes(buf)
            if buf != ZERO_BLOCK:
                ti = _parse(buf)
                if not isinstance(ti, str):
                    self.damaged.append(Damage(off, at - off, f"bad tar header: {reason}", self._last_path,
                                               [named] if named else []))
                    return at, buf, ti
        hint = f" (following {pending})" if pending else ""
        if self.members_read == 0:
            raise self._corrupt(f"bad tar header at byte {off}{hint}: {reason}; no valid header follows: "
                                f"this is not a tar archive, or it is damaged throughout", offset=off, path=None)
        self.damaged.append(Damage(off, self._pos - off, f"bad tar header: {reason}; no valid header follows "
                                   f"(the end-of-archive blocks are lost)", self._last_path, [named] if named else []))
        self._done = True
        return None

    def _skip_stored(self, stored: int, path: str) -> None:
        want = _padded(stored)
        if self._skip(want) < want:
            raise self._corrupt(f"the archive ends inside {path!r} (at byte {self._pos}): "
                                f"the tape file is truncated", offset=self._pos, path=path)

    def _step_over(self, skip: SkipMember, header_offset: int) -> Skipped:
        """Skip a member's stored data (and padding), noting it in `skipped`."""
        self._skip_stored(skip.stored, skip.path)
        s = Skipped(header_offset, skip.path, skip.reason)
        self.skipped.append(s)
        return s

    def _volume_keywords(self, recs: dict[str, str], off: int) -> tuple[str, int, int]:
        try:
            return (recs["GNU.volume.filename"], pax_int("GNU.volume.size", recs.get("GNU.volume.size", "")),
                    pax_int("GNU.volume.offset", recs.get("GNU.volume.offset", "")))
        except ValueError as e:
            raise self._corrupt(f"the multi-volume header at byte {off} is damaged: {e}", offset=off,
                                path=recs.get("GNU.volume.filename")) from None

    def _cut_by_volume_end(self, m: TarMember, done: int) -> bool:
        """Volume mode: the volume ended inside `m` on a block boundary - it goes on in the next one."""
        if not self._volume or done % BLOCK:
            return False
        self.cut = (m, done)
        self.continues = True
        self._current = None
        self._remaining = self._pad = 0
        self._done = True
        return True

    def _make_member(self, buf: bytes, ti: tarfile.TarInfo, header_offset: int,
                     pax: dict[str, str], longname: str | None, longlink: str | None) -> TarMember:
        data_offset = self._pos
        # name: ustar name (+ prefix when POSIX ustar magic), GNU long name, pax path
        path = longname if longname is not None else header_path(buf)
        linkname = longlink if longlink is not None else ti.linkname
        merged = {**self.global_pax, **pax} if self.global_pax else pax
        if "" in merged.values():
            for k in [k for k, v in merged.items() if v == ""]:
                del merged[k]   # an empty value in 'x' cancels a global value
        if ti.type != b"M" and self._continuation is None:
            t, part_offset = ti.type, None     # not a multi-volume continuation: the usual case
        else:
            t, path, merged, part_offset = self._continued(buf, ti, header_offset, path, merged)
        sparse = is_sparse(t, merged)
        kind = _member_kind(t, sparse, merged, path, ti.size)
        try:
            m = member_of(ti, kind, path, linkname, merged)
        except ValueError as e:
            raise BadHeader(header_offset, f"its pax header is damaged: {e}", merged.get("path", path) or None) from None
        if not 0 <= m.size <= MAX_MEMBER:
            raise BadHeader(header_offset, f"a header with an impossible size ({m.size})", m.path or None)
        if not m.path:
            raise BadHeader(header_offset, "a header with an empty name", None)
        self._stored, self._smap = m.size, None
        if sparse:
            m.path = sparse_name(merged, path)
            self._smap, self._stored = self._sparse_map(buf, t, merged, m.path, m.size)
            m.size = self._smap.realsize
            data_offset = self._pos
        elif t == b"D":
            self._skip_stored(m.size, m.path)    # its data lists the directory's files: not a member
            data_offset = self._pos
        if t == b"\0" and m.path.endswith("/"):
            m.kind = "dir"    # v7: a directory is a regular file whose name ends in '/'
        if m.kind == "dir":
            m.path = m.path.rstrip("/") or "/"
        if m.kind not in ("file", "hardlink"):
            m.size = self._stored = 0   # no data blocks follow directories, symlinks, devices, fifos
        if not m.path:
            raise BadHeader(header_offset, "a header with an empty name", None)
        m.header_offset, m.data_offset, m.part_offset = header_offset, data_offset, part_offset
        m.end_offset = data_offset + _padded(self._stored)
        return m

    def _sparse_map(self, buf: bytes, t: bytes, merged: dict[str, str], path: str, stored: int
                    ) -> tuple[SparseMap, int]:
        """A GNU sparse member's map and the stored bytes of its segments (tar_sparse.py); SkipMember
        (with the stored bytes left to skip) when the map is damaged."""
        def block() -> bytes:
            return bytes(self._read_some(BLOCK))
        try:
            if t == b"S":
                smap = old_gnu_entries(buf, block)
            else:
                found = pax_map(merged)
                if found is None:
                    found, used = read_map_text(merged, block, stored)
                    stored -= used
                smap = found
            smap.check(stored)
        except ValueError as e:
            raise SkipMember(path, f"a GNU sparse file whose map is damaged: {e}", stored) from None
        return smap, stored

    def _continued(self, buf: bytes, ti: tarfile.TarInfo, header_offset: int, path: str, merged: dict[str, str]
                   ) -> tuple[bytes, str, dict[str, str], int | None]:
        """A multi-volume continuation: (its type, path, pax records, where its data is in the whole file);
        for any other member its own type, path and records, and None."""
        t = ti.type
        part_offset: int | None = None
        if t == b"M" and self._volume:    # GNU format continuation: name, size left, offset in the 'offset' field
            part_offset = octal(buf[369:381])
            t = b"0"
        elif self._continuation is not None:
            name, left, part_offset = self._continuation
            merged = {k: v for k, v in merged.items() if k != "path"}
            path = name
            if ti.size != left:
                raise self._corrupt(f"the continuation of {name!r} at byte {header_offset} holds {ti.size} bytes "
                                    f"but its volume header says {left}: the archive is damaged",
                                    offset=header_offset, path=name)
        self._continuation = None
        return t, path, merged, part_offset

    def _at_eof(self, off: int, got: int, pending: str | None) -> None:
        if self._volume and not got and not pending and self._continuation is None:
            self.continues = True      # a volume that ends between members: the next one goes on
            return None
        if got:
            raise self._corrupt(
                f"the archive ends inside a header at byte {off}{self._after()} "
                f"({got} of {BLOCK} bytes): the tape file is truncated", offset=off, path=self._last_path)
        if pending:
            raise self._corrupt(
                f"the archive ends at byte {off} right after {pending}: the tape file is truncated",
                offset=off, path=self._last_path)
        if off == self._start and self.members_read == 0:
            raise self._corrupt(
                f"the tape file is empty: no tar header at byte {off}", offset=off, path=None)
        raise self._corrupt(
            f"the archive ends at byte {off}{self._after()} without end-of-archive blocks: "
            f"the tape file is truncated", offset=off, path=self._last_path)

    def _end(self, off: int) -> None:
        self.ended_cleanly = True
        self.end_offset = off
        if self._drain:
            self._drain_rest()
            self.trailing_bytes = self._pos - off - BLOCK

    # --- data -----------------------------------------------------------------
    whole_data = whole_data    # a small member's data as one view of the record, or None (tar_fast.py)

    def iter_data(self, member: TarMember, chunk_size: int = DEFAULT_CHUNK) -> Iterator[memoryview | bytes]:
        """Yield the data of `member` (the member last returned) in chunks of at
        most `chunk_size` bytes, member.size bytes in total, then consume its
        padding. Chunks from a read_view stream are memoryviews of the tape
        records (no copy); from other streams, bytes. Raises CorruptArchive when
        the stream ends inside the data (the chunks yielded before are genuine)."""
        if member is not self._current or self._data_started:
            raise ValueError(
                f"the data of {member.path!r} is no longer available: read it right after the "
                f"member is returned, once")
        self._data_started = True
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if self._smap is not None:
            yield from expand(self._smap, self._stored_chunks(member, chunk_size), chunk_size)
        else:
            yield from self._stored_chunks(member, chunk_size)

    def _stored_chunks(self, member: TarMember, chunk_size: int) -> Iterator[memoryview | bytes]:
        """The member's stored data bytes, then its padding consumed."""
        view = self._view
        read = self._read
        while self._remaining:
            want = chunk_size if chunk_size < self._remaining else self._remaining
            if view is not None:
                chunk = view(want)
            else:
                chunk = read(want)
            k = len(chunk) if chunk is not None else 0
            if not k:
                done = self._stored - self._remaining
                if self._cut_by_volume_end(member, done):
                    return
                self._current = None
                raise self._corrupt(
                    f"the archive ends inside {member.path!r} after {done} of {self._stored} bytes "
                    f"(at byte {self._pos}): the tape file is truncated",
                    offset=self._pos, path=member.path, expected=self._stored, actual=done)
            self._remaining -= k
            self._pos += k
            yield chunk
        if self._pad:
            pad = self._pad
            got = self._skip(pad)
            self._pad = 0
            if got < pad:
                self._current = None
                raise self._corrupt(
                    f"the archive ends in the padding after {member.path!r} (at byte {self._pos}): "
                    f"the tape file is truncated", offset=self._pos, path=member.path)
