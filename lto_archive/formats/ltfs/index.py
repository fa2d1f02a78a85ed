"""The LTFS index: its data model, a streaming XML writer and a fast streaming parser.

An index describes every file and folder on the volume and where its bytes
lie (extents). Volumes of 10^6 files have indexes of ~700 MB of XML, so both
directions stream: the writer yields bounded chunks, the parser takes the
index record by record. The parser cuts the stream at `<file>` and
`<directory>` boundaries and reads each piece with one regular expression
(the layout every LTFS writer uses); a piece it does not recognise is read
by ElementTree instead, so unusual but valid XML still parses, only slower.

Times are kept as the LTFS text (`2026-11-22T15:09:39.003407475Z`): most
are never looked at, and parsing five per file would dominate.
"""

from __future__ import annotations

import base64
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from xml.sax.saxutils import escape as _xml_escape

from ...errors import CorruptArchive
from .names import decode_name, encode_name
from .times import format_time, parse_time

INDEX_VERSION = "2.4.0"
TIME_FIELDS = ("creationtime", "changetime", "modifytime", "accesstime", "backuptime")
CREATION, CHANGE, MODIFY, ACCESS, BACKUP = range(5)


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

    def __init__(self, name: str, uid: int, times: list[str], length: int = 0,
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


# --- writing ----------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHUNK = 1 << 20


def _text(s: str) -> str:
    if "&" in s or "<" in s or ">" in s or "\r" in s:
        # a literal carriage return would come back as a newline (XML end-of-line handling)
        return _xml_escape(s, {"\r": "&#13;"})
    return s


def _name_xml(name: str) -> str:
    text, pct = encode_name(name)
    if not pct and _XML_INVALID.search(text):
        # XML cannot hold it as text: percent-encoding is the only lossless form
        text = "".join(c if 0x21 <= ord(c) < 0x7F and c not in "%:" else
                       "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass")) for c in name)
        pct = True
    if pct:
        return f'<name percentencoded="true">{_text(text)}</name>'   # & < > stay plain in %-encoding
    return f"<name>{_text(text)}</name>"


def _xattrs_xml(xattrs: dict[str, str | bytes] | None) -> str:
    if not xattrs:
        return ""
    out = ["<extendedattributes>"]
    for key, value in xattrs.items():
        if isinstance(value, str) and not _XML_INVALID.search(value):
            out.append(f"<xattr><key>{_text(key)}</key><value>{_text(value)}</value></xattr>")
        else:
            raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
            out.append(f'<xattr><key>{_text(key)}</key><value type="base64">'
                       f"{base64.b64encode(raw).decode('ascii')}</value></xattr>")
    out.append("</extendedattributes>")
    return "".join(out)


def _common_xml(node: Node) -> str:
    t = node.times
    return (f"<readonly>{'true' if node.readonly else 'false'}</readonly>"
            f"<creationtime>{t[0]}</creationtime><changetime>{t[1]}</changetime>"
            f"<modifytime>{t[2]}</modifytime><accesstime>{t[3]}</accesstime>"
            f"<backuptime>{t[4]}</backuptime><fileuid>{node.uid}</fileuid>")


def _file_xml(f: File) -> str:
    t = f.times
    parts = [f"<file>{_name_xml(f.name)}<length>{f.length}</length>"
             f"<readonly>{'true' if f.readonly else 'false'}</readonly>"
             f"<creationtime>{t[0]}</creationtime><changetime>{t[1]}</changetime>"
             f"<modifytime>{t[2]}</modifytime><accesstime>{t[3]}</accesstime>"
             f"<backuptime>{t[4]}</backuptime><fileuid>{f.uid}</fileuid>"]
    if f.xattrs:
        parts.append(_xattrs_xml(f.xattrs))
    if f.symlink is not None:
        parts.append(f"<symlink>{_text(f.symlink)}</symlink>")
    elif f.extents:
        parts.append("<extentinfo>")
        for e in f.extents:
            parts.append(f"<extent><fileoffset>{e.file_offset}</fileoffset><partition>{e.partition}</partition>"
                         f"<startblock>{e.start_block}</startblock><byteoffset>{e.byte_offset}</byteoffset>"
                         f"<bytecount>{e.byte_count}</bytecount></extent>")
        parts.append("</extentinfo>")
    parts.append("</file>\n")
    return "".join(parts)


