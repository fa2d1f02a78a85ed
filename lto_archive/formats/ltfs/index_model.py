"""The LTFS index as data: files and folders, their extents, one generation of the index.

Times are kept as the LTFS text (`2026-11-22T15:09:39.003407475Z`): most
are never looked at, and parsing five per file would dominate.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import ItemsView, Iterable, Iterator, MutableMapping, Sequence, ValuesView
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ...errors import CorruptArchive
from ...generations import GENERATIONS
from .index_folder import PackedFolder
from .times import format_time, parse_time

__all__ = ["INDEX_VERSION", "TIME_FIELDS", "CREATION", "CHANGE", "MODIFY", "ACCESS", "BACKUP", "Extent", "Node", "File",
           "Directory", "Index", "times_now", "MAX_VOLUME_BYTES", "pack_times", "unpack_times", "SEP",
           "encode_text", "decode_text", "encode_extents", "encode_xattrs", "Children", "name_key", "key_name", "KEYS", "CODE", "key_code"]

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
# nor can these: a value that is bytes (base64), a text holding SEP, a key's number in KEYS
_BYTES, _QUOTED, CODE = "\x01", "\x02", "\x03"
UID, LENGTH, FLAGS, TIMES, EXTENTS, SYMLINK, XATTRS = range(7)
# Extended attribute keys repeat on every file (ltfs.hash.xxh128, ...): a record holds a key as CODE and
# its number here. Shared by every index of the process, never shrinking, so bounded: later keys are inline.
KEYS: list[str] = []
_KEY_CODES: dict[str, str] = {}
MAX_KEYS = 1024
_KEYS_LOCK = threading.Lock()


def encode_text(s: str) -> str:
    if SEP in s or s[:1] in (_BYTES, _QUOTED, CODE):
        return _QUOTED + json.dumps(s)
    return s


def decode_text(s: str) -> Any:
    c = s[:1]
    if c == CODE:
        return KEYS[int(s[1:])]
    if c == _BYTES:
        return base64.b64decode(s[1:])
    if c == _QUOTED:
        return json.loads(s[1:])
    return s


def key_code(key: str) -> str:
    """An extended attribute key as a record holds it: CODE and its number in KEYS, or inline."""
    code = _KEY_CODES.get(key)
    if code is not None:
        return code
    with _KEYS_LOCK:
        code = _KEY_CODES.get(key)
        if code is None:
            if len(KEYS) >= MAX_KEYS:
                return encode_text(key)
            code = f"{CODE}{len(KEYS)}"
            KEYS.append(key)
            _KEY_CODES[key] = code
        return code


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
        out.append(key_code(k))
        out.append(_BYTES + base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else encode_text(v))
    return out


class File(Node):
    """A file or symbolic link. Everything but the name is one string, the record: uid, length, flags,
    packed times, extents as `offset,partition,block,byteoffset,count;` each, symlink (`=target`, or
    empty for none), then the extended attributes as key, value, ... (all separated by SEP). The
    attributes read and write it.

    A new File holds its record itself; put in a folder (Directory.children) it is bound to the
    folder's packed entry (index_folder), and reads and writes it there: a File taken from a folder is
    a view of its entry, and a File changed after it was put in a folder (e.g. its hashes, set on the
    hash thread) changes the folder's entry."""

    __slots__ = ("_rec", "_home", "_slot")

    def __init__(self, name: str, uid: int, times: list[str] | str, length: int = 0,
                 extents: list[Extent] | None = None, symlink: str | None = None,
                 readonly: bool = False, xattrs: dict[str, str | bytes] | None = None) -> None:
        self.name = name
        self._home: Children | None = None
        self._slot = -1
        self._rec = SEP.join([str(int(uid)), str(int(length)), "r" if readonly else "",
                              times if isinstance(times, str) else pack_times(times), encode_extents(extents),
                              "" if symlink is None else "=" + encode_text(symlink), *encode_xattrs(xattrs)])

    @classmethod
    def view(cls, home: Children, slot: int, name: str) -> File:
        f = _new(cls)
        f.name, f._rec, f._home, f._slot = name, "", home, slot
        return f

    @property
    def record(self) -> str:
        home = self._home
        if home is None:
            return self._rec
        return home.store.record(self._slot).decode("utf-8", "surrogatepass")

    @record.setter
    def record(self, value: str) -> None:
        home = self._home
        if home is None:
            self._rec = value
        else:
            home.store.set_record(self._slot, value.encode("utf-8", "surrogatepass"))

    def _field(self, i: int) -> str:
        return self.record.split(SEP, i + 1)[i]

    def _set(self, i: int, text: str) -> None:
        fields = self.record.split(SEP)
        fields[i] = text
        self.record = SEP.join(fields)

    @property
    def uid(self) -> int:
        rec = self.record
        return int(rec[:rec.index(SEP)])

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
        self.children = Children()

    @property
    def times(self) -> list[str]:
        """The LTFS time texts, in TIME_FIELDS order."""
        return unpack_times(self._t)

    @times.setter
    def times(self, value: list[str]) -> None:
        self._t = pack_times(value)

    def __repr__(self) -> str:
        return f"Directory({self.name!r}, {len(self.children)} entries)"


