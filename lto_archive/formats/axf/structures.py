"""The binary framing of the AXF-style container, and the payloads inside it.

Every structure on tape is a *frame*: a fixed 64-byte frame header, then the
payload. All integers are big-endian. Both halves are protected by CRC-32
(`zlib.crc32`: the ISO-HDLC / ITU-T V.42 CRC of gzip, PNG and ZIP; polynomial
0x04C11DB7 reflected, initial value and final XOR 0xFFFFFFFF; CRC of the ASCII
bytes "123456789" = 0xCBF43926):

    offset size  field
     0      8    magic            89 4C 41 58 0D 0A 1A 0A  ("\\x89LAX\\r\\n\\x1a\\n")
     8      2    version          1
    10      2    type             see FrameType
    12      4    header_length    64 (a reader skips header bytes beyond the ones it knows)
    16      8    payload_length   bytes of payload that follow the header
    24      4    payload_crc      CRC-32 of the payload bytes
    28      4    record_size      the record size R of the tape file this frame was written in
    32     16    object_uuid      the object the structure belongs to (zeros for volume structures)
    48      8    sequence         file structures: the member's number in its object; else 0
    56      4    flags            0 (reserved)
    60      4    header_crc       CRC-32 of bytes 0..59

Volume and object structures carry UTF-8 XML (or, for the volume signature,
plain text); file headers and footers carry the small binary payloads defined
below with `construct`. docs/formats/axf-style.md is the specification; this
module is its executable form.
"""

from __future__ import annotations

import base64
import re
import uuid as uuid_mod
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from construct import (Bytes, ConstructError, GreedyBytes, Int8ub, Int16ub, Int32ub, Int64sb, Int64ub,
                       PascalString, Prefixed, PrefixedArray, Struct, Terminated)

from ...errors import CorruptArchive

MAGIC = b"\x89LAX\r\n\x1a\n"
VERSION = 1
HEADER_SIZE = 64
ALIGN = 512                       # packed structures start on 512-byte boundaries
MAX_PAYLOAD = 1 << 30             # a larger payload_length is damage, not data
NIL_UUID = bytes(16)


class FrameType(IntEnum):
    VOLUME_SIGNATURE = 1
    VOLUME_HEADER = 2
    OBJECT_HEADER = 3
    FILE_HEADER = 4
    FILE_FOOTER = 5
    OBJECT_FOOTER = 6
    VOLUME_FOOTER = 7


TYPE_NAMES = {
    FrameType.VOLUME_SIGNATURE: "volume signature",
    FrameType.VOLUME_HEADER: "volume header",
    FrameType.OBJECT_HEADER: "object header",
    FrameType.FILE_HEADER: "file header",
    FrameType.FILE_FOOTER: "file footer",
    FrameType.OBJECT_FOOTER: "object footer",
    FrameType.VOLUME_FOOTER: "volume footer",
}

FRAME_HEADER = Struct(
    "magic" / Bytes(8),
    "version" / Int16ub,
    "type" / Int16ub,
    "header_length" / Int32ub,
    "payload_length" / Int64ub,
    "payload_crc" / Int32ub,
    "record_size" / Int32ub,
    "object_uuid" / Bytes(16),
    "sequence" / Int64ub,
    "flags" / Int32ub,
    "header_crc" / Int32ub,
)
assert FRAME_HEADER.sizeof() == HEADER_SIZE