def _header_xml(ix: Index) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<ltfsindex version="{ix.version}">\n',
           f"<creator>{_text(ix.creator)}</creator>\n"]
    if ix.comment is not None:
        out.append(f"<comment>{_text(ix.comment)}</comment>\n")
    out.append(f"<volumeuuid>{ix.volume_uuid}</volumeuuid>\n<generationnumber>{ix.generation}</generationnumber>\n"
               f"<updatetime>{ix.update_time}</updatetime>\n<location><partition>{ix.location[0]}</partition>"
               f"<startblock>{ix.location[1]}</startblock></location>\n")
    if ix.previous is not None:
        out.append(f"<previousgenerationlocation><partition>{ix.previous[0]}</partition>"
                   f"<startblock>{ix.previous[1]}</startblock></previousgenerationlocation>\n")
    out.append(f"<allowpolicyupdate>{'true' if ix.allow_policy_update else 'false'}</allowpolicyupdate>\n")
    if ix.data_placement_policy:
        out.append(ix.data_placement_policy + "\n")
    out.append(f"<highestfileuid>{ix.highest_file_uid}</highestfileuid>\n")
    if ix.volume_lock_state:
        out.append(f"<volumelockstate>{ix.volume_lock_state}</volumelockstate>\n")
    out.extend(x + "\n" for x in ix.extra)
    return "".join(out)


def index_xml_chunks(ix: Index, chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """The index as UTF-8 XML, in pieces of about `chunk_size` bytes (memory stays bounded)."""
    buf: list[str] = [_header_xml(ix)]
    size = 0
    # explicit stack: ("open", dir) writes a folder's head and pushes its children; ("close",) ends it
    stack: list[tuple[str, Directory | None]] = [("open", ix.root)]
    while stack:
        op, d = stack.pop()
        if op == "close":
            buf.append("</contents>\n</directory>\n")
            continue
        assert d is not None
        buf.append(f"<directory>{_name_xml(d.name) if d.name else '<name></name>'}{_common_xml(d)}"
                   f"{_xattrs_xml(d.xattrs)}<contents>\n")
        stack.append(("close", None))
        subdirs: list[Directory] = []
        for child in d.children.values():
            if isinstance(child, Directory):
                subdirs.append(child)
                continue
            s = _file_xml(child)  # type: ignore[arg-type]
            buf.append(s)
            size += len(s)
            if size >= chunk_size:
                yield "".join(buf).encode("utf-8", "surrogatepass")
                buf, size = [], 0
        for sd in reversed(subdirs):
            stack.append(("open", sd))
    buf.append("</ltfsindex>\n")
    yield "".join(buf).encode("utf-8", "surrogatepass")


def index_to_xml(ix: Index) -> bytes:
    return b"".join(index_xml_chunks(ix))


# --- parsing ----------------------------------------------------------------

_STRUCT = re.compile(rb"<(/?)(file|directory|contents)\b([^>]*)>")
_CANONICAL_TIME = rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)"   # others take the checked slow path
_TIMES = rb"".join(rb"\s*<" + t.encode() + rb">" + _CANONICAL_TIME + rb"</" + t.encode() + rb">" for t in TIME_FIELDS)
# the layout every LTFS writer uses, spelled out: no lazy quantifiers (5x faster than ".*?")
_XATTR = rb"\s*<xattr>\s*<key>([^<]*)</key>\s*<value>([^<]*)</value>\s*</xattr>"
_EXTENT = (rb"\s*<extent>\s*<fileoffset>(\d+)</fileoffset>\s*<partition>([a-z])</partition>\s*<startblock>(\d+)"
           rb"</startblock>\s*<byteoffset>(\d+)</byteoffset>\s*<bytecount>(\d+)</bytecount>\s*</extent>")