_new = object.__new__


def name_key(name: str) -> bytes:
    """A name as a folder's packed entry holds it (and looks it up)."""
    return encode_text(name).encode("utf-8", "surrogatepass")


def key_name(key: bytes) -> str:
    text: str = decode_text(key.decode("utf-8", "surrogatepass"))
    return text


class Children(MutableMapping[str, Node]):
    """A folder's entries by name, in the order they were added, as a dict would hold them; files are
    packed (index_folder.PackedFolder), folders are kept as objects."""

    __slots__ = ("store", "dirs")

    def __init__(self) -> None:
        self.store = PackedFolder()
        self.dirs: dict[int, Directory] = {}        # entry number -> folder (its record is empty)

    def __len__(self) -> int:
        return len(self.store)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.store.find(name_key(name)) >= 0

    def __getitem__(self, name: str) -> Node:
        e = self.store.find(name_key(name)) if isinstance(name, str) else -1
        if e < 0:
            raise KeyError(name)
        return self._node(e, name)

    def _node(self, e: int, name: str) -> Node:
        d = self.dirs.get(e)
        return d if d is not None else File.view(self, e, name)

    def __setitem__(self, name: str, node: Node) -> None:
        if isinstance(node, Directory):
            e = self.store.put(name_key(name), b"")
            self.dirs[e] = node
            return
        if not isinstance(node, File):
            raise TypeError(f"a folder holds files and folders, not {type(node).__name__}")
        e = self.store.put(name_key(name), node.record.encode("utf-8", "surrogatepass"))
        self.dirs.pop(e, None)
        node.name, node._home, node._slot, node._rec = name, self, e, ""

    def add(self, node: Node) -> bool:
        """Put `node` in under its name unless the name is taken (then False, nothing changes)."""
        if isinstance(node, Directory):
            e = self.store.add(name_key(node.name), b"")
            if e >= 0:
                self.dirs[e] = node
            return e >= 0
        assert isinstance(node, File)
        e = self.store.add(name_key(node.name), node.record.encode("utf-8", "surrogatepass"))
        if e >= 0:
            node._home, node._slot, node._rec = self, e, ""
        return e >= 0

    def __delitem__(self, name: str) -> None:
        e = self.store.find(name_key(name)) if isinstance(name, str) else -1
        if e < 0:
            raise KeyError(name)
        self.store.delete(e)
        self.dirs.pop(e, None)

    def __iter__(self) -> Iterator[str]:
        for _, key, _ in self.store.entries():
            yield key_name(key)

    def items(self) -> ItemsView[str, Node]:
        return _Items(self)

    def values(self) -> ValuesView[Node]:
        return _Values(self)

    def pairs(self) -> Iterator[tuple[str, Node]]:
        dirs = self.dirs
        for e, key, entry in self.store.entries():
            name = key_name(key)
            yield name, (dirs[e] if len(entry) == len(key) + 1 else File.view(self, e, name))

    def __repr__(self) -> str:
        return f"Children({len(self)} entries)"


class _Items(ItemsView[str, Node]):
    _mapping: Children

    def __iter__(self) -> Iterator[tuple[str, Node]]:
        return self._mapping.pairs()


class _Values(ValuesView[Node]):
    _mapping: Children

    def __iter__(self) -> Iterator[Node]:
        return (node for _, node in self._mapping.pairs())


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
