"""Walk the source folders into an ordered plan of archive members.

Order is deterministic (sorted names, depth first) so that frame sequences go
to tape in frame order and a restore reads them in one pass.
"""

from __future__ import annotations

import os
import stat as stat_mod
from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError


@dataclass(frozen=True)
class SourceEntry:
    """One thing to archive: `name` is its path inside the archive."""

    name: str
    path: Path
    kind: str          # "file", "dir", "symlink", "special"
    size: int
    st: os.stat_result


def _entry(name: str, path: Path) -> SourceEntry:
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
        stack = [(top, root)]
        while stack:
            name, path = stack.pop()
            try:
                with os.scandir(path) as it:
                    children = list(it)
            except OSError as exc:
                raise SourceError(f"cannot list folder {path}: {exc.strerror}", path=str(path)) from exc
            for child in children:
                e = _entry(f"{name}/{child.name}", Path(child.path))
                entries.append(e)
                if e.kind == "dir":
                    stack.append((e.name, e.path))
    # sources in the order given; inside each, depth first in name order
    rank = {top: i for i, top in enumerate(tops)}
    return sorted(entries, key=lambda e: (rank[e.name.split("/", 1)[0]], e.name.split("/")))
