"""A model of a tape drive behind the Linux st driver, for testing StTape without a drive.

It answers the way st does on a real SSC drive (Documentation/scsi/st.rst): a 0-byte read at a
filemark, EIO with the EOD status at end of data, MTFSR/MTBSR stopped by a filemark with EIO,
MTBSF ending on the BOT side of the filemark, early warning as an alternation of ENOSPC and
successful writes, ENOMEDIUM when unloaded, EACCES when write-protected. `positioned=False`
makes READ POSITION fail (as on the tapevm emulator), so StTape counts itself.

Partitions: `scsi_partitions=True` models a drive (LTO-5+) that answers, through SG_IO,
MODE SENSE page 0x11 (partition_count), MODE SELECT + FORMAT MEDIUM (format_partitions) and
LOCATE(16) with the change-partition bit (locate_partition); `False` models one that refuses
them with ScsiUnsupported. Those commands bypass st: st's own idea of the partition
(status().partition) stays what it was, as the real driver's does.
"""

from __future__ import annotations

import errno

from lto_archive.errors import EndOfData
from lto_archive.tape import st_ioctl as io
from lto_archive.tape.scsi.sense import ScsiUnsupported

FM = None


def _err(code: int) -> OSError:
    return OSError(code, errno.errorcode.get(code, str(code)))


