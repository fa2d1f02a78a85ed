"""The LTFS index as data: files and folders, their extents, one generation of the index.

Times are kept as the LTFS text (`2026-11-22T15:09:39.003407475Z`): most
are never looked at, and parsing five per file would dominate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from ...errors import CorruptArchive
from ...generations import GENERATIONS
from .times import format_time, parse_time

__all__ = ["INDEX_VERSION", "TIME_FIELDS", "CREATION", "CHANGE", "MODIFY", "ACCESS", "BACKUP", "Extent", "Node", "File",
           "Directory", "Index", "times_now", "MAX_VOLUME_BYTES"]

INDEX_VERSION = "2.4.0"
TIME_FIELDS = ("creationtime", "changetime", "modifytime", "accesstime", "backuptime")
CREATION, CHANGE, MODIFY, ACCESS, BACKUP = range(5)
# No cartridge holds more: the largest native capacity, with room for 4:1 compression. Every size, offset
# and block number an index gives is checked against it before anything is allocated or read for it.
MAX_VOLUME_BYTES = 4 * max(g.capacity for g in GENERATIONS.values())


class Extent(NamedTuple):
    """A run of a file's bytes on tape: `byte_count` bytes from `byte_offset` of block `start_block`."""

    file_offset: int
    partition: str
    start_block: int
    byte_offset: int
    byte_count: int


class Node:
    """What files and folders share: name, uid, read-only flag, the five times, extended attributes."""

    __slots__ = ("name", "uid", "readonly", "_t", "xattrs")

    def __init__(self, name: str, uid: int, times: list[str], readonly: bool = False,
                 xattrs: dict[str, str | bytes] | None = None) -> None:
        self.name = name
        self.uid = uid
        self.readonly = readonly
        self._t = "|".join(times)                # the five LTFS time texts in one string: ~300 bytes less
        self.xattrs = xattrs                     # per file than a list (10^6 files: 300 MB); bytes values
                                                 # are not XML text and are written as base64

    @property
    def times(self) -> list[str]:
        """The LTFS time texts, in TIME_FIELDS order."""
        return self._t.split("|")

    @times.setter
    def times(self, value: list[str]) -> None:
        self._t = "|".join(value)

    def time_ns(self, which: int = MODIFY) -> int:
        return parse_time(self.times[which])


class File(Node):
    __slots__ = ("length", "extents", "symlink")

    def __init__(self, name: str, uid: int, times: list[str] | str, length: int = 0,
                 extents: list[Extent] | None = None, symlink: str | None = None,
                 readonly: bool = False, xattrs: dict[str, str | bytes] | None = None) -> None:
        self.name = name   # (Node's fields set here: a million calls of super().__init__ cost a second)
        self.uid = uid
        self.readonly = readonly
        self._t = times if isinstance(times, str) else "|".join(times)
        self.xattrs = xattrs
        self.length = length
        self.extents = extents or []
        self.symlink = symlink

    @property
    def start_block(self) -> int | None:
        return self.extents[0].start_block if self.extents else None

    def __repr__(self) -> str:
        return f"File({self.name!r}, length={self.length}, extents={self.extents})"


class Directory(Node):
    __slots__ = ("children",)

    def __init__(self, name: str, uid: int, times: list[str], readonly: bool = False,
                 xattrs: dict[str, str | bytes] | None = None) -> None:
        super().__init__(name, uid, times, readonly, xattrs)
        self.children: dict[str, Node] = {}

    def __repr__(self) -> str:
        return f"Directory({self.name!r}, {len(self.children)} entries)"


def times_now(ns: int) -> list[str]:
    t = format_time(ns)
    return [t] * 5


@dataclass
class Index:
    """One generation of the index (the `ltfsindex` document)."""

    creator: str
    volume_uuid: str
    generation: int
    update_time: str
    location: tuple[str, int]                   # (partition letter, first block of this index)
    previous: tuple[str, int] | None            # the data-partition index before this one
    root: Directory
    highest_file_uid: int = 1
    allow_policy_update: bool = True
    volume_lock_state: str | None = None
    comment: str | None = None
    data_placement_policy: str | None = None    # kept as its XML text, written back unchanged
    version: str = INDEX_VERSION
    extra: list[str] = field(default_factory=list)  # unknown top-level elements, kept as XML

    # --- navigation -----------------------------------------------------
    def walk(self) -> Iterator[tuple[str, Node]]:
        """Every node below the root as (path, node), parents before children, in index order."""
        stack: list[tuple[str, Directory]] = [("", self.root)]
        while stack:
            prefix, d = stack.pop()
            subdirs = []
            for name, node in d.children.items():
                path = prefix + name
                yield path, node
                if isinstance(node, Directory):
                    subdirs.append((path + "/", node))
            stack.extend(reversed(subdirs))

    def files(self) -> Iterator[tuple[str, File]]:
        for path, node in self.walk():
            if isinstance(node, File):
                yield path, node

    def lookup(self, path: str) -> Node | None:
        node: Node = self.root
        for part in path.strip("/").split("/"):
            if not part:
                continue
            if not isinstance(node, Directory) or part not in node.children:
                return None
            node = node.children[part]
        return node

    def make_dirs(self, parts: list[str], times: list[str]) -> Directory:
        """The folder at `parts` (names), creating missing ones with new uids."""
        d = self.root
        for part in parts:
            child = d.children.get(part)
            if child is None:
                child = Directory(part, self.next_uid(), list(times))
                d.children[part] = child
            elif not isinstance(child, Directory):
                raise CorruptArchive(f"cannot make folder {'/'.join(parts)}: {part!r} is a file in the index")
            d = child
        return d

    def next_uid(self) -> int:
        self.highest_file_uid += 1
        return self.highest_file_uid
