"""A fast streaming parser of the LTFS index.

The parser takes the index record by record and cuts the stream at `<file>`
and `<directory>` boundaries, reading each piece with one regular expression
(the layout every LTFS writer uses); a piece it does not recognise is read by
ElementTree instead, so unusual but valid XML still parses, only slower.
"""

from __future__ import annotations

import base64
import gc
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from ...errors import CorruptArchive
from .index_model import (MAX_KEYS, MAX_VOLUME_BYTES, TIME_FIELDS, Directory, Extent, File, Index, Node, key_code,
                          key_name, name_key)
from .names import decode_name
from .times import parse_time

__all__ = ["parse_index", "parse_index_bytes", "check_version"]

_STRUCT = re.compile(rb"<(/?)(file|directory|contents)\b([^>]*)>|<!--|<!\[CDATA\[")
# a comment or CDATA section may hold any tag's text (valid XML): the structural scan steps over them whole
_OPAQUE_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>"}
_FILE_END = re.compile(rb"</file>|<!--|<!\[CDATA\[")
_CONTENTS = re.compile(rb"<contents\b|<!--|<!\[CDATA\[")
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
# the same without white space between the tags (what this writer writes): ~30 % quicker to match, tried first
_FILE_COMPACT = re.compile(rb"\n?" + _FILE_FAST.pattern.replace(rb"\s*", b""))
_EXTENT_ALL = re.compile(_EXTENT)
_XATTR_ALL = re.compile(_XATTR)
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.I)
MAX_PIECE = 64 << 20       # one file or folder entry of the index, as XML: far above any real one
_SHORT = len(str(MAX_VOLUME_BYTES))   # fewer digits than this: within bounds without a check
_checked_times: set[bytes] = set()   # the "YYYY-MM-DDThh:mm:ss" heads the fast path has validated
# the fast path's own layout (no white space between the tags, numbers without leading zeros within bounds);
# an entry of another layout is read by _file_general, as are entities, \r and the record's separators
_NUM = rb"(?:0|[1-9]\d{0,%d})" % (_SHORT - 2)
_EXTENTS_OK = re.compile(rb"(?:" + _NUM + rb",[ab]," + _NUM + rb"," + _NUM + rb"," + _NUM + rb";)*")
_ONE_EXTENT = re.compile(rb"<extent><fileoffset>(" + _NUM + rb")</fileoffset><partition>([ab])</partition><startblock>("
                         + _NUM + rb")</startblock><byteoffset>(" + _NUM + rb")</byteoffset><bytecount>(" + _NUM
                         + rb")</bytecount></extent>")
_UNUSUAL = re.compile(rb"[\x00-\x03&\r]")
_codes: dict[bytes, bytes] = {}      # an xattr key's XML text -> its packed form (index_model.key_code)
_known: list[tuple[bytes, bytes]] = []   # (its whole XML up to the value, SEP code SEP) of the first few


