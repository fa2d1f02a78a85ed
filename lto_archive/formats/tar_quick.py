"""The TAR header blocks a reader meets nearly always, parsed in one struct unpack.

A verify of 12 KiB frames parses two header blocks per frame (the pax 'x'
header and the ustar header); `tar_header.header_info` slices and converts
each of the 13 fields on its own, which was a quarter of the whole read-back.
`quick_header` takes the fields from one `struct` unpack and accepts only the
plain case: an unsigned checksum that matches, octal numbers, and a type flag
that needs none of tarfile's special rules (not a V7 regular file, not a GNU
long name, long link or sparse header). Anything else returns None and the
caller parses the block with `header_info`; what it does return has the same
fields `tarfile.TarInfo.frombuf` gives (tests/formats/test_tar_quick.py).
"""

from __future__ import annotations

import struct
import tarfile
from zlib import adler32

__all__ = ["quick_header", "quick_fields", "Fields"]

#: name, mode, uid, gid, size, mtime, chksum, type, linkname, magic, version, uname, gname, devmajor, devminor, prefix
_LAYOUT = struct.Struct("100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s")
#: type flags with no special rule in frombuf: regular, hard link, symlink, devices, directory, fifo, pax
_PLAIN = frozenset((b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"x", b"g"))
_SPACES = 8 * ord(" ")


def _sum(part: bytes) -> int:
    """The exact sum of at most 256 bytes: Adler-32's low half is 1 + that sum, below its modulus."""
    return (adler32(part) & 0xFFFF) - 1


#: octal fields and owner names seen, and what they say: the headers of one archive repeat them (mode, owner,
#: size, the second of the mtime, the checksum's few values); bounded, and the same for every reader
_NUM_CACHE: dict[bytes, int] = {}
_TEXT_CACHE: dict[bytes, str] = {}
_CACHE_MAX = 4096


def _nums(*fields: bytes) -> list[int]:
    """Octal fields; a NUL before the end of the digits (junk after the terminator) raises ValueError."""
    cache = _NUM_CACHE
    try:
        return [cache[f] for f in fields]
    except KeyError:
        pass
    if len(cache) > _CACHE_MAX:
        cache.clear()
    out = []
    for f in fields:        # only the fields not seen yet are converted (a card's sizes and mtimes differ)
        n = cache.get(f)
        if n is None:
            n = cache[f] = int(f.rstrip(b"\0 ") or b"0", 8)
        out.append(n)
    return out


def _text(field: bytes) -> str:
    """tarfile.nts(field, "utf-8", "surrogateescape"): the bytes up to the first NUL."""
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _owner(field: bytes) -> str:
    """`_text` of an owner name (uname, gname), which nearly every header of an archive repeats."""
    text = _TEXT_CACHE.get(field)
    if text is None:
        if len(_TEXT_CACHE) > _CACHE_MAX:
            _TEXT_CACHE.clear()
        text = _TEXT_CACHE[field] = _text(field)
    return text


#: what `quick_fields` gives: the numbers (checksum, mode, uid, gid, size, mtime, devmajor, devminor), the type
#: flag, the name (after the prefix; a directory's without its trailing '/'), link name, uname, gname
Fields = tuple[list[int], bytes, str, str, str, str]


def quick_fields(buf: bytes) -> Fields | None:
    """The fields of the header in the 512 bytes `buf` as frombuf(buf, "utf-8", "surrogateescape") gives
    them, without building a TarInfo; None when it is not the plain case (`quick_header`)."""
    if len(buf) != 512 or buf[156:157] not in _PLAIN:
        return None
    (name, mode, uid, gid, size, mtime, chksum, kind, linkname, _magic, _version, uname, gname, major, minor,
     prefix) = _LAYOUT.unpack_from(buf)
    try:
        nums = _nums(chksum, mode, uid, gid, size, mtime, major, minor)
    except ValueError:
        return None
    if nums[0] != _SPACES + _sum(buf[:148]) + _sum(buf[156:412]) + _sum(buf[412:]):
        return None
    text = _text(name)
    if kind == b"5":
        text = text.rstrip("/")
    if prefix[0]:
        text = _text(prefix) + "/" + text
    return (nums, kind, text, _text(linkname) if linkname[0] else "", _owner(uname) if uname[0] else "",
            _owner(gname) if gname[0] else "")


def quick_header(buf: bytes) -> tarfile.TarInfo | None:
    """The header in the 512 bytes `buf`, as frombuf(buf, "utf-8", "surrogateescape") gives it, or None when
    it is not the plain case (then parse it with tar_header.header_info: damage, base-256, odd types...)."""
    fields = quick_fields(buf)
    if fields is None:
        return None
    nums, kind, name, linkname, uname, gname = fields
    ti = tarfile.TarInfo()
    ti.chksum, ti.mode, ti.uid, ti.gid, ti.size, ti.mtime, ti.devmajor, ti.devminor = nums
    ti.type = kind
    ti.linkname, ti.uname, ti.gname, ti.name = linkname, uname, gname, name
    return ti