_FILE_FAST = re.compile(
    rb"\s*<file>\s*<name(?P<pct> percentencoded=\"true\")?>(?P<name>[^<]*)</name>\s*<length>(?P<length>\d+)</length>"
    rb"\s*<readonly>(?P<ro>true|false)</readonly>" + _TIMES +
    rb"\s*<fileuid>(?P<uid>\d+)</fileuid>"
    rb"\s*(?:<extendedattributes>(?P<xattrs>(?:" + re.sub(rb"\((?!\?)", rb"(?:", _XATTR) + rb")*)\s*</extendedattributes>)?"
    rb"\s*(?:<extentinfo>(?P<extents>(?:" + re.sub(rb"\((?!\?)", rb"(?:", _EXTENT) + rb")*)\s*</extentinfo>"
    rb"|<symlink>(?P<symlink>[^<]*)</symlink>)?\s*</file>")
_EXTENT_ALL = re.compile(_EXTENT)
_XATTR_ALL = re.compile(_XATTR)
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)


def _unescape(b: bytes) -> str:
    if b"&" not in b and b"\r" not in b:
        return b.decode("utf-8")
    s = b.decode("utf-8")
    try:   # entities and character references, and end-of-line handling, exactly as an XML parser does
        return ET.fromstring(f"<x>{s}</x>").text or ""
    except ET.ParseError as exc:
        raise CorruptArchive(f"LTFS index: bad text {s[:60]!r} ({exc})") from None


def _key(b: bytes) -> str:
    """Xattr keys repeat on every file: one shared string each."""
    return sys.intern(_unescape(b))


def _bool(text: str | None, what: str) -> bool:
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise CorruptArchive(f"LTFS index: {what} is {text!r}, not true/false")


def _int(text: str | None, what: str) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        raise CorruptArchive(f"LTFS index: {what} is {text!r}, not a number") from None


def _check_time(text: str, what: str) -> str:
    try:
        parse_time(text)
    except ValueError as exc:
        raise CorruptArchive(f"LTFS index: {what} {text!r} is not an LTFS time ({exc})") from None
    return text


class _ElementReader:
    """The slow, general path: one element read by ElementTree."""

    @staticmethod
    def node_common(el: ET.Element, what: str, root: bool = False
                    ) -> tuple[str, int, list[str], bool, dict[str, str | bytes] | None]:
        name_el = el.find("name")
        if name_el is None:
            if not root:
                raise CorruptArchive(f"LTFS index: a {what} has no name")
            name_el = ET.Element("name")
        try:
            name = decode_name(name_el.text or "", name_el.get("percentencoded") == "true")
        except ValueError as exc:
            raise CorruptArchive(f"LTFS index: bad {what} name {name_el.text!r}: {exc}") from None
        uid = _int(el.findtext("fileuid"), f"fileuid of {name!r}")
        times = []
        for t in TIME_FIELDS:
            text = el.findtext(t)
            if text is None:
                raise CorruptArchive(f"LTFS index: {what} {name!r} has no {t}")
            times.append(_check_time(text.strip(), f"{t} of {name!r}"))
        readonly = _bool((el.findtext("readonly") or "false").strip(), f"readonly of {name!r}")
        xattrs: dict[str, str | bytes] | None = None
        xa = el.find("extendedattributes")
        if xa is not None:
            xattrs = {}
            for x in xa.findall("xattr"):
                key = x.findtext("key") or ""
                v = x.find("value")
                if v is not None and v.get("type") == "base64":
                    try:
                        xattrs[key] = base64.b64decode(v.text or "", validate=False)
                    except ValueError as exc:
                        raise CorruptArchive(f"LTFS index: bad base64 xattr {key!r} of {name!r}") from exc
                else:
                    xattrs[key] = (v.text or "") if v is not None else ""
        return name, uid, times, readonly, xattrs

    @classmethod
    def file(cls, piece: bytes) -> File:
        el = _parse_piece(piece)
        name, uid, times, ro, xattrs = cls.node_common(el, "file")
        length = _int(el.findtext("length"), f"length of {name!r}")
        extents = []
        for e in el.iterfind("extentinfo/extent"):
            extents.append(Extent(_int(e.findtext("fileoffset"), "fileoffset"),
                                  (e.findtext("partition") or "").strip(),
                                  _int(e.findtext("startblock"), "startblock"),
                                  _int(e.findtext("byteoffset") or "0", "byteoffset"),
                                  _int(e.findtext("bytecount"), "bytecount")))
        link = el.findtext("symlink")
        return File(name, uid, times, length, extents, link, ro, xattrs)


