"""NullTape and VirtualTape share one block table: the same operations give the same positions,
flags and errors, and what a virtual cartridge's folder holds after reopening is what the table said."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import DeviceError, EndOfData, EndOfMedium, LtoArchiveError
from lto_archive.tape import NullTape, TapeDevice, VirtualTape, WriteFlags, create_vtape
from lto_archive.tape.blocks import RECORD_OVERHEAD, BlockTable, partition_capacities, warning_points

CAPACITY = 40_000           # partition 0: 2 000 bytes, partition 1: 38 000 (two partitions)
ZONES = {"early_warning_bytes": 300, "programmable_early_warning_bytes": 700}

ops = st.one_of(
    st.tuples(st.just("record"), st.integers(1, 2_500)),
    st.tuples(st.just("filemarks"), st.integers(0, 3)),
    st.tuples(st.just("locate"), st.integers(0, 1), st.integers(0, 30)),
    st.tuples(st.just("space_filemarks"), st.integers(-3, 3)),
    st.tuples(st.just("space_records"), st.integers(-5, 5)),
    st.tuples(st.just("seek_eod")),
    st.tuples(st.just("rewind")),
)


def apply(dev: TapeDevice, op: tuple) -> object:
    """What the operation returned (write flags, None) or the class of the error it raised."""
    name, *args = op
    try:
        if name == "record":
            return dev.write_record(bytes([7]) * args[0])
        if name == "filemarks":
            return dev.write_filemarks(args[0])
        return getattr(dev, name)(*args)
    except LtoArchiveError as exc:
        return type(exc)


def ends(dev: TapeDevice) -> list[tuple[object, ...]]:
    """Per partition: EOD address, filemarks before it, room left."""
    out = []
    for p in range(dev.partitions):
        dev.locate(p, 0)
        dev.seek_eod()
        pos = dev.position()
        out.append((pos.block, pos.file_number, dev.medium().remaining))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, max_size=30), st.sampled_from([1, 2]))
def test_null_and_virtual_tape_move_alike_and_the_folder_keeps_what_the_table_says(seq, partitions):
    null = NullTape(CAPACITY, partitions=partitions, **ZONES)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c"
        vt = create_vtape(path, "LTO-9", capacity=CAPACITY, partitions=partitions, **ZONES)
        for op in seq:
            assert apply(vt, op) == apply(null, op), op
            assert vt.position() == null.position(), op
        vt.close()
        with VirtualTape(path) as again:
            assert ends(again) == ends(null)


def test_table_positions_flags_and_errors():
    t = BlockTable(10_000, 1, describe=lambda: "cartridge T1", **ZONES)
    for n in (100, 200):
        assert t.write_record(n) == WriteFlags.NONE
    t.write_filemark()
    big = 9_100 - 5 * RECORD_OVERHEAD          # every record and filemark also costs RECORD_OVERHEAD
    assert t.write_record(big) == WriteFlags.PROGRAMMABLE_EARLY_WARNING
    assert t.write_record(500) == WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING
    assert (t.eod[0], t.used(0), t.charged(0), t.remaining(0), t.fms[0]) == (5, 9_900 - 5 * RECORD_OVERHEAD,
                                                                             9_900, 100, [2])
    assert t.is_filemark(0, 2) and not t.is_filemark(0, 3) and t.record_size(0, 3) == big
    t.check_room(100 - RECORD_OVERHEAD)
    with pytest.raises(EndOfMedium, match="cartridge T1 is full: partition 0 has 100 bytes left at block 5"):
        t.check_room(101 - RECORD_OVERHEAD)
    t.rewind()
    t.space_records(5)
    assert t.block == 2                       # a filemark stops the move, silently
    with pytest.raises(EndOfData, match="end of data on cartridge T1 after crossing 1 of 2 filemarks"):
        t.space_filemarks(2)
    assert t.position().eod and t.position().file_number == 1
    with pytest.raises(DeviceError, match="cartridge T1 has 1 partition"):
        t.locate(1, 0)
    t.locate(0, 1)
    t.write_filemark()                        # writing before EOD discards the rest
    assert (t.eod[0], t.fms[0], t.used(0)) == (2, [1], 100)
    assert list(t.objects(0, 0)) == [(0, False), (1, True)]


def test_unlimited_table_never_warns_and_capacities_split_as_the_reference():
    t = BlockTable(None, 2, describe=lambda: "the null device")
    t.part = 1
    assert t.write_record(4 * 1024 * 1024) == WriteFlags.NONE
    t.check_room(10**12)
    assert partition_capacities(1_000, 2) == [50, 950] and partition_capacities(1_000, 1) == [1_000]
    assert warning_points(10_000_000) == (10_000_000 - 2 * 100_000, 10_000_000 - 100_000)
