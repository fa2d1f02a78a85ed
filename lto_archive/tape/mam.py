"""Cartridge memory (MAM) attributes: ids, formats and their byte encoding.

One attribute is stored the way READ ATTRIBUTE returns it (SPC-4 7.4) and the
way the LTFS reference's file backend keeps it in `attr_<partition>_<hex id>`:

    2 bytes id | 1 byte format | 2 bytes length | value        (big-endian)

The format byte's low bits: 0 binary, 1 ASCII, 2 text (the high bit is the
read-only flag a drive sets on device attributes). ASCII values are
left-aligned and padded with spaces to their fixed length; binary numbers are
big-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import UsageError

HEADER = struct.Struct(">HBH")
HEADER_SIZE = HEADER.size  # 5

BINARY = 0x00
ASCII = 0x01
TEXT = 0x02
READ_ONLY_FLAG = 0x80

# --- attribute ids (SPC-4 table "MAM attribute identifiers", LTFS tape_ops.h) --
REMAINING_CAPACITY_IN_PARTITION = 0x0000     # device, binary 8, MiB
MAXIMUM_CAPACITY_IN_PARTITION = 0x0001       # device, binary 8, MiB
TAPEALERT_FLAGS = 0x0002
LOAD_COUNT = 0x0003
MAM_SPACE_REMAINING = 0x0004
ASSIGNING_ORGANIZATION_DEVICE = 0x0005
FORMATTED_DENSITY_CODE = 0x0006
INITIALIZATION_COUNT = 0x0007
VOLUME_CHANGE_REFERENCE = 0x0009             # binary 4: the drive bumps it once per write session
DEVICE_AT_LAST_LOAD = 0x020A
TOTAL_MB_WRITTEN_IN_MEDIUM_LIFE = 0x0220
TOTAL_MB_READ_IN_MEDIUM_LIFE = 0x0221
MEDIUM_MANUFACTURER = 0x0400                 # ASCII 8
MEDIUM_SERIAL_NUMBER = 0x0401                # ASCII 32
MEDIUM_LENGTH = 0x0402
MEDIUM_WIDTH = 0x0403
ASSIGNING_ORGANIZATION = 0x0404
MEDIUM_DENSITY_CODE = 0x0405                 # binary 1
MEDIUM_MANUFACTURE_DATE = 0x0406             # ASCII 8, YYYYMMDD
MAM_CAPACITY = 0x0407
MEDIUM_TYPE = 0x0408                         # binary 1: 0x00 data, 0x01 cleaning, 0x80 WORM
MEDIUM_TYPE_INFORMATION = 0x0409
APPLICATION_VENDOR = 0x0800                  # ASCII 8
APPLICATION_NAME = 0x0801                    # ASCII 32
APPLICATION_VERSION = 0x0802                 # ASCII 8
USER_MEDIUM_TEXT_LABEL = 0x0803              # text 160
DATE_AND_TIME_LAST_WRITTEN = 0x0804          # ASCII 12
TEXT_LOCALIZATION_IDENTIFIER = 0x0805        # binary 1 (0x81: UTF-8)
BARCODE = 0x0806                             # ASCII 32
OWNING_HOST_TEXTUAL_NAME = 0x0807            # text 80
MEDIA_POOL = 0x0808                          # text 160
PARTITION_USER_TEXT_LABEL = 0x0809           # ASCII 16
LOAD_UNLOAD_AT_PARTITION = 0x080A            # binary 1
APPLICATION_FORMAT_VERSION = 0x080B          # ASCII 16
VOLUME_COHERENCY_INFORMATION = 0x080C        # binary, up to 70 (LTFS)
MEDIUM_GLOBALLY_UNIQUE_IDENTIFIER = 0x0820   # binary 36
MEDIA_POOL_GLOBALLY_UNIQUE_IDENTIFIER = 0x0821
LTFS_VOLUME_LOCK = 0x1623                    # vendor (IBM LTFS): binary 1, volume lock state


@dataclass(frozen=True)
class AttributeSpec:
    id: int
    name: str
    fmt: int
    size: int | None  # fixed length in bytes, None when variable


_SPECS = (
    AttributeSpec(REMAINING_CAPACITY_IN_PARTITION, "remaining capacity in partition", BINARY, 8),
    AttributeSpec(MAXIMUM_CAPACITY_IN_PARTITION, "maximum capacity in partition", BINARY, 8),
    AttributeSpec(TAPEALERT_FLAGS, "TapeAlert flags", BINARY, 8),
    AttributeSpec(LOAD_COUNT, "load count", BINARY, 8),
    AttributeSpec(MAM_SPACE_REMAINING, "MAM space remaining", BINARY, 8),
    AttributeSpec(ASSIGNING_ORGANIZATION_DEVICE, "assigning organization (device)", ASCII, 8),
    AttributeSpec(FORMATTED_DENSITY_CODE, "formatted density code", BINARY, 1),
    AttributeSpec(INITIALIZATION_COUNT, "initialization count", BINARY, 2),
    AttributeSpec(VOLUME_CHANGE_REFERENCE, "volume change reference", BINARY, 4),
    AttributeSpec(DEVICE_AT_LAST_LOAD, "device vendor/serial at last load", ASCII, 40),
    AttributeSpec(TOTAL_MB_WRITTEN_IN_MEDIUM_LIFE, "total MiB written in medium life", BINARY, 8),
    AttributeSpec(TOTAL_MB_READ_IN_MEDIUM_LIFE, "total MiB read in medium life", BINARY, 8),
    AttributeSpec(MEDIUM_MANUFACTURER, "medium manufacturer", ASCII, 8),
    AttributeSpec(MEDIUM_SERIAL_NUMBER, "medium serial number", ASCII, 32),
    AttributeSpec(MEDIUM_LENGTH, "medium length", BINARY, 4),
    AttributeSpec(MEDIUM_WIDTH, "medium width", BINARY, 4),
    AttributeSpec(ASSIGNING_ORGANIZATION, "assigning organization", ASCII, 8),
    AttributeSpec(MEDIUM_DENSITY_CODE, "medium density code", BINARY, 1),
    AttributeSpec(MEDIUM_MANUFACTURE_DATE, "medium manufacture date", ASCII, 8),
    AttributeSpec(MAM_CAPACITY, "MAM capacity", BINARY, 8),
    AttributeSpec(MEDIUM_TYPE, "medium type", BINARY, 1),
    AttributeSpec(MEDIUM_TYPE_INFORMATION, "medium type information", BINARY, 2),
    AttributeSpec(APPLICATION_VENDOR, "application vendor", ASCII, 8),
    AttributeSpec(APPLICATION_NAME, "application name", ASCII, 32),
    AttributeSpec(APPLICATION_VERSION, "application version", ASCII, 8),
    AttributeSpec(USER_MEDIUM_TEXT_LABEL, "user medium text label", TEXT, 160),
    AttributeSpec(DATE_AND_TIME_LAST_WRITTEN, "date and time last written", ASCII, 12),
    AttributeSpec(TEXT_LOCALIZATION_IDENTIFIER, "text localization identifier", BINARY, 1),
    AttributeSpec(BARCODE, "barcode", ASCII, 32),
    AttributeSpec(OWNING_HOST_TEXTUAL_NAME, "owning host textual name", TEXT, 80),
    AttributeSpec(MEDIA_POOL, "media pool", TEXT, 160),
    AttributeSpec(PARTITION_USER_TEXT_LABEL, "partition user text label", ASCII, 16),
    AttributeSpec(LOAD_UNLOAD_AT_PARTITION, "load/unload at partition", BINARY, 1),
    AttributeSpec(APPLICATION_FORMAT_VERSION, "application format version", ASCII, 16),
    AttributeSpec(VOLUME_COHERENCY_INFORMATION, "volume coherency information", BINARY, None),
    AttributeSpec(MEDIUM_GLOBALLY_UNIQUE_IDENTIFIER, "medium globally unique identifier", BINARY, 36),
    AttributeSpec(MEDIA_POOL_GLOBALLY_UNIQUE_IDENTIFIER, "media pool globally unique identifier", BINARY, 36),
    AttributeSpec(LTFS_VOLUME_LOCK, "LTFS volume lock (vendor)", BINARY, 1),
)

SPECS: dict[int, AttributeSpec] = {s.id: s for s in _SPECS}


def name_of(attr_id: int) -> str:
    spec = SPECS.get(attr_id)
    return spec.name if spec else f"attribute 0x{attr_id:04X}"


@dataclass(frozen=True)
class Attribute:
    id: int
    fmt: int        # with the read-only flag, as stored
    value: bytes

    @property
    def read_only(self) -> bool:
        return bool(self.fmt & READ_ONLY_FLAG)

    @property
    def kind(self) -> int:
        """BINARY, ASCII or TEXT."""
        return self.fmt & 0x03

    def text(self) -> str:
        """The value as a string without its padding (ASCII and text attributes)."""
        return self.value.rstrip(b" \x00").decode("utf-8" if self.kind == TEXT else "ascii", "replace")

    def number(self) -> int:
        """The value as a big-endian unsigned number (binary attributes)."""
        return int.from_bytes(self.value, "big")


def encode(attr_id: int, fmt: int, value: bytes) -> bytes:
    """One attribute as stored: header then value."""
    if not 0 <= attr_id <= 0xFFFF:
        raise UsageError(f"MAM attribute id 0x{attr_id:X} is not a 16-bit number", attr_id=attr_id)
    if not 0 <= fmt <= 0xFF:
        raise UsageError(f"MAM attribute format {fmt} is not a byte", fmt=fmt)
    if len(value) > 0xFFFF:
        raise UsageError(f"MAM attribute {name_of(attr_id)} value is longer than 65535 bytes",
                         attr_id=attr_id, length=len(value))
    return HEADER.pack(attr_id, fmt, len(value)) + bytes(value)


def decode(data: bytes) -> Attribute:
    """Decode one stored attribute (trailing bytes after the value are ignored)."""
    if len(data) < HEADER_SIZE:
        raise ValueError(f"MAM attribute of {len(data)} bytes is shorter than its 5-byte header")
    attr_id, fmt, length = HEADER.unpack_from(data)
    if len(data) < HEADER_SIZE + length:
        raise ValueError(f"MAM attribute 0x{attr_id:04X} says {length} bytes but has "
                         f"{len(data) - HEADER_SIZE}")
    return Attribute(attr_id, fmt, bytes(data[HEADER_SIZE:HEADER_SIZE + length]))


def decode_list(data: bytes) -> list[Attribute]:
    """Decode several attributes laid end to end (a WRITE ATTRIBUTE parameter list)."""
    out = []
    offset = 0
    while offset < len(data):
        attr = decode(data[offset:])
        out.append(attr)
        offset += HEADER_SIZE + len(attr.value)
    return out


def ascii_value(text: str, size: int | None) -> bytes:
    """An ASCII attribute value: left-aligned, space padded to `size`."""
    raw = text.encode("ascii", "replace")
    if not text.isascii() or any(c < 0x20 or c > 0x7E for c in raw):
        raise UsageError(f"{text!r} has characters a MAM ASCII attribute cannot hold", value=text)
    if size is None:
        return raw
    if len(raw) > size:
        raise UsageError(f"{text!r} is longer than the {size} characters the attribute holds",
                         value=text, size=size)
    return raw.ljust(size, b" ")


def number_value(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def filename(partition: int, attr_id: int) -> str:
    """Name of the file the LTFS file backend keeps an attribute in."""
    return f"attr_{partition}_{attr_id:x}"


# --- volume coherency information (LTFS format spec, attribute 0x080C) ---------

@dataclass(frozen=True)
class VolumeCoherency:
    """What LTFS records in attribute 0x080C of each partition after writing an index."""

    volume_change_reference: int
    generation: int          # index generation number
    block: int               # block address of the index on this partition
    application: bytes = b"" # application client specific information (LTFS: b"LTFS\\0" uuid\\0 version)

    def encode_value(self) -> bytes:
        return (bytes([8]) + self.volume_change_reference.to_bytes(8, "big")
                + self.generation.to_bytes(8, "big") + self.block.to_bytes(8, "big")
                + len(self.application).to_bytes(2, "big") + self.application)

    @classmethod
    def decode_value(cls, value: bytes) -> "VolumeCoherency":
        if len(value) < 1:
            raise ValueError("empty volume coherency information")
        vcr_size = value[0]
        pos = 1 + vcr_size
        if len(value) < pos + 18:
            raise ValueError("volume coherency information is too short")
        vcr = int.from_bytes(value[1:pos], "big")
        gen = int.from_bytes(value[pos:pos + 8], "big")
        block = int.from_bytes(value[pos + 8:pos + 16], "big")
        n = int.from_bytes(value[pos + 16:pos + 18], "big")
        app = bytes(value[pos + 18:pos + 18 + n])
        if len(app) != n:
            raise ValueError("volume coherency application information is truncated")
        return cls(vcr, gen, block, app)

    @property
    def ltfs_volume_uuid(self) -> str | None:
        """The volume UUID when the application information is LTFS's."""
        if not self.application.startswith(b"LTFS\x00"):
            return None
        return self.application[5:].split(b"\x00", 1)[0].decode("ascii", "replace")
