"""The one narrow interface every tape target implements.

Modelled on the LTFS reference's tape_ops table: a device moves records and
filemarks, knows where it is, and says so even when an operation fails. It
knows nothing of files or formats. Cartridge memory (MAM) lives behind the
separate optional `CartridgeMemory` interface.

Addresses: a partition holds a sequence of *objects* numbered from 0: records
and filemarks each take one address (as on LTO, where a filemark is a logical
object). End of data (EOD) is the first unused address.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from enum import IntFlag
from typing import Protocol, Self

from ..generations import Generation

MIN_RECORD = 1
MAX_RECORD = 4 * 1024 * 1024  # the LTFS file backend's limit; Linux st usually caps at 1 MiB


def record_length(data: bytes | bytearray | memoryview) -> int:
    """The length of a record to write, refused unless 1 .. MAX_RECORD bytes (every device's rule)."""
    n = data.nbytes if type(data) is memoryview else len(data)
    if n < 1 or n > MAX_RECORD:
        from ..errors import UsageError
        raise UsageError(f"record of {n} bytes: records are 1 .. {MAX_RECORD} bytes", size=n)
    return n


class WriteFlags(IntFlag):
    """What a successful write learned about the room left on the medium."""

    NONE = 0
    EARLY_WARNING = 1                # physical early warning: close the session now
    PROGRAMMABLE_EARLY_WARNING = 2   # the zone reserved for closing (index, manifest) begins


@dataclass(frozen=True)
class Position:
    """Where the head is. `block` counts records and filemarks alike."""

    partition: int
    block: int
    file_number: int | None = None   # filemarks before this position on this partition, if known
    bop: bool = False                # beginning of partition
    eod: bool = False                # at end of data
    early_warning: bool = False
    programmable_early_warning: bool = False


@dataclass(frozen=True)
class MediumInfo:
    """What the drive and cartridge say about the loaded medium."""

    generation: Generation            # of the medium (from its density code / cartridge type)
    drive_generation: Generation      # of the drive holding it
    density_code: int
    barcode: str | None
    partitions: int
    capacity: int                     # bytes, native, all partitions
    remaining: int                    # bytes left on the current partition (estimate on real drives)
    write_protected: bool


class TapeDevice(abc.ABC):
    """A tape drive with a cartridge loaded.

    Rules every implementation follows (the conformance suite checks them):
    - `write_record` writes exactly one record at the current position; writing
      anywhere but EOD discards everything after the new record.
    - `read_record` returns exactly one record; at a filemark it returns b"" and
      leaves the position after the filemark; at EOD it raises EndOfData and
      does not move.
    - Past capacity a write raises EndOfMedium and writes nothing; inside the
      early-warning zones it succeeds and says so through its WriteFlags.
    - A write-protected cartridge raises WriteProtected on every write.
    - Failed operations leave `position()` telling the truth.
    """

    name: str = "tape"
    keeps_data: bool = True     # False: what is written cannot be read back (the null target)

    # --- writing -------------------------------------------------------
    @abc.abstractmethod
    def write_record(self, data: bytes | bytearray | memoryview) -> WriteFlags:
        """Write one record of len(data) bytes (1 .. MAX_RECORD)."""

    @abc.abstractmethod
    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        """Write `count` filemarks (0 flushes the drive buffer). `immediate` may
        return before data is on tape; a non-immediate filemark is a commit point."""

    # --- reading -------------------------------------------------------
    @abc.abstractmethod
    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        """Read one record; b"" at a filemark (position moves past it)."""

    # --- moving --------------------------------------------------------
    @abc.abstractmethod
    def rewind(self) -> None:
        """Go to block 0 of partition 0."""

    @abc.abstractmethod
    def locate(self, partition: int, block: int) -> None:
        """Go to `block` of `partition` (this is also how a partition is selected)."""

    @abc.abstractmethod
    def position(self) -> Position:
        """Where the head is now, with the BOP/EOD/early-warning flags."""

    @abc.abstractmethod
    def space_filemarks(self, count: int) -> None:
        """Cross `count` filemarks forward (count > 0: stop just after the last
        one) or backward (count < 0: stop just before it, on the BOT side).
        Raises EndOfData (forward) if there are not enough; position is then EOD."""

    @abc.abstractmethod
    def space_records(self, count: int) -> None:
        """Skip `count` records forward or backward; a filemark stops the move
        (position is left before it going forward)."""

    @abc.abstractmethod
    def seek_eod(self) -> None:
        """Go to end of data of the current partition (where appending starts)."""

    # --- the cartridge -------------------------------------------------
    @property
    @abc.abstractmethod
    def partitions(self) -> int:
        """Number of partitions on the loaded medium (1 or 2)."""

    @abc.abstractmethod
    def medium(self) -> MediumInfo:
        """Generation, density code, barcode, capacity, room left, write protect."""

    @abc.abstractmethod
    def load(self) -> None:
        """Load (thread) the cartridge; position at BOP of partition 0."""

    @abc.abstractmethod
    def unload(self) -> None:
        """Rewind and eject. Further I/O raises NoMedium until `load`."""

    def format_partitions(self, count: int) -> None:
        """Erase the medium and make `count` partitions (1, or 2 for LTFS). Optional."""
        from ..errors import UsageError
        raise UsageError(f"{self.name} cannot partition a cartridge")

    def close(self) -> None:
        """Release the device (does not rewind or eject)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CartridgeMemory(Protocol):
    """Optional MAM access (READ/WRITE ATTRIBUTE). Ids are SPC-4 attribute ids."""

    def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
        """The raw value of an attribute, or None when the cartridge lacks it."""

    def write_attribute(self, partition: int, attr_id: int, value: bytes, fmt: int) -> None:
        """Write an attribute (fmt: 0 binary, 1 ASCII, 2 text)."""