def crc32(data: bytes | bytearray | memoryview) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def align(n: int, unit: int = ALIGN) -> int:
    """n rounded up to a multiple of unit."""
    return -(-n // unit) * unit


@dataclass(frozen=True)
class Frame:
    """One parsed frame header (the payload is read separately)."""

    type: int
    payload_length: int
    payload_crc: int
    record_size: int
    object_uuid: bytes
    sequence: int
    flags: int = 0
    version: int = VERSION
    header_length: int = HEADER_SIZE

    @property
    def type_name(self) -> str:
        try:
            return TYPE_NAMES[FrameType(self.type)]
        except ValueError:
            return f"structure type {self.type}"

    @property
    def total_length(self) -> int:
        return self.header_length + self.payload_length

    @property
    def object_id(self) -> str | None:
        return str(uuid_mod.UUID(bytes=self.object_uuid)) if self.object_uuid != NIL_UUID else None


def build_frame(ftype: FrameType, payload: bytes, *, record_size: int, object_uuid: bytes = NIL_UUID,
                sequence: int = 0) -> bytes:
    """Frame header + payload, ready to be written."""
    head = FRAME_HEADER.build(dict(
        magic=MAGIC, version=VERSION, type=int(ftype), header_length=HEADER_SIZE,
        payload_length=len(payload), payload_crc=crc32(payload), record_size=record_size,
        object_uuid=object_uuid, sequence=sequence, flags=0, header_crc=0))
    head = head[:60] + crc32(head[:60]).to_bytes(4, "big")
    return head + payload


def looks_like_frame(buf: bytes | bytearray | memoryview) -> bool:
    """The magic is there (the cheap test a scanner or `detect` makes first)."""
    return bytes(buf[:8]) == MAGIC


def parse_frame_header(buf: bytes | bytearray | memoryview, *, where: str = "") -> Frame:
    """Check and decode a 64-byte frame header; CorruptArchive says what is wrong."""
    at = f" at {where}" if where else ""
    raw = bytes(buf[:HEADER_SIZE])
    if len(raw) < HEADER_SIZE:
        raise CorruptArchive(f"AXF structure{at} is cut short: {len(raw)} of {HEADER_SIZE} header bytes "
                             f"(the tape file is truncated)", reason="truncated")
    if raw[:8] != MAGIC:
        raise CorruptArchive(f"no AXF structure{at}: the magic number is missing (the record is damaged, "
                             f"or this is not an AXF-style tape file)", reason="no-magic")
    h = FRAME_HEADER.parse(raw)
    if crc32(raw[:60]) != h.header_crc:
        raise CorruptArchive(f"AXF structure header{at} is damaged: header CRC-32 mismatch "
                             f"(stored {h.header_crc:08x}, computed {crc32(raw[:60]):08x})", reason="header-crc")
    if h.version != VERSION:
        raise CorruptArchive(f"AXF structure{at} has format version {h.version}; this reader knows version "
                             f"{VERSION}", reason="version", version=h.version)
    if h.header_length < HEADER_SIZE or h.header_length > 65536:
        raise CorruptArchive(f"AXF structure{at}: impossible header length {h.header_length}", reason="header")
    if h.payload_length > MAX_PAYLOAD:
        raise CorruptArchive(f"AXF structure{at} claims a {h.payload_length}-byte payload (limit {MAX_PAYLOAD}): "
                             f"damaged", reason="length")
    if h.type not in TYPE_NAMES:
        raise CorruptArchive(f"AXF structure{at} has unknown type {h.type}", reason="type")
    if not 512 <= h.record_size <= (64 << 20) or h.record_size % 512:
        raise CorruptArchive(f"AXF structure{at} names an impossible record size {h.record_size}", reason="header")
    return Frame(h.type, h.payload_length, h.payload_crc, h.record_size, h.object_uuid, h.sequence, h.flags,
                 h.version, h.header_length)


def check_payload(frame: Frame, payload: bytes | bytearray | memoryview, *, where: str = "") -> bytes:
    at = f" at {where}" if where else ""
    payload = bytes(payload)
    if len(payload) < frame.payload_length:
        raise CorruptArchive(f"AXF {frame.type_name}{at} is cut short: {len(payload)} of {frame.payload_length} "
                             f"payload bytes (the tape file is truncated)", reason="truncated")
    if crc32(payload) != frame.payload_crc:
        raise CorruptArchive(f"AXF {frame.type_name}{at} is damaged: payload CRC-32 mismatch", reason="payload-crc")
    return payload


# --- file header and file footer: binary payloads --------------------------------

KIND_CODES = {"file": 0, "dir": 1, "symlink": 2}
KIND_NAMES = {v: k for k, v in KIND_CODES.items()}

FLAG_CONTINUES = 1            # the file goes on in the next volume of the collection
FLAG_CONTINUED = 2            # this segment continues a file begun in an earlier volume
FLAG_SOURCE_SHORT = 4         # footer: the source gave fewer bytes than its size; the rest is zeros

_NAME = Prefixed(Int32ub, GreedyBytes)                       # UTF-8 bytes (raw bytes of the file system name)
_ALGORITHMS = PrefixedArray(Int8ub, PascalString(Int8ub, "ascii"))
_DIGESTS = PrefixedArray(Int8ub, Struct("algorithm" / PascalString(Int8ub, "ascii"),
                                        "digest" / Prefixed(Int8ub, GreedyBytes)))

FILE_HEADER_PAYLOAD = Struct(
    "kind" / Int8ub,              # 0 regular file, 1 directory, 2 symbolic link
    "flags" / Int8ub,             # FLAG_CONTINUES | FLAG_CONTINUED
    "mode" / Int32ub,             # permission bits (st_mode & 0o7777)
    "uid" / Int32ub,
    "gid" / Int32ub,
    "mtime_ns" / Int64sb,         # nanoseconds since 1970-01-01T00:00:00Z
    "size" / Int64ub,             # size of the whole file
    "segment_offset" / Int64ub,   # where this segment's data starts in the file (0 unless spanned)
    "segment_size" / Int64ub,     # data bytes that follow this header (= size unless spanned)
    "algorithms" / _ALGORITHMS,   # checksums the footer will carry, in order
    "path" / _NAME,
    "linkname" / _NAME,           # symbolic links: the target; else empty
    Terminated,
)

FILE_FOOTER_PAYLOAD = Struct(
    "flags" / Int8ub,             # FLAG_CONTINUES | FLAG_CONTINUED | FLAG_SOURCE_SHORT
    "mode" / Int32ub,
    "mtime_ns" / Int64sb,
    "size" / Int64ub,
    "segment_offset" / Int64ub,
    "segment_size" / Int64ub,
    "copied" / Int64ub,           # bytes taken from the source for this segment (< segment_size: zero-filled)
    "checksums" / _DIGESTS,       # of this segment's data bytes, as hashed while writing
    "file_checksums" / _DIGESTS,  # of the whole file: only in the last segment of a spanned file
    "path" / _NAME,
    "message" / _NAME,            # UTF-8: why copied < segment_size (the read error), else empty
    Terminated,
)


def encode_name(s: str) -> bytes:
    """Names are stored as the bytes the file system had (UTF-8; other bytes as they were)."""
    return s.encode("utf-8", "surrogateescape")


def decode_name(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


@dataclass
class FileHeader:
    kind: str
    path: str
    size: int
    mode: int = 0o644
    mtime_ns: int = 0
    uid: int = 0
    gid: int = 0
    linkname: str = ""
    algorithms: tuple[str, ...] = ()
    segment_offset: int = 0
    segment_size: int | None = None     # None: the whole file
    flags: int = 0

    def __post_init__(self) -> None:
        if self.segment_size is None:
            self.segment_size = self.size if self.kind == "file" else 0

    def to_payload(self) -> bytes:
        return FILE_HEADER_PAYLOAD.build(dict(
            kind=KIND_CODES[self.kind], flags=self.flags, mode=self.mode & 0o7777,
            uid=min(self.uid, 0xFFFFFFFF), gid=min(self.gid, 0xFFFFFFFF), mtime_ns=self.mtime_ns,
            size=self.size, segment_offset=self.segment_offset, segment_size=self.segment_size,
            algorithms=list(self.algorithms), path=encode_name(self.path), linkname=encode_name(self.linkname)))

    @classmethod
    def from_payload(cls, payload: bytes, *, where: str = "") -> "FileHeader":
        p = _parse(FILE_HEADER_PAYLOAD, payload, "file header", where)
        if p.kind not in KIND_NAMES:
            raise CorruptArchive(f"AXF file header{_at(where)} has unknown kind {p.kind}", reason="kind")
        h = cls(kind=KIND_NAMES[p.kind], path=decode_name(p.path), size=p.size, mode=p.mode, mtime_ns=p.mtime_ns,
                uid=p.uid, gid=p.gid, linkname=decode_name(p.linkname), algorithms=tuple(p.algorithms),
                segment_offset=p.segment_offset, segment_size=p.segment_size, flags=p.flags)
        if h.kind != "file" and h.segment_size:
            raise CorruptArchive(f"AXF file header{_at(where)}: a {h.kind} with {h.segment_size} data bytes",
                                 reason="kind")
        if h.segment_offset + h.segment_size > h.size:
            raise CorruptArchive(f"AXF file header{_at(where)}: segment {h.segment_offset}+{h.segment_size} "
                                 f"lies outside the file's {h.size} bytes", reason="segment")
        return h


@dataclass
class FileFooter:
    path: str
    size: int
    checksums: dict[str, str]          # algorithm -> lowercase hex
    copied: int | None = None          # None: the whole segment
    mode: int = 0o644
    mtime_ns: int = 0
    segment_offset: int = 0
    segment_size: int | None = None
    file_checksums: dict[str, str] = field(default_factory=dict)
    message: str = ""
    flags: int = 0

    def __post_init__(self) -> None:
        if self.segment_size is None:
            self.segment_size = self.size
        if self.copied is None:
            self.copied = self.segment_size

    @property
    def complete(self) -> bool:
        """The writer took every byte of the segment from the source."""
        return self.copied == self.segment_size and not self.flags & FLAG_SOURCE_SHORT

    def to_payload(self) -> bytes:
        flags = self.flags | (FLAG_SOURCE_SHORT if self.copied < self.segment_size else 0)
        return FILE_FOOTER_PAYLOAD.build(dict(
            flags=flags, mode=self.mode & 0o7777, mtime_ns=self.mtime_ns, size=self.size,
            segment_offset=self.segment_offset, segment_size=self.segment_size, copied=self.copied,
            checksums=_digests_out(self.checksums), file_checksums=_digests_out(self.file_checksums),
            path=encode_name(self.path), message=self.message.encode("utf-8", "replace")))

    @classmethod
    def from_payload(cls, payload: bytes, *, where: str = "") -> "FileFooter":
        p = _parse(FILE_FOOTER_PAYLOAD, payload, "file footer", where)
        f = cls(path=decode_name(p.path), size=p.size, checksums=_digests_in(p.checksums), copied=p.copied,
                mode=p.mode, mtime_ns=p.mtime_ns, segment_offset=p.segment_offset, segment_size=p.segment_size,
                file_checksums=_digests_in(p.file_checksums), message=p.message.decode("utf-8", "replace"),
                flags=p.flags)
        if f.segment_offset + f.segment_size > f.size or f.copied > f.segment_size:
            raise CorruptArchive(f"AXF file footer{_at(where)} has inconsistent sizes", reason="segment")
        return f


def _digests_out(d: dict[str, str]) -> list[dict[str, Any]]:
    return [dict(algorithm=a, digest=bytes.fromhex(h)) for a, h in d.items()]


def _digests_in(items: Any) -> dict[str, str]:
    return {i.algorithm: i.digest.hex() for i in items}


def _at(where: str) -> str:
    return f" at {where}" if where else ""


def _parse(st: Struct, payload: bytes, what: str, where: str) -> Any:
    try:
        return st.parse(payload)
    except (ConstructError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptArchive(f"AXF {what}{_at(where)} cannot be decoded ({exc}) although its CRC is right: "
                             f"written by a different version?", reason="decode") from None


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
        raise CorruptArchive(f"AXF {what}{_at(where)} contains a DTD or entity declaration: refused",
                             reason="xml")
    try:
        root = ET.fromstring(payload)
    except ET.ParseError as exc:
        raise CorruptArchive(f"AXF {what}{_at(where)} is not well-formed XML ({exc})", reason="xml") from None
    if root.tag != root_tag:
        raise CorruptArchive(f"AXF {what}{_at(where)} has root element <{root.tag}>, expected <{root_tag}>",
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
        raise CorruptArchive(f"AXF volume signature{_at(where)} is not UTF-8 text", reason="decode") from None
    lines = text.splitlines()
    if not lines or lines[0] != SIGNATURE_TITLE:
        raise CorruptArchive(f"AXF volume signature{_at(where)} does not begin with {SIGNATURE_TITLE!r}",
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
            raise CorruptArchive(f"AXF volume header{_at(where)} has no <volume>", reason="xml")
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
            raise CorruptArchive(f"AXF object header{_at(where)} has no <object uuid=...>", reason="xml")
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
            raise CorruptArchive(f"AXF object footer{_at(where)} has no <object uuid=...>", reason="xml")
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
            raise CorruptArchive(f"AXF volume footer{_at(where)} has no <volume>", reason="xml")
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
