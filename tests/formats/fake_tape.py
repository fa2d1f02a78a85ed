"""A minimal in-memory TapeDevice for format tests: a list of records and filemarks.

Only the reading side is realistic (read_record, position, locate); it is not
the virtual tape and does not try to be.
"""

from __future__ import annotations

from typing import Iterable

from lto_archive.errors import EndOfData
from lto_archive.generations import Generation  # noqa: F401  (the interface module imports it)
from lto_archive.tape.device import MAX_RECORD, MediumInfo, Position, TapeDevice, WriteFlags

FILEMARK = None


def split_records(data: bytes, record_size: int | Iterable[int]) -> list[bytes]:
    """Cut `data` into records of `record_size` (an int, or sizes to cycle through)."""
    if isinstance(record_size, int):
        return [data[i:i + record_size] for i in range(0, len(data), record_size)]
    sizes = list(record_size)
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        out.append(data[pos:pos + n])
        pos += n
        i += 1
    return out


class FakeTape(TapeDevice):
    """Objects are bytes (a record) or None (a filemark); EOD after the last."""

    name = "fake"

    def __init__(self, objects: Iterable[bytes | None] = ()) -> None:
        self.objects: list[bytes | None] = list(objects)
        self.block = 0
        self.reads = 0

    @classmethod
    def from_files(cls, *files: bytes, record_size: int | Iterable[int] = 512 * 1024,
                   filemark_after_last: bool = True) -> "FakeTape":
        objs: list[bytes | None] = []
        for k, f in enumerate(files):
            objs += split_records(f, record_size)
            if k < len(files) - 1 or filemark_after_last:
                objs.append(FILEMARK)
        return cls(objs)

    def write_record(self, data) -> WriteFlags:
        del self.objects[self.block:]
        self.objects.append(bytes(data))
        self.block += 1
        return WriteFlags.NONE

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        del self.objects[self.block:]
        self.objects += [FILEMARK] * count
        self.block += count
        return WriteFlags.NONE

    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        self.reads += 1
        if self.block >= len(self.objects):
            raise EndOfData("end of data", block=self.block)
        obj = self.objects[self.block]
        self.block += 1
        if obj is FILEMARK:
            return b""
        if len(obj) > max_size:
            raise ValueError(f"record of {len(obj)} bytes is larger than {max_size}")
        return obj

    def rewind(self) -> None:
        self.block = 0

    def locate(self, partition: int, block: int) -> None:
        self.block = min(block, len(self.objects))

    def position(self) -> Position:
        fm = sum(1 for o in self.objects[:self.block] if o is FILEMARK)
        return Position(partition=0, block=self.block, file_number=fm, bop=self.block == 0,
                        eod=self.block >= len(self.objects))

    def space_filemarks(self, count: int) -> None:
        raise NotImplementedError

    def space_records(self, count: int) -> None:
        raise NotImplementedError

    def seek_eod(self) -> None:
        self.block = len(self.objects)

    @property
    def partitions(self) -> int:
        return 1

    def medium(self) -> MediumInfo:
        raise NotImplementedError

    def load(self) -> None:
        self.block = 0

    def unload(self) -> None:
        pass
