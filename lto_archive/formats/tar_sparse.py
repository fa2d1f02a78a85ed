"""GNU sparse files in TAR, read back as GNU tar restores them: the stored segments, holes as zeros.

GNU tar stores a sparse file in one of four ways; each gives a map of
(offset, numbytes) segments of the whole file and its real size:

- old GNU (type 'S'): four map entries in the header (bytes 386..481), more in
  extension blocks after it while the "isextended" byte is set, the real size
  at bytes 483..494;
- pax 0.0: repeated GNU.sparse.offset / GNU.sparse.numbytes records (kept in
  order by `parse_pax_records`, joined with ','), real size GNU.sparse.size;
- pax 0.1: GNU.sparse.map "off,size,off,size...", real size GNU.sparse.size;
- pax 1.0 (GNU.sparse.major=1): the map is the start of the member's data, as
  decimal lines (count, then offset and numbytes of each) padded to 512 bytes;
  real size GNU.sparse.realsize.

0.1 and 1.0 keep the file's name in GNU.sparse.name. Every map is checked
(segments in order, inside the file, as many bytes as are stored) before any
data is yielded: a damaged map is a ValueError here, so the reader can skip
that one member and go on.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from typing import Callable, Iterator

__all__ = ["SparseMap", "is_sparse", "old_gnu_entries", "pax_map", "read_map_text", "expand", "sparse_name"]

BLOCK = 512
#: more segments than this is a damaged map (a real file with more holes is not worth the memory)
MAX_SEGMENTS = 1 << 20


@dataclass(slots=True)
class SparseMap:
    """The whole file's size and its stored segments, in file order."""

    realsize: int
    segments: list[tuple[int, int]]

    def check(self, stored: int) -> None:
        """ValueError unless the segments are in order, inside the file, and add up to `stored` bytes."""
        pos = 0
        total = 0
        if self.realsize < 0:
            raise ValueError(f"negative real size {self.realsize}")
        for off, n in self.segments:
            if off < pos or n < 0 or off + n > self.realsize:
                raise ValueError(f"segment ({off}, {n}) is out of order or outside the file "
                                 f"of {self.realsize} bytes")
            pos = off + n
            total += n
        if total != stored:
            raise ValueError(f"the map holds {total} bytes but {stored} are stored")


def is_sparse(typeflag: bytes, pax: dict[str, str]) -> bool:
    return typeflag == b"S" or any(k.startswith("GNU.sparse.") for k in pax)


def sparse_name(pax: dict[str, str], path: str) -> str:
    """The file's own name: GNU.sparse.name (0.1, 1.0), else the pax path or header name."""
    return pax.get("GNU.sparse.name", pax.get("path", path))


def _number(field: bytes) -> int:
    try:
        return int(tarfile.nti(field))
    except (tarfile.HeaderError, ValueError) as e:
        raise ValueError(f"bad number in a sparse map: {bytes(field)!r}") from e


def _entries(buf: bytes, start: int, count: int) -> list[tuple[int, int]]:
    out = []
    for i in range(count):
        p = start + 24 * i
        if not buf[p:p + 24].strip(b"\0"):
            break
        out.append((_number(buf[p:p + 12]), _number(buf[p + 12:p + 24])))
    return out


def old_gnu_entries(header: bytes, read_block: Callable[[], bytes]) -> SparseMap:
    """The map of an old GNU 'S' header; `read_block()` gives each extension block (b'' at the end of data)."""
    segments = _entries(header, 386, 4)
    realsize = _number(header[483:495])
    extended = header[482]
    while extended:
        ext = read_block()
        if len(ext) < BLOCK:
            raise ValueError("the archive ends inside a sparse map")
        segments += _entries(ext, 0, 21)
        if len(segments) > MAX_SEGMENTS:
            raise ValueError(f"more than {MAX_SEGMENTS} segments")
        extended = ext[504]
    return SparseMap(realsize, segments)


