"""Data-in structures of the commands we send, parsed (and built, for tests) with `construct`.

Layouts: SPC-4 (standard INQUIRY data, unit serial number VPD page 0x80,
READ ATTRIBUTE parameter data), SSC-4 (READ POSITION long form, READ BLOCK
LIMITS, REPORT DENSITY SUPPORT density support data block descriptor) and
SMC-3 (READ ELEMENT STATUS element status data, with device identifiers).
ASCII fields are left-aligned and padded with spaces; they parse to str
without the padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from construct import (Adapter, BitStruct, BitsInteger, Bytes, Flag, GreedyBytes, Int8ub, Int16ub, Int24ub,
                       Int32ub, Int64ub, Padding, Struct, this)

from ...generations import Generation
from .. import mam
from .drives import generation_of


class Ascii(Adapter):
    """A fixed-size ASCII field: space padded on build, padding (spaces, NULs) stripped on parse."""

    def __init__(self, size: int) -> None:
        super().__init__(Bytes(size))
        self.size = size

    def _decode(self, obj: bytes, context: object, path: str) -> str:
        return obj.rstrip(b" \x00").decode("ascii", "replace")

    def _encode(self, obj: str, context: object, path: str) -> bytes:
        raw = obj.encode("ascii")
        if len(raw) > self.size:
            raise ValueError(f"{obj!r} is longer than {self.size} bytes")
        return raw.ljust(self.size, b" ")


# --- INQUIRY -----------------------------------------------------------------------
PERIPHERAL_SEQUENTIAL = 0x01    # a tape drive
PERIPHERAL_CHANGER = 0x08

StandardInquiry = Struct(
    "peripheral" / BitStruct("qualifier" / BitsInteger(3), "device_type" / BitsInteger(5)),
    "removable" / BitStruct("rmb" / Flag, "lu_cong" / Flag, Padding(6)),
    "version" / Int8ub,
    "byte3" / Int8ub,            # NORMACA, HISUP, response data format
    "additional_length" / Int8ub,
    "flags" / Bytes(3),
    "vendor" / Ascii(8),
    "product" / Ascii(16),
    "revision" / Ascii(4),
    "rest" / GreedyBytes,
)

UnitSerialNumberPage = Struct(
    "peripheral" / Int8ub,
    "page_code" / Int8ub,        # 0x80
    "page_length" / Int16ub,
    "serial" / Ascii(this.page_length),
)


@dataclass(frozen=True)
class Inquiry:
    vendor: str
    product: str
    revision: str
    device_type: int              # 0x01 tape, 0x08 medium changer
    generation: Generation | None  # from the product id (drives.py); None when unknown

    @property
    def is_tape(self) -> bool:
        return self.device_type == PERIPHERAL_SEQUENTIAL

    def __str__(self) -> str:
        gen = f", {self.generation}" if self.generation else ""
        return f"{self.vendor} {self.product} {self.revision}{gen}"


def parse_inquiry(data: bytes) -> Inquiry:
    if len(data) < 36:
        raise ValueError(f"INQUIRY answer of {len(data)} bytes is shorter than the 36 standard bytes")
    s = StandardInquiry.parse(data)
    return Inquiry(vendor=s.vendor, product=s.product, revision=s.revision,
                   device_type=s.peripheral.device_type, generation=generation_of(s.vendor, s.product))


def parse_unit_serial(data: bytes) -> str:
    if len(data) < 4 or data[1] != 0x80:
        raise ValueError("not a unit serial number VPD page (0x80)")
    length = min(int.from_bytes(data[2:4], "big"), len(data) - 4)
    return data[4:4 + length].strip(b" \x00").decode("ascii", "replace")


# --- READ POSITION long form ------------------------------------------------------------
LongPositionData = Struct(
    "flags" / BitStruct("bop" / Flag, "eop" / Flag, "reserved_hi" / BitsInteger(2), "mpu" / Flag,
                        "lonu" / Flag, "reserved_lo" / Flag, "bpew" / Flag),
    Padding(3),
    "partition" / Int32ub,
    "block" / Int64ub,            # logical object number: records and filemarks from BOP
    "file_number" / Int64ub,      # logical file identifier: filemarks from BOP
    "set_number" / Int64ub,       # obsolete in SSC-4 (setmarks)
)


@dataclass(frozen=True)
class LongPosition:
    """READ POSITION long form (SSC-4 service action 06h).

    eop: between early warning and end of partition; bpew: beyond the
    programmable early warning; mpu: file_number/set_number are not known;
    lonu: partition/block are not known (read_position raises instead).
    """

    partition: int
    block: int
    file_number: int
    set_number: int
    bop: bool
    eop: bool
    bpew: bool
    mpu: bool
    lonu: bool = False


def parse_long_position(data: bytes) -> tuple[LongPosition, int]:
    """The position and the value of the reserved bits of byte 0 (bits 5, 4 and 1), which
    SSC-4 requires to be zero; a non-zero value marks an answer not to be trusted."""
    if len(data) < 32:
        raise ValueError(f"READ POSITION long form answer of {len(data)} bytes is shorter than 32")
    p = LongPositionData.parse(data)
    f = p.flags
    reserved = (f.reserved_hi << 4) | (int(f.reserved_lo) << 1)
    return LongPosition(partition=p.partition, block=p.block, file_number=p.file_number,
                        set_number=p.set_number, bop=f.bop, eop=f.eop, bpew=f.bpew, mpu=f.mpu,
                        lonu=f.lonu), reserved


# --- READ BLOCK LIMITS -------------------------------------------------------------------
BlockLimitsData = Struct(
    "granularity" / BitStruct(Padding(3), "granularity" / BitsInteger(5)),
    "maximum" / Int24ub,
    "minimum" / Int16ub,
)


@dataclass(frozen=True)
class BlockLimits:
    minimum: int          # bytes
    maximum: int          # bytes; 0 means the drive states no limit
    granularity: int      # supported fixed block lengths are multiples of 2**granularity


def parse_block_limits(data: bytes) -> BlockLimits:
    if len(data) < 6:
        raise ValueError(f"READ BLOCK LIMITS answer of {len(data)} bytes is shorter than 6")
    b = BlockLimitsData.parse(data)
    return BlockLimits(minimum=b.minimum, maximum=b.maximum, granularity=b.granularity.granularity)


# --- REPORT DENSITY SUPPORT ------------------------------------------------------------------
DensityHeader = Struct("available_length" / Int16ub, Padding(2))

DensityDescriptorData = Struct(
    "primary_density_code" / Int8ub,
    "secondary_density_code" / Int8ub,
    "flags" / BitStruct("wrtok" / Flag, "dup" / Flag, "deflt" / Flag, Padding(4), "dlv" / Flag),
    "descriptor_length" / Int16ub,
    "bits_per_mm" / Int24ub,
    "media_width" / Int16ub,        # tenths of a millimetre
    "tracks" / Int16ub,
    "capacity" / Int32ub,           # megabytes (10**6 bytes)
    "assigning_organization" / Ascii(8),
    "density_name" / Ascii(8),
    "description" / Ascii(20),
)
DENSITY_DESCRIPTOR_SIZE = 52


@dataclass(frozen=True)
class DensityDescriptor:
    primary_density_code: int
    secondary_density_code: int
    writable: bool            # WRTOK: the drive can write this density (on the loaded medium when media=True)
    duplicate: bool
    default: bool             # DEFLT: the density of the loaded medium (media=True) or the drive's default
    bits_per_mm: int
    media_width_mm: float
    tracks: int
    capacity_mb: int          # 10**6 bytes, native
    assigning_organization: str
    name: str                 # e.g. "U-832" on LTO-9
    description: str          # e.g. "Ultrium 9/16T"


def parse_density_support(data: bytes) -> list[DensityDescriptor]:
    """The descriptors of a REPORT DENSITY SUPPORT answer (density codes, not medium types).

    Descriptors are 52 bytes each. SSC-4 adds a DLV bit and a DESCRIPTOR LENGTH
    field in bytes 3-4 for future longer descriptors; no drive we know of sends
    longer ones, and the standard text is not clear on what the length counts,
    so the parser steps 52 bytes and reports a partial trailing descriptor
    by ignoring it.
    """
    if len(data) < 4:
        raise ValueError(f"REPORT DENSITY SUPPORT answer of {len(data)} bytes is shorter than its header")
    available = DensityHeader.parse(data).available_length
    end = min(len(data), 2 + available)
    out = []
    for pos in range(4, end - DENSITY_DESCRIPTOR_SIZE + 1, DENSITY_DESCRIPTOR_SIZE):
        d = DensityDescriptorData.parse(data[pos:pos + DENSITY_DESCRIPTOR_SIZE])
        out.append(DensityDescriptor(
            primary_density_code=d.primary_density_code, secondary_density_code=d.secondary_density_code,
            writable=d.flags.wrtok, duplicate=d.flags.dup, default=d.flags.deflt,
            bits_per_mm=d.bits_per_mm, media_width_mm=d.media_width / 10, tracks=d.tracks,
            capacity_mb=d.capacity, assigning_organization=d.assigning_organization,
            name=d.density_name, description=d.description))
    return out


# --- READ ATTRIBUTE ------------------------------------------------------------------------------
AttributeDataHeader = Struct("available_data" / Int32ub)


def parse_attributes(data: bytes) -> tuple[list[mam.Attribute], int]:
    """The whole attributes in a READ ATTRIBUTE (ATTRIBUTE VALUES) answer, and the
    AVAILABLE DATA the drive has (more than was returned when the allocation was short).
    A last attribute cut off by the allocation length is left out."""
    if len(data) < 4:
        raise ValueError(f"READ ATTRIBUTE answer of {len(data)} bytes is shorter than its header")
    available = AttributeDataHeader.parse(data).available_data
    end = min(len(data), 4 + available)
    out = []
    pos = 4
    while pos + mam.HEADER_SIZE <= end:
        length = int.from_bytes(data[pos + 3:pos + 5], "big")
        if pos + mam.HEADER_SIZE + length > end:
            break
        out.append(mam.decode(data[pos:pos + mam.HEADER_SIZE + length]))
        pos += mam.HEADER_SIZE + length
    return out, available


def build_attribute_list(attributes: list[tuple[int, int, bytes]]) -> bytes:
    """A WRITE ATTRIBUTE parameter list: PARAMETER DATA LENGTH then each (id, format, value)."""
    body = b"".join(mam.encode(attr_id, fmt, value) for attr_id, fmt, value in attributes)
    return AttributeDataHeader.build({"available_data": len(body)}) + body


# --- READ ELEMENT STATUS (SMC-3, medium changers) ------------------------------------------------
ElementStatusHeader = Struct(
    "first_address" / Int16ub,
    "number_of_elements" / Int16ub,
    Padding(1),
    "byte_count" / Int24ub,        # of every page that follows, this header excluded
)
ElementPageHeader = Struct(
    "element_type" / Int8ub,
    "tags" / BitStruct("pvoltag" / Flag, "avoltag" / Flag, Padding(6)),
    "descriptor_length" / Int16ub,
    Padding(1),
    "byte_count" / Int24ub,        # of this page's descriptors
)
ElementDescriptorHead = Struct(
    "address" / Int16ub,
    "flags" / BitStruct(Padding(2), "inenab" / Flag, "exenab" / Flag, "access" / Flag, "exception" / Flag,
                        "impexp" / Flag, "full" / Flag),
    Padding(1),
    "asc" / Int8ub,
    "ascq" / Int8ub,
    Padding(3),                    # NOT BUS/ID VALID/LU VALID/LUN, SCSI bus address, reserved (obsolete)
    "source" / BitStruct("svalid" / Flag, "invert" / Flag, Padding(1), "ed" / Flag, Padding(1),
                         "medium_type" / BitsInteger(3)),
    "source_address" / Int16ub,
)
ELEMENT_HEAD_SIZE = 12
VOLUME_TAG_SIZE = 36               # 32 bytes of label, 2 reserved, 2 of volume sequence number
IDENTIFIER_HEAD_SIZE = 4           # code set, identifier type, reserved, identifier length
CODE_SET_BINARY = 1
CODE_SET_ASCII = 2
IDENTIFIER_VENDOR_SPECIFIC = 0
IDENTIFIER_T10_VENDOR = 1          # vendor (8) + product (16) + serial, as libraries name their drives
T10_VENDOR_PRODUCT_SIZE = 24


@dataclass(frozen=True)
class DeviceIdentifier:
    """What a changer says a drive is (DVCID). `complete` is False when the answer ended
    before the identifier did: such an identifier must not be matched against anything."""

    code_set: int
    identifier_type: int
    value: bytes
    complete: bool = True

    @property
    def text(self) -> str | None:
        """The identifier as text (ASCII code set), padding stripped; None for binary ones."""
        if self.code_set != CODE_SET_ASCII:
            return None
        return self.value.rstrip(b" \x00").decode("ascii", "replace")

    @property
    def serial(self) -> str | None:
        """The drive's serial number: the part after vendor and product of a T10 vendor
        identifier, else the whole ASCII identifier; None for binary or incomplete ones."""
        text = self.text
        if text is None or not self.complete:
            return None
        if self.identifier_type == IDENTIFIER_T10_VENDOR and len(text) > T10_VENDOR_PRODUCT_SIZE:
            text = text[T10_VENDOR_PRODUCT_SIZE:]
        return text.strip(" \x00") or None


@dataclass(frozen=True)
class ElementStatus:
    """One element of a medium changer (a drive, a slot, an import/export slot, the robot)."""

    element_type: int
    address: int
    full: bool
    exception: bool = False
    asc: int = 0
    ascq: int = 0
    source_address: int | None = None      # where the cartridge came from (SVALID)
    primary_tag: str | None = None         # the barcode (PVOLTAG)
    alternate_tag: str | None = None
    identifier: DeviceIdentifier | None = None


def _volume_tag(raw: bytes) -> str | None:
    return raw[:32].rstrip(b" \x00").decode("ascii", "replace") or None


def parse_element_status(data: bytes) -> list[ElementStatus]:
    """Every element descriptor of a READ ELEMENT STATUS answer, page after page.

    Generic over what the changer chose to send: each page says whether its
    descriptors carry the primary and alternate volume tags (PVOLTAG, AVOLTAG)
    and how long a descriptor is; what remains of a descriptor after the 12
    fixed bytes and the tags is the device identifier (DVCID) when it holds at
    least its 4-byte header. An answer shorter than its own byte counts (a
    changer that sends less than it announces) gives the elements it holds, the
    last one's identifier marked incomplete.
    """
    if len(data) < 8:
        raise ValueError(f"READ ELEMENT STATUS answer of {len(data)} bytes is shorter than its header")
    header = ElementStatusHeader.parse(data)
    end = min(len(data), 8 + header.byte_count)
    out: list[ElementStatus] = []
    pos = 8
    while pos + 8 <= end:
        page = ElementPageHeader.parse(data[pos:pos + 8])
        pos += 8
        size = page.descriptor_length
        if size < ELEMENT_HEAD_SIZE and page.byte_count:
            raise ValueError(f"element descriptor length {size} is shorter than the {ELEMENT_HEAD_SIZE} fixed bytes")
        page_end = min(end, pos + page.byte_count)
        while size and pos + ELEMENT_HEAD_SIZE <= page_end:
            out.append(_element(page, data[pos:min(pos + size, page_end)], size))
            pos += size
        pos = page_end       # a byte count that is not a whole number of descriptors: next page
    return out


def _element(page: Any, raw: bytes, size: int) -> ElementStatus:
    head = ElementDescriptorHead.parse(raw)
    pos = ELEMENT_HEAD_SIZE
    tags: list[str | None] = []
    for present in (page.tags.pvoltag, page.tags.avoltag):
        if present:
            tags.append(_volume_tag(raw[pos:pos + VOLUME_TAG_SIZE]) if len(raw) >= pos + VOLUME_TAG_SIZE else None)
            pos += VOLUME_TAG_SIZE
        else:
            tags.append(None)
    identifier = None
    if size >= pos + IDENTIFIER_HEAD_SIZE and len(raw) >= pos + IDENTIFIER_HEAD_SIZE:
        length = raw[pos + 3]
        value = raw[pos + IDENTIFIER_HEAD_SIZE:pos + IDENTIFIER_HEAD_SIZE + length]
        if length:
            complete = len(value) == length and pos + IDENTIFIER_HEAD_SIZE + length <= size
            identifier = DeviceIdentifier(code_set=raw[pos] & 0x0F, identifier_type=raw[pos + 1] & 0x0F,
                                          value=value, complete=complete)
    return ElementStatus(element_type=page.element_type, address=head.address, full=head.flags.full,
                         exception=head.flags.exception, asc=head.asc, ascq=head.ascq,
                         source_address=head.source_address if head.source.svalid else None,
                         primary_tag=tags[0], alternate_tag=tags[1], identifier=identifier)
