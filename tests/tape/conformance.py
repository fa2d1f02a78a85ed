"""The one conformance suite every TapeDevice passes.

It checks only the rules of the TapeDevice interface (lto_archive/tape/device.py),
nothing particular to one target, so the virtual tape, the Linux st driver and
a real drive all run it. To run it on a target, subclass `TapeConformance` in a
test module and provide the `factory` fixture:

    class TestMyTape(TapeConformance):
        @pytest.fixture
        def factory(self, tmp_path):
            return MyFactory(tmp_path)

A factory gives fresh blank writable devices. Tests that need knobs a real
drive lacks (a tiny capacity, a write-protected cartridge, two partitions) ask
the factory for them; the base `DeviceFactory` skips those tests.
"""

from __future__ import annotations

import os

import pytest

from lto_archive.errors import DeviceError, EndOfData, EndOfMedium, NoMedium, WriteProtected
from lto_archive.tape.device import MAX_RECORD, TapeDevice, WriteFlags


class DeviceFactory:
    """What the suite needs from a target. Override what the target can do."""

    def blank(self) -> TapeDevice:
        """A fresh, blank, writable, single-partition device (or partition 0 of a larger one)."""
        raise NotImplementedError

    def two_partitions(self) -> TapeDevice:
        """A fresh blank device with two partitions."""
        pytest.skip("this target cannot give a two-partition cartridge")

    def small(self, capacity: int) -> TapeDevice:
        """A fresh blank single-partition device holding about `capacity` bytes."""
        pytest.skip("this target cannot set its capacity")

    def write_protected(self) -> TapeDevice:
        """A device whose cartridge is write-protected."""
        pytest.skip("this target cannot give a write-protected cartridge")

    def max_record(self) -> int:
        """Largest record the target accepts (Linux st often caps at 1 MiB)."""
        return 1024 * 1024

    def min_record(self) -> int:
        """Smallest record the target accepts (READ BLOCK LIMITS; the tapevm emulator takes 4 bytes)."""
        return 1


