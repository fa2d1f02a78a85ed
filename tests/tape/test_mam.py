from __future__ import annotations

import pytest

from lto_archive.errors import UsageError
from lto_archive.tape import mam


def test_encode_decode_round_trip():
    raw = mam.encode(mam.BARCODE, mam.ASCII, mam.ascii_value("LT9001", 32))
    assert raw == b"\x08\x06\x01\x00\x20" + b"LT9001".ljust(32)
    attr = mam.decode(raw)
    assert (attr.id, attr.kind, attr.text()) == (mam.BARCODE, mam.ASCII, "LT9001")
    assert not attr.read_only
    assert mam.decode(mam.encode(1, mam.BINARY | mam.READ_ONLY_FLAG, b"\x00" * 8)).read_only


def test_decode_list():
    a = mam.encode(mam.APPLICATION_VENDOR, mam.ASCII, b"IBM     ")
    b = mam.encode(mam.VOLUME_CHANGE_REFERENCE, mam.BINARY, (7).to_bytes(4, "big"))
    attrs = mam.decode_list(a + b)
    assert [x.id for x in attrs] == [0x0800, 0x0009]
    assert attrs[1].number() == 7


def test_damaged():
    with pytest.raises(ValueError):
        mam.decode(b"\x08\x06")
    with pytest.raises(ValueError):
        mam.decode(b"\x08\x06\x01\x00\x20abc")


def test_ascii_value_checks():
    with pytest.raises(UsageError):
        mam.ascii_value("x" * 9, 8)
    with pytest.raises(UsageError):
        mam.ascii_value("é", 8)
    with pytest.raises(UsageError):
        mam.ascii_value("tab\t", 8)


def test_names_and_filenames():
    assert mam.name_of(0x0806) == "barcode"
    assert mam.name_of(0x1234) == "attribute 0x1234"
    assert mam.filename(0, 0x80C) == "attr_0_80c"
    assert mam.filename(1, 9) == "attr_1_9"


def test_reference_fixture_attribute_files(fixtures_root):
    d = fixtures_root / "empty-lto9"
    assert mam.decode((d / "attr_0_800").read_bytes()).text() == "IBM"
    assert mam.decode((d / "attr_0_802").read_bytes()).text() == "2.4.8.4"
    assert mam.decode((d / "attr_0_805").read_bytes()).number() == 0x81
    assert mam.decode((d / "attr_0_1623").read_bytes()).value == b"\x00"
    coh = mam.VolumeCoherency.decode_value(mam.decode((d / "attr_0_80c").read_bytes()).value)
    assert coh.application.startswith(b"LTFS\x00") and coh.application.endswith(b"\x00\x01")


@pytest.fixture
def fixtures_root():
    from pathlib import Path
    return Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference"
