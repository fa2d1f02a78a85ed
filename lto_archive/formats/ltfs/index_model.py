"""The LTFS index as data: files and folders, their extents, one generation of the index.

Times are kept as the LTFS text (`2026-11-22T15:09:39.003407475Z`): most
are never looked at, and parsing five per file would dominate.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ...errors import CorruptArchive
from ...generations import GENERATIONS
from .times import format_time, parse_time

__all__ = ["INDEX_VERSION", "TIME_FIELDS", "CREATION", "CHANGE", "MODIFY", "ACCESS", "BACKUP", "Extent", "Node", "File",
           "Directory", "Index", "times_now", "MAX_VOLUME_BYTES", "pack_times", "unpack_times", "SEP",
           "encode_text", "decode_text", "encode_extents", "encode_xattrs"]

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
    """What files and folders share: a name; both have a uid, a read-only flag, the five times and
    extended attributes (a folder as attributes, a file packed in one string: see File)."""

    __slots__ = ("name",)
    name: str
    if TYPE_CHECKING:
        uid: int
        readonly: bool
        times: list[str]
        xattrs: dict[str, str | bytes] | None

    def time_ns(self, which: int = MODIFY) -> int:
        return parse_time(self.times[which])


def pack_times(times: Sequence[str]) -> str:
    """The five LTFS time texts in one string; a time equal to an earlier one is that one's digit.

    Five equal times are one text (30 characters, not 150); a job's [m, c, m, a, now] is four."""
    t0 = times[0]
    if all(t == t0 for t in times):
        return t0
    out = []
    for i, t in enumerate(times):
        j = times.index(t)
        out.append(t if j == i else "0123"[j])
    return "|".join(out)


def unpack_times(packed: str) -> list[str]:
    if "|" not in packed:
        return [packed] * 5
    ts = packed.split("|")
    for i, t in enumerate(ts):
        if len(t) == 1:
            ts[i] = ts[int(t)]
    return ts


SEP = "\x00"                  # cannot occur in XML text: the record's field separator
_BYTES, _QUOTED = "\x01", "\x02"   # nor can these: a value that is bytes (base64), or a text holding SEP
UID, LENGTH, FLAGS, TIMES, EXTENTS, SYMLINK, XATTRS = range(7)


def encode_text(s: str) -> str:
    if SEP in s or s[:1] in (_BYTES, _QUOTED):
        return _QUOTED + json.dumps(s)
    return s


def decode_text(s: str) -> Any:
    c = s[:1]
    if c == _BYTES:
        return base64.b64decode(s[1:])
    if c == _QUOTED:
        return json.loads(s[1:])
    return s


def encode_extents(extents: Iterable[Extent] | None) -> str:
    out = []
    for e in extents or ():
        if e.partition not in ("a", "b"):
            raise ValueError(f"an extent's partition is {e.partition!r}, not a or b")
        out.append(f"{int(e.file_offset)},{e.partition},{int(e.start_block)},{int(e.byte_offset)},{int(e.byte_count)};")
    return "".join(out)


def encode_xattrs(xattrs: dict[str, str | bytes] | None) -> list[str]:
    out = []
    for k, v in (xattrs or {}).items():
        out.append(encode_text(k))
        out.append(_BYTES + base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else encode_text(v))
    return out


class File(Node):
    """A file or symbolic link. Everything but the name is one string, the record (10^6 files: about a
    third of the memory of attributes): uid, length, flags, packed times, extents as
    `offset,partition,block,byteoffset,count;` each, symlink (`=target`, or empty for none), then the
    extended attributes as key, value, ... (all separated by SEP). The attributes read and write it."""

    __slots__ = ("record",)

    def __init__(self, name: str, uid: int, times: list[str] | str, length: int = 0,
                 extents: list[Extent] | None = None, symlink: str | None = None,
                 readonly: bool = False, xattrs: dict[str, str | bytes] | None = None) -> None:
        self.name = name
        self.record = SEP.join([str(int(uid)), str(int(length)), "r" if readonly else "",
                                times if isinstance(times, str) else pack_times(times), encode_extents(extents),
                                "" if symlink is None else "=" + encode_text(symlink), *encode_xattrs(xattrs)])

    def _field(self, i: int) -> str:
        return self.record.split(SEP, i + 1)[i]

    def _set(self, i: int, text: str) -> None:
        fields = self.record.split(SEP)
        fields[i] = text
        self.record = SEP.join(fields)

    @property
    def uid(self) -> int:
        return int(self.record[:self.record.index(SEP)])

    @uid.setter
    def uid(self, value: int) -> None:
        self._set(UID, str(int(value)))

    @property
    def length(self) -> int:
        return int(self._field(LENGTH))

    @length.setter
    def length(self, value: int) -> None:
        self._set(LENGTH, str(int(value)))

    @property
    def readonly(self) -> bool:
        return self._field(FLAGS) == "r"

    @readonly.setter
    def readonly(self, value: bool) -> None:
        self._set(FLAGS, "r" if value else "")

    @property
    def times(self) -> list[str]:
        """The LTFS time texts, in TIME_FIELDS order."""
        return unpack_times(self._field(TIMES))

    @times.setter
    def times(self, value: list[str]) -> None:
        self._set(TIMES, pack_times(value))

    @property
    def extents(self) -> list[Extent]:
        text = self._field(EXTENTS)
        if not text:
            return []
        out = []
        for e in text[:-1].split(";"):
            a, p, s, o, c = e.split(",")
            out.append(Extent(int(a), p, int(s), int(o), int(c)))
        return out

    @extents.setter
    def extents(self, value: list[Extent] | None) -> None:
        self._set(EXTENTS, encode_extents(value))

    @property
    def symlink(self) -> str | None:
        text = self._field(SYMLINK)
        return decode_text(text[1:]) if text else None

    @symlink.setter
    def symlink(self, value: str | None) -> None:
        self._set(SYMLINK, "" if value is None else "=" + encode_text(value))

    @property
    def xattrs(self) -> dict[str, str | bytes] | None:
        """A new dict each time (assign it back to change it); None when there are none."""
        fields = self.record.split(SEP)
        if len(fields) == XATTRS:
            return None
        return {decode_text(k): decode_text(v) for k, v in zip(fields[XATTRS::2], fields[XATTRS + 1::2])}

    @xattrs.setter
    def xattrs(self, value: dict[str, str | bytes] | None) -> None:
        self.record = SEP.join(self.record.split(SEP)[:XATTRS] + encode_xattrs(value))

    @property
    def start_block(self) -> int | None:
        e = self._field(EXTENTS)
        return int(e.split(",", 3)[2]) if e else None

    def __repr__(self) -> str:
        return f"File({self.name!r}, length={self.length}, extents={self.extents})"


class Directory(Node):
    __slots__ = ("uid", "readonly", "_t", "xattrs", "children")

    def __init__(self, name: str, uid: int, times: list[str], readonly: bool = False,
                 xattrs: dict[str, str | bytes] | None = None) -> None:
        self.name = name
        self.uid = uid
        self.readonly = readonly
        self._t = pack_times(times)
        self.xattrs = xattrs            # bytes values are not XML text and are written as base64
        self.children: dict[str, Node] = {}

    @property
    def times(self) -> list[str]:
        """The LTFS time texts, in TIME_FIELDS order."""
        return unpack_times(self._t)

    @times.setter
    def times(self, value: list[str]) -> None:
        self._t = pack_times(value)

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