def _utf8(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptArchive(f"LTFS index: text {b[:60]!r} is not valid UTF-8 ({exc.reason} at byte {exc.start})"
                             ) from None


def _unescape(b: bytes) -> str:
    if b"&" not in b and b"\r" not in b:
        return _utf8(b)
    s = _utf8(b)
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
    t = (text or "").strip()
    if not (t.isascii() and t.isdigit()) or len(t) > 20:
        raise CorruptArchive(f"LTFS index: {what} is {(text or '')[:40]!r}, not a number")
    return int(t)


def _size(value: int, what: str) -> int:
    """A size, offset or block number from the index, bounded by what any cartridge can hold."""
    if value > MAX_VOLUME_BYTES:
        raise CorruptArchive(f"LTFS index: {what} is {value}, more than any cartridge holds "
                             f"({MAX_VOLUME_BYTES} bytes)")
    return value


def _extent(file_offset: int, partition: str, start_block: int, byte_offset: int, byte_count: int,
            name: str) -> Extent:
    if partition not in ("a", "b"):
        raise CorruptArchive(f"LTFS index: an extent of {name!r} is on partition {partition!r}, not a or b")
    what = f"an extent of {name!r}: "
    return Extent(_size(file_offset, what + "fileoffset"), partition, _size(start_block, what + "startblock"),
                  _size(byte_offset, what + "byteoffset"), _size(byte_count, what + "bytecount"))


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
        length = _size(_int(el.findtext("length"), f"length of {name!r}"), f"length of {name!r}")
        extents = []
        for e in el.iterfind("extentinfo/extent"):
            extents.append(_extent(_int(e.findtext("fileoffset"), "fileoffset"),
                                   (e.findtext("partition") or "").strip(),
                                   _int(e.findtext("startblock"), "startblock"),
                                   _int(e.findtext("byteoffset") or "0", "byteoffset"),
                                   _int(e.findtext("bytecount"), "bytecount"), name))
        link = el.findtext("symlink")
        return File(name, uid, times, length, extents, link, ro, xattrs)


def _parse_piece(piece: bytes) -> ET.Element:
    if _FORBIDDEN.search(piece):
        raise CorruptArchive("LTFS index: DTDs and entity declarations are not allowed")
    try:
        return ET.fromstring(piece)
    except ET.ParseError as exc:
        raise CorruptArchive(f"LTFS index is not valid XML ({exc})") from None


def _check_fast_times(times: tuple[bytes, ...], name: str) -> None:
    """The fast path's times have the canonical shape; their dates and times of day must also exist."""
    for field, t in zip(TIME_FIELDS, times):
        if t[:19] not in _checked_times:
            _check_time(t.decode("ascii"), f"{field} of {name!r}")
            if len(_checked_times) > (1 << 16):
                _checked_times.clear()
            _checked_times.add(t[:19])


def _file_general(m: re.Match[bytes]) -> File:
    """A file the fast path matched but whose record needs decoding: entities, layout, long numbers."""
    pct, raw, length, ro, t0, t1, t2, t3, t4, uid, xb, eb, link = m.groups()
    name = _fast_name(pct, raw)
    times = (t0, t1, t2, t3, t4)
    _check_fast_times(times, name)
    if len(uid) > 20:
        raise CorruptArchive(f"LTFS index: fileuid of {name!r} is {uid[:40]!r}, not a number")
    f = File(name, int(uid), [t.decode() for t in times], _size(int(length), f"length of {name!r}"),
             [_extent(int(a), p.decode(), int(s), int(o), int(c), name) for a, p, s, o, c in _EXTENT_ALL.findall(eb)]
             if eb else None, None, ro == b"true", None)
    if xb:
        f.xattrs = {_key(k): _unescape(v) for k, v in _XATTR_ALL.findall(xb)}
    if link is not None:
        f.symlink = _unescape(link)
    return f


def _fast_name(pct: bytes | None, raw: bytes) -> str:
    try:
        if pct:
            return decode_name(_unescape(raw), True)
        return _utf8(raw) if b"&" not in raw else _unescape(raw)
    except (ValueError, CorruptArchive) as exc:
        raise CorruptArchive(f"LTFS index: bad file name {raw[:80]!r}: {exc}") from None


def _pack_times(times: tuple[bytes, ...]) -> bytes:
    out = []
    for i, t in enumerate(times):
        j = times.index(t)
        out.append(t if j == i else b"0123"[j:j + 1])
    return b"|".join(out)


def _packed(f: File) -> tuple[bytes, bytes]:
    key = name_key(f.name)
    return key, key + b"\x00" + f.record.encode("utf-8", "surrogatepass")


def _xattr_fields(xb: bytes) -> bytes | None:
    """The xattrs of the fast layout as packed fields (SEP, key's number, SEP, value, ...); None if not so."""
    for tag, code in _known:
        xb = xb.replace(tag, code)
    xb = xb.replace(b"</value></xattr>", b"")
    if b"<" not in xb:
        return xb
    xb = xb.replace(b"<xattr><key>", b"\x00").replace(b"</key><value>", b"\x00")
    if b"<" in xb:
        return None
    fields = xb.split(b"\x00")
    fields[1::2] = [k if k[:1] == b"\x03" else _code(k) for k in fields[1::2]]   # raw keys never start so
    return b"\x00".join(fields)


def _file_fast(m: re.Match[bytes]) -> tuple[bytes, bytes]:
    """The hot path: the entry's fields go, as they are, into the folder's packed entry: (name, entry)."""
    pct, raw, length, ro, t0, t1, t2, t3, t4, uid, xb, eb, link = m.groups()
    if (len(uid) > 20 or len(length) >= _SHORT or (uid[0] == 48 and len(uid) > 1)
            or (length[0] == 48 and len(length) > 1) or (link is not None and _UNUSUAL.search(link))):
        return _packed(_file_general(m))
    if eb:
        one = _ONE_EXTENT.fullmatch(eb)
        if one is not None:
            eb = b",".join(one.groups()) + b";"
        else:
            eb = (eb.replace(b"<extent><fileoffset>", b"").replace(b"</fileoffset><partition>", b",")
                  .replace(b"</partition><startblock>", b",").replace(b"</startblock><byteoffset>", b",")
                  .replace(b"</byteoffset><bytecount>", b",").replace(b"</bytecount></extent>", b";"))
            if not _EXTENTS_OK.fullmatch(eb):
                return _packed(_file_general(m))
    if xb:
        if _UNUSUAL.search(xb):
            return _packed(_file_general(m))
        xb = _xattr_fields(xb)
        if xb is None:
            return _packed(_file_general(m))
    if pct is None and not _UNUSUAL.search(raw):
        key = raw            # its own text, and the packed name (no SEP, no leading \x01-\x03): checked below
    else:
        key = name_key(_fast_name(pct, raw))
    if t1 == t0 and t2 == t0 and t3 == t0 and t4 == t0:
        if t0[:19] not in _checked_times:
            _check_fast_times((t0,), _name_for(key))
        packed = t0
    else:
        times = (t0, t1, t2, t3, t4)
        _check_fast_times(times, _name_for(key))
        packed = _pack_times(times)
    entry = b"\x00".join((key, uid, length, b"r" if ro == b"true" else b"", packed, eb or b"",
                          b"" if link is None else b"=" + link))
    if xb:
        entry += xb
    try:
        (entry if key is raw else entry[len(key):]).decode("utf-8")
    except UnicodeDecodeError:
        _fast_name(None, raw)                 # a name that is not UTF-8: "bad file name", as the general path says
        for text in (xb, link):
            if text:
                _utf8(text)
        raise
    return key, entry


def _code(key: bytes) -> bytes:
    code = _codes.get(key)
    if code is not None:
        return code
    code = key_code(_utf8(key)).encode("utf-8", "surrogatepass")
    if len(_codes) < MAX_KEYS and code[:1] == b"\x03":
        _codes[key] = code
        if len(_known) < 8:     # the first few keys: replaced as whole tags, no split per file
            _known.append((b"<xattr><key>" + key + b"</key><value>", b"\x00" + code + b"\x00"))
    return code


def _name_for(key: bytes) -> str:
    """A packed name as error messages show it."""
    try:
        return key_name(key)
    except (UnicodeDecodeError, ValueError):
        return repr(key)


def _opaque_end(buf: bytearray, m: re.Match[bytes]) -> int:
    """Where the comment or CDATA section `m` opens ends; -1 while its end is still to come."""
    end = buf.find(_OPAQUE_END[m.group(0)], m.end())
    return end if end < 0 else end + len(_OPAQUE_END[m.group(0)])


def _find_tag(buf: bytearray, pattern: re.Pattern[bytes], pos: int) -> int:
    """The first match of `pattern`'s tag from `pos` outside comments and CDATA; -1 while it is still to come."""
    while True:
        m = pattern.search(buf, pos)
        if m is None:
            return -1
        if m.group(0) not in _OPAQUE_END:
            return m.start()
        pos = _opaque_end(buf, m)
        if pos < 0:
            return -1


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
        if len(self.buf) - self.pos > MAX_PIECE:
            raise CorruptArchive(f"LTFS index: one entry is over {MAX_PIECE >> 20} MiB of XML "
                                 f"(no closing tag where one should be)")

    def _run(self) -> None:
        buf = self.buf
        while not self.done:
            m = _STRUCT.search(buf, self.pos)
            if m is None:
                return
            close, tag = m.group(1), m.group(2)
            if tag is None:                             # a comment or CDATA section: step over it
                end = _opaque_end(buf, m)
                if end < 0:
                    return
                self.pos = end
                continue
            if self.index is None and (tag != b"directory" or close):
                raise CorruptArchive("LTFS index: the root folder is missing")
            if tag == b"file" and not close:
                fm = _FILE_FAST.match(buf, m.start())
                if fm is not None:
                    # the hot loop: a folder's files one after another, without the tag search
                    match, compact = _FILE_FAST.match, _FILE_COMPACT.match
                    found = []
                    while fm is not None:
                        found.append(fm)
                        end = fm.end()
                        fm = compact(buf, end) or match(buf, end)
                    run = [_file_fast(f) for f in found]
                    twice = self.stack[-1].children.store.add_entries(run)
                    if twice is not None:
                        raise CorruptArchive(f"LTFS index: {_name_for(twice)!r} appears twice in a folder")
                    self.pos = end
                    self.files += len(run)
                    continue
                else:
                    end = _find_tag(buf, _FILE_END, m.end())
                    if end < 0:
                        return   # the rest of this file entry is in the next piece
                    end += 7
                    f = _ElementReader.file(bytes(buf[m.start():end]))
                    self.pos = end
                self._add(f)
                self.files += 1
            elif tag == b"directory" and not close:
                end = _find_tag(buf, _CONTENTS, m.end())
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
                self.stack.pop().children.store.trim()
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
        if not parent.children.add(node):
            raise CorruptArchive(f"LTFS index: {node.name!r} appears twice in folder {parent.name!r}")

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
    """Parse an index from its bytes, given in any pieces (e.g. tape records).

    Whatever the bytes, the only error is CorruptArchive, naming the generation once it is known.
    The cyclic garbage collector is paused meanwhile: the index makes 10^6 objects that cannot form
    cycles, and full collections over them cost ~10% of the parse."""
    p = _Parser()
    paused = gc.isenabled()
    gc.disable()
    try:
        for chunk in chunks:
            p.feed(chunk)
        return p.close()
    except CorruptArchive as exc:
        raise _in_generation(p, exc.message) from None
    except (ValueError, LookupError, RecursionError) as exc:   # e.g. an unknown encoding in the declaration
        raise _in_generation(p, f"LTFS index cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    finally:
        if paused:
            gc.enable()


def _in_generation(p: _Parser, message: str) -> CorruptArchive:
    if p.index is None:
        return CorruptArchive(message)
    g = p.index.generation
    return CorruptArchive(f"{message} (index generation {g})", generation=g)


def parse_index_bytes(data: bytes) -> Index:
    return parse_index([data])