class FakeStDriver:
    def __init__(self, *, positioned: bool = True, write_protected: bool = False,
                 early_warning_at: int | None = None, hard_end_at: int | None = None,
                 product: tuple[str, str] = ("IBM", "ULT3580-TD9"), density: int = 0x60,
                 junk_at_eod: bool = False, scsi_partitions: bool = True, partitions: int = 1) -> None:
        self.parts: list[list[bytes | None]] = [[] for _ in range(partitions)]
        self.part = 0             # the partition the drive is on
        self.pos = 0
        self.scsi_partitions = scsi_partitions
        self.scsi: list[tuple] = []   # the pass-through commands answered, in order
        self.positioned = positioned
        self.write_protected = write_protected
        self.early_warning_at = early_warning_at
        self.hard_end_at = hard_end_at
        self.product = product
        self.density = density
        self.loaded = True
        self.locked = False
        self.eod_flag = False
        self.refuse_next_write = False
        self.ops: list[tuple[int, int]] = []
        self.closed = False
        self.junk_at_eod = junk_at_eod   # the tapevm emulator: zeros of the size asked for, EOT flag
        self.eot_flag = False
        self.mam = None           # a scsi.device.CartridgeMemoryInfo, when the drive reads the MAM

    @property
    def objects(self) -> list[bytes | None]:
        """The current partition's objects."""
        return self.parts[self.part]

    @objects.setter
    def objects(self, value: list[bytes | None]) -> None:
        self.parts[self.part] = value

    # --- helpers --------------------------------------------------------------------
    def _used(self) -> int:
        return sum(len(o) for o in self.objects[:self.pos] if o is not None)

    def _need_medium(self) -> None:
        if not self.loaded:
            raise _err(errno.ENOMEDIUM)

    def _truncate(self) -> None:
        del self.objects[self.pos:]

    # --- the driver interface ------------------------------------------------------------
    def read(self, size: int) -> bytes:
        self._need_medium()
        if self.pos >= len(self.objects):
            if self.junk_at_eod:
                self.eot_flag = True
                return bytes(size)
            self.eod_flag = True
            raise _err(errno.EIO)
        obj = self.objects[self.pos]
        self.pos += 1
        if obj is FM:
            return b""
        if len(obj) > size:
            raise _err(errno.ENOMEM)
        return bytes(obj)

    def write(self, data) -> int:  # type: ignore[no-untyped-def]
        self._need_medium()
        if self.write_protected:
            raise _err(errno.EACCES)
        if self.refuse_next_write:
            self.refuse_next_write = False
            raise _err(errno.ENOSPC)
        n = len(memoryview(data).cast("B"))
        if self.hard_end_at is not None and self._used() + n > self.hard_end_at:
            raise _err(errno.ENOSPC)
        self._truncate()
        self.objects.append(bytes(data))
        self.pos += 1
        self.eod_flag = self.eot_flag = False
        if self.early_warning_at is not None and self._used() > self.early_warning_at:
            self.refuse_next_write = True
        return n

    def op(self, op: int, count: int = 1) -> None:
        self.ops.append((op, count))
        if op in (io.MTLOAD,):
            self.loaded, self.part, self.pos = True, 0, 0
            return
        if op in (io.MTSETBLK, io.MTLOCK, io.MTUNLOCK):
            self.locked = op == io.MTLOCK if op != io.MTSETBLK else self.locked
            return
        self._need_medium()
        self.eod_flag = self.eot_flag = False
        objs = self.objects
        if op == io.MTREW:
            self.part, self.pos = 0, 0
        elif op in (io.MTOFFL, io.MTUNLOAD):
            self.loaded, self.part, self.pos, self.locked = False, 0, 0, False
        elif op in (io.MTWEOF, io.MTWEOFI):
            if self.write_protected:
                raise _err(errno.EACCES)
            if count:
                self._truncate()
                objs.extend([FM] * count)
                self.pos += count
        elif op == io.MTEOM:
            self.pos = len(objs)
        elif op == io.MTSEEK:
            if count > len(objs):
                self.pos = len(objs)
                raise _err(errno.EIO)
            self.pos = count
        elif op == io.MTFSF:
            for _ in range(count):
                while self.pos < len(objs) and objs[self.pos] is not FM:
                    self.pos += 1
                if self.pos >= len(objs):
                    self.eod_flag = True
                    raise _err(errno.EIO)
                self.pos += 1
        elif op == io.MTBSF:
            for i in range(count):
                while self.pos > 0 and objs[self.pos - 1] is not FM:
                    self.pos -= 1
                if self.pos == 0:
                    raise _err(errno.EIO)
                self.pos -= 1
        elif op == io.MTFSR:
            for _ in range(count):
                if self.pos >= len(objs):
                    self.eod_flag = True
                    raise _err(errno.EIO)
                self.pos += 1
                if objs[self.pos - 1] is FM:
                    raise _err(errno.EIO)
        elif op == io.MTBSR:
            for _ in range(count):
                if self.pos == 0:
                    raise _err(errno.EIO)
                self.pos -= 1
                if objs[self.pos] is FM:
                    raise _err(errno.EIO)
        elif op == io.MTSETPART:
            if count:
                raise _err(errno.EINVAL)
        else:
            raise _err(errno.EINVAL)

    def status(self) -> io.DriveStatus:
        gstat = 0
        if self.loaded:
            gstat |= io.GMT_ONLINE
            if self.pos == 0:
                gstat |= io.GMT_BOT
            if self.eod_flag:
                gstat |= io.GMT_EOD
            if self.eot_flag or (self.early_warning_at is not None and self._used() > self.early_warning_at):
                gstat |= io.GMT_EOT
            if self.write_protected:
                gstat |= io.GMT_WR_PROT
        else:
            gstat |= io.GMT_DR_OPEN
        return io.DriveStatus(drive_type=0x72, partition=0, block_size=0,
                              density_code=self.density if self.loaded else 0, gstat=gstat,
                              file_number=-1, block_number=-1)

    def tell(self) -> int:
        if not self.positioned:
            raise _err(errno.EIO)
        self._need_medium()
        return self.pos

    def long_position(self) -> tuple[int, int, int] | None:
        if not self.positioned or not self.loaded:
            return None
        return self.part, self.pos, sum(1 for o in self.objects[:self.pos] if o is FM)

    def cartridge_memory(self):  # type: ignore[no-untyped-def]
        return self.mam

    # --- SCSI pass-through (SG_IO on the st node) ----------------------------------------------
    def _scsi(self, command: str, *args: int) -> None:
        if not self.scsi_partitions:
            raise ScsiUnsupported(f"/dev/nst0: {command}: ILLEGAL REQUEST, invalid command operation code",
                                  command=command)
        self._need_medium()
        self.scsi.append((command, *args))

    def partition_count(self) -> int | None:
        if not self.scsi_partitions or not self.loaded:
            return None
        self.scsi.append(("MODE SENSE", 0x11))
        return len(self.parts)

    def format_partitions(self, count: int) -> None:
        self.scsi.append(("REWIND",))
        self._scsi("MODE SENSE", 0x11)
        self.part, self.pos = 0, 0
        if self.write_protected:
            raise _err(errno.EACCES)
        self.scsi.append(("MODE SELECT", 0x11, count))
        self.scsi.append(("FORMAT MEDIUM", count))
        self.parts = [[] for _ in range(count)]

    def locate_partition(self, partition: int, block: int) -> None:
        if partition >= len(self.parts):
            raise _err(errno.EINVAL)
        self._scsi("LOCATE(16)", partition, block)
        self.part = partition
        self.eod_flag = self.eot_flag = False
        if block > len(self.objects):
            self.pos = len(self.objects)
            raise EndOfData("end of data: nothing more is written on this partition")
        self.pos = block

    def inquiry(self) -> tuple[str, str]:
        return self.product

    def close(self) -> None:
        self.closed = True
