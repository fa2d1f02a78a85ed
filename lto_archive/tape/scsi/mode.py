"""Mode parameters: the header, the block descriptor (density code) and the
medium partition mode page 0x11, after SPC-4 7.5 and SSC-4 8.3.

MODE SENSE(6) header: mode data length (1), medium type, device-specific
parameter (SSC: WP, buffered mode, speed), block descriptor length (1).
MODE SENSE(10) header: mode data length (2), medium type, device-specific,
LONGLBA byte, reserved, block descriptor length (2). The short block
descriptor: density code, number of blocks (3), reserved, block length (3).

Medium partition page (SSC-4 8.3.4): page code 0x11; max additional
partitions; additional partitions defined; FDP SDP IDP PSUM(2) POFM CLEAR ADDP;
medium format recognition; partition units (low 4 bits of byte 6); reserved;
then one 16-bit partition size per partition. LTO drives report PSUM 11b
(sizes in units of 10**PARTITION UNITS bytes) and partition units 9 (GB) in
the vendors' references, and the LTFS reference partitions with exactly
those units: we do the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from construct import Array, BitStruct, BitsInteger, Bytes, Flag, Int8ub, Int16ub, Int24ub, Padding, Struct, this

ModeHeader6 = Struct(
    "mode_data_length" / Int8ub,
    "medium_type" / Int8ub,
    "device_specific" / BitStruct("wp" / Flag, "buffered_mode" / BitsInteger(3), "speed" / BitsInteger(4)),
    "block_descriptor_length" / Int8ub,
)

ModeHeader10 = Struct(
    "mode_data_length" / Int16ub,
    "medium_type" / Int8ub,
    "device_specific" / BitStruct("wp" / Flag, "buffered_mode" / BitsInteger(3), "speed" / BitsInteger(4)),
    "longlba" / BitStruct(Padding(7), "longlba" / Flag),
    Padding(1),
    "block_descriptor_length" / Int16ub,
)

BlockDescriptor = Struct(
    "density_code" / Int8ub,
    "number_of_blocks" / Int24ub,
    Padding(1),
    "block_length" / Int24ub,
)

MEDIUM_PARTITION_PAGE = 0x11
PSUM_BYTES, PSUM_KB, PSUM_MB, PSUM_UNITS = 0, 1, 2, 3
SIZE_REST = 0xFFFF        # "the rest of the medium" in a partition size field

MediumPartitionPage = Struct(
    "head" / BitStruct("ps" / Flag, "spf" / Flag, "page_code" / BitsInteger(6)),
    "page_length" / Int8ub,
    "max_additional_partitions" / Int8ub,
    "additional_partitions_defined" / Int8ub,
    "flags" / BitStruct("fdp" / Flag, "sdp" / Flag, "idp" / Flag, "psum" / BitsInteger(2),
                        "pofm" / Flag, "clear" / Flag, "addp" / Flag),
    "medium_format_recognition" / Int8ub,
    "units" / BitStruct(Padding(4), "partition_units" / BitsInteger(4)),
    Padding(1),
    "sizes" / Array((this.page_length - 6) // 2, Int16ub),
    "extra" / Bytes((this.page_length - 6) % 2),
)


@dataclass(frozen=True)
class ModeParameters:
    """The mode parameter header and first block descriptor."""

    medium_type: int
    write_protected: bool
    buffered_mode: int
    speed: int
    density_code: int          # 0: default / not reported
    block_length: int          # 0: variable block mode
    number_of_blocks: int


@dataclass(frozen=True)
class ModeData:
    header: ModeParameters
    block_descriptors: bytes
    pages: bytes               # the mode pages after the block descriptors


def parse_mode_data(data: bytes, *, ten: bool) -> ModeData:
    """Split a MODE SENSE(6) (`ten` False) or MODE SENSE(10) answer."""
    header_struct, header_size = (ModeHeader10, 8) if ten else (ModeHeader6, 4)
    if len(data) < header_size:
        raise ValueError(f"MODE SENSE answer of {len(data)} bytes is shorter than its header")
    h = header_struct.parse(data)
    total = h.mode_data_length + (2 if ten else 1)
    data = data[:max(header_size, min(len(data), total))]
    bd_end = header_size + h.block_descriptor_length
    descriptors = data[header_size:bd_end]
    density = block_length = blocks = 0
    if len(descriptors) >= 8 and not (ten and h.longlba.longlba):
        bd = BlockDescriptor.parse(descriptors)
        density, block_length, blocks = bd.density_code, bd.block_length, bd.number_of_blocks
    ds = h.device_specific
    return ModeData(ModeParameters(medium_type=h.medium_type, write_protected=ds.wp,
                                   buffered_mode=ds.buffered_mode, speed=ds.speed, density_code=density,
                                   block_length=block_length, number_of_blocks=blocks),
                    descriptors, data[bd_end:])


def find_page(pages: bytes, page_code: int) -> bytes | None:
    """One page_0-format page (code and length bytes included) out of a run of pages."""
    pos = 0
    while pos + 2 <= len(pages):
        code = pages[pos] & 0x3F
        if pages[pos] & 0x40:                       # SPF: sub-page format, 2-byte length
            length = 4 + int.from_bytes(pages[pos + 2:pos + 4], "big")
        else:
            length = 2 + pages[pos + 1]
        if code == page_code and not pages[pos] & 0x40:
            return pages[pos:pos + length]
        pos += length
    return None


def partition_page(current: dict, count: int, sizes: list[int]) -> bytes:
    """A medium partition page for MODE SELECT: `count` partitions of `sizes` (in GB, SIZE_REST
    for the rest), built from the page the drive reported (`current`, parsed) so that bits we do
    not set (POFM, CLEAR, ADDP, medium format recognition) keep the drive's values.

    IDP=1 (initiator-defined partitions), PSUM=11b with partition units 9 (10**9 bytes), PS cleared
    (reserved in MODE SELECT).
    """
    if len(sizes) != count:
        raise ValueError(f"{count} partitions need {count} sizes, not {len(sizes)}")
    flags = dict(current["flags"])
    flags.update(fdp=False, sdp=False, idp=True, psum=PSUM_UNITS)
    slots = max(len(current["sizes"]), count)
    padded = list(sizes) + [0] * (slots - count)
    return MediumPartitionPage.build({
        "head": {"ps": False, "spf": False, "page_code": MEDIUM_PARTITION_PAGE},
        "page_length": 6 + 2 * slots,
        "max_additional_partitions": current["max_additional_partitions"],
        "additional_partitions_defined": count - 1,
        "flags": flags,
        "medium_format_recognition": current["medium_format_recognition"],
        "units": {"partition_units": 9},
        "sizes": padded,
        "extra": b"",
    })


def mode_select_header10(medium_type: int, device_specific: dict, block_descriptors: bytes) -> bytes:
    """The MODE SELECT(10) header: mode data length 0 (reserved in MODE SELECT), WP cleared
    (ignored by the drive), buffered mode and speed kept as reported."""
    ds = dict(device_specific)
    ds["wp"] = False
    return ModeHeader10.build({"mode_data_length": 0, "medium_type": medium_type, "device_specific": ds,
                               "longlba": {"longlba": False},
                               "block_descriptor_length": len(block_descriptors)}) + block_descriptors