def _parse_piece(piece: bytes) -> ET.Element:
    if _FORBIDDEN.search(piece):
        raise CorruptArchive("LTFS index: DTDs and entity declarations are not allowed")
    try:
        return ET.fromstring(piece)
    except ET.ParseError as exc:
        raise CorruptArchive(f"LTFS index is not valid XML ({exc})") from None


def _file_fast(m: re.Match[bytes]) -> File:
    pct, raw, length, ro, t0, t1, t2, t3, t4, uid, xb, eb, link = m.groups()
    try:
        if pct:
            name = decode_name(_unescape(raw), True)
        else:
            name = raw.decode("utf-8") if b"&" not in raw else _unescape(raw)
    except ValueError as exc:
        raise CorruptArchive(f"LTFS index: bad file name {raw!r}: {exc}") from None
    f = File(name, int(uid), b"|".join((t0, t1, t2, t3, t4)).decode(), int(length),  # type: ignore[arg-type]
             [Extent(int(a), p.decode(), int(s), int(o), int(c)) for a, p, s, o, c in _EXTENT_ALL.findall(eb)]
             if eb else None, None, ro == b"true", None)
    if xb:
        f.xattrs = {_key(k): _unescape(v) for k, v in _XATTR_ALL.findall(xb)}
    if link is not None:
        f.symlink = _unescape(link)
    return f


