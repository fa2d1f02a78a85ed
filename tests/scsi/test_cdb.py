"""CDB builders, byte for byte against SPC-4 / SSC-4 layouts, and build/parse round trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.tape.scsi import cdb

H = bytes.fromhex


def test_inquiry_standard_and_vpd():
    assert cdb.inquiry(96) == H("12 00 00 00 60 00")
    assert cdb.inquiry(255, page=0x80) == H("12 01 80 00 ff 00")
    assert cdb.inquiry(0x1234) == H("12 00 00 12 34 00")       # allocation length is 16-bit (SPC-4)


def test_read_position_long_form():
    assert cdb.read_position() == H("34 06 00 00 00 00 00 00 00 00")
    assert cdb.read_position(cdb.SHORT_FORM_BLOCK_ID) == H("34 00 00 00 00 00 00 00 00 00")


def test_locate16_sets_change_partition_and_big_block_numbers():
    assert cdb.locate16(1, 0x0102030405060708) == H("92 02 00 01 01 02 03 04 05 06 07 08 00 00 00 00")
    assert cdb.locate16(0, 5, change_partition=False, immed=True) == H("92 01 00 00" "00 00 00 00 00 00 00 05"
                                                                       "00 00 00 00")


def test_mode_sense_and_select():
    assert cdb.mode_sense6(0x00, allocation_length=12) == H("1a 00 00 00 0c 00")
    assert cdb.mode_sense6(0x11, pc=cdb.PC_CHANGEABLE, dbd=True) == H("1a 08 51 00 ff 00")
    assert cdb.mode_sense10(0x11, allocation_length=1024) == H("5a 00 11 00 00 00 00 04 00 00")
    assert cdb.mode_select10(28) == H("55 10 00 00 00 00 00 00 1c 00")
    assert cdb.mode_select6(12) == H("15 10 00 00 0c 00")


def test_format_medium_rewind_block_limits_tur():
    assert cdb.format_medium() == H("04 00 01 00 00 00")
    assert cdb.format_medium(cdb.FORMAT_DEFAULT, immed=True) == H("04 01 00 00 00 00")
    assert cdb.rewind() == H("01 00 00 00 00 00")
    assert cdb.read_block_limits() == H("05 00 00 00 00 00")
    assert cdb.test_unit_ready() == H("00 00 00 00 00 00")


def test_report_density_support():
    assert cdb.report_density_support(media=True, allocation_length=0x0d04) == H("44 01 00 00 00 00 00 0d 04 00")
    assert cdb.report_density_support(media=False, allocation_length=64) == H("44 00 00 00 00 00 00 00 40 00")


def test_read_and_write_attribute():
    assert cdb.read_attribute(1, 0x0806, allocation_length=1024) == H("8c 00 00 00 00 00 00 01 08 06"
                                                                       "00 00 04 00 00 00")
    assert cdb.write_attribute(0, 37) == H("8d 01 00 00 00 00 00 00 00 00 00 00 00 25 00 00")


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 255), st.integers(0, 2**64 - 1), st.booleans(), st.booleans())
def test_locate16_round_trip(partition, block, cp, immed):
    p = cdb.Locate16Cdb.parse(cdb.locate16(partition, block, change_partition=cp, immed=immed))
    assert (p.partition, p.logical_identifier, p.flags.cp, p.flags.immed) == (partition, block, cp, immed)
    assert p.flags.dest_type == 0 and p.flags2.bam is False


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 255), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1))
def test_read_attribute_round_trip(partition, first, alloc):
    raw = cdb.read_attribute(partition, first, allocation_length=alloc)
    assert len(raw) == 16
    p = cdb.ReadAttributeCdb.parse(raw)
    assert (p.partition, p.first_attribute, p.allocation_length, p.flags.service_action) == (
        partition, first, alloc, cdb.ATTRIBUTE_VALUES)


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 63), st.integers(0, 3), st.integers(0, 255), st.integers(0, 0xFFFF), st.booleans())
def test_mode_sense10_round_trip(page, pc, subpage, alloc, dbd):
    p = cdb.ModeSense10Cdb.parse(cdb.mode_sense10(page, allocation_length=alloc, pc=pc, subpage=subpage, dbd=dbd))
    assert (p.page.page_code, p.page.pc, p.subpage_code, p.allocation_length, p.flags.dbd) == (
        page, pc, subpage, alloc, dbd)


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 0xFFFF), st.booleans())
def test_report_density_round_trip(alloc, media):
    p = cdb.ReportDensitySupportCdb.parse(cdb.report_density_support(media=media, allocation_length=alloc))
    assert (p.allocation_length, p.flags.media) == (alloc, media)


def test_read_element_status_as_sent_to_tgt():
    # the CDBs sg_raw sent to tapevm's changer (docs/scsi.md): drives, DVCID, with and without VOLTAG/CURDATA
    assert cdb.read_element_status(allocation_length=4096) == bytes.fromhex("b8 04 00 00 ff ff 03 00 10 00 00 00")
    assert cdb.read_element_status(allocation_length=4096, voltag=True, curdata=False) == bytes.fromhex(
        "b8 14 00 00 ff ff 01 00 10 00 00 00")
    assert cdb.read_element_status(cdb.ELEMENT_STORAGE, starting_address=1000, number_of_elements=3,
                                   allocation_length=0x10000, dvcid=False, curdata=False) == bytes.fromhex(
        "b8 02 03 e8 00 03 00 01 00 00 00 00")
    assert cdb.NAMES[cdb.READ_ELEMENT_STATUS] == "READ ELEMENT STATUS"


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 4), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 2**24 - 1),
       st.booleans(), st.booleans(), st.booleans())
def test_read_element_status_round_trip(etype, start, count, alloc, voltag, dvcid, curdata):
    raw = cdb.read_element_status(etype, starting_address=start, number_of_elements=count, allocation_length=alloc,
                                  voltag=voltag, dvcid=dvcid, curdata=curdata)
    assert len(raw) == 12 and raw[0] == 0xB8 and raw[10] == 0 and raw[11] == 0
    p = cdb.ReadElementStatusCdb.parse(raw)
    assert (p.flags.element_type, p.flags.voltag, p.starting_address, p.number_of_elements, p.allocation_length,
            p.flags2.dvcid, p.flags2.curdata) == (etype, voltag, start, count, alloc, dvcid, curdata)
