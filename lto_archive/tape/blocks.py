"""The block table: what a tape holds, address by address, and where the head is.

A partition is a sequence of objects numbered from 0 (records and filemarks,
see device.py); end of data (EOD) is the first unused address. `BlockTable`
keeps, per partition, the bytes of records before every address, the filemark
addresses and EOD, with the capacity and early-warning points, plus the head
(partition, block). It does the position arithmetic of the TapeDevice rules
once (locate, spacing over records and filemarks, EOD, early warnings) for
every device that keeps its own table: NullTape (nothing else) and
VirtualTape (which also stores the records in a folder).

What an object costs: an LTO drive packs variable-length records into its data
sets without padding, so a record takes its own length plus a small fixed
overhead (its boundary and CRC entries), and a filemark takes that overhead
alone. The model charges `RECORD_OVERHEAD` bytes per object (record or filemark)
on top of the record's bytes: room left, early warnings and end of medium all
follow the charged bytes (`charged`), and a writer estimates its room with
`record_cost` / `records_cost`, never with whole blocks.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator

from ..errors import DeviceError, EndOfData, EndOfMedium, UsageError
from .device import Position, WriteFlags

KiB = 1024
MIN_ZONE = 64 * KiB
P0_SHARE_PERCENT = 5     # as the LTFS reference: partition 0 gets 5 % of a 2-partition cartridge
UNLIMITED = 2**63 - 1
RECORD_OVERHEAD = 32     # bytes charged per record or filemark beyond its data (modelled, errs high)


def record_cost(n: int) -> int:
    """Bytes of tape an n-byte record takes (n = 0: a filemark)."""
    return n + RECORD_OVERHEAD


def records_cost(size: int, record_size: int) -> int:
    """Bytes of tape `size` bytes take cut into records of `record_size` (the last one short, no padding)."""
    return size + -(-size // record_size) * RECORD_OVERHEAD


def warning_points(partition_capacity: int, early_warning_bytes: int | None = None,
                   programmable_early_warning_bytes: int | None = None) -> tuple[int, int]:
    """(PEW point, EW point) in bytes from the start of a partition.

    Zones are measured back from the end of the partition. Defaults: the EW zone
    is max(1 % of the partition, 64 KiB); the PEW zone is twice the EW zone. The
    PEW zone is never smaller than the EW zone and neither exceeds the partition.
    """
    ew = early_warning_bytes if early_warning_bytes is not None else max(partition_capacity // 100, MIN_ZONE)
    pew = programmable_early_warning_bytes if programmable_early_warning_bytes is not None else 2 * ew
    ew = min(max(ew, 0), partition_capacity)
    pew = min(max(pew, ew), partition_capacity)
    return partition_capacity - pew, partition_capacity - ew


def partition_capacities(capacity: int, partitions: int) -> list[int]:
    """Bytes of each partition of a cartridge of `capacity` bytes (1 or 2 partitions)."""
    if partitions == 1:
        return [capacity]
    p0 = capacity * P0_SHARE_PERCENT // 100
    return [p0, capacity - p0]


class BlockTable:
    """Records, filemarks and EOD of each partition, the room left, and the head.

    `capacity` None means unlimited (no early warnings, never full). `describe()`
    names the medium in messages ("cartridge LTA001L9", "the null device").
    """

    def __init__(self, capacity: int | None, partitions: int, *, describe: Callable[[], str],
                 early_warning_bytes: int | None = None,
                 programmable_early_warning_bytes: int | None = None) -> None:
        self.partitions = partitions
        self.describe = describe
        if capacity is None:
            self.cap = [UNLIMITED] * partitions
            self.pew = [UNLIMITED] * partitions
            self.ew = [UNLIMITED] * partitions
        else:
            self.cap = partition_capacities(capacity, partitions)
            points = [warning_points(c, early_warning_bytes, programmable_early_warning_bytes) for c in self.cap]
            self.pew = [p for p, _ in points]
            self.ew = [e for _, e in points]
        self.eod = [0] * partitions
        self.cum: list[array] = [array("Q", [0]) for _ in range(partitions)]   # bytes before each address
        self.fms: list[list[int]] = [[] for _ in range(partitions)]            # filemark addresses, sorted
        self.part = 0
        self.block = 0

    # --- what the tape holds --------------------------------------------------------
    def add_record(self, p: int, size: int) -> None:
        """Append a record of `size` bytes at EOD of partition p (the head does not move)."""
        cum = self.cum[p]
        cum.append(cum[-1] + size)
        self.eod[p] += 1

    def add_filemark(self, p: int) -> None:
        """Append a filemark at EOD of partition p (the head does not move)."""
        self.fms[p].append(self.eod[p])
        cum = self.cum[p]
        cum.append(cum[-1])
        self.eod[p] += 1

    def truncate(self, p: int, b: int) -> None:
        """Forget addresses b..EOD-1 of partition p: EOD becomes b."""
        fms = self.fms[p]
        del fms[bisect_left(fms, b):]
        del self.cum[p][b + 1:]
        self.eod[p] = b

    def objects(self, p: int, start: int) -> Iterator[tuple[int, bool]]:
        """(address, is a filemark) of partition p from `start` up to EOD, in order."""
        fms = self.fms[p]
        marks = set(fms[bisect_left(fms, start):])
        for addr in range(start, self.eod[p]):
            yield addr, addr in marks

    def is_filemark(self, p: int, b: int) -> bool:
        fms = self.fms[p]
        i = bisect_left(fms, b)
        return i < len(fms) and fms[i] == b

    def record_size(self, p: int, b: int) -> int:
        cum = self.cum[p]
        return cum[b + 1] - cum[b]

    def used(self, p: int) -> int:
        """Bytes of records on partition p up to its EOD."""
        return self.cum[p][self.eod[p]]

    def charged(self, p: int, b: int | None = None) -> int:
        """Bytes of tape the objects of partition p before address b (default EOD) take:
        their records' bytes plus RECORD_OVERHEAD for each record and filemark."""
        if b is None:
            b = self.eod[p]
        return self.cum[p][b] + b * RECORD_OVERHEAD

    def remaining(self, p: int) -> int:
        """Bytes left on partition p after its EOD."""
        return max(0, self.cap[p] - self.charged(p))

    # --- writing at the head ----------------------------------------------------------
    def after_record(self, n: int) -> int:
        """Bytes used on the head's partition once an n-byte record is written at the head."""
        return self.cum[self.part][self.block] + n

    def check_room(self, n: int) -> None:
        """Raise EndOfMedium unless an n-byte record fits at the head."""
        p, b = self.part, self.block
        before = self.charged(p, b)
        if before + record_cost(n) > self.cap[p]:
            raise EndOfMedium(f"{self.describe()} is full: partition {p} has {self.cap[p] - before} bytes left "
                              f"at block {b}; the {n}-byte record was not written", partition=p, block=b, size=n)

    def write_record(self, n: int) -> WriteFlags:
        """Put an n-byte record at the head (discarding anything after it) and move past it."""
        p, b = self.part, self.block
        if b != self.eod[p]:
            self.truncate(p, b)
        cum = self.cum[p]
        cum.append(cum[-1] + n)
        self.block = self.eod[p] = b + 1
        return self.flags()

    def write_filemark(self) -> None:
        """Put a filemark at the head (discarding anything after it) and move past it."""
        p, b = self.part, self.block
        if b != self.eod[p]:
            self.truncate(p, b)
        self.add_filemark(p)
        self.block = b + 1

    def flags(self) -> WriteFlags:
        """The early warnings at the head."""
        p = self.part
        used = self.charged(p, self.block)
        if used > self.pew[p]:
            if used > self.ew[p]:
                return WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING
            return WriteFlags.PROGRAMMABLE_EARLY_WARNING
        return WriteFlags.NONE

    # --- moving the head --------------------------------------------------------------
    def position(self) -> Position:
        p, b = self.part, self.block
        used = self.charged(p, b)
        return Position(partition=p, block=b, file_number=bisect_left(self.fms[p], b), bop=b == 0,
                        eod=b == self.eod[p], early_warning=used > self.ew[p],
                        programmable_early_warning=used > self.pew[p])

    def rewind(self) -> None:
        self.part = 0
        self.block = 0

    def seek_eod(self) -> None:
        self.block = self.eod[self.part]

    def check_address(self, partition: int, block: int) -> None:
        """Raise unless (partition, block) may be located to (a block past EOD may)."""
        if block < 0:
            raise UsageError(f"block {block} is not a tape address", block=block)
        if not 0 <= partition < self.partitions:
            raise DeviceError(f"{self.describe()} has {self.partitions} partition(s): there is no partition "
                              f"{partition}", partition=partition, partitions=self.partitions)

    def locate(self, partition: int, block: int) -> None:
        """Go to `block` of `partition`; past EOD: stop at EOD and raise EndOfData."""
        self.check_address(partition, block)
        self.part = partition
        eod = self.eod[partition]
        if block > eod:
            self.block = eod
            raise EndOfData(f"cannot locate to partition {partition} block {block} of {self.describe()}: "
                            f"end of data is at block {eod}", partition=partition, block=block, eod=eod)
        self.block = block

    def space_filemarks(self, count: int) -> None:
        """TapeDevice.space_filemarks on the table."""
        if count == 0:
            return
        p = self.part
        fms = self.fms[p]
        i = bisect_left(fms, self.block)
        if count > 0:
            j = i + count - 1
            if j < len(fms):
                self.block = fms[j] + 1
                return
            self.block = self.eod[p]
            raise EndOfData(f"end of data on {self.describe()} after crossing {len(fms) - i} of "
                            f"{count} filemarks", partition=p, crossed=len(fms) - i)
        back = -count
        if i >= back:
            self.block = fms[i - back]
            return
        self.block = 0
        raise DeviceError(f"beginning of partition {p} reached after crossing {i} of {back} filemarks "
                          f"backward", partition=p, crossed=i)

    def space_records(self, count: int) -> None:
        """TapeDevice.space_records on the table: a filemark stops the move silently,
        EOD (forward) raises EndOfData and BOP (backward) DeviceError."""
        if count == 0:
            return
        p, b = self.part, self.block
        fms = self.fms[p]
        eod = self.eod[p]
        i = bisect_left(fms, b)
        if count > 0:
            limit = fms[i] if i < len(fms) else eod
            self.block = min(b + count, limit)
            if b + count > limit and limit == eod:
                raise EndOfData(f"end of data on {self.describe()} after spacing {limit - b} of "
                                f"{count} records", partition=p, spaced=limit - b)
            return
        floor = fms[i - 1] + 1 if i > 0 else 0
        self.block = max(b + count, floor)
        if b + count < floor and i == 0:
            raise DeviceError(f"beginning of partition {p} reached after spacing {b} of {-count} records "
                              f"backward", partition=p, spaced=b)
