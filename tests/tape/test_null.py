"""NullTape: keeps nothing, but moves, counts and fills like a tape."""

from __future__ import annotations

import array

import pytest

from lto_archive.errors import DeviceError, EndOfData, EndOfMedium, NoMedium, UsageError
from lto_archive.tape import MAX_RECORD, NullTape, WriteFlags
from lto_archive.tape.blocks import RECORD_OVERHEAD


def test_counts_records_bytes_and_filemarks():
    t = NullTape()
    t.write_record(b"a" * 10)
    t.write_record(bytearray(20))
    t.write_record(memoryview(array.array("I", [1, 2, 3])))   # 12 bytes, 3 items
    t.write_filemarks(2)
    assert t.stats.records_written == 3
    assert t.stats.bytes_written == 42
    assert t.stats.filemarks_written == 2
    pos = t.position()
    assert (pos.block, pos.file_number, pos.eod) == (5, 2, True)


def test_reading_raises_end_of_data_without_moving():
    t = NullTape()
    t.write_record(b"x")
    t.rewind()
    with pytest.raises(EndOfData):
        t.read_record()
    assert t.position().block == 0


def test_record_size_limits():
    t = NullTape()
    with pytest.raises(UsageError):
        t.write_record(b"")
    with pytest.raises(UsageError):
        t.write_record(bytes(MAX_RECORD + 1))
    t.write_record(bytes(MAX_RECORD))


def test_positions_filemarks_and_overwrite():
    t = NullTape()
    for item in ("r", "F", "r", "r", "F", "r"):
        t.write_filemarks(1) if item == "F" else t.write_record(b"r")
    t.rewind()
    t.space_filemarks(2)
    assert t.position().block == 5
    t.space_filemarks(-1)
    assert t.position().block == 4
    t.rewind()
    t.space_records(5)
    assert t.position().block == 1            # stopped before the filemark
    t.locate(0, 3)
    t.space_records(-5)
    assert t.position().block == 2            # stopped after the filemark
    with pytest.raises(EndOfData):
        t.space_filemarks(3)
    assert t.position().eod and t.position().block == 6
    t.locate(0, 2)
    t.write_record(b"new")                     # discards 2..5
    pos = t.position()
    assert (pos.block, pos.eod, pos.file_number) == (3, True, 1)
    t.seek_eod()
    assert t.position().block == 3
    with pytest.raises(EndOfData):
        t.locate(0, 10)
    assert t.position().block == 3
    with pytest.raises(DeviceError):
        t.space_filemarks(-5)
    assert t.position().block == 0


def test_unlimited_by_default():
    t = NullTape()
    info = t.medium()
    assert info.capacity >= 2**62 and info.remaining >= 2**62
    assert t.write_record(bytes(1000)) == WriteFlags.NONE


def test_capacity_flags_and_end_of_medium():
    rec = 64 * 1024
    t = NullTape(capacity=64 * rec)
    flags = [t.write_record(bytes(rec - RECORD_OVERHEAD)) for _ in range(64)]   # each costs rec
    assert flags[:62] == [WriteFlags.NONE] * 62
    assert flags[62] == WriteFlags.PROGRAMMABLE_EARLY_WARNING
    assert flags[63] == WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING
    with pytest.raises(EndOfMedium):
        t.write_record(b"x")
    assert t.position().block == 64
    assert t.stats.records_written == 64
    assert t.medium().remaining == 0


def test_two_partitions():
    t = NullTape(capacity=1000, partitions=2)
    assert t.partitions == 2
    t.locate(1, 0)
    t.write_record(bytes(950 - RECORD_OVERHEAD))
    with pytest.raises(EndOfMedium):
        t.write_record(bytes(1))
    t.locate(0, 0)
    t.write_record(bytes(50 - RECORD_OVERHEAD))
    with pytest.raises(EndOfMedium):
        t.write_record(bytes(1))
    with pytest.raises(DeviceError):
        NullTape().locate(1, 0)


def test_unload_load():
    t = NullTape()
    t.write_record(b"x")
    t.unload()
    with pytest.raises(NoMedium):
        t.write_record(b"x")
    t.load()
    assert t.position().block == 0
    t.seek_eod()
    assert t.position().block == 1
