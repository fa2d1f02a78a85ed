"""The data model of an ASC MHL v2.0 history: generations (manifests) and the chain.

An ASC MHL *history* is the `ascmhl/` folder at the root of a folder tree (a
camera card, a copy of it, a delivery): one manifest per *generation*, named
`NNNN_<foldername>_<YYYY-MM-DD>_<HHMMSS>Z.mhl`, and `ascmhl_chain.xml` listing
every generation with its sequence number, file name and C4 ID. Each generation
says who made it (creatorinfo), how (processinfo: in-place, transfer or
flatten; the ignore patterns; the root folder's hashes) and, per file, the
hashes computed with the action `original` (first record of the file),
`verified` (matched an earlier record) or `failed` (did not).

Paths are relative to the history's root, "/"-separated, as the XML holds them.
Times are kept as the ISO 8601 strings the XML holds.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..version import __version__

ORIGINAL = "original"
VERIFIED = "verified"
FAILED = "failed"
ACTIONS: tuple[str, ...] = (ORIGINAL, VERIFIED, FAILED)

IN_PLACE = "in-place"
TRANSFER = "transfer"
FLATTEN = "flatten"
PROCESSES: tuple[str, ...] = (IN_PLACE, TRANSFER, FLATTEN)

MHL_NAMESPACE = "urn:ASC:MHL:v2.0"
CHAIN_NAMESPACE = "urn:ASC:MHL:DIRECTORY:v2.0"
HISTORY_FOLDER = "ascmhl"
CHAIN_FILE = "ascmhl_chain.xml"
MANIFEST_SUFFIX = ".mhl"
TOOL_NAME = "lto-archive"


_UTC_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")   # manifest.iso's form
_utc_seconds: dict[str, str] = {}    # its whole second (validated once) -> the xs:dateTime


def xml_datetime(value: datetime | str | float | None = None, *, microseconds: bool = False) -> str:
    """An xs:dateTime in UTC as the reference tool writes it ("2024-05-01T10:00:00+00:00").

    Accepts a datetime, a POSIX timestamp, or an ISO 8601 string (a FileRecord's mtime,
    "...Z" or with an offset); None means now.
    """
    if value is None:
        dt = datetime.now(timezone.utc)
    elif isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, (int, float)):
        dt = datetime.fromtimestamp(value, timezone.utc)
    else:
        if not microseconds and _UTC_ISO.fullmatch(value):    # a FileRecord's mtime: one parse per second
            second = value[:19]
            known = _utc_seconds.get(second)
            if known is None:
                if len(_utc_seconds) > 4096:
                    _utc_seconds.clear()
                known = _utc_seconds[second] = datetime.fromisoformat(second + "+00:00").isoformat(timespec="seconds")
            return known
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    if not microseconds:
        dt = dt.replace(microsecond=0)
    return dt.isoformat(timespec="microseconds" if microseconds else "seconds")


@dataclass
class Author:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass
class CreatorInfo:
    """Who made a generation, where and with what (ASC MHL creatorinfo)."""

    creation_date: str
    host_name: str
    tool: str = TOOL_NAME
    tool_version: str | None = __version__
    authors: list[Author] = field(default_factory=list)
    location: str | None = None
    comment: str | None = None

    @classmethod
    def create(cls, operator: str | None = None, *, role: str | None = None, email: str | None = None,
               phone: str | None = None, host: str | None = None, location: str | None = None,
               comment: str | None = None, when: datetime | str | None = None,
               tool: str = TOOL_NAME, tool_version: str | None = __version__) -> "CreatorInfo":
        """Creator info for a generation made now by lto-archive on this host (operator as author)."""
        authors = [Author(operator, email, phone, role)] if (operator or email or phone or role) else []
        return cls(xml_datetime(when), host or platform.node() or "unknown", tool, tool_version, authors,
                   location or None, comment or None)


@dataclass(slots=True)     # one or more per file of a generation (10^6 files): no __dict__ each
class HashEntry:
    """One hash of a file: format (md5, xxh128, c4...), value, action, when it was computed."""

    format: str
    value: str
    action: str | None = None
    hash_date: str | None = None


@dataclass(slots=True)
class FileHash:
    """A file's record in one generation (ASC MHL <hash>)."""

    path: str
    hashes: list[HashEntry]
    size: int | None = None
    last_modified: str | None = None
    creation_date: str | None = None
    previous_path: str | None = None

    def get(self, fmt: str) -> HashEntry | None:
        for h in self.hashes:
            if h.format == fmt:
                return h
        return None


