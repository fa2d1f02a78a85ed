"""The files of a virtual cartridge: records, filemarks, E markers and cartridge memory.

The folder uses the LTFS reference's file-backend layout (docs/vtape.md):
`P_B_R` a record, `P_B_F` a filemark, `P_B_E` end of data (one per partition),
`attr_P_<hex id>` a cartridge-memory attribute. `CartridgeFolder` reaches them
through one locked directory descriptor (the lock: one device object at a time).

- A record is written to a temporary name and renamed into place, so a process
  killed at any moment leaves whole records only. `scan` reads addresses 0, 1,
  2, ... per partition: EOD is the first address without a record or filemark;
  anything else (temporary files, objects past EOD, stale E markers) is removed
  and exactly one E marker is left at EOD.
- The E marker is moved lazily (`sync_end_markers`), never per record.
- Discarding (a write before EOD) deletes the first discarded address first,
  so a scan after a crash stops there.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import DeviceError, MediumError
from . import mam
from .blocks import BlockTable
from .vtape_settings import TMP_PREFIX

OBJECT = re.compile(r"([01])_(0|[1-9][0-9]*)_([RFE])")
WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: a damaged folder's FIFO (or device node) in a record's place never hangs the reader
READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def object_name(p: int, b: int, kind: str) -> str:
    """The file of the object at partition p block b: kind R (record), F (filemark) or E (end of data)."""
    return f"{p}_{b}_{kind}"


class CartridgeFolder:
    """The open, locked folder of one virtual cartridge."""

    def __init__(self, path: Path) -> None:
        self.path = path
        dfd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            fcntl.flock(dfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(dfd)
            raise DeviceError(f"virtual cartridge {path} is in use by another process or device object",
                              path=str(path)) from None
        self.dfd: int | None = dfd
        self.emark: list[int | None] = [None, None]   # where each partition's E marker is
        self.edirty = False                           # an E marker may not be at EOD

    def close(self) -> None:
        dfd, self.dfd = self.dfd, None
        if dfd is not None:
            os.close(dfd)   # also drops the flock

    def names(self) -> list[str]:
        return os.listdir(self.dfd)

    def unlink(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self.dfd)
        except FileNotFoundError:
            pass

    def touch(self, name: str) -> None:
        os.close(os.open(name, WRITE_FLAGS, 0o644, dir_fd=self.dfd))

    # --- records ------------------------------------------------------------------------
    def write_record(self, p: int, b: int, data: bytes | bytearray | memoryview, n: int) -> None:
        """Store the n-byte record at partition p block b (whole or not at all); OSError on failure."""
        dfd = self.dfd
        try:
            fd = os.open(TMP_PREFIX, WRITE_FLAGS, 0o644, dir_fd=dfd)
            try:
                written = os.write(fd, data)
                if written != n:
                    view = memoryview(data).cast("B")
                    while written < n:
                        written += os.write(fd, view[written:])
            finally:
                os.close(fd)
            os.rename(TMP_PREFIX, object_name(p, b, "R"), src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError:
            self.unlink(TMP_PREFIX)
            raise

    def read_record(self, p: int, b: int, size: int) -> bytes:
        """Up to `size` bytes of the record at partition p block b (fewer if the file is shorter)."""
        fd = os.open(object_name(p, b, "R"), READ_FLAGS, dir_fd=self.dfd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EIO, f"{object_name(p, b, 'R')} is not a regular file: the folder is damaged")
            data = os.read(fd, size)
            while len(data) < size:
                more = os.read(fd, size - len(data))
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
        return data

    def discard(self, table: BlockTable, p: int, b: int) -> None:
        """Delete addresses b..EOD-1 of partition p, address b first, and forget them in `table`."""
        for addr, filemark in table.objects(p, b):
            self.unlink(object_name(p, addr, "F" if filemark else "R"))
        table.truncate(p, b)
        old = self.emark[p]
        if old is not None and old != b:
            self.unlink(object_name(p, old, "E"))
            self.emark[p] = None
        self.edirty = True

    def erase(self) -> None:
        """Delete every record, filemark and E marker (FORMAT MEDIUM)."""
        for name in self.names():
            if OBJECT.fullmatch(name):
                self.unlink(name)
        self.emark = [None, None]

    # --- finding EOD ----------------------------------------------------------------------
    def scan(self, new_table: Callable[[int], BlockTable]) -> BlockTable:
        """The block table of the folder (`new_table(partitions)` makes the empty one), after
        removing what a crash left: temporary files, objects past EOD, stale E markers."""
        found: list[dict[int, str]] = [{}, {}]
        for name in self.names():
            if name.startswith(TMP_PREFIX):
                self.unlink(name)
                continue
            m = OBJECT.fullmatch(name)
            if m:
                p, b, t = int(m.group(1)), int(m.group(2)), m.group(3)
                found[p][b] = found[p].get(b, "") + t
        table = new_table(2 if found[1] else 1)
        self.emark = [None, None]
        for p in range(table.partitions):
            self._scan_partition(table, p, found[p])
        self.edirty = True
        self.sync_end_markers(table)
        return table

    def _scan_partition(self, table: BlockTable, p: int, objs: dict[int, str]) -> None:
        while True:
            b = table.eod[p]
            kinds = objs.get(b, "")
            if "F" in kinds:
                if "R" in kinds:          # the reference reads F first; drop the stray R
                    self.unlink(object_name(p, b, "R"))
                table.add_filemark(p)
            elif "R" in kinds:
                table.add_record(p, os.stat(object_name(p, b, "R"), dir_fd=self.dfd).st_size)
            else:
                break
        eod = table.eod[p]
        for addr, kinds in objs.items():
            for t in kinds:
                if addr >= eod and not (t == "E" and addr == eod):
                    self.unlink(object_name(p, addr, t))
                elif t == "E" and addr < eod:
                    self.unlink(object_name(p, addr, "E"))
        if "E" in objs.get(eod, ""):
            self.emark[p] = eod

    def sync_end_markers(self, table: BlockTable) -> None:
        """Leave exactly one E marker per partition, at EOD."""
        if not self.edirty:
            return
        for p in range(table.partitions):
            eod = table.eod[p]
            old = self.emark[p]
            if old != eod:
                self.touch(object_name(p, eod, "E"))
                self.emark[p] = eod
                if old is not None:
                    self.unlink(object_name(p, old, "E"))
        self.edirty = False

    # --- cartridge memory ---------------------------------------------------------------
    def read_attribute(self, partition: int, attr_id: int) -> mam.Attribute | None:
        """The stored attribute, or None; MediumError when its file is damaged."""
        try:
            fd = os.open(mam.filename(partition, attr_id), READ_FLAGS, dir_fd=self.dfd)
        except FileNotFoundError:
            return None
        try:
            raw = os.read(fd, 0x10000 + mam.HEADER_SIZE)
        finally:
            os.close(fd)
        try:
            return mam.decode(raw)
        except ValueError as exc:
            raise MediumError(f"cartridge memory attribute 0x{attr_id:04X} of {self.path} is damaged: {exc}",
                              attr_id=attr_id) from None

    def write_attribute(self, partition: int, attr_id: int, fmt: int, value: bytes) -> None:
        data = mam.encode(attr_id, fmt, value)
        tmp = f"{TMP_PREFIX}-attr"
        fd = os.open(tmp, WRITE_FLAGS, 0o644, dir_fd=self.dfd)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, mam.filename(partition, attr_id), src_dir_fd=self.dfd, dst_dir_fd=self.dfd)

    def attribute_ids(self, partition: int) -> list[int]:
        """The ids of the attributes stored for `partition`, in file-name order."""
        prefix = f"attr_{partition}_"
        ids = []
        for name in sorted(self.names()):
            if name.startswith(prefix):
                try:
                    ids.append(int(name[len(prefix):], 16))
                except ValueError:
                    continue
        return ids
