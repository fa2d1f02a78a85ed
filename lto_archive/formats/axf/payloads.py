"""The payloads of the AXF-style volume and object structures: UTF-8 XML, and the
plain-text volume signature (the frames around them, and the binary file header
and footer payloads, are in structures.py); `parse_payload` decodes the payload
of any checked frame. docs/formats/axf-style.md is the specification.
"""

from __future__ import annotations

import base64
import re
import uuid as uuid_mod
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from ...errors import CorruptArchive
from .structures import (VERSION, FileFooter, FileHeader, Frame, FrameType, at_where, decode_name,
                         encode_name)

# --- XML payloads -----------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def set_text_attr(el: ET.Element, name: str, value: str) -> None:
    """`name="value"` when XML can hold the value as it is, else `name-base64="..."` of its raw bytes."""
    if _NOT_XML.search(value):
        el.set(f"{name}-base64", base64.b64encode(encode_name(value)).decode("ascii"))
    else:
        el.set(name, value)


def get_text_attr(el: ET.Element, name: str, default: str | None = None) -> str | None:
    v = el.get(name)
    if v is not None:
        return v
    b = el.get(f"{name}-base64")
    if b is not None:
        try:
            return decode_name(base64.b64decode(b, validate=True))
        except ValueError:
            raise CorruptArchive(f"bad base64 in {name}-base64 of <{el.tag}>", reason="xml") from None
    return default


def to_xml(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")      # one element a line: readable with `strings`, `less`
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8",
                                                                       xml_declaration=False) + b"\n"


