"""Parsers of the answers: real tgt bytes, hand-built bytes from the spec layouts, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.generations import GENERATIONS
from lto_archive.tape import mam
from lto_archive.tape.scsi.drives import generation_of
from lto_archive.tape.scsi.responses import (DensityDescriptorData, LongPositionData, build_attribute_list,
                                             parse_attributes, parse_block_limits, parse_density_support,
                                             parse_inquiry, parse_long_position, parse_unit_serial)

from . import examples as ex


def test_tgt_inquiry():
    inq = parse_inquiry(ex.TGT_INQUIRY)
    assert (inq.vendor, inq.product, inq.revision) == ("IBM", "ULT3580-TD9", "Q3F0")
    assert inq.is_tape and inq.generation is GENERATIONS["LTO-9"]
    assert str(inq) == "IBM ULT3580-TD9 Q3F0, LTO-9"


def test_inquiry_too_short():
    with pytest.raises(ValueError):
        parse_inquiry(ex.TGT_INQUIRY[:35])


def test_tgt_unit_serial():
    assert parse_unit_serial(ex.TGT_UNIT_SERIAL) == "beaf11"
    with pytest.raises(ValueError):
        parse_unit_serial(bytes.fromhex("01 00 00 02 80 83"))          # supported-pages page, not 0x80


@pytest.mark.parametrize("vendor,product,gen", [
    ("IBM", "ULT3580-TD5", "LTO-5"), ("IBM", "ULTRIUM-HH6", "LTO-6"), ("IBM", "HH LTO Gen 7", "LTO-7"),
    ("IBM", "ULT3580-TD8", "LTO-8"), ("IBM", "ULT3580-HH9", "LTO-9"), ("IBM", "ULT3580-TDA", "LTO-10"),
    ("HP", "Ultrium 5-SCSI", "LTO-5"), ("HPE", "Ultrium 9-SCSI", "LTO-9"),
    ("QUANTUM", "ULTRIUM-HH8", "LTO-8"), ("QUANTUM", "ULTRIUM 6", "LTO-6"),
    ("TANDBERG", "LTO-6 HH", "LTO-6"),
    ("IBM", "03592E08", None), ("IBM", "ULT3580-TD4X", None), ("SEAGATE", "ST3000DM001", None),
    ("HP", "Ultrium 3000", None),
])
def test_generation_from_product_id(vendor, product, gen):
    g = generation_of(vendor, product)
    assert (g.name if g else None) == gen


def test_tgt_read_position_stub_sets_a_reserved_bit():
    pos, reserved = parse_long_position(ex.TGT_READ_POSITION_LONG)
    assert reserved == 0x20 and pos.block == 0


def test_long_position_fields():
    pos, reserved = parse_long_position(ex.LONG_POSITION_P1)
    assert reserved == 0
    assert (pos.partition, pos.block, pos.file_number, pos.set_number) == (1, 0x1234, 3, 0)
    assert (pos.bop, pos.eop, pos.bpew, pos.mpu, pos.lonu) == (False, False, True, False, False)
    pos, _ = parse_long_position(ex.LONG_POSITION_BOP)
    assert pos.bop and pos.block == 0
    pos, _ = parse_long_position(ex.LONG_POSITION_EOP_MPU)
    assert pos.eop and pos.mpu and pos.block == 0x10000 and not pos.bop
    pos, _ = parse_long_position(ex.LONG_POSITION_LONU)
    assert pos.lonu


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1),
       st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_long_position_round_trip(bop, eop, mpu, lonu, bpew, part, block, files):
    raw = LongPositionData.build({"flags": {"bop": bop, "eop": eop, "reserved_hi": 0, "mpu": mpu, "lonu": lonu,
                                            "reserved_lo": False, "bpew": bpew},
                                  "partition": part, "block": block, "file_number": files, "set_number": 0})
    assert len(raw) == 32
    pos, reserved = parse_long_position(raw)
    assert reserved == 0
    assert (pos.bop, pos.eop, pos.mpu, pos.lonu, pos.bpew, pos.partition, pos.block, pos.file_number) == (
        bop, eop, mpu, lonu, bpew, part, block, files)


def test_tgt_block_limits():
    b = parse_block_limits(ex.TGT_BLOCK_LIMITS)
    assert (b.minimum, b.maximum, b.granularity) == (4, 1024 * 1024, 9)


def test_density_support_two_descriptors():
    d8, d9 = parse_density_support(ex.DENSITY_SUPPORT_TWO)
    assert (d9.primary_density_code, d9.secondary_density_code) == (0x60, 0x60)
    assert d9.writable and d9.default and not d9.duplicate
    assert (d9.bits_per_mm, d9.media_width_mm, d9.tracks, d9.capacity_mb) == (21000, 12.7, 8960, 18_000_000)
    assert (d9.assigning_organization, d9.name, d9.description) == ("LTO-CVE", "U-832", "Ultrium 9/16T")
    assert d8.primary_density_code == 0x5E and d8.writable and not d8.default and d8.capacity_mb == 12_000_000


def test_density_support_ignores_a_cut_descriptor_and_bytes_past_available_length():
    assert len(parse_density_support(ex.DENSITY_SUPPORT_TWO[:4 + 52 + 20])) == 1
    one = bytes.fromhex("00 36 00 00") + ex.LTO9_DENSITY_DESCRIPTOR + ex.LTO8_DENSITY_DESCRIPTOR
    assert [d.primary_density_code for d in parse_density_support(one)] == [0x60]


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.lists(st.tuples(st.integers(0, 255), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1),
                          st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/ ", max_size=20).map(str.rstrip)),
                max_size=5))
def test_density_support_round_trip(entries):
    body = b"".join(DensityDescriptorData.build({
        "primary_density_code": code, "secondary_density_code": code,
        "flags": {"wrtok": wrtok, "dup": False, "deflt": deflt, "dlv": False}, "descriptor_length": 0,
        "bits_per_mm": 1, "media_width": 127, "tracks": 2, "capacity": cap, "assigning_organization": "LTO-CVE",
        "density_name": "U-1", "description": desc}) for code, wrtok, deflt, cap, desc in entries)
    parsed = parse_density_support((len(body) + 2).to_bytes(2, "big") + b"\0\0" + body)
    assert [(d.primary_density_code, d.writable, d.default, d.capacity_mb, d.description) for d in parsed] == \
        list(entries)


def test_read_attribute_barcode():
    attrs, available = parse_attributes(ex.BARCODE_ATTRIBUTE)
    assert available == 37
    assert len(attrs) == 1 and attrs[0].id == mam.BARCODE and attrs[0].kind == mam.ASCII
    assert attrs[0].text() == "LTA001L9"


def test_read_attribute_cut_attribute_left_out():
    data = ex.BARCODE_ATTRIBUTE + bytes.fromhex("08 07 02 00 50") + b"host"       # says 80 bytes, has 4
    data = (len(data) - 4 + 76).to_bytes(4, "big") + data[4:]
    attrs, available = parse_attributes(data)
    assert [a.id for a in attrs] == [mam.BARCODE] and available == len(data) - 4 + 76


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.sampled_from([0, 1, 2, 0x81]), st.binary(max_size=40)),
                max_size=6))
def test_attribute_list_round_trip(items):
    attrs, available = parse_attributes(build_attribute_list(items))
    assert [(a.id, a.fmt, a.value) for a in attrs] == items
    assert available == sum(5 + len(v) for _, _, v in items)
