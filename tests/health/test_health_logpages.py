"""Log pages (tape/logpages.py): the bytes a drive sends, parsed; built and parsed back; never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import LtoArchiveError
from lto_archive.tape import logpages as lp
from lto_archive.tape.logpages import LogPageError, build_page, build_tapealert, parse_page

PROPS = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A write error counter page as an LTO drive sends it, written out by hand from SPC-4's tables:
# header (page 0x02, length 24), then three parameters: 0x0003 total corrected = 7 (4 bytes),
# 0x0006 total uncorrected = 1 (4 bytes), and vendor-specific 0x8000 (4 bytes).
WRITE_ERRORS_FROM_A_DRIVE = bytes.fromhex(
    "02000018"
    "0003" "60" "04" "00000007"
    "0006" "60" "04" "00000001"
    "8000" "60" "04" "0000abcd")


def test_a_drives_write_error_page():
    page = parse_page(WRITE_ERRORS_FROM_A_DRIVE, lp.WRITE_ERRORS)
    assert page.values == {"total_corrected": 7, "total_uncorrected": 1}
    assert page.unknown == {0x8000: bytes.fromhex("0000abcd")}


def test_the_wrong_page_is_refused():
    with pytest.raises(LogPageError, match="asked for log page 0x03"):
        parse_page(WRITE_ERRORS_FROM_A_DRIVE, lp.READ_ERRORS)


def test_a_truncated_page_is_refused():
    with pytest.raises(LogPageError, match="only 20 came"):
        parse_page(WRITE_ERRORS_FROM_A_DRIVE[:-4])


def test_tapealert_flags_and_their_names():
    page = parse_page(build_tapealert({4, 20}), lp.TAPE_ALERT)
    assert page.tapealert_flags == [4, 20]
    assert len(page.values) == 64
    assert lp.tapealert_flag(4) == {"flag": 4, "name": "media", "severity": "critical", "media": True,
                                    "cleaning": False}
    assert lp.tapealert_flag(20)["name"] == "clean now" and lp.tapealert_flag(20)["cleaning"]
    assert sorted(lp.TAPEALERT) == list(range(1, 65))


def test_volume_statistics_with_text_and_partitions():
    values = {"volume_mounts": 12, "lifetime_mb_written": 2 ** 40, "volume_barcode": "ABC123L9",
              "partition_remaining_to_early_warning_mb": {0: 1000, 1: 17_000_000}}
    data = build_page(lp.VOLUME_STATISTICS, values)
    assert data[:1] == b"\x17"
    assert parse_page(data, lp.VOLUME_STATISTICS).values == values


def test_supported_pages():
    data = build_page(lp.SUPPORTED_PAGES, {"pages": [0, 2, 3, 0x17, 0x2E]})
    assert lp.supported_pages(data) == [0, 2, 3, 0x17, 0x2E]


def test_the_cdb():
    cdb = lp.log_sense(0x2E, allocation_length=0x1000)
    assert cdb == bytes([0x4D, 0, 0x40 | 0x2E, 0, 0, 0, 0, 0x10, 0x00, 0])
    assert lp.LogSenseCdb.parse(cdb).page.page_code == 0x2E


def test_unknown_names_and_negative_counters_are_refused():
    with pytest.raises(LogPageError):
        build_page(lp.READ_ERRORS, {"no_such_counter": 1})
    with pytest.raises(LogPageError):
        build_page(lp.READ_ERRORS, {"total_uncorrected": -1})


def _values(page: int) -> st.SearchStrategy[dict]:
    names = lp.parameter_names(page)
    by_kind = {lp.INT: st.integers(0, 2 ** 64 - 1) if page != lp.TAPE_ALERT else st.integers(0, 255),
               lp.ASCII: st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=32),
               lp.PARTITIONS: st.dictionaries(st.integers(0, 3), st.integers(0, 2 ** 32 - 1), max_size=4)}
    return st.fixed_dictionaries({}, optional={name: by_kind[lp.parameter_kind(page, code)]
                                               for code, name in names.items()})


@PROPS
@given(st.sampled_from([lp.WRITE_ERRORS, lp.READ_ERRORS, lp.TAPE_ALERT, lp.VOLUME_STATISTICS,
                        lp.DEVICE_STATISTICS]).flatmap(lambda page: st.tuples(st.just(page), _values(page))),
       st.dictionaries(st.integers(0x8000, 0xFFFF), st.binary(max_size=16), max_size=3))
def test_build_then_parse_gives_the_values_back(page_values, unknown):
    page, values = page_values
    parsed = parse_page(build_page(page, values, unknown=unknown), page)
    assert parsed.values == values
    assert parsed.unknown == unknown


@PROPS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_a_page_or_our_error(data):
    try:
        page = parse_page(data)
    except LogPageError as exc:
        assert isinstance(exc, LtoArchiveError) and exc.message
        return
    assert page.page == data[0] & 0x3F


@PROPS
@given(st.sampled_from(lp.HEALTH_PAGES), st.binary(max_size=64), st.integers(0, 80))
def test_damaged_real_pages_give_a_page_or_our_error(page, noise, cut):
    good = build_page(page, {"volume_mounts": 3} if page == lp.VOLUME_STATISTICS else {})
    data = bytearray(build_tapealert({4}) if page == lp.TAPE_ALERT else good)
    for i, b in enumerate(noise):
        data[(i * 7 + cut) % len(data)] ^= b
    try:
        parse_page(bytes(data[:max(0, len(data) - cut % 9)]), page)
    except LogPageError:
        pass
