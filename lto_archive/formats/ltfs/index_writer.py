"""The LTFS index as XML, written as a stream of bounded chunks (10^6 files: ~700 MB of XML)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape as _xml_escape

from .index_model import Directory, File, Index, Node
from .names import encode_name

__all__ = ["index_xml_chunks", "index_to_xml"]

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