def _ints(text: str, what: str) -> list[int]:
    parts = text.split(",") if text else []
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"{what} is not a list of numbers: {text[:60]!r}")
    return [int(p) for p in parts]


def _realsize(pax: dict[str, str], key: str) -> int:
    v = pax.get(key, "")
    if not (v.isascii() and v.isdigit()):
        raise ValueError(f"{key}={v[:40]!r} is not a size")
    return int(v)


def pax_map(pax: dict[str, str]) -> SparseMap | None:
    """The map of a pax 0.0 or 0.1 sparse member; None for 1.0 (its map is in the data)."""
    if pax.get("GNU.sparse.major") == "1":
        return None
    if pax.get("GNU.sparse.major", "0") != "0" or pax.get("GNU.sparse.minor", "0") not in ("0", "1"):
        raise ValueError(f"GNU sparse version {pax.get('GNU.sparse.major')}.{pax.get('GNU.sparse.minor')} "
                         f"is not one GNU tar writes")
    realsize = _realsize(pax, "GNU.sparse.size")
    if "GNU.sparse.map" in pax:
        flat = _ints(pax["GNU.sparse.map"], "GNU.sparse.map")
        if len(flat) % 2:
            raise ValueError("GNU.sparse.map has an odd count of numbers")
        return SparseMap(realsize, list(zip(flat[::2], flat[1::2])))
    offs = _ints(pax.get("GNU.sparse.offset", ""), "GNU.sparse.offset")
    sizes = _ints(pax.get("GNU.sparse.numbytes", ""), "GNU.sparse.numbytes")
    if len(offs) != len(sizes):
        raise ValueError("GNU.sparse.offset and GNU.sparse.numbytes do not pair up")
    return SparseMap(realsize, list(zip(offs, sizes)))


def read_map_text(pax: dict[str, str], read_block: Callable[[], bytes], limit: int) -> tuple[SparseMap, int]:
    """pax 1.0: the map at the start of the data, read block by block (at most `limit` bytes);
    returns it and how many bytes it took."""
    realsize = _realsize(pax, "GNU.sparse.realsize")
    text = b""
    used = 0
    numbers: list[int] = []
    want: int | None = None
    while want is None or len(numbers) < want:
        if b"\n" not in text:
            if used + BLOCK > limit:
                raise ValueError("the sparse map runs past the member's data")
            block = read_block()
            if len(block) < BLOCK:
                raise ValueError("the archive ends inside a sparse map")
            used += BLOCK
            text += block
            continue
        line, text = text.split(b"\n", 1)
        if not (line.isascii() and line.isdigit()) or len(line) > 20:
            raise ValueError(f"bad number in a sparse map: {line[:30]!r}")
        if want is None:
            if int(line) > MAX_SEGMENTS:
                raise ValueError(f"a sparse map of {int(line)} segments")
            want = 2 * int(line)
        else:
            numbers.append(int(line))
    return SparseMap(realsize, list(zip(numbers[::2], numbers[1::2]))), used


def expand(smap: SparseMap, stored: Iterator[memoryview | bytes], chunk_size: int
           ) -> Iterator[memoryview | bytes]:
    """The whole file from its stored segments (`stored`, chunks of their bytes in order): zeros in
    the holes, at most `chunk_size` bytes a chunk. Stops early if `stored` runs out."""
    zeros = memoryview(bytes(min(chunk_size, 1 << 20)))
    pending: memoryview = memoryview(b"")
    pos = 0
    for off, n in smap.segments + [(smap.realsize, 0)]:
        while pos < off:
            k = min(off - pos, len(zeros))
            yield zeros[:k]
            pos += k
        while n:
            if not len(pending):
                chunk = next(stored, None)
                if chunk is None:
                    return
                pending = memoryview(chunk)
            k = min(n, len(pending))
            yield pending[:k]
            pending = pending[k:]
            n -= k
            pos += k