@dataclass
class DirectoryHashEntry:
    """A folder's content and structure hash in one format."""

    format: str
    content: str
    structure: str
    action: str | None = None
    hash_date: str | None = None


@dataclass
class DirectoryHash:
    """A folder's record in one generation (ASC MHL <directoryhash>)."""

    path: str
    hashes: list[DirectoryHashEntry]
    last_modified: str | None = None
    creation_date: str | None = None
    previous_path: str | None = None


@dataclass
class Reference:
    """A reference to a generation of a nested history (ASC MHL <hashlistreference>)."""

    path: str
    c4: str


@dataclass
class Generation:
    """One ASC MHL manifest: what one process found and recorded."""

    creator: CreatorInfo
    process: str
    files: list[FileHash] = field(default_factory=list)
    directories: list[DirectoryHash] = field(default_factory=list)
    root_hash: list[DirectoryHashEntry] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    # where it sits in a history (set by the reader and the writer)
    sequence_nr: int | None = None
    file_name: str | None = None

    def file(self, path: str) -> FileHash | None:
        for f in self.files:
            if f.path == path:
                return f
        return None

    def formats(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.files:
            for h in f.hashes:
                seen[h.format] = None
        return list(seen)


@dataclass
class ChainEntry:
    """One line of ascmhl_chain.xml: a generation's sequence number, file name and C4 ID."""

    sequence_nr: int
    path: str
    c4: str


@dataclass
class History:
    """A whole ASC MHL history as read from a folder: its chain and every generation, oldest first."""

    root: Path | None
    chain: list[ChainEntry] = field(default_factory=list)
    generations: list[Generation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    highest_file_number: int = 0       # of any NNNN_*.mhl in the folder, chained or not
    _index: dict[str, list[tuple[int, FileHash]]] | None = field(default=None, repr=False, compare=False)

    @property
    def folder_name(self) -> str:
        return self.root.name if self.root is not None else ""

    def next_sequence_nr(self) -> int:
        last = max([e.sequence_nr for e in self.chain] + [self.highest_file_number, 0])
        return last + 1

    def latest_ignore(self) -> list[str]:
        """The ignore patterns of the newest generation that lists any."""
        for g in reversed(self.generations):
            if g.ignore:
                return list(g.ignore)
        return []

    def _build_index(self) -> dict[str, list[tuple[int, FileHash]]]:
        index: dict[str, list[tuple[int, FileHash]]] = {}
        for gi, g in enumerate(self.generations):
            for f in g.files:
                if f.previous_path and f.previous_path != f.path and f.previous_path in index:
                    # renamed: the old records now belong to the new name, the old name is gone
                    index[f.path] = index.pop(f.previous_path) + index.get(f.path, [])
                index.setdefault(f.path, []).append((gi, f))
        return index

    @property
    def index(self) -> dict[str, list[tuple[int, FileHash]]]:
        if self._index is None:
            self._index = self._build_index()
        return self._index

    def recorded_paths(self) -> set[str]:
        """Every file path the history expects to find (renamed files under their newest name)."""
        return set(self.index)

    def known(self, path: str) -> bool:
        return path in self.index

    def expected(self, path: str) -> dict[str, str]:
        """Per format, the newest hash recorded for the file that was not `failed`."""
        out: dict[str, str] = {}
        for _gi, f in self.index.get(path, ()):
            for h in f.hashes:
                if h.action != FAILED and h.value:
                    out[h.format] = h.value
        return out

    def size(self, path: str) -> int | None:
        for _gi, f in reversed(self.index.get(path, [])):
            if f.size is not None:
                return f.size
        return None

    def formats(self) -> list[str]:
        """Every hash format any generation recorded for files."""
        seen: dict[str, None] = {}
        for g in self.generations:
            for fmt in g.formats():
                seen[fmt] = None
        return list(seen)

    def expected_directories(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Per folder ("." for the root) and format, the newest recorded (content, structure) pair."""
        out: dict[str, dict[str, tuple[str, str]]] = {}
        for g in self.generations:
            for d in g.directories:
                for h in d.hashes:
                    if h.action != FAILED:
                        out.setdefault(d.path, {})[h.format] = (h.content, h.structure)
            for h in g.root_hash:
                if h.action != FAILED:
                    out.setdefault(".", {})[h.format] = (h.content, h.structure)
        return out
