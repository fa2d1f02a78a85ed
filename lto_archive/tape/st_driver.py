"""The st driver as an object: the calls StTape makes on a tape node (tests put a model of a
drive behind the same `Driver` protocol)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, Protocol

from ..errors import DeviceError
from . import st_ioctl as io

class Driver(Protocol):
    def read(self, size: int) -> bytes: ...
    def write(self, data: Any) -> int: ...
    def op(self, op: int, count: int = 1) -> None: ...
    def status(self) -> io.DriveStatus: ...
    def tell(self) -> int: ...
    def long_position(self) -> tuple[int, int, int] | None: ...
    def cartridge_memory(self) -> Any | None: ...
    def partition_count(self) -> int | None: ...
    def format_partitions(self, count: int) -> None: ...
    def locate_partition(self, partition: int, block: int) -> None: ...
    def inquiry(self) -> tuple[str, str]: ...
    def close(self) -> None: ...


class StDriver:
    """The real thing: a file descriptor on an st node."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._scsi: Any = None
        self._no_position = False
        flags = os.O_RDWR | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EROFS) and os.access(path, os.R_OK):
                # a write-protected cartridge may refuse O_RDWR: read it anyway
                self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            else:
                raise

    def read(self, size: int) -> bytes:
        return os.read(self.fd, size)

    def write(self, data: Any) -> int:
        return os.write(self.fd, data)

    def op(self, op: int, count: int = 1) -> None:
        io.mt_op(self.fd, op, count)

    def status(self) -> io.DriveStatus:
        return io.mt_status(self.fd)

    def tell(self) -> int:
        return io.mt_pos(self.fd)

    def long_position(self) -> tuple[int, int, int] | None:
        """(partition, block, file number) from READ POSITION long form through SG_IO; None if unanswered."""
        if self._no_position:
            return None
        try:
            p = self._scsi_device().read_position()
            return p.partition, p.block, p.file_number
        except (ImportError, OSError, DeviceError, ValueError):
            self._no_position = True       # not asked again on this open
            return None

    def cartridge_memory(self) -> Any | None:
        """The cartridge memory (barcode, capacities; scsi.device.CartridgeMemoryInfo) or None."""
        try:
            return self._scsi_device().cartridge_memory(0)
        except (ImportError, OSError, DeviceError, ValueError):
            return None

    def partition_count(self) -> int | None:
        """Partitions defined on the cartridge (MODE SENSE page 0x11); None if unanswered."""
        try:
            return int(self._scsi_device().medium_partitions()[0])
        except (ImportError, OSError, DeviceError, ValueError):
            return None

    def format_partitions(self, count: int) -> None:
        """MODE SELECT page 0x11 + FORMAT MEDIUM through SG_IO (ScsiUnsupported when refused)."""
        self._scsi_device().partition(count)

    def locate_partition(self, partition: int, block: int) -> None:
        """LOCATE(16) with the change-partition bit through SG_IO (ScsiUnsupported when refused)."""
        self._scsi_device().locate(partition, block)

    def log_sense(self, page: int) -> bytes:
        """Log page `page` (LOG SENSE through SG_IO on the st node); the drive's refusal is raised."""
        from .logpages import read_log_page
        return read_log_page(self._scsi_device(), page)

    def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
        """One cartridge-memory attribute (READ ATTRIBUTE through SG_IO); None when the cartridge lacks it."""
        value: bytes | None = self._scsi_device().read_attribute(partition, attr_id)
        return value

    def _scsi_device(self) -> Any:
        if self._scsi is None:
            from .scsi.device import ScsiDevice   # SG_IO on the st node itself
            self._scsi = ScsiDevice(self.fd, name=self.path)
        return self._scsi

    def inquiry(self) -> tuple[str, str]:
        """Vendor and product id, as the kernel keeps them from INQUIRY (sysfs; no SCSI command)."""
        base = Path("/sys/class/scsi_tape") / os.path.basename(os.path.realpath(self.path)) / "device"
        try:
            return ((base / "vendor").read_text().strip(), (base / "model").read_text().strip())
        except OSError:
            return "", ""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