class _Parser:
    """Feeds on index bytes; builds the Index as structural tags go by."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.index: Index | None = None
        self.stack: list[Directory] = []
        self.done = False
        self.files = 0

    def feed(self, data: bytes) -> None:
        if self.done:
            self.buf += data
            if len(self.buf) - self.pos > 4096:
                raise CorruptArchive("LTFS index: unexpected data after the root folder")
            return
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data
        self._run()

    def _run(self) -> None:
        buf = self.buf
        while not self.done:
            m = _STRUCT.search(buf, self.pos)
            if m is None:
                return
            close, tag = m.group(1), m.group(2)
            if self.index is None and (tag != b"directory" or close):
                raise CorruptArchive("LTFS index: the root folder is missing")
            if tag == b"file" and not close:
                fm = _FILE_FAST.match(buf, m.start())
                if fm is not None:
                    # the hot loop: a folder's files one after another, without the tag search
                    children = self.stack[-1].children
                    match = _FILE_FAST.match
                    n = 0
                    while fm is not None:
                        f = _file_fast(fm)
                        if f.name in children:
                            raise CorruptArchive(f"LTFS index: {f.name!r} appears twice in a folder")
                        children[f.name] = f
                        n += 1
                        end = fm.end()
                        fm = match(buf, end)
                    self.pos = end
                    self.files += n
                    continue
                else:
                    end = buf.find(b"</file>", m.end())
                    if end < 0:
                        return   # the rest of this file entry is in the next piece
                    end += 7
                    f = _ElementReader.file(bytes(buf[m.start():end]))
                    self.pos = end
                self._add(f)
                self.files += 1
            elif tag == b"directory" and not close:
                end = buf.find(b"<contents", m.end())
                if end < 0:
                    return
                el = _parse_piece(bytes(buf[m.start():end]) + b"</directory>")
                if self.index is None:
                    d = self._start_index(bytes(buf[:m.start()]), el)
                else:
                    name, uid, times, ro, xattrs = _ElementReader.node_common(el, "folder")
                    d = Directory(name, uid, times, ro, xattrs)
                    self._add(d)
                self.stack.append(d)
                self.pos = end
            elif tag == b"contents":
                self.pos = m.end()
            else:  # </directory>
                if not self.stack:
                    raise CorruptArchive("LTFS index: unbalanced folders")
                self.stack.pop()
                self.pos = m.end()
                if not self.stack:
                    self.done = True
            if tag == b"file" and close:
                raise CorruptArchive("LTFS index: </file> without <file>")

    def _start_index(self, head: bytes, root_el: ET.Element) -> Directory:
        if _FORBIDDEN.search(head):
            raise CorruptArchive("LTFS index: DTDs and entity declarations are not allowed")
        # the head holds the XML declaration and the open root element: close it to parse
        try:
            h = ET.fromstring(head.strip() + b"</ltfsindex>")
        except ET.ParseError as exc:
            raise CorruptArchive(f"LTFS index header is not valid XML ({exc})") from None
        if h.tag != "ltfsindex":
            raise CorruptArchive(f"not an LTFS index (root element {h.tag!r})")
        version = h.get("version", "")
        check_version(version, "index")
        name, uid, times, ro, xattrs = _ElementReader.node_common(root_el, "root folder", root=True)
        root = Directory(name, uid, times, ro, xattrs)
        for r in ("creator", "volumeuuid", "generationnumber", "updatetime", "location", "highestfileuid"):
            if h.find(r) is None:
                raise CorruptArchive(f"LTFS index: required element {r} is missing")
        known = {"creator", "volumeuuid", "generationnumber", "updatetime", "location", "previousgenerationlocation",
                 "allowpolicyupdate", "highestfileuid", "volumelockstate", "comment", "dataplacementpolicy"}
        dpp = h.find("dataplacementpolicy")
        prev = h.find("previousgenerationlocation")
        self.index = Index(
            creator=h.findtext("creator") or "", volume_uuid=(h.findtext("volumeuuid") or "").strip(),
            generation=_int(h.findtext("generationnumber"), "generationnumber"),
            update_time=_check_time((h.findtext("updatetime") or "").strip(), "updatetime"),
            location=_location(h.find("location")), previous=_location(prev) if prev is not None else None,
            root=root, highest_file_uid=_int(h.findtext("highestfileuid"), "highestfileuid"),
            allow_policy_update=_bool((h.findtext("allowpolicyupdate") or "true").strip(), "allowpolicyupdate"),
            volume_lock_state=h.findtext("volumelockstate"), comment=h.findtext("comment"),
            data_placement_policy=ET.tostring(dpp, encoding="unicode").strip() if dpp is not None else None,
            version=version,
            extra=[ET.tostring(e, encoding="unicode").strip() for e in h if e.tag not in known])
        return root

    def _add(self, node: Node) -> None:
        if not self.stack:
            raise CorruptArchive("LTFS index: an entry outside the root folder")
        parent = self.stack[-1]
        if node.name in parent.children:
            raise CorruptArchive(f"LTFS index: {node.name!r} appears twice in folder {parent.name!r}")
        parent.children[node.name] = node

    def close(self) -> Index:
        rest = bytes(self.buf[self.pos:]).strip(b"\x00 \t\r\n")
        if not self.done or self.index is None or rest != b"</ltfsindex>":
            if self.done and rest and not b"</ltfsindex>".startswith(rest):
                raise CorruptArchive(f"LTFS index: unexpected data after the root folder: {rest[:40]!r}")
            raise CorruptArchive("LTFS index is incomplete: it ends before </ltfsindex> (written only in part)")
        return self.index


def _location(el: ET.Element | None) -> tuple[str, int]:
    if el is None:
        raise CorruptArchive("LTFS index: required element location is missing")
    p = (el.findtext("partition") or "").strip()
    if p not in ("a", "b"):
        raise CorruptArchive(f"LTFS index: location partition {p!r} is not a or b")
    return p, _int(el.findtext("startblock"), "startblock")


def check_version(version: str, what: str) -> None:
    """The reference accepts 1.0 and 1.0.0 .. 2.99.99."""
    parts = version.split(".")
    ok = False
    if version == "1.0":
        ok = True
    elif len(parts) == 3 and all(p.isdigit() for p in parts):
        major = int(parts[0])
        ok = major in (1, 2)
    if not ok:
        raise CorruptArchive(f"LTFS {what} version {version!r} is not one this tool reads (1.0 .. 2.99.99)")


def parse_index(chunks: Iterable[bytes]) -> Index:
    """Parse an index from its bytes, given in any pieces (e.g. tape records)."""
    p = _Parser()
    for chunk in chunks:
        p.feed(chunk)
    return p.close()


def parse_index_bytes(data: bytes) -> Index:
    return parse_index([data])


__all__ = ["Extent", "Node", "File", "Directory", "Index", "index_xml_chunks", "index_to_xml", "parse_index",
           "parse_index_bytes", "times_now", "TIME_FIELDS", "MODIFY", "check_version"]
