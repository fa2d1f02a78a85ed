"""The member a TAR reader meets nearly always, taken from the tape record in one step.

A read-back of small files (DPX frames, a card's sidecars) spends most of its
time per member, not per byte: lto-archive's writer gives each member a pax 'x'
header block, one pax record (`NN mtime=SECONDS.NANOS\\n`) and a POSIX ustar
header, and the general reader (`TarReader._read_headers`) takes those three
blocks one `_read_some` at a time, parses the pax data record by record and
builds the member from dicts of records.

`plain_member` looks at the rest of the current tape record without taking
anything from it (`TapeFileReader.peek_view`), and accepts only the plain case,
whole in that record:

- an optional pax 'x' header (parsed by the reader, kept by its bytes) whose
  data is exactly one `mtime` record with a plain decimal value;
- then a POSIX ustar header (magic "ustar\\0" "00", not star's) of a regular
  file ('0') or a directory ('5', no data) that `quick_header` accepts
  (checksum right, octal numbers);
- a non-empty name, a size the reader accepts.

Anything else - a global header, other pax records, GNU long names, a header
split across two records, damage - returns None having consumed nothing, and
the general reader reads the member as before, with every check it makes. What
this returns is the member the general reader returns for the same bytes
(tests/formats/test_tar_fast.py compares both over seeded archives).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .member import Member, TarExtra
from .tar_quick import quick_fields

if TYPE_CHECKING:
    from .tar_reader import TarReader

__all__ = ["plain_member", "whole_data"]

_BLOCK = 512
_PAX = 0x78            # 'x'
_USTAR = b"ustar\x0000"
_KIND = {b"0": "file", b"5": "dir"}
_MAX_MEMBER = 1 << 51


#: a pax header's data that is exactly one mtime record, a plain decimal (no sign, at most 9 decimals)
_MTIME = re.compile(rb"([1-9][0-9]{0,3}) mtime=([0-9]+)(?:\.([0-9]{1,9}))?\n")


def _mtime_record(data: bytes) -> tuple[str, int] | None:
    """The value of a pax header's data that is exactly one record `NN mtime=D[.D]\\n`, and the time in
    nanoseconds; None for anything else (the general parser reads it)."""
    found = _MTIME.fullmatch(data)
    if found is None or int(found[1]) != len(data):
        return None
    whole, frac = found[2], found[3]
    ns = int(whole) * 1_000_000_000 + (int(frac.ljust(9, b"0")) if frac else 0)
    return data[found.start(2):-1].decode("ascii"), ns


def plain_member(reader: "TarReader", peek: Any) -> Member[TarExtra] | None:
    """The next member when it is the plain case whole in the current record (module notes), consumed from
    the stream; None (nothing consumed) otherwise. `peek()`: the rest of the current record."""
    v = peek()
    n = len(v)
    if n < _BLOCK:
        return None
    pos = 0
    pax: dict[str, str] = {}
    mtime_ns = -1
    if v[156] == _PAX:
        ti = reader._meta_header(bytes(v[:_BLOCK]))
        if isinstance(ti, str) or ti.type != b"x" or not 0 < ti.size <= 64:
            return None
        size = ti.size
        pos = _BLOCK + ((size + _BLOCK - 1) & ~(_BLOCK - 1))
        if n < pos + _BLOCK:
            return None
        rec = _mtime_record(bytes(v[_BLOCK:_BLOCK + size]))
        if rec is None:
            return None
        pax["mtime"], mtime_ns = rec
    hdr = bytes(v[pos:pos + _BLOCK])
    kind = _KIND.get(hdr[156:157])
    if kind is None or hdr[257:265] != _USTAR or hdr[508:512] == b"tar\0":
        return None
    fields = quick_fields(hdr)
    if fields is None:
        return None
    (_sum, mode, uid, gid, size, whole, major, minor), _t, path, linkname, uname, gname = fields
    if kind == "dir":
        if size:
            return None
        path = path.rstrip("/") or "/"
    if not path or not 0 <= size <= _MAX_MEMBER:
        return None
    if mtime_ns < 0:
        mtime, mtime_ns = float(whole), whole * 1_000_000_000
    else:
        mtime = float(pax["mtime"])
    header_offset = reader._pos
    reader._view(pos + _BLOCK)       # the headers, all in the current record: consumed
    reader._pos = data_offset = header_offset + pos + _BLOCK
    m = Member(path, kind, size, mode & 0o7777, mtime, mtime_ns, TarExtra(pax), uid, gid, uname, gname, linkname,
               header_offset, data_offset, data_offset + ((size + _BLOCK - 1) & ~(_BLOCK - 1)), major, minor, None)
    reader._stored, reader._smap = size, None
    return m


def whole_data(reader: "TarReader", member: Member[TarExtra]) -> memoryview | None:
    """`member`'s data as one view of the current tape record when it is whole there (with its padding),
    consumed as `iter_data` would; None when it is not (a sparse member, data that runs into the next record,
    a stream without `peek_view`, data already started): read it with `iter_data`."""
    if member is not reader._current or reader._data_started or reader._smap is not None or reader._peek is None:
        return None
    size = reader._remaining
    want = size + reader._pad
    v = reader._peek()
    if len(v) < want:
        return None
    reader._view(want)
    reader._pos += want
    reader._remaining = reader._pad = 0
    reader._data_started = True
    return v[:size]
