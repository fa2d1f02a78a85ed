"""Walk the source folders into an ordered plan of archive members.

Order is deterministic (sorted names, depth first) so that frame sequences go
to tape in frame order and a restore reads them in one pass.
"""

from __future__ import annotations

import os
import stat as stat_mod
import struct
from pathlib import Path

from .errors import SourceError


# what os.lstat gives on Linux, packed (a stat_result holds ~20 int and float objects: ~600 bytes a file)
_STAT = struct.Struct("<IQQQIIqqqqqqQ")
_STAT_EXTRA = ("st_blksize", "st_blocks", "st_rdev")
_MODE, _MTIME = struct.Struct("<I"), struct.Struct("<q")
_MTIME_AT = struct.calcsize("<IQQQIIqq")    # st_mtime_ns's offset in _STAT


def pack_stat(st: os.stat_result) -> bytes | os.stat_result:
    """Packed; a stat that does not fit (a time past the year 2262 in nanoseconds) is kept as it is."""
    try:
        return _STAT.pack(st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, st.st_size,
                          st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns,
                          *(getattr(st, f, 0) for f in _STAT_EXTRA))
    except struct.error:
        return st


def unpack_stat(packed: bytes | os.stat_result) -> os.stat_result:
    """The stat_result pack_stat was given: the same fields, floats computed as os.stat computes them."""
    if isinstance(packed, os.stat_result):
        return packed
    mode, ino, dev, nlink, uid, gid, size, a, m, c, blksize, blocks, rdev = _STAT.unpack(packed)
    (a_s, a_n), (m_s, m_n), (c_s, c_n) = divmod(a, 10**9), divmod(m, 10**9), divmod(c, 10**9)
    return os.stat_result((mode, ino, dev, nlink, uid, gid, size, a_s, m_s, c_s),
                          {"st_atime": a_s + a_n * 1e-9, "st_mtime": m_s + m_n * 1e-9, "st_ctime": c_s + c_n * 1e-9,
                           "st_atime_ns": a, "st_mtime_ns": m, "st_ctime_ns": c,
                           "st_blksize": blksize, "st_blocks": blocks, "st_rdev": rdev})


class SourceEntry:
    """One thing to archive: `name` is its path inside the archive.

    10^6 of them are held for a job: the source path is kept as a string and the stat as packed bytes
    (~200 bytes an entry rather than ~1.4 KB); `path` and `st` give a Path and a stat_result."""

    __slots__ = ("name", "_path", "kind", "size", "_st")

    def __init__(self, name: str, path: str | os.PathLike[str], kind: str, size: int, st: os.stat_result) -> None:
        self.name = name
        self._path = os.fspath(path)
        self.kind = kind          # "file", "dir", "symlink", "special"
        self.size = size
        self._st = pack_stat(st)

    @property
    def path(self) -> Path:
        return Path(self._path)

    @property
    def source(self) -> str:
        """The source path as a string (no Path built: the per-file path of a job uses this)."""
        return self._path

    @property
    def st(self) -> os.stat_result:
        return unpack_stat(self._st)

    def mode_mtime(self) -> tuple[int, float]:
        """`st.st_mode` and `st.st_mtime` without building the whole stat_result (once per file of a job)."""
        packed = self._st
        if isinstance(packed, os.stat_result):
            return packed.st_mode, packed.st_mtime
        mode = _MODE.unpack_from(packed)[0]
        m_s, m_n = divmod(_MTIME.unpack_from(packed, _MTIME_AT)[0], 10**9)
        return mode, m_s + m_n * 1e-9

    def _key(self) -> tuple[str, str, str, int, bytes | os.stat_result]:
        return self.name, self._path, self.kind, self.size, self._st

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceEntry) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"SourceEntry(name={self.name!r}, path={self._path!r}, kind={self.kind!r}, size={self.size})"


def _entry(name: str, path: str | Path) -> SourceEntry:
    st = os.lstat(path)
    if stat_mod.S_ISREG(st.st_mode):
        kind = "file"
    elif stat_mod.S_ISDIR(st.st_mode):
        kind = "dir"
    elif stat_mod.S_ISLNK(st.st_mode):
        kind = "symlink"
    else:
        kind = "special"
    return SourceEntry(name, path, kind, st.st_size if kind == "file" else 0, st)


def scan_sources(sources: list[str | Path]) -> list[SourceEntry]:
    """Each source folder (or file) becomes a top-level member named after it.

    Two sources with the same name would collide inside the archive: refused.
    A folder we cannot list is an error here, before anything is written.
    """
    if not sources:
        raise SourceError("no source given: name the camera card or folder to archive")
    entries: list[SourceEntry] = []
    tops: dict[str, Path] = {}
    for src in sources:
        root = Path(src)
        if not os.path.lexists(root):
            raise SourceError(f"source {root} does not exist", path=str(root))
        top = root.resolve().name if root.name in ("", ".", "..") else root.name
        if top in tops:
            raise SourceError(f"sources {tops[top]} and {root} have the same name {top!r} "
                              f"and would overwrite each other in the archive", path=str(root))
        tops[top] = root
        first = _entry(top, root)
        entries.append(first)
        if first.kind != "dir":
            continue
        stack: list[tuple[str, str | Path]] = [(top, root)]
        while stack:
            name, path = stack.pop()
            try:
                with os.scandir(path) as it:
                    children = list(it)
            except OSError as exc:
                raise SourceError(f"cannot list folder {path}: {exc.strerror}", path=str(path)) from exc
            for child in children:
                e = _entry(f"{name}/{child.name}", child.path)
                entries.append(e)
                if e.kind == "dir":
                    stack.append((e.name, child.path))
    # sources in the order given; inside each, depth first in name order
    rank = {top: i for i, top in enumerate(tops)}
    # name parts compared one by one = the name compared with "/" below every character a name holds
    # (a NUL, which none can): one string a key, not a list of parts (10^6 entries: ~300 MB at once)
    entries.sort(key=lambda e: (rank[e.name.split("/", 1)[0]], e.name.replace("/", "\x00")))
    return entries
