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
plain text: both in payloads.py); file headers and footers carry the small
binary payloads defined below with `construct`. docs/formats/axf-style.md is
the specification; this module and payloads.py are its executable form.
"""

from __future__ import annotations

import uuid as uuid_mod
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
            raise CorruptArchive(f"AXF file header{at_where(where)} has unknown kind {p.kind}", reason="kind")
        h = cls(kind=KIND_NAMES[p.kind], path=decode_name(p.path), size=p.size, mode=p.mode, mtime_ns=p.mtime_ns,
                uid=p.uid, gid=p.gid, linkname=decode_name(p.linkname), algorithms=tuple(p.algorithms),
                segment_offset=p.segment_offset, segment_size=p.segment_size, flags=p.flags)
        if h.kind != "file" and h.segment_size:
            raise CorruptArchive(f"AXF file header{at_where(where)}: a {h.kind} with {h.segment_size} data bytes",
                                 reason="kind")
        if h.segment_offset + h.segment_size > h.size:
            raise CorruptArchive(f"AXF file header{at_where(where)}: segment {h.segment_offset}+{h.segment_size} "
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
            raise CorruptArchive(f"AXF file footer{at_where(where)} has inconsistent sizes", reason="segment")
        return f


def _digests_out(d: dict[str, str]) -> list[dict[str, Any]]:
    return [dict(algorithm=a, digest=bytes.fromhex(h)) for a, h in d.items()]


def _digests_in(items: Any) -> dict[str, str]:
    return {i.algorithm: i.digest.hex() for i in items}


def at_where(where: str) -> str:
    """The " at WHERE" of an error message (nothing when WHERE is empty)."""
    return f" at {where}" if where else ""


def _parse(st: Struct, payload: bytes, what: str, where: str) -> Any:
    try:
        return st.parse(payload)
    except (ConstructError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptArchive(f"AXF {what}{at_where(where)} cannot be decoded ({exc}) although its CRC is right: "
                             f"written by a different version?", reason="decode") from None
