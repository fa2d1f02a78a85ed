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


# --- READ ELEMENT STATUS ------------------------------------------------------------------------------

def test_tgt_element_status_with_tags_and_identifiers():
    from lto_archive.tape.scsi.responses import parse_element_status
    d2, d3 = parse_element_status(ex.TGT_ELEMENT_STATUS_VOLTAG_DVCID)
    assert (d2.element_type, d2.address, d2.full, d2.primary_tag, d2.source_address) == (4, 2, False, None, None)
    assert d2.identifier.complete and d2.identifier.serial == "beaf11"
    assert d2.identifier.text == "IBM     ULT3580-TD9     beaf11"
    assert (d3.address, d3.full, d3.primary_tag, d3.source_address) == (3, True, "LTA001L9", 1000)
    # tgt sent 8 bytes fewer than it announced: the identifier is cut short and names nothing
    assert d3.identifier.complete is False and d3.identifier.serial is None
    assert d3.identifier.text == "IBM     ULT3580-TD9     be"


def test_tgt_element_status_as_sg_io_delivers_it():
    from lto_archive.tape.scsi.responses import parse_element_status
    d2, d3 = parse_element_status(ex.TGT_ELEMENT_STATUS_VOLTAG_DVCID_AS_READ)
    assert d2.identifier.serial == "beaf11" and d3.primary_tag == "LTA001L9"
    # nothing shows the cut any more: the identifier reads as the serial "be" (drive_map.cut_short copes)
    assert d3.identifier.complete and d3.identifier.serial == "be"


def test_tgt_element_status_without_tags_and_without_dvcid():
    from lto_archive.tape.scsi.responses import parse_element_status
    d2, d3 = parse_element_status(ex.TGT_ELEMENT_STATUS_DVCID)
    assert (d2.address, d2.identifier.serial, d3.address, d3.identifier.complete) == (2, "beaf11", 3, False)
    # no DVCID: 4 zero bytes after the fixed ones (an identifier of length 0: none); element 3 cut under 12 bytes
    assert [(e.address, e.identifier) for e in parse_element_status(ex.TGT_ELEMENT_STATUS_PLAIN)] == [(2, None)]


def test_element_status_both_tags_binary_and_vendor_specific_identifiers():
    from lto_archive.tape.scsi.responses import parse_element_status
    tags = (True, True)
    naa = bytes.fromhex("5000e11156304003")
    data = ex.element_status(4, [
        ex.drive_element(0x100, full=True, source=0x400, primary="ABC123L8", alternate="ALT", tags=tags,
                         identifier=b"IBM     ULT3580-TD8     1013000123"),
        ex.drive_element(0x101, tags=tags, identifier=naa, code_set=1, id_type=3),
        ex.drive_element(0x102, tags=tags, identifier=b"HU19487T8K ", id_type=0),
        ex.drive_element(0x103, tags=tags),                          # no identifier (length 0)
    ], pvoltag=True, avoltag=True)
    a, b, c, d = parse_element_status(data)
    assert (a.address, a.full, a.source_address, a.primary_tag, a.alternate_tag) == (0x100, True, 0x400,
                                                                                      "ABC123L8", "ALT")
    assert a.identifier.serial == "1013000123"
    assert b.identifier.value == naa and b.identifier.text is None and b.identifier.serial is None
    assert c.identifier.serial == "HU19487T8K" and d.identifier is None


def test_element_status_longer_descriptors_and_short_pages():
    from lto_archive.tape.scsi.responses import parse_element_status
    # descriptors padded beyond the identifier (a library's fixed descriptor length): stepped by the length
    data = ex.element_status(4, [ex.drive_element(2, identifier=b"S1"), ex.drive_element(3, identifier=b"S2")],
                             size=64)
    assert [e.identifier.serial for e in parse_element_status(data)] == ["S1", "S2"]
    # an identifier longer than its descriptor: incomplete
    bad = ex.element_status(4, [ex.drive_element(2, identifier=b"SERIAL0001")], size=12 + 4 + 4)
    assert parse_element_status(bad)[0].identifier.complete is False
    with pytest.raises(ValueError):
        parse_element_status(b"\x00\x02\x00")
    with pytest.raises(ValueError, match="descriptor length 8"):
        parse_element_status(bytes.fromhex("0002 0001 00 000010" "04 00 0008 00 000008") + bytes(8))


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.lists(st.tuples(st.booleans(), st.text(alphabet="ABCDEFGHJK0123456789", min_size=1, max_size=20)),
                min_size=1, max_size=8), st.booleans(), st.booleans(), st.integers(0, 40))
def test_element_status_round_trip_any_tags_and_padding(drives, pvoltag, avoltag, pad):
    from lto_archive.tape.scsi.responses import parse_element_status
    descs = [ex.drive_element(10 + i, full=full, primary=f"T{i:05d}L9" if full else None, tags=(pvoltag, avoltag),
                              identifier=b"IBM     ULT3580-TD9     " + serial.encode())
             for i, (full, serial) in enumerate(drives)]
    size = max(len(d) for d in descs) + pad
    elements = parse_element_status(ex.element_status(4, descs, pvoltag=pvoltag, avoltag=avoltag, size=size))
    assert [e.address for e in elements] == [10 + i for i in range(len(drives))]
    assert [e.identifier.serial for e in elements] == [s for _, s in drives]
    assert [e.full for e in elements] == [f for f, _ in drives]
    assert [e.primary_tag for e in elements] == [f"T{i:05d}L9" if f and pvoltag else None
                                                  for i, (f, _) in enumerate(drives)]