def from_xml(payload: bytes, what: str, root_tag: str, *, where: str = "") -> ET.Element:
    """Parse an XML payload; DTDs and entities are refused (we never write them)."""
    head = payload[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in payload.lower():
        raise CorruptArchive(f"AXF {what}{at_where(where)} contains a DTD or entity declaration: refused",
                             reason="xml")
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as exc:
        raise CorruptArchive(f"AXF {what}{at_where(where)} is not well-formed XML ({exc})", reason="xml") from None
    if root.tag != root_tag:
        raise CorruptArchive(f"AXF {what}{at_where(where)} has root element <{root.tag}>, expected <{root_tag}>",
                             reason="xml")
    return root


def int_attr(el: ET.Element, name: str, default: int | None = None) -> int:
    v = el.get(name)
    if v is None:
        if default is not None:
            return default
        raise CorruptArchive(f"<{el.tag}> lacks the attribute {name!r}", reason="xml")
    try:
        return int(v)
    except ValueError:
        raise CorruptArchive(f"<{el.tag} {name}={v!r}> is not an integer", reason="xml") from None


def uuid_bytes(text: str) -> bytes:
    return uuid_mod.UUID(text).bytes


# --- volume signature: plain text --------------------------------------------------

SIGNATURE_TITLE = "lto-archive AXF-style volume"


def build_signature_text(fields: dict[str, str]) -> bytes:
    lines = [SIGNATURE_TITLE, *(f"{k}: {v}" for k, v in fields.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_signature_text(payload: bytes, *, where: str = "") -> dict[str, str]:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptArchive(f"AXF volume signature{at_where(where)} is not UTF-8 text", reason="decode") from None
    lines = text.splitlines()
    if not lines or lines[0] != SIGNATURE_TITLE:
        raise CorruptArchive(f"AXF volume signature{at_where(where)} does not begin with {SIGNATURE_TITLE!r}",
                             reason="decode")
    out: dict[str, str] = {}
    for line in lines[1:]:
        k, sep, v = line.partition(": ")
        if sep:
            out[k] = v
    return out


# --- volume and object structures: XML payloads -----------------------------------

def _bool(v: str | None) -> bool:
    return v == "true"


def _b(v: bool) -> str:
    return "true" if v else "false"


@dataclass
class VolumeIdentity:
    """Who a volume is: written in its volume header and repeated in every volume footer.

    A *collection* is a set of volumes (tapes) written as one; `sequence` is this
    volume's number in it, from 1, and `previous_volume` the UUID of volume
    `sequence - 1` (empty for the first). Single-tape collections: sequence 1.
    """

    volume_uuid: str
    collection_uuid: str
    sequence: int = 1
    previous_volume: str = ""
    created: str = ""
    creator: str = ""
    label: str = ""                 # the cartridge barcode, when known
    first_tape_file: int = 0        # tape file holding the volume signature
    record_size: int = 0

    def to_element(self, tag: str = "volume") -> ET.Element:
        el = ET.Element(tag, {"uuid": self.volume_uuid, "collection": self.collection_uuid,
                              "sequence": str(self.sequence), "previous-volume": self.previous_volume,
                              "created": self.created, "first-tape-file": str(self.first_tape_file),
                              "record-size": str(self.record_size)})
        set_text_attr(el, "creator", self.creator)
        set_text_attr(el, "label", self.label)
        return el

    @classmethod
    def from_element(cls, el: ET.Element) -> "VolumeIdentity":
        return cls(volume_uuid=el.get("uuid", ""), collection_uuid=el.get("collection", ""),
                   sequence=int_attr(el, "sequence", 1), previous_volume=el.get("previous-volume", ""),
                   created=el.get("created", ""), creator=get_text_attr(el, "creator", "") or "",
                   label=get_text_attr(el, "label", "") or "", first_tape_file=int_attr(el, "first-tape-file", 0),
                   record_size=int_attr(el, "record-size", 0))


@dataclass
class VolumeHeader:
    identity: VolumeIdentity

    def to_payload(self) -> bytes:
        root = ET.Element("volume-header", version=str(VERSION))
        root.append(self.identity.to_element())
        return to_xml(root)

    @classmethod
    def from_payload(cls, payload: bytes, *, where: str = "") -> "VolumeHeader":
        root = from_xml(payload, "volume header", "volume-header", where=where)
        vol = root.find("volume")
        if vol is None:
            raise CorruptArchive(f"AXF volume header{at_where(where)} has no <volume>", reason="xml")
        return cls(VolumeIdentity.from_element(vol))


@dataclass
class PlannedFile:
    kind: str
    path: str
    size: int


@dataclass
class ObjectHeader:
    """An object's identity, its session, the user's metadata and the planned file list."""

    object_uuid: str
    created: str
    creator: str
    tape_file: int | None
    volume: VolumeIdentity | None
    session: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    planned: list[PlannedFile] | None = None     # None: not planned (the footer has the list)
    part: int = 1                                # spanning: 1 unless the object continues an earlier volume's
    continued_from: str = ""                     # spanning: volume UUID where part 1 began

    def to_payload(self) -> bytes:
        root = ET.Element("object-header", version=str(VERSION))
        obj = ET.SubElement(root, "object", {"uuid": self.object_uuid, "created": self.created,
                                             "tape-file": "" if self.tape_file is None else str(self.tape_file)})
        set_text_attr(obj, "creator", self.creator)
        if self.volume is not None:
            root.append(self.volume.to_element())
        ET.SubElement(root, "span", {"part": str(self.part), "continued-from": self.continued_from})
        ses = ET.SubElement(root, "session")
        for k, v in self.session.items():
            set_text_attr(ses, k, v)
        for s in self.sources:
            set_text_attr(ET.SubElement(ses, "source"), "path", s)
        md = ET.SubElement(root, "metadata")
        for k, v in self.metadata.items():
            item = ET.SubElement(md, "item")
            set_text_attr(item, "key", k)
            set_text_attr(item, "value", v)
        if self.planned is not None:
            files = ET.SubElement(root, "files", {"planned": "true", "count": str(len(self.planned)),
                                                  "bytes": str(sum(p.size for p in self.planned))})
            for p in self.planned:
                el = ET.SubElement(files, "file", {"kind": p.kind, "size": str(p.size)})
                set_text_attr(el, "path", p.path)
        return to_xml(root)

    @classmethod
    def from_payload(cls, payload: bytes, *, where: str = "") -> "ObjectHeader":
        root = from_xml(payload, "object header", "object-header", where=where)
        obj = root.find("object")
        if obj is None or not obj.get("uuid"):
            raise CorruptArchive(f"AXF object header{at_where(where)} has no <object uuid=...>", reason="xml")
        vol = root.find("volume")
        span = root.find("span")
        ses = root.find("session")
        session: dict[str, str] = {}
        sources: list[str] = []
        if ses is not None:
            for k in ses.keys():
                name = k[:-len("-base64")] if k.endswith("-base64") else k
                session[name] = get_text_attr(ses, name, "") or ""
            sources = [get_text_attr(s, "path", "") or "" for s in ses.findall("source")]
        metadata = {}
        md = root.find("metadata")
        if md is not None:
            for item in md.findall("item"):
                metadata[get_text_attr(item, "key", "") or ""] = get_text_attr(item, "value", "") or ""
        planned = None
        files = root.find("files")
        if files is not None:
            planned = [PlannedFile(f.get("kind", "file"), get_text_attr(f, "path", "") or "", int_attr(f, "size", 0))
                       for f in files.findall("file")]
        tf = obj.get("tape-file", "")
        return cls(object_uuid=obj.get("uuid", ""), created=obj.get("created", ""),
                   creator=get_text_attr(obj, "creator", "") or "", tape_file=int(tf) if tf.isdigit() else None,
                   volume=VolumeIdentity.from_element(vol) if vol is not None else None, session=session,
                   sources=sources, metadata=metadata, planned=planned,
                   part=int_attr(span, "part", 1) if span is not None else 1,
                   continued_from=span.get("continued-from", "") if span is not None else "")


@dataclass
class FooterEntry:
    """One member as the object footer lists it."""

    seq: int
    kind: str
    path: str
    size: int
    mode: int = 0o644
    mtime_ns: int = 0
    copied: int = 0
    header_offset: int = 0         # byte offset of the file header in the tape file
    data_offset: int = 0           # byte offset of the first data byte (a multiple of R)
    checksums: dict[str, str] = field(default_factory=dict)
    linkname: str = ""
    message: str = ""
    segment_offset: int = 0
    segment_size: int | None = None    # None: the whole file
    continues: bool = False

    def __post_init__(self) -> None:
        if self.segment_size is None:
            self.segment_size = self.size

    def to_element(self) -> ET.Element:
        el = ET.Element("file", {"seq": str(self.seq), "kind": self.kind, "size": str(self.size),
                                 "mode": oct(self.mode)[2:], "mtime-ns": str(self.mtime_ns),
                                 "header-offset": str(self.header_offset)})
        set_text_attr(el, "path", self.path)
        if self.kind == "file":
            el.set("data-offset", str(self.data_offset))
            el.set("copied", str(self.copied))
            for a, h in self.checksums.items():
                el.set(f"hash-{a}", h)
            seg = self.segment_size
            if self.segment_offset or seg != self.size or self.continues:
                el.set("segment-offset", str(self.segment_offset))
                el.set("segment-size", str(seg))
                el.set("continues", _b(self.continues))
        if self.kind == "symlink":
            set_text_attr(el, "linkname", self.linkname)
        if self.message:
            set_text_attr(el, "message", self.message)
        return el

    @classmethod
    def from_element(cls, el: ET.Element) -> "FooterEntry":
        try:
            mode = int(el.get("mode", "644"), 8)
        except ValueError:
            raise CorruptArchive(f"<file mode={el.get('mode')!r}> is not octal", reason="xml") from None
        size = int_attr(el, "size", 0)
        return cls(seq=int_attr(el, "seq", 0), kind=el.get("kind", "file"), path=get_text_attr(el, "path", "") or "",
                   size=size, mode=mode, mtime_ns=int_attr(el, "mtime-ns", 0), copied=int_attr(el, "copied", 0),
                   header_offset=int_attr(el, "header-offset", 0), data_offset=int_attr(el, "data-offset", 0),
                   checksums={k[5:]: v for k, v in el.attrib.items() if k.startswith("hash-")},
                   linkname=get_text_attr(el, "linkname", "") or "", message=get_text_attr(el, "message", "") or "",
                   segment_offset=int_attr(el, "segment-offset", 0), segment_size=int_attr(el, "segment-size", size),
                   continues=_bool(el.get("continues")))


@dataclass
class ObjectFooter:
    object_uuid: str
    finished: str
    entries: list[FooterEntry]
    continues: bool = False        # spanning: the object goes on in the next volume

    @property
    def files(self) -> list[FooterEntry]:
        return [e for e in self.entries if e.kind == "file"]

    def to_payload(self) -> bytes:
        root = ET.Element("object-footer", version=str(VERSION))
        files = self.files
        ET.SubElement(root, "object", {"uuid": self.object_uuid, "finished": self.finished,
                                       "files": str(len(files)), "bytes": str(sum(f.size for f in files))})
        ET.SubElement(root, "span", {"continues": _b(self.continues)})
        lst = ET.SubElement(root, "files", {"count": str(len(self.entries))})
        lst.extend(e.to_element() for e in self.entries)
        return to_xml(root)

    @classmethod
    def from_payload(cls, payload: bytes, *, where: str = "") -> "ObjectFooter":
        root = from_xml(payload, "object footer", "object-footer", where=where)
        obj = root.find("object")
        if obj is None or not obj.get("uuid"):
            raise CorruptArchive(f"AXF object footer{at_where(where)} has no <object uuid=...>", reason="xml")
        span = root.find("span")
        lst = root.find("files")
        entries = [FooterEntry.from_element(e) for e in lst.findall("file")] if lst is not None else []
        return cls(obj.get("uuid", ""), obj.get("finished", ""), entries,
                   continues=span is not None and _bool(span.get("continues")))


@dataclass
class ObjectSummary:
    """An object as the volume footer lists it."""

    object_uuid: str
    tape_file: int | None
    created: str = ""
    finished: str = ""
    files: int = 0
    bytes: int = 0

    def to_element(self) -> ET.Element:
        return ET.Element("object", {"uuid": self.object_uuid,
                                     "tape-file": "" if self.tape_file is None else str(self.tape_file),
                                     "created": self.created, "finished": self.finished,
                                     "files": str(self.files), "bytes": str(self.bytes)})

    @classmethod
    def from_element(cls, el: ET.Element) -> "ObjectSummary":
        tf = el.get("tape-file", "")
        return cls(el.get("uuid", ""), int(tf) if tf.isdigit() else None, el.get("created", ""),
                   el.get("finished", ""), int_attr(el, "files", 0), int_attr(el, "bytes", 0))


@dataclass
class VolumeFooter:
    """Written at the end of every session; the newest one on a volume supersedes the others.

    `objects` lists every object of the volume, oldest first, when `complete`;
    a writer that could not read the previous footer lists what it knows and
    says `complete="false"` (a scan finds the rest). `continues`: the collection
    goes on in volume `sequence + 1`.
    """

    identity: VolumeIdentity
    tape_file: int | None
    written: str
    creator: str
    objects: list[ObjectSummary]
    complete: bool = True
    continues: bool = False
    next_volume: str = ""

    def to_payload(self) -> bytes:
        root = ET.Element("volume-footer", version=str(VERSION))
        root.append(self.identity.to_element())
        w = ET.SubElement(root, "written", {"tape-file": "" if self.tape_file is None else str(self.tape_file),
                                            "time": self.written})
        set_text_attr(w, "creator", self.creator)
        objs = ET.SubElement(root, "objects", {"complete": _b(self.complete), "count": str(len(self.objects))})
        objs.extend(o.to_element() for o in self.objects)
        ET.SubElement(root, "collection", {"continues": _b(self.continues), "next-volume": self.next_volume})
        return to_xml(root)

    @classmethod
    def from_payload(cls, payload: bytes, *, where: str = "") -> "VolumeFooter":
        root = from_xml(payload, "volume footer", "volume-footer", where=where)
        vol = root.find("volume")
        if vol is None:
            raise CorruptArchive(f"AXF volume footer{at_where(where)} has no <volume>", reason="xml")
        w = root.find("written")
        objs = root.find("objects")
        col = root.find("collection")
        tf = w.get("tape-file", "") if w is not None else ""
        return cls(VolumeIdentity.from_element(vol), int(tf) if tf.isdigit() else None,
                   w.get("time", "") if w is not None else "",
                   (get_text_attr(w, "creator", "") or "") if w is not None else "",
                   [ObjectSummary.from_element(o) for o in objs.findall("object")] if objs is not None else [],
                   complete=objs is not None and _bool(objs.get("complete")),
                   continues=col is not None and _bool(col.get("continues")),
                   next_volume=col.get("next-volume", "") if col is not None else "")


def parse_payload(frame: Frame, payload: bytes, *, where: str = "") -> Any:
    """The decoded payload of a checked frame."""
    t = frame.type
    if t == FrameType.VOLUME_SIGNATURE:
        return parse_signature_text(payload, where=where)
    if t == FrameType.VOLUME_HEADER:
        return VolumeHeader.from_payload(payload, where=where)
    if t == FrameType.OBJECT_HEADER:
        return ObjectHeader.from_payload(payload, where=where)
    if t == FrameType.FILE_HEADER:
        return FileHeader.from_payload(payload, where=where)
    if t == FrameType.FILE_FOOTER:
        return FileFooter.from_payload(payload, where=where)
    if t == FrameType.OBJECT_FOOTER:
        return ObjectFooter.from_payload(payload, where=where)
    return VolumeFooter.from_payload(payload, where=where)
