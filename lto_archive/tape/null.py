"""The null target: a TapeDevice that keeps nothing, as fast as a device can be.

It counts records, bytes and filemarks, and tracks positions, EOD, filemark
addresses and capacity exactly like a tape would, so a job runs unchanged
against it; benchmarks use it to tell pipeline cost from device cost. Data is
discarded, so `read_record` always raises EndOfData (without moving).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from ..errors import DeviceError, EndOfData, EndOfMedium, NoMedium, UsageError
from ..generations import GENERATIONS, Generation
from .device import MAX_RECORD, MediumInfo, Position, TapeDevice, WriteFlags, record_length
from .speed import TapeStats
from .vtape import partition_capacities, warning_points

UNLIMITED = 2**63 - 1


class NullTape(TapeDevice):
    """NullTape(capacity=None): unlimited unless a capacity in bytes is given.

    With a capacity it reports the early warnings and EndOfMedium a virtual
    tape of that size would (same default zones). `partitions=2` gives partition
    0 five percent of the capacity, as on a virtual tape.
    """

    name = "null"

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
        self._partitions = partitions
        if capacity is None:
            self._cap = [UNLIMITED] * partitions
            self._pew = [UNLIMITED] * partitions
            self._ew = [UNLIMITED] * partitions
        else:
            self._cap = partition_capacities(capacity, partitions)
            points = [warning_points(c, early_warning_bytes, programmable_early_warning_bytes) for c in self._cap]
            self._pew = [p for p, _ in points]
            self._ew = [e for _, e in points]
        self.stats = TapeStats()
        self._eod = [0] * partitions
        self._cum: list[array] = [array("Q", [0]) for _ in range(partitions)]   # bytes before each address
        self._fms: list[list[int]] = [[] for _ in range(partitions)]
        self._part = 0
        self._block = 0
        self._loaded = True

    def _check(self) -> None:
        if not self._loaded:
            raise NoMedium("no cartridge loaded in the null device: load it first")

    def _truncate(self, p: int, b: int) -> None:
        fms = self._fms[p]
        del fms[bisect_left(fms, b):]
        del self._cum[p][b + 1:]
        self._eod[p] = b

    def write_record(self, data: bytes | bytearray | memoryview) -> WriteFlags:
        if not self._loaded:
            self._check()
        n = record_length(data)
        p = self._part
        b = self._block
        cum = self._cum[p]
        after = cum[b] + n
        if after > self._cap[p]:
            raise EndOfMedium(f"null device is full: partition {p} has {self._cap[p] - cum[b]} bytes left; "
                              f"the {n}-byte record was not written", partition=p, block=b, size=n)
        if b != self._eod[p]:
            self._truncate(p, b)
        cum.append(after)
        self._block = self._eod[p] = b + 1
        st = self.stats
        st.records_written += 1
        st.bytes_written += n
        if after > self._pew[p]:
            if after > self._ew[p]:
                return WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING
            return WriteFlags.PROGRAMMABLE_EARLY_WARNING
        return WriteFlags.NONE

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        self._check()
        if count < 0:
            raise UsageError(f"cannot write {count} filemarks", count=count)
        p = self._part
        if count:
            b = self._block
            if b != self._eod[p]:
                self._truncate(p, b)
            cum = self._cum[p]
            for addr in range(b, b + count):
                self._fms[p].append(addr)
                cum.append(cum[-1])
            self._block = self._eod[p] = b + count
            self.stats.filemarks_written += count
        used = self._cum[p][self._block]
        flags = WriteFlags.NONE
        if used > self._pew[p]:
            flags |= WriteFlags.PROGRAMMABLE_EARLY_WARNING
        if used > self._ew[p]:
            flags |= WriteFlags.EARLY_WARNING
        return flags

    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        self._check()
        raise EndOfData("the null device keeps no data: there is nothing to read",
                        partition=self._part, block=self._block)

    def rewind(self) -> None:
        self._check()
        self._part = 0
        self._block = 0

    def locate(self, partition: int, block: int) -> None:
        self._check()
        if block < 0:
            raise UsageError(f"block {block} is not a tape address", block=block)
        if not 0 <= partition < self._partitions:
            raise DeviceError(f"the null device has {self._partitions} partition(s): there is no "
                              f"partition {partition}", partition=partition)
        self._part = partition
        eod = self._eod[partition]
        if block > eod:
            self._block = eod
            raise EndOfData(f"cannot locate to block {block}: end of data is at block {eod}",
                            partition=partition, block=block, eod=eod)
        self._block = block

    def position(self) -> Position:
        self._check()
        p = self._part
        b = self._block
        used = self._cum[p][b]
        return Position(partition=p, block=b, file_number=bisect_left(self._fms[p], b), bop=b == 0,
                        eod=b == self._eod[p], early_warning=used > self._ew[p],
                        programmable_early_warning=used > self._pew[p])

    def space_filemarks(self, count: int) -> None:
        self._check()
        if count == 0:
            return
        p = self._part
        fms = self._fms[p]
        i = bisect_left(fms, self._block)
        if count > 0:
            if i + count - 1 < len(fms):
                self._block = fms[i + count - 1] + 1
                return
            self._block = self._eod[p]
            raise EndOfData(f"end of data after crossing {len(fms) - i} of {count} filemarks", partition=p)
        if i >= -count:
            self._block = fms[i + count]
            return
        self._block = 0
        raise DeviceError(f"beginning of partition {p} reached after crossing {i} of {-count} filemarks",
                          partition=p)

    def space_records(self, count: int) -> None:
        self._check()
        if count == 0:
            return
        p = self._part
        b = self._block
        fms = self._fms[p]
        i = bisect_left(fms, b)
        if count > 0:
            limit = fms[i] if i < len(fms) else self._eod[p]
            self._block = min(b + count, limit)
            if b + count > limit and limit == self._eod[p]:
                raise EndOfData(f"end of data after spacing {limit - b} of {count} records", partition=p)
            return
        floor = fms[i - 1] + 1 if i > 0 else 0
        self._block = max(b + count, floor)
        if b + count < floor and i == 0:
            raise DeviceError(f"beginning of partition {p} reached after spacing {b} of {-count} records",
                              partition=p)

    def seek_eod(self) -> None:
        self._check()
        self._block = self._eod[self._part]

    @property
    def partitions(self) -> int:
        return self._partitions

    def medium(self) -> MediumInfo:
        self._check()
        p = self._part
        total = UNLIMITED if self.capacity is None else self.capacity
        return MediumInfo(generation=self.generation, drive_generation=self.generation,
                          density_code=self.generation.density_code, barcode=None,
                          partitions=self._partitions, capacity=total,
                          remaining=max(0, self._cap[p] - self._cum[p][self._eod[p]]),
                          write_protected=False)

    def load(self) -> None:
        self._loaded = True
        self._part = 0
        self._block = 0

    def unload(self) -> None:
        self._check()
        self._loaded = False
        self._part = 0
        self._block = 0

    def close(self) -> None:
        pass
