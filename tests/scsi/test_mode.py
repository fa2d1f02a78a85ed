"""Mode parameter header, block descriptor and the medium partition page 0x11."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.tape.scsi.mode import (SIZE_REST, MediumPartitionPage, ModeHeader6, ModeHeader10, find_page,
                                        parse_mode_data, partition_page)

from . import examples as ex


def test_tgt_mode_sense6_and_10():
    for raw, ten in ((ex.TGT_MODE_SENSE6, False), (ex.TGT_MODE_SENSE10, True)):
        h = parse_mode_data(raw, ten=ten).header
        assert (h.density_code, h.block_length, h.write_protected, h.buffered_mode, h.medium_type) == (
            0, 0, False, 1, 0)


def test_lto9_write_protected_and_fixed_block_lto8():
    h = parse_mode_data(ex.LTO9_MODE_SENSE6_WP, ten=False).header
    assert (h.density_code, h.write_protected, h.block_length) == (0x60, True, 0)
    h = parse_mode_data(ex.LTO8_MODE_SENSE6_FIXED, ten=False).header
    assert (h.density_code, h.write_protected, h.block_length) == (0x5E, False, 256 * 1024)


def test_no_block_descriptor_means_density_zero():
    h = parse_mode_data(bytes.fromhex("03 00 10 00"), ten=False).header
    assert h.density_code == 0


def test_short_header_refused():
    with pytest.raises(ValueError):
        parse_mode_data(b"\x00\x00", ten=False)


def test_partition_page_from_lto_sense():
    md = parse_mode_data(ex.LTO_PARTITION_PAGE_SENSE, ten=True)
    page = find_page(md.pages, 0x11)
    assert page == bytes.fromhex("11 0a 01 00 1c 03 09 00 ff ff 00 00")
    p = MediumPartitionPage.parse(page)
    assert (p.max_additional_partitions, p.additional_partitions_defined, p.flags.psum, p.flags.pofm,
            p.units.partition_units, list(p.sizes)) == (1, 0, 3, True, 9, [0xFFFF, 0])


def test_partition_page_for_ltfs_layout():
    current = MediumPartitionPage.parse(bytes.fromhex("11 0a 01 00 1c 03 09 00 ff ff 00 00"))
    assert partition_page(current, 2, [1, SIZE_REST]) == bytes.fromhex("11 0a 01 01 3c 03 09 00 00 01 ff ff")
    assert partition_page(current, 1, [SIZE_REST]) == bytes.fromhex("11 0a 01 00 3c 03 09 00 ff ff 00 00")


def test_partition_page_grows_when_the_drive_reported_one_slot():
    current = MediumPartitionPage.parse(bytes.fromhex("91 08 03 00 18 03 09 00 ff ff"))   # PS set, one size
    assert partition_page(current, 2, [SIZE_REST, 100]) == bytes.fromhex("11 0a 03 01 38 03 09 00 ff ff 00 64")


def test_find_page_skips_other_pages_and_subpages():
    pages = bytes.fromhex("0f 02 aa bb" "4a 01 00 02 cc dd" "11 02 01 00")
    assert find_page(pages, 0x11) == bytes.fromhex("11 02 01 00")
    assert find_page(pages, 0x10) is None


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 255), st.booleans(), st.integers(0, 7), st.integers(0, 15), st.integers(0, 255),
       st.integers(0, 0xFFFFFF), st.integers(0, 0xFFFFFF), st.booleans())
def test_mode_data_round_trip(medium_type, wp, buffered, speed, density, blocks, length, ten):
    ds = {"wp": wp, "buffered_mode": buffered, "speed": speed}
    bd = bytes([density]) + blocks.to_bytes(3, "big") + b"\0" + length.to_bytes(3, "big")
    if ten:
        raw = ModeHeader10.build({"mode_data_length": 6 + 8, "medium_type": medium_type, "device_specific": ds,
                                  "longlba": {"longlba": False}, "block_descriptor_length": 8}) + bd
    else:
        raw = ModeHeader6.build({"mode_data_length": 3 + 8, "medium_type": medium_type, "device_specific": ds,
                                 "block_descriptor_length": 8}) + bd
    h = parse_mode_data(raw, ten=ten).header
    assert (h.medium_type, h.write_protected, h.buffered_mode, h.speed, h.density_code, h.number_of_blocks,
            h.block_length) == (medium_type, wp, buffered, speed, density, blocks, length)


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 63), st.integers(0, 63), st.lists(st.integers(0, 0xFFFF), max_size=64), st.integers(0, 3),
       st.integers(0, 15))
def test_partition_page_round_trip(max_add, defined, sizes, psum, units):
    value = {"head": {"ps": False, "spf": False, "page_code": 0x11}, "page_length": 6 + 2 * len(sizes),
             "max_additional_partitions": max_add, "additional_partitions_defined": defined,
             "flags": {"fdp": False, "sdp": False, "idp": True, "psum": psum, "pofm": False, "clear": False,
                       "addp": False},
             "medium_format_recognition": 3, "units": {"partition_units": units}, "sizes": sizes, "extra": b""}
    raw = MediumPartitionPage.build(value)
    p = MediumPartitionPage.parse(raw)
    assert (p.max_additional_partitions, p.additional_partitions_defined, p.flags.psum, p.units.partition_units,
            list(p.sizes)) == (max_add, defined, psum, units, sizes)
    assert MediumPartitionPage.build(p) == raw
