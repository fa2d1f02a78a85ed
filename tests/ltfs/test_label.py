"""VOL1 and LTFS label records, checked against cartridges the reference wrote."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lto_archive.errors import CorruptArchive, ExitCode, UsageError
from lto_archive.formats.ltfs.label import (
    LABEL_MAX_SIZE,
    VOL1_SIZE,
    Label,
    build_vol1,
    parse_vol1,
    partition_letter,
    partition_number,
)
from lto_archive.formats.ltfs.times import TIME_MAX_NS, TIME_MIN_NS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference"
CARTRIDGES = {"two-sessions-lto5": "FIX001", "crashed-before-unmount-lto5": "FIX002", "empty-lto9": "LT9001"}
REFERENCE_LABEL = (FIXTURES / "two-sessions-lto5" / "0_2_R").read_bytes()


# --- partitions -------------------------------------------------------------------

def test_partition_mapping() -> None:
    assert [partition_letter(0), partition_letter(1)] == ["a", "b"]
    assert [partition_number("a"), partition_number("b")] == [0, 1]
    for bad in (-1, 2):
        with pytest.raises(ValueError):
            partition_letter(bad)
    for letter in ("c", "A", "", "ab"):
        with pytest.raises(ValueError):
            partition_number(letter)


# --- VOL1 -------------------------------------------------------------------------

@pytest.mark.parametrize(("cartridge", "serial"), CARTRIDGES.items())
@pytest.mark.parametrize("partition", [0, 1])
def test_fixture_vol1(cartridge: str, serial: str, partition: int) -> None:
    record = (FIXTURES / cartridge / f"{partition}_0_R").read_bytes()
    assert parse_vol1(record) == serial
    assert build_vol1(serial) == record           # byte for byte what the reference writes


def test_vol1_layout() -> None:
    record = build_vol1("ABC123")
    assert len(record) == VOL1_SIZE
    assert record[0:4] == b"VOL1" and record[4:10] == b"ABC123" and record[10:11] == b"L"
    assert record[24:28] == b"LTFS" and record[79:80] == b"4"
    assert record[11:24] + record[28:79] == b" " * (13 + 51)


def test_vol1_without_serial() -> None:
    record = build_vol1(None)
    assert record[4:10] == b" " * 6
    assert parse_vol1(record) is None


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=6))
def test_vol1_round_trip(serial: str) -> None:
    assert parse_vol1(build_vol1(serial)) == serial


@pytest.mark.parametrize("serial", ["abc123", "ABC12", "ABC1234", "", "ABC 12", "ÄBC123", "ABC-12",
                                    "FIX001L5", 123456])
def test_bad_serial_is_a_usage_error(serial: object) -> None:
    with pytest.raises(UsageError, match="6 characters") as caught:
        build_vol1(serial)  # type: ignore[arg-type]
    assert caught.value.exit_code == ExitCode.USAGE


def _vol1_with(offset: int, data: bytes) -> bytes:
    record = bytearray(build_vol1("FIX001"))
    record[offset:offset + len(data)] = data
    return bytes(record)


@pytest.mark.parametrize("record", [
    b"",
    build_vol1("FIX001")[:79],
    build_vol1("FIX001") + b" ",
    b"\x00" * 80,
    _vol1_with(0, b"HDR1"),                 # another ANSI label
    _vol1_with(24, b"    "),                # a VOL1, but not LTFS
    _vol1_with(4, b"fix001"),               # lowercase serial
    _vol1_with(4, b"FIX 01"),
    _vol1_with(4, b"\xffIX001"),
    (b"ustar" + b"\x00" * 10240)[:80],
])
def test_bad_vol1_is_corrupt(record: bytes) -> None:
    with pytest.raises(CorruptArchive) as caught:
        parse_vol1(record)
    assert caught.value.exit_code == ExitCode.ARCHIVE


def test_vol1_filler_is_not_checked_like_the_reference() -> None:
    # The reference checks only "LTFS" at 24 (and the serial); we read what it reads.
    assert parse_vol1(_vol1_with(10, b"X") + b"") == "FIX001"
    assert parse_vol1(_vol1_with(79, b"3")) == "FIX001"


# --- the reference's labels -------------------------------------------------------------

@pytest.mark.parametrize("cartridge", CARTRIDGES)
def test_fixture_labels(cartridge: str) -> None:
    raw_a = (FIXTURES / cartridge / "0_2_R").read_bytes()
    raw_b = (FIXTURES / cartridge / "1_2_R").read_bytes()
    a, b = Label.from_xml(raw_a), Label.from_xml(raw_b)
    assert (a.partition, b.partition) == ("a", "b")
    for label in (a, b):
        assert label.creator == "IBM LTFS 2.4.8.4 (Prelim) - Linux - mkltfs"
        assert (label.index_partition, label.data_partition) == ("a", "b")
        assert label.blocksize == 524288
        assert label.compression is True
        assert label.version == "2.4.0"
    assert a.volume_uuid == b.volume_uuid
    assert a.format_time_ns == b.format_time_ns
    assert a.with_partition("b") == b and b.with_partition("a") == a
    # Our XML for the reference's labels is byte-identical to what it wrote: same
    # declaration, element order, 4-space indent and final newline. No differences.
    assert a.to_xml() == raw_a
    assert b.to_xml() == raw_b


def test_fixture_label_values() -> None:
    label = Label.from_xml(REFERENCE_LABEL)
    assert label.volume_uuid == "f491fee7-64cd-44c9-b4fd-f6b844bc74fb"
    assert label.format_time_ns == 1_795_360_178_982_613_461     # 2026-11-22T15:09:38.982613461Z


# --- round trip ---------------------------------------------------------------------

creators = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"),
                   max_size=200).filter(lambda s: not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", s))
uuids = st.uuids().map(str)
labels = st.builds(
    Label,
    creator=creators,
    format_time_ns=st.integers(min_value=TIME_MIN_NS, max_value=TIME_MAX_NS),
    volume_uuid=uuids,
    partition=st.sampled_from(["a", "b"]),
    blocksize=st.integers(min_value=4096, max_value=2**31),
    compression=st.booleans(),
    version=st.sampled_from(["2.4.0", "2.2.0", "1.0", "1.0.0", "2.99.99"]),
)


@given(labels)
def test_label_round_trip(label: Label) -> None:
    data = label.to_xml()
    assert len(data) <= LABEL_MAX_SIZE
    assert Label.from_xml(data) == label


def test_default_label_is_what_we_write() -> None:
    label = Label(creator="lto-archive 0.1.0 - Linux - format", format_time_ns=0,
                  volume_uuid="f491fee7-64cd-44c9-b4fd-f6b844bc74fb", partition="a")
    data = label.to_xml()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ltfslabel version="2.4.0">\n')
    assert b"<blocksize>524288</blocksize>" in data and b"<compression>true</compression>" in data
    assert Label.from_xml(data) == label


def test_creator_with_markup_and_carriage_return_round_trips() -> None:
    label = Label.from_xml(REFERENCE_LABEL)
    odd = Label(**{**label.__dict__, "creator": "a & b <c> \r\n\t"})
    assert Label.from_xml(odd.to_xml()) == odd


def test_too_long_creator_is_refused() -> None:
    label = Label.from_xml(REFERENCE_LABEL)
    with pytest.raises(ValueError, match="4096"):
        Label(**{**label.__dict__, "creator": "x" * 4000}).to_xml()


@pytest.mark.parametrize(("field", "value"), [
    ("partition", "c"), ("partition", "A"), ("index_partition", "b"), ("blocksize", 0),
    ("volume_uuid", "F491FEE7-64CD-44C9-B4FD-F6B844BC74FB"), ("volume_uuid", "x"),
    ("version", "3.0.0"), ("format_time_ns", TIME_MAX_NS + 1), ("creator", "a\x01"),
    ("compression", 1),
])
def test_invalid_label_fields_are_bugs(field: str, value: object) -> None:
    label = Label.from_xml(REFERENCE_LABEL)
    with pytest.raises(ValueError):
        Label(**{**label.__dict__, field: value})


def test_small_blocksize_is_read_but_not_written() -> None:
    small = REFERENCE_LABEL.replace(b"524288", b"1024")
    label = Label.from_xml(small)                     # the reference reads any size > 0
    assert label.blocksize == 1024
    with pytest.raises(ValueError, match="4096"):
        label.to_xml()


# --- what the reference accepts that we must read too ---------------------------------

@pytest.mark.parametrize("version", ["1.0", "1.0.0", "2.0.0", "2.2.0", "2.4.0", "2.99.99"])
def test_accepted_versions(version: str) -> None:
    data = REFERENCE_LABEL.replace(b'version="2.4.0"', f'version="{version}"'.encode())
    assert Label.from_xml(data).version == version


def test_other_element_order_unknown_elements_and_uppercase_uuid_are_read() -> None:
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<ltfslabel version="2.4.0">'
            b"<compression>false</compression><blocksize>262144</blocksize>"
            b"<partitions><data>b</data><index>a</index></partitions>"
            b"<vendorthing>x</vendorthing>"
            b"<location><partition>b</partition></location>"
            b"<volumeuuid>F491FEE7-64CD-44C9-B4FD-F6B844BC74FB</volumeuuid>"
            b"<formattime>2026-11-22T15:09:38.982613461Z</formattime>"
            b"<creator>other</creator></ltfslabel>")
    label = Label.from_xml(data)
    assert label == Label(creator="other", format_time_ns=1_795_360_178_982_613_461,
                          volume_uuid="f491fee7-64cd-44c9-b4fd-f6b844bc74fb", partition="b",
                          blocksize=262144, compression=False)


def test_label_without_declaration_is_read() -> None:
    data = REFERENCE_LABEL.split(b"\n", 1)[1]
    assert Label.from_xml(data) == Label.from_xml(REFERENCE_LABEL)


# --- what must be refused -----------------------------------------------------------------

def _without(element: bytes) -> bytes:
    data = re.sub(rb"\s*<" + element + rb">.*?</" + element + rb">", b"", REFERENCE_LABEL, flags=re.S)
    assert data != REFERENCE_LABEL
    return data


def _replace(old: bytes, new: bytes) -> bytes:
    assert old in REFERENCE_LABEL
    return REFERENCE_LABEL.replace(old, new)


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                  b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><ltfslabel version="2.4.0">'
                  b"<creator>&b;</creator></ltfslabel>")


@pytest.mark.parametrize(("data", "why"), [
    (_without(b"creator"), "<creator> is missing"),
    (_without(b"formattime"), "<formattime> is missing"),
    (_without(b"volumeuuid"), "<volumeuuid> is missing"),
    (_without(b"location"), "<location/partition> is missing"),
    (_without(b"partition"), "<location/partition> is missing"),
    (_without(b"partitions"), "<partitions/index> is missing"),
    (_without(b"index"), "<partitions/index> is missing"),
    (_without(b"data"), "<partitions/data> is missing"),
    (_without(b"blocksize"), "<blocksize> is missing"),
    (_without(b"compression"), "<compression> is missing"),
    (_replace(b"<blocksize>524288</blocksize>", b"<blocksize>524288</blocksize><blocksize>1</blocksize>"),
     "2 times"),
    (_replace(b"<creator>", b"<creator><b>bold</b>"), "holds other elements"),
    (_replace(b".982613461Z", b"Z"), "no fraction"),
    (_replace(b"2026-11-22T", b"2026-11-31T"), "does not exist"),
    (_replace(b"f491fee7-64cd", b"f491fee7_64cd"), "not a UUID"),
    (_replace(b"524288", b"0"), "positive whole number"),
    (_replace(b"524288", b"-1"), "positive whole number"),
    (_replace(b"524288", b"512k"), "positive whole number"),
    (_replace(b"<compression>true", b"<compression>yes"), "not true or false"),
    (_replace(b"<partition>a</partition>", b"<partition>A</partition>"), "partition letter"),
    (_replace(b"<partition>a</partition>", b"<partition>ab</partition>"), "partition letter"),
    (_replace(b"<partition>a</partition>", b"<partition>c</partition>"), "neither the index nor the data"),
    (_replace(b"<data>b</data>", b"<data>a</data>"), "both 'a'"),
    (_replace(b'version="2.4.0"', b'version="3.0.0"'), "'3.0.0'"),
    (_replace(b'version="2.4.0"', b'version="0.9.0"'), "'0.9.0'"),
    (_replace(b'version="2.4.0"', b'version="2.4"'), "'2.4'"),
    (_replace(b'version="2.4.0"', b'version="1.0.0beta"'), "'1.0.0beta'"),
    (_replace(b'version="2.4.0"', b'version="2.100.0"'), "'2.100.0'"),
    (_replace(b' version="2.4.0"', b""), "no version attribute"),
    (_replace(b"<ltfslabel", b"<ltfsindex").replace(b"</ltfslabel>", b"</ltfsindex>"), "<ltfsindex>"),
    (_replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), "ISO-8859-1"),
    (_replace(b"IBM", b"\xe9BM"), "not valid UTF-8"),
    (REFERENCE_LABEL[:-20], "not well-formed XML"),
    (b"", "not well-formed XML"),
    (b"\x00" * 80, "not well-formed XML"),
    (build_vol1("FIX001"), "not well-formed XML"),
    (BILLION_LAUGHS, "DTD or entity"),
    (_replace(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
              b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><!DOCTYPE ltfslabel SYSTEM \"file:///etc/passwd\">"),
     "DTD or entity"),
    (_replace(b"IBM", b"x" * 5000), "at most 4096"),
])
def test_bad_labels_are_corrupt(data: bytes, why: str) -> None:
    with pytest.raises(CorruptArchive) as caught:
        Label.from_xml(data)
    assert why in str(caught.value)
    assert "LTFS label" in str(caught.value)
    assert caught.value.exit_code == ExitCode.ARCHIVE