def record(i: int, size: int = 1000) -> bytes:
    """Distinct, recognisable record contents."""
    head = f"record {i:08d} ".encode()
    return (head * (size // len(head) + 1))[:size]


def short(name: str) -> bytes:
    """A small named record of 4 bytes or more (the smallest some drives take; READ BLOCK LIMITS)."""
    return name.encode().ljust(4, b".")


def read_all(dev: TapeDevice, limit: int = 10_000) -> list[bytes]:
    """Read from here to EOD: records as bytes, filemarks as b""."""
    out = []
    for _ in range(limit):
        try:
            out.append(dev.read_record())
        except EndOfData:
            return out
    raise AssertionError("no EOD after many reads")


class TapeConformance:
    """The interface rules. Subclasses provide the `factory` fixture."""

    @pytest.fixture
    def factory(self) -> DeviceFactory:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def dev(self, factory: DeviceFactory):
        d = factory.blank()
        yield d
        d.close()

    # --- writing and reading back -------------------------------------------------
    def test_blank_device_is_at_bop_and_eod(self, dev):
        pos = dev.position()
        assert (pos.partition, pos.block) == (0, 0)
        assert pos.bop and pos.eod
        with pytest.raises(EndOfData):
            dev.read_record()
        assert dev.position().block == 0

    def test_records_and_filemarks_round_trip(self, dev, factory):
        small = factory.min_record()
        dev.write_record(record(0))
        dev.write_record(record(1, 5000))
        dev.write_filemarks(1)
        dev.write_record(record(2, small))
        dev.write_filemarks(2)
        dev.write_record(record(3, 70000))
        dev.rewind()
        assert read_all(dev) == [record(0), record(1, 5000), b"", record(2, small), b"", b"", record(3, 70000)]

    def test_write_returns_writeflags(self, dev):
        flags = dev.write_record(record(0))
        assert isinstance(flags, WriteFlags)
        assert flags == WriteFlags.NONE
        assert isinstance(dev.write_filemarks(1), WriteFlags)

    def test_accepts_bytes_bytearray_memoryview(self, dev):
        data = record(7, 4096)
        dev.write_record(data)
        dev.write_record(bytearray(data))
        dev.write_record(memoryview(data))
        dev.write_record(memoryview(bytearray(data))[100:200])
        dev.rewind()
        assert read_all(dev) == [data, data, data, data[100:200]]

    def test_smallest_and_large_records(self, dev, factory):
        big = os.urandom(factory.max_record())
        smallest = b"x" * factory.min_record()
        dev.write_record(smallest)
        dev.write_record(big)
        dev.rewind()
        assert dev.read_record() == smallest
        assert dev.read_record(len(big)) == big

    def test_empty_record_is_refused(self, dev):
        with pytest.raises(Exception):
            dev.write_record(b"")
        assert dev.position().block == 0

    def test_oversized_record_is_refused(self, dev):
        with pytest.raises(Exception):
            dev.write_record(bytes(MAX_RECORD + 1))
        assert dev.position().block == 0

    def test_read_at_filemark_returns_empty_and_moves_past_it(self, dev):
        dev.write_record(record(0))
        dev.write_filemarks(1)
        dev.write_record(record(1))
        dev.locate(0, 1)
        assert dev.read_record() == b""
        pos = dev.position()
        assert pos.block == 2 and pos.file_number == 1
        assert dev.read_record() == record(1)

    def test_end_of_data_does_not_move(self, dev):
        dev.write_record(record(0))
        dev.write_filemarks(1)
        before = dev.position()
        assert before.eod
        for _ in range(3):
            with pytest.raises(EndOfData):
                dev.read_record()
        after = dev.position()
        assert (after.partition, after.block, after.eod) == (before.partition, before.block, True)

    # --- overwriting -------------------------------------------------------------------
    def test_write_in_the_middle_discards_the_rest(self, dev):
        for i in range(5):
            dev.write_record(record(i))
        dev.write_filemarks(1)
        dev.locate(0, 2)
        dev.write_record(record(99))
        pos = dev.position()
        assert pos.block == 3 and pos.eod
        dev.rewind()
        assert read_all(dev) == [record(0), record(1), record(99)]

    def test_filemark_in_the_middle_discards_the_rest(self, dev):
        for i in range(4):
            dev.write_record(record(i))
        dev.locate(0, 1)
        dev.write_filemarks(1)
        assert dev.position().eod
        dev.rewind()
        assert read_all(dev) == [record(0), b""]

    def test_overwrite_at_block_zero_empties_the_partition(self, dev):
        for i in range(3):
            dev.write_record(record(i))
        dev.rewind()
        dev.write_record(record(42))
        dev.rewind()
        assert read_all(dev) == [record(42)]

    def test_seek_eod_appends(self, dev):
        dev.write_record(record(0))
        dev.write_filemarks(1)
        dev.rewind()
        dev.seek_eod()
        pos = dev.position()
        assert pos.block == 2 and pos.eod
        dev.write_record(record(1))
        dev.write_filemarks(1)
        dev.rewind()
        assert read_all(dev) == [record(0), b"", record(1), b""]

    # --- moving ----------------------------------------------------------------------
    def test_locate_and_rewind(self, dev):
        for i in range(6):
            dev.write_record(record(i))
        for b in (4, 0, 5, 2):
            dev.locate(0, b)
            assert dev.position().block == b
            assert dev.read_record() == record(b)
        dev.locate(0, 6)
        assert dev.position().eod
        dev.rewind()
        pos = dev.position()
        assert (pos.partition, pos.block, pos.bop) == (0, 0, True)
        assert dev.read_record() == record(0)

    def test_position_flags_and_file_number(self, dev):
        dev.write_record(record(0))      # 0
        dev.write_filemarks(1)           # 1
        dev.write_record(record(1))      # 2
        dev.write_filemarks(1)           # 3
        dev.write_record(record(2))      # 4
        expected = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 5: 2}
        for b, fileno in expected.items():
            dev.locate(0, b)
            pos = dev.position()
            assert pos.block == b
            assert pos.bop == (b == 0)
            assert pos.eod == (b == 5)
            if pos.file_number is not None:
                assert pos.file_number == fileno

    def test_space_filemarks_forward(self, dev):
        # r0 F r1 r2 F r3 F
        for item in ("r0", "F", "r1", "r2", "F", "r3", "F"):
            dev.write_filemarks(1) if item == "F" else dev.write_record(short(item))
        dev.rewind()
        dev.space_filemarks(1)
        assert dev.position().block == 2
        assert dev.read_record() == short("r1")
        dev.space_filemarks(2)
        assert dev.position().block == 7
        dev.rewind()
        dev.space_filemarks(3)
        assert dev.position().block == 7 and dev.position().eod

    def test_space_filemarks_forward_past_last_raises_end_of_data_at_eod(self, dev):
        dev.write_record(short("a"))
        dev.write_filemarks(1)
        dev.write_record(short("b"))
        dev.rewind()
        with pytest.raises(EndOfData):
            dev.space_filemarks(2)
        assert dev.position().eod
        assert dev.position().block == 3

    def test_space_filemarks_backward_stops_before_the_filemark(self, dev):
        # r0 F r1 F r2
        for item in ("r0", "F", "r1", "F", "r2"):
            dev.write_filemarks(1) if item == "F" else dev.write_record(short(item))
        dev.seek_eod()
        dev.space_filemarks(-1)
        assert dev.position().block == 3
        assert dev.read_record() == b""          # the filemark itself
        assert dev.read_record() == short("r2")
        dev.seek_eod()
        dev.space_filemarks(-2)
        assert dev.position().block == 1
        dev.space_filemarks(1)
        assert dev.position().block == 2
        assert dev.read_record() == short("r1")

    def test_space_records(self, dev):
        # r0 r1 r2 F r3 r4
        for item in ("r0", "r1", "r2", "F", "r3", "r4"):
            dev.write_filemarks(1) if item == "F" else dev.write_record(short(item))
        dev.rewind()
        dev.space_records(2)
        assert dev.position().block == 2
        assert dev.read_record() == short("r2")
        dev.space_records(-2)
        assert dev.position().block == 1
        assert dev.read_record() == short("r1")
        dev.locate(0, 5)
        dev.space_records(-1)
        assert dev.position().block == 4
        assert dev.read_record() == short("r3")

    def test_space_records_forward_stops_before_a_filemark(self, dev):
        for item in ("r0", "r1", "F", "r2"):
            dev.write_filemarks(1) if item == "F" else dev.write_record(short(item))
        dev.rewind()
        try:
            dev.space_records(3)
        except DeviceError:
            pass                                   # a target may also report the filemark
        assert dev.position().block == 2
        assert dev.read_record() == b""

    # --- the cartridge -----------------------------------------------------------------
    def test_medium_describes_the_cartridge(self, dev):
        info = dev.medium()
        assert info.partitions == dev.partitions >= 1
        assert 0 <= info.remaining <= info.capacity
        assert not info.write_protected
        assert isinstance(info.density_code, int)
        assert info.drive_generation is not None and info.generation is not None

    def test_unload_then_load(self, dev):
        dev.write_record(record(0))
        dev.write_filemarks(1)
        dev.unload()
        with pytest.raises(NoMedium):
            dev.read_record()
        with pytest.raises(NoMedium):
            dev.write_record(b"x")
        dev.load()
        pos = dev.position()
        assert (pos.partition, pos.block) == (0, 0)
        assert read_all(dev) == [record(0), b""]

    def test_write_filemarks_zero_is_a_flush(self, dev):
        dev.write_record(record(0))
        dev.write_filemarks(0)
        assert dev.position().block == 1
        dev.write_filemarks(0, immediate=True)
        dev.write_filemarks(1, immediate=True)
        dev.rewind()
        assert read_all(dev) == [record(0), b""]

    # --- partitions ---------------------------------------------------------------------
    def test_two_partitions_are_independent(self, factory):
        dev = factory.two_partitions()
        try:
            assert dev.partitions == 2
            assert dev.medium().partitions == 2
            dev.locate(1, 0)
            assert dev.position().partition == 1
            dev.write_record(b"p1-a")
            dev.write_filemarks(1)
            dev.write_record(b"p1-b")
            dev.locate(0, 0)
            dev.write_record(b"p0-a")
            dev.write_filemarks(1)
            pos = dev.position()
            assert (pos.partition, pos.block, pos.eod) == (0, 2, True)
            dev.locate(1, 0)
            assert read_all(dev) == [b"p1-a", b"", b"p1-b"]
            assert dev.position().partition == 1
            dev.rewind()
            assert dev.position().partition == 0
            assert read_all(dev) == [b"p0-a", b""]
            # seek_eod works on the current partition
            dev.locate(1, 0)
            dev.seek_eod()
            pos = dev.position()
            assert (pos.partition, pos.block) == (1, 3)
            dev.write_record(b"p1-c")
            # overwriting on one partition leaves the other alone
            dev.locate(0, 0)
            dev.write_record(b"p0-new")
            dev.locate(1, 0)
            assert read_all(dev) == [b"p1-a", b"", b"p1-b", b"p1-c"]
        finally:
            dev.close()

    # --- knobs ---------------------------------------------------------------------------
    def test_capacity_early_warnings_then_end_of_medium(self, factory):
        rec = 64 * 1024
        dev = factory.small(64 * rec)
        try:
            seen = WriteFlags.NONE
            order = []
            written = 0
            with pytest.raises(EndOfMedium):
                for i in range(10_000):
                    flags = dev.write_record(record(i, rec))
                    written += 1
                    if flags and flags not in order:
                        order.append(flags)
                    seen |= flags
            assert WriteFlags.PROGRAMMABLE_EARLY_WARNING in seen
            assert WriteFlags.EARLY_WARNING in seen
            assert order[0] == WriteFlags.PROGRAMMABLE_EARLY_WARNING   # PEW comes first
            pos = dev.position()
            assert pos.block == written and pos.eod
            assert pos.early_warning and pos.programmable_early_warning
            # the failed record is not on tape
            dev.locate(0, written - 1)
            assert dev.read_record() == record(written - 1, rec)
            with pytest.raises(EndOfData):
                dev.read_record()
            # a smaller record may still fit; a filemark always closes the session
            dev.write_filemarks(1)
            assert dev.medium().remaining < rec
        finally:
            dev.close()

    def test_write_protected_refuses_every_write(self, factory):
        dev = factory.write_protected()
        try:
            assert dev.medium().write_protected
            before = dev.position()
            with pytest.raises(WriteProtected):
                dev.write_record(b"x")
            with pytest.raises(WriteProtected):
                dev.write_filemarks(1)
            assert dev.position() == before
        finally:
            dev.close()
