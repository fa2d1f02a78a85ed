"""The LTFS index as XML, written as a stream of bounded chunks (10^6 files: ~700 MB of XML)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape as _xml_escape

from .index_model import (CODE, EXTENTS, FLAGS, KEYS, LENGTH, SEP, SYMLINK, TIMES, UID, XATTRS, Directory, Index,
                          Node, decode_text, unpack_times)
from .names import encode_name

__all__ = ["index_xml_chunks", "index_to_xml", "index_records"]

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


# A name none of whose characters names.encode_name percent-encodes (its triggers) or XML escapes is
# written as it is; tests/ltfs/test_index_packed.py checks this against the general path (folders').
_PLAIN_NAME = re.compile("[^\x00-\x1f\x7f:\ud800-\udfff\ufffe\uffff&<>]+")
# A record with none of these, and no CODE but its keys' numbers (counted), has keys and values that are
# their own XML text: no escapes, no base64 (\x01, \x02: a value that is not its text, index_model.encode_text)
_NOT_PLAIN = re.compile("[\x01\x02\x04-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>\r]")
_xattr_forms: dict[tuple[str, ...], tuple[str, int]] = {}
_key_xml: dict[str, str] = {}


def _key(field: str) -> str:
    """An xattr key's XML text, from its field in a record (a number in KEYS, or inline)."""
    if field[:1] != CODE:
        return field
    text = _key_xml.get(field)
    if text is None:
        text = _key_xml[field] = _text(KEYS[int(field[1:])])
    return text


def _file_xml(text: str, r: list[str]) -> str:
    """A file's XML straight from its packed entry in a folder (`text`, split at SEP: `r`): no ints,
    lists or dicts made per file."""
    name = r[0]
    tp = r[1 + TIMES]
    t0, t1, t2, t3, t4 = (tp, tp, tp, tp, tp) if "|" not in tp else unpack_times(tp)
    xml = "" if len(r) <= 1 + XATTRS else _file_xattrs_xml(text, r)
    link, ex = r[1 + SYMLINK], r[1 + EXTENTS]
    if link:
        xml += f"<symlink>{_text(decode_text(link[1:]))}</symlink>"
    elif ex:
        if ex.count(";") == 1:
            a, p, s, o, c = ex[:-1].split(",")
            xml += (f"<extentinfo><extent><fileoffset>{a}</fileoffset><partition>{p}</partition>"
                    f"<startblock>{s}</startblock><byteoffset>{o}</byteoffset>"
                    f"<bytecount>{c}</bytecount></extent></extentinfo>")
        else:
            xml += "<extentinfo>" + "".join([_extent_xml(e) for e in ex[:-1].split(";")]) + "</extentinfo>"
    return (f"<file>{f'<name>{name}</name>' if _PLAIN_NAME.fullmatch(name) else _name_xml(decode_text(name))}"
            f"<length>{r[1 + LENGTH]}</length><readonly>{'true' if r[1 + FLAGS] else 'false'}</readonly>"
            f"<creationtime>{t0}</creationtime><changetime>{t1}</changetime>"
            f"<modifytime>{t2}</modifytime><accesstime>{t3}</accesstime>"
            f"<backuptime>{t4}</backuptime><fileuid>{r[1 + UID]}</fileuid>{xml}</file>\n")


def _extent_xml(e: str) -> str:
    a, p, s, o, c = e.split(",")
    return (f"<extent><fileoffset>{a}</fileoffset><partition>{p}</partition><startblock>{s}</startblock>"
            f"<byteoffset>{o}</byteoffset><bytecount>{c}</bytecount></extent>")


def _file_xattrs_xml(text: str, r: list[str]) -> str:
    xa = r[1 + XATTRS:]
    keys = tuple(xa[::2])
    form = _xattr_forms.get(keys)
    if form is None:
        form = _xattr_form(keys)
    # plain: no CODE but the keys' own, and nothing to escape or base64 (in the keys, values or any field)
    if text.count(CODE) == form[1] and not _NOT_PLAIN.search(text, len(r[0])):
        return form[0] % tuple(xa[1::2])
    return _xattrs_xml({decode_text(k): decode_text(v) for k, v in zip(xa[::2], xa[1::2])})


def _xattr_form(keys: tuple[str, ...]) -> tuple[str, int]:
    """The XML of extended attributes with these keys, with a %s for each value; how many keys are numbers."""
    form = ("<extendedattributes>" + "".join(f"<xattr><key>{_key(k).replace('%', '%%')}</key><value>%s</value></xattr>"
                                             for k in keys) + "</extendedattributes>",
            sum(1 for k in keys if k[:1] == CODE))
    if len(_xattr_forms) < 256:
        _xattr_forms[keys] = form
    return form


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
        dirs = d.children.dirs
        for e, entry in d.children.store.raw_entries():
            text = entry.decode("utf-8", "surrogatepass")
            r = text.split(SEP)
            if len(r) == 2:        # a folder: its name, an empty record
                subdirs.append(dirs[e])
                continue
            s = _file_xml(text, r)
            buf.append(s)
            size += len(s)
            if size >= chunk_size:
                yield "".join(buf).encode("utf-8", "surrogatepass")
                buf, size = [], 0
        for sd in reversed(subdirs):
            stack.append(("open", sd))
    buf.append("</ltfsindex>\n")
    yield "".join(buf).encode("utf-8", "surrogatepass")


def index_records(ix: Index, record_size: int) -> Iterator[bytes]:
    """The index as tape records: full records of `record_size`, the last one short (never empty);
    the bytes of index_to_xml cut the same way, without ever holding the whole document."""
    pending = b""
    for chunk in index_xml_chunks(ix, max(record_size, _CHUNK)):
        data = pending + chunk if pending else chunk
        end = len(data) - len(data) % record_size
        for off in range(0, end, record_size):
            yield data[off:off + record_size]
        pending = data[end:]
    if pending:
        yield pending


def index_to_xml(ix: Index) -> bytes:
    return b"".join(index_xml_chunks(ix))
