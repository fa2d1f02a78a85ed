"""Random access to the records of one tape partition, as the AXF scanner reads them.

Sequential reads cost nothing extra; the last few records are kept, so that a
structure straddling records, or a short re-read of a file's data, does not
make the drive locate again. An unreadable record is remembered as BAD (its
error in `errors`), never raised: the scanner passes over damage.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ...errors import DeviceError, EndOfData
from ...tape.device import MAX_RECORD, TapeDevice

__all__ = ["BAD", "RecordCache"]

BAD = object()            # an unreadable record
CACHE = 16                # records kept for straddling structures and short re-reads


class RecordCache:
    """Random access to the records of one partition, cheap when sequential."""

    def __init__(self, device: TapeDevice, partition: int) -> None:
        self.dev, self.p = device, partition
        device.locate(partition, 0)
        self.next = 0                 # the device's position
        self.cache: OrderedDict[int, Any] = OrderedDict()
        self.read_count = 0
        self.errors: dict[int, str] = {}

    def get(self, block: int) -> Any:
        """bytes (a record), b"" (a filemark), None (end of data) or BAD."""
        if block in self.cache:
            return self.cache[block]
        if block != self.next:
            self.dev.locate(self.p, block)
            self.next = block
        try:
            rec: Any = self.dev.read_record(MAX_RECORD)
            self.read_count += 1
            self.next = block + 1
        except EndOfData:
            return None
        except DeviceError as exc:
            rec = BAD
            self.errors[block] = exc.message
            self.next = -1            # unknown: locate before the next read
        self.cache[block] = rec
        if len(self.cache) > CACHE:
            self.cache.popitem(last=False)
        return rec

    def filemark_after(self, block: int) -> int | None:
        """Block of the filemark ending the tape file that holds `block` (spacing, not reading);
        None when the tape file runs to end of data."""
        self.dev.locate(self.p, block)
        self.next = -1
        try:
            self.dev.space_filemarks(1)
        except EndOfData:
            return None
        return self.dev.position().block - 1
