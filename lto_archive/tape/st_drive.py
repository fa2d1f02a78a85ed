"""The st device's lower half: errors mapped from the driver, the position it counts when the
drive does not answer READ POSITION, and reading. StTape (st.py) builds on it; see st.py for
how addresses, end of data and early warning work on st."""

from __future__ import annotations

import errno
import logging
from typing import Any

from ..errors import (DeviceError, DeviceNotFound, EndOfData, EndOfMedium, MediumError, NoMedium, UsageError,
                      WriteProtected)
from . import st_ioctl as io
from .device import MAX_RECORD, TapeDevice
from .drive_health import note_load
from .st_driver import Driver
from .st_spec import StOptions

log = logging.getLogger("lto_archive.tape.st")   # one logger for the st device, whichever module says it


class StDriveBase(TapeDevice):
    """Driver calls with errors mapped, position bookkeeping and `read_record`, for StTape."""

    path: str
    options: StOptions
    position_source: str     # "drive", or "counted" when the drive does not answer READ POSITION
    _drv: Driver
    _loaded: bool
    _warned: set[str]

    # --- opening --------------------------------------------------------------------
    def _open_error(self, exc: OSError) -> DeviceError:
        p = self.path
        if exc.errno == errno.EBUSY:
            return DeviceError(f"drive busy, another program has it open: {p} (close mt, tar or the other job "
                               f"first)", path=p)
        if exc.errno in (errno.ENOENT, errno.ENXIO, errno.ENODEV):
            return DeviceNotFound(f"no tape device {p}: check the drive is connected and switched on", path=p)
        if exc.errno == errno.ENOMEDIUM:
            return NoMedium(f"no cartridge in {p}: load one and try again", path=p)
        if exc.errno in (errno.EACCES, errno.EPERM):
            return DeviceError(f"permission denied opening {p}: add the user to group 'tape' "
                               f"(sudo usermod -aG tape $USER, then log in again)", path=p)
        return DeviceError(f"cannot open {p}: {exc.strerror}", path=p, errno=exc.errno)

    def _setup(self) -> None:
        """After open or load: block mode, what the drive can tell, position 0."""
        self._loaded = True
        self._op(io.MTSETBLK, self.options.block)
        try:
            self._op(io.MTREW)
        except MediumError:
            pass
        self._reset_tracking()
        try:
            self._drv.tell()
            self.position_source = "drive"
        except OSError:
            self.position_source = "counted"
            self._say_once("position", f"{self.path}: the drive does not answer READ POSITION; lto-archive counts "
                           f"records and filemarks itself (locate = rewind and space forward)")
        note_load(self)        # the cartridge's health at load, for the catalog (docs/health.md)

    # --- health: log pages and cartridge memory through SG_IO (tape/drive_health.py) -----------------
    def log_sense(self, page: int) -> bytes:
        """The drive's log page `page`; DeviceError (a ScsiUnsupported) when it does not answer it."""
        return self._health_call("log_sense", f"LOG SENSE page 0x{page:02X}", page)

    def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
        """A cartridge-memory attribute's value, None when the cartridge lacks it."""
        value: bytes | None = self._health_call("read_attribute", "READ ATTRIBUTE", partition, attr_id)
        return value

    def _health_call(self, method: str, what: str, *args: int) -> Any:
        call = getattr(self._drv, method, None)
        if call is None:
            raise DeviceError(f"{self.path}: {what}: this driver cannot send SCSI commands", path=self.path)
        try:
            return call(*args)
        except OSError as exc:
            raise DeviceError(f"{self.path}: {what}: {exc.strerror or exc}", path=self.path) from None

    def _reset_tracking(self) -> None:
        self._addr: int | None = 0      # logical address (records + filemarks) when counted
        self._file = 0                  # filemarks before _addr
        self._fms: dict[int, int] = {}  # filemark index -> its address (what we have seen)
        self._eod: int | None = None    # EOD address once known
        self._eod_here = False          # EOD is the current position (positioned mode, after a write)
        self._mam: Any = None           # cartridge memory, read once per load (False: none)
        self._nparts: int | None = None  # partitions on the cartridge, asked once per load
        self._ew_seen = False
        self._after_ew = 0              # bytes written past early warning

    def _say_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)

    # --- driver calls with errors mapped ---------------------------------------------
    def _status(self) -> io.DriveStatus:
        try:
            return self._drv.status()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise self._error(exc, "status") from None
        # st writes behind: the early warning of a buffered write surfaces on the next call, once
        self._ew_seen = True
        try:
            return self._drv.status()
        except OSError as exc:
            raise self._error(exc, "status") from None

    def _op(self, op: int, count: int = 1) -> None:
        try:
            self._drv.op(op, count)
        except OSError as exc:
            raise self._error(exc, io.OP_NAMES.get(op, str(op))) from None

    def _error(self, exc: OSError, what: str) -> DeviceError | UsageError:
        p = self.path
        e = exc.errno
        if e == errno.ENOMEDIUM:
            self._loaded = False
            return NoMedium(f"no cartridge in {p}: load one and try again", path=p)
        if e in (errno.EACCES, errno.EROFS):
            return WriteProtected(f"the cartridge in {p} is write-protected: slide its write-protect tab to "
                                  f"unlocked and load it again", path=p)
        if e == errno.EBUSY:
            return DeviceError(f"drive busy, another program has it open: {p}", path=p)
        if e == errno.ENOSPC:
            return EndOfMedium(f"the cartridge in {p} is full: nothing more fits", path=p)
        if e == errno.EIO:
            try:
                st = self._drv.status()
            except OSError:
                st = None
            if st is not None and not st.online:
                self._loaded = False
                return NoMedium(f"no cartridge in {p}: load one and try again", path=p)
            if st is not None and st.write_protected and what in ("write", "MTWEOF", "MTWEOFI"):
                return WriteProtected(f"the cartridge in {p} is write-protected", path=p)
            return MediumError(f"{p}: {what} failed (input/output error; `dmesg` shows the drive's sense data)",
                               path=p, operation=what)
        if e == errno.EINVAL:
            return UsageError(f"{p}: the drive refused {what} (invalid argument: a record size the drive does "
                              f"not take, or an operation it does not know)", path=p, operation=what)
        return DeviceError(f"{p}: {what} failed: {exc.strerror}", path=p, operation=what, errno=e)

    def _check(self) -> None:
        if not self._loaded:
            raise NoMedium(f"no cartridge in {self.path}: load it first", path=self.path)

    # --- position bookkeeping -----------------------------------------------------------
    def _counted(self) -> bool:
        return self.position_source == "counted"

    def _here(self) -> int:
        """The current logical address."""
        if not self._counted():
            try:
                return self._drv.tell()
            except OSError as exc:
                raise self._error(exc, "READ POSITION") from None
        if self._addr is None:
            raise DeviceError(f"{self.path}: the position was lost after an error; rewind first", path=self.path)
        return self._addr

    def _file_start(self, f: int) -> int | None:
        if f == 0:
            return 0
        fm = self._fms.get(f - 1)
        return None if fm is None else fm + 1

    def _truncate_at(self, addr: int, file: int) -> None:
        """Writing at `addr` (in file `file`) discards everything from there on."""
        for k in [k for k, a in self._fms.items() if a >= addr or k >= file]:
            del self._fms[k]

    def _moved(self, addr: int | None, file: int | None = None) -> None:
        if self._counted():
            self._addr = addr
            if file is not None:
                self._file = file

    # --- reading ----------------------------------------------------------------------------
    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        self._check()
        self._eod_here = False
        here = self._here() if self._counted() else None
        if self._eod is not None and here is not None and here >= self._eod:
            raise EndOfData(f"end of data on {self.path} at block {here}", path=self.path, block=here)
        blk = self.options.block
        size = blk if blk else min(max_size, self.options.max_record)
        try:
            data = self._drv.read(size)
        except OSError as exc:
            st = self._safe_status()
            if exc.errno == errno.EIO and st is not None and st.eod:
                return self._at_eod()
            if exc.errno == errno.ENOMEM:
                raise DeviceError(f"{self.path}: a record is longer than {size} bytes; it was skipped "
                                  f"(read with a larger max_record)", path=self.path, size=size) from None
            err = self._error(exc, "read")
            if self._counted():
                self._addr = None if not isinstance(err, NoMedium) else self._addr
            raise err from None
        if not data:
            st = self._safe_status()
            if st is not None and st.eod:
                return self._at_eod()
            # a filemark: the driver has moved past it
            if self._counted() and here is not None:
                self._fms[self._file] = here
                self._addr = here + 1
                self._file += 1
            return b""
        if len(data) == size and not blk:
            st = self._safe_status()
            if st is not None and (st.eot or st.eod) and data.count(0) == len(data):
                # the emulator's answer at end of data: a record of zeros of the size asked for. The
                # driver now believes it is past early warning; MTEOM (we are at EOD) clears that
                try:
                    self._drv.op(io.MTEOM, 1)
                except OSError:
                    pass
                return self._at_eod()
        if self._counted() and here is not None:
            self._addr = here + (len(data) // blk if blk else 1)
        return data

    def _safe_status(self) -> io.DriveStatus | None:
        try:
            return self._drv.status()
        except OSError:
            return None

    def _at_eod(self) -> bytes:
        here = self._here()
        self._eod = here
        raise EndOfData(f"end of data on {self.path} at block {here}", path=self.path, block=here)
