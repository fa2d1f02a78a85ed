"""The null target: a TapeDevice that keeps nothing, as fast as a device can be.

It counts records, bytes and filemarks, and tracks positions, EOD, filemark
addresses and capacity exactly like a tape would, so a job runs unchanged
against it; benchmarks use it to tell pipeline cost from device cost. Data is
discarded, so `read_record` always raises EndOfData (without moving).
"""

from __future__ import annotations

from ..errors import EndOfData, NoMedium, UsageError
from ..generations import GENERATIONS, Generation
from .blocks import UNLIMITED, BlockTable
from .device import MAX_RECORD, MediumInfo, Position, TapeDevice, WriteFlags, record_length
from .speed import TapeStats

__all__ = ["NullTape", "UNLIMITED"]


class NullTape(TapeDevice):
    """NullTape(capacity=None): unlimited unless a capacity in bytes is given.

    With a capacity it reports the early warnings and EndOfMedium a virtual
    tape of that size would (same default zones). `partitions=2` gives partition
    0 five percent of the capacity, as on a virtual tape.
    """

    name = "null"
    keeps_data = False

    def __init__(self, capacity: int | None = None, *, partitions: int = 1,
                 generation: Generation | None = None,
                 early_warning_bytes: int | None = None,
                 programmable_early_warning_bytes: int | None = None) -> None:
        if partitions not in (1, 2):
            raise UsageError(f"a cartridge has 1 or 2 partitions, not {partitions}")
        if capacity is not None and capacity < 1:
            raise UsageError(f"capacity must be at least 1 byte, not {capacity}")
        self.generation = generation or GENERATIONS["LTO-9"]
        self.capacity = capacity
        self._table = BlockTable(capacity, partitions, describe=lambda: "the null device",
                                 early_warning_bytes=early_warning_bytes,
                                 programmable_early_warning_bytes=programmable_early_warning_bytes)
        self.stats = TapeStats()
        self._loaded = True

    def _check(self) -> None:
        if not self._loaded:
            raise NoMedium("no cartridge loaded in the null device: load it first")

    def write_record(self, data: bytes | bytearray | memoryview) -> WriteFlags:
        if not self._loaded:
            self._check()
        n = record_length(data)
        table = self._table
        table.check_room(n)
        flags = table.write_record(n)
        st = self.stats
        st.records_written += 1
        st.bytes_written += n
        return flags

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        self._check()
        if count < 0:
            raise UsageError(f"cannot write {count} filemarks", count=count)
        table = self._table
        for _ in range(count):
            table.write_filemark()
        self.stats.filemarks_written += count
        return table.flags()

    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        self._check()
        raise EndOfData("the null device keeps no data: there is nothing to read",
                        partition=self._table.part, block=self._table.block)

    def rewind(self) -> None:
        self._check()
        self._table.rewind()

    def locate(self, partition: int, block: int) -> None:
        self._check()
        self._table.locate(partition, block)

    def position(self) -> Position:
        self._check()
        return self._table.position()

    def space_filemarks(self, count: int) -> None:
        self._check()
        self._table.space_filemarks(count)

    def space_records(self, count: int) -> None:
        self._check()
        self._table.space_records(count)

    def seek_eod(self) -> None:
        self._check()
        self._table.seek_eod()

    @property
    def partitions(self) -> int:
        return self._table.partitions

    def medium(self) -> MediumInfo:
        self._check()
        total = UNLIMITED if self.capacity is None else self.capacity
        return MediumInfo(generation=self.generation, drive_generation=self.generation,
                          density_code=self.generation.density_code, barcode=None,
                          partitions=self._table.partitions, capacity=total,
                          remaining=self._table.remaining(self._table.part),
                          write_protected=False)

    def load(self) -> None:
        self._loaded = True
        self._table.rewind()

    def unload(self) -> None:
        self._check()
        self._loaded = False
        self._table.rewind()

    def close(self) -> None:
        pass
