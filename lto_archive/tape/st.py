"""A TapeDevice over the Linux st driver's non-rewinding node (/dev/nst0): see docs/st.md.

Records go through `os.read`/`os.write` straight from the caller's buffers;
everything else through the st ioctls (st_ioctl.py). The driver talks to the
drive, so this module only has to keep the interface's promises:

- Addresses. The interface counts records AND filemarks from the start of the
  partition (LTO's logical object number); st counts files and blocks within
  a file. When the drive answers READ POSITION (MTIOCPOS; every LTO drive does)
  the drive's own number is used and LOCATE goes through MTSEEK. When it does
  not (the tapevm emulator), this module counts itself: it knows address 0
  after a rewind or load and follows every record and filemark it writes,
  reads or spaces over, remembering where each filemark lies. Going backward
  or locating means rewind and space forward; crossing a tape file never seen
  in this session means reading it (the driver cannot count records for us).
  That is said once through `logging` and `position_source`.
- End of data. st reports it as EIO with the EOD status flag (or a 0-byte read
  with it). The emulator instead hands back a record of zeros of the size
  asked for with the end-of-tape flag; that is recognised and reported as
  EndOfData. Where EOD lies is remembered once known (after a write it is
  always known), and `position().eod` finds out by reading one record when it
  is not.
- Early warning. st finishes the write that reaches early warning, fails the
  next one with ENOSPC (nothing written), lets the one after through, and so
  on, alternating. A write that meets ENOSPC is retried once and reported
  with WriteFlags.EARLY_WARNING; a second ENOSPC in a row, or the drive's
  hard end, is EndOfMedium. Past early warning the device takes at most
  `ew_room` more bytes (default 1 GiB, enough to close any session) and then
  raises EndOfMedium itself, so a job never drives a cartridge off its end.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl

from ..errors import (DeviceError, DeviceNotFound, EndOfData, EndOfMedium, MediumError, NoMedium, UsageError,
                      WriteProtected)
from ..generations import GENERATIONS, Generation, by_density_code
from . import st_ioctl as io
from .device import MAX_RECORD, MediumInfo, Position, TapeDevice, WriteFlags, record_length

log = logging.getLogger(__name__)

MiB = 1024 * 1024
DEFAULT_EW_ROOM = 1024 * MiB
DEFAULT_MAX_READ = 1 * MiB     # st and most HBAs cap records at 1 MiB; `max_record=` raises it
_FMT_SIZES = {"K": 1024, "M": MiB, "G": 1024 * MiB}


# --- the spec ----------------------------------------------------------------------

@dataclass(frozen=True)
class StOptions:
    """What `st:/dev/nst0?block=524288&ew_room=64M` says."""

    block: int = 0                 # 0: variable block mode; else fixed blocks of this size
    ew_room: int = DEFAULT_EW_ROOM  # bytes accepted past early warning (0: until the drive's hard end)
    max_record: int = DEFAULT_MAX_READ


def _size(text: str, what: str) -> int:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = _FMT_SIZES.get(t[-1:], 1)
    digits = t[:-1] if t[-1:] in _FMT_SIZES else t
    try:
        value = int(digits) * mult
    except ValueError:
        raise UsageError(f"{what}={text!r} is not a size (use e.g. 524288, 512K, 64M)", value=text) from None
    if value < 0:
        raise UsageError(f"{what} cannot be negative", value=text)
    return value


def parse_spec(spec: str) -> tuple[str, StOptions]:
    """"/dev/nst0" or "st:/dev/nst0?block=512K&ew_room=64M" -> (path, options)."""
    rest = spec[3:] if spec.startswith("st:") else spec
    path, _, query = rest.partition("?")
    if not path:
        raise UsageError("device 'st:' needs the tape device, as in st:/dev/nst0", spec=spec)
    opts: dict[str, int] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key in ("block", "ew_room", "max_record"):
            opts[key] = _size(value, key)
        else:
            raise UsageError(f"unknown st option {key!r} in {spec!r}; known: block, ew_room, max_record",
                             spec=spec)
    o = StOptions(**opts)
    if o.block and not 1 <= o.block <= MAX_RECORD:
        raise UsageError(f"block={o.block}: a fixed block is 1 .. {MAX_RECORD} bytes (0 for variable blocks)")
    if not 1 <= o.max_record <= MAX_RECORD:
        raise UsageError(f"max_record={o.max_record}: use 1 .. {MAX_RECORD} bytes")
    return path, o


ST_MAJOR = 9                       # SCSI tape (Documentation/admin-guide/devices.txt)
_REWINDING = re.compile(r"st\d+[lma]?")


def _non_rewinding_name(name: str) -> str:
    return "n" + name if _REWINDING.fullmatch(name) else "nst0"


def check_node(path: str) -> None:
    """Refuse a rewinding node: every close would rewind the tape under the next command."""
    name = os.path.basename(path)
    if _REWINDING.fullmatch(name):
        raise UsageError(f"{path} rewinds the tape each time it is closed, so the next command would overwrite "
                         f"the start of the tape: use the non-rewinding /dev/{_non_rewinding_name(name)} instead",
                         path=path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DeviceNotFound(f"no tape device {path}: check the drive is connected and the st module loaded "
                             f"(ls /dev/nst*)", path=path) from None
    except PermissionError:
        raise DeviceError(f"cannot look at {path}: permission denied (add the user to group 'tape')",
                          path=path) from None
    if not stat.S_ISCHR(st.st_mode) or os.major(st.st_rdev) != ST_MAJOR:
        raise UsageError(f"{path} is not a SCSI tape device (st); use /dev/nst0 or similar", path=path)
    if not os.minor(st.st_rdev) & 0x80:   # st minors: bit 7 set = no rewind on close
        raise UsageError(f"{path} rewinds the tape each time it is closed, so the next command would overwrite "
                         f"the start of the tape: use a non-rewinding /dev/nst* node instead", path=path)


# --- the driver, as an object (tests put a model of a drive here) ------------------------

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


# --- the device ------------------------------------------------------------------------

class StTape(TapeDevice):
    """A drive behind the st driver. `StTape("/dev/nst0")` or `open_device("st:/dev/nst0?block=512K")`."""

    name = "st"

    def __init__(self, path: str, options: StOptions | None = None, *, driver: Driver | None = None) -> None:
        self.path = path
        self.options = options or StOptions()
        self.name = f"st:{path}"
        if driver is None:
            check_node(path)
            try:
                driver = StDriver(path)
            except OSError as exc:
                raise self._open_error(exc) from None
        self._drv = driver
        self._loaded = False
        self._locked = False
        self._warned: set[str] = set()
        self.position_source = "drive"   # or "counted" when the drive does not answer READ POSITION
        self._reset_tracking()
        try:
            st = self._status()
            if not st.online:
                raise NoMedium(f"no cartridge in {path}: load one (mt -f {path} load) and try again", path=path)
            self._setup()
        except BaseException:
            self._drv.close()
            raise

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

    def _error(self, exc: OSError, what: str) -> DeviceError:
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

    # --- writing ----------------------------------------------------------------------------
    def write_record(self, data: bytes | bytearray | memoryview) -> WriteFlags:
        if not self._loaded:
            self._check()
        n = record_length(data)
        blk = self.options.block
        if blk and n % blk:
            raise UsageError(f"{self.path} is in fixed-block mode ({blk} bytes): a record of {n} bytes does not "
                             f"fit; write whole blocks or use variable blocks", size=n)
        if self._ew_seen and self.options.ew_room and self._after_ew + n > self.options.ew_room:
            raise EndOfMedium(f"the cartridge in {self.path} is full: past early warning, the room kept to close "
                              f"the session ({self.options.ew_room} bytes) is used up; the {n}-byte record was "
                              f"not written", path=self.path, size=n)
        if not self._locked:
            self._lock()
        addr = self._addr
        flags = WriteFlags.NONE
        try:
            written = self._drv.write(data)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise self._write_error(exc) from None
            # early warning: st refused this one write; the next is let through
            self._ew_seen = True
            flags = WriteFlags.EARLY_WARNING | WriteFlags.PROGRAMMABLE_EARLY_WARNING
            try:
                written = self._drv.write(data)
            except OSError as exc2:
                if exc2.errno == errno.ENOSPC:
                    raise EndOfMedium(f"the cartridge in {self.path} is full: the drive refused the {n}-byte "
                                      f"record after its early warning", path=self.path, size=n) from None
                raise self._write_error(exc2) from None
        if written != n:
            # a short write in variable mode means the drive hit the end of the medium
            self._addr = None
            raise EndOfMedium(f"the cartridge in {self.path} is full: only {written} of {n} bytes were written",
                              path=self.path, size=n, written=written)
        records = n // blk if blk else 1
        if self._counted() and addr is not None:
            self._truncate_at(addr, self._file)
            self._addr = addr + records
            self._eod = self._addr
        else:
            self._eod_after_write()
        if self._ew_seen:
            self._after_ew += n
        elif self._status().eot:
            self._ew_seen = True
        if self._ew_seen:
            flags |= WriteFlags.EARLY_WARNING | WriteFlags.PROGRAMMABLE_EARLY_WARNING
        return flags

    def _eod_after_write(self) -> None:
        """Positioned mode: EOD is here now (asking READ POSITION per record would slow streaming)."""
        self._eod = None
        self._eod_here = True

    def _write_error(self, exc: OSError) -> DeviceError:
        err = self._error(exc, "write")
        if isinstance(err, MediumError) and self._ew_seen:
            return EndOfMedium(f"the cartridge in {self.path} is full (the drive reached the end of the medium)",
                               path=self.path)
        if not isinstance(err, (WriteProtected, NoMedium, UsageError)):
            self._addr = None if self._counted() else self._addr
        return err

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        self._check()
        if count < 0:
            raise UsageError(f"cannot write {count} filemarks", count=count)
        addr = self._addr
        op = io.MTWEOFI if immediate and count else io.MTWEOF
        try:
            self._drv.op(op, count)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                # inside the early-warning zone st may refuse once, as for records
                self._ew_seen = True
                try:
                    self._drv.op(op, count)
                except OSError as exc2:
                    raise self._write_error(exc2) from None
            else:
                err = self._error(exc, io.OP_NAMES[op])
                if isinstance(err, UsageError) and op == io.MTWEOFI:
                    self._op(io.MTWEOF, count)     # a driver without MTWEOFI: the synchronising kind
                else:
                    raise err from None
        if count:
            if self._counted() and addr is not None:
                self._truncate_at(addr, self._file)
                for i in range(count):
                    self._fms[self._file + i] = addr + i
                self._addr = addr + count
                self._file += count
                self._eod = self._addr
            else:
                self._eod_after_write()
        if count and not immediate and self._locked:
            self._unlock()      # a commit point: the job's data is on tape
        flags = WriteFlags.NONE
        if self._ew_seen or self._status().eot:
            self._ew_seen = True
            flags = WriteFlags.EARLY_WARNING | WriteFlags.PROGRAMMABLE_EARLY_WARNING
        return flags

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

    # --- moving -----------------------------------------------------------------------------------
    def rewind(self) -> None:
        self._check()
        self._eod_here = False
        if self._nparts is not None and self._nparts > 1:
            self._eod = None            # what was known was of the partition we leave
        self._op(io.MTREW)
        self._moved(0, 0)

    def locate(self, partition: int, block: int) -> None:
        self._check()
        self._eod_here = False
        if block < 0:
            raise UsageError(f"block {block} is not a tape address", block=block)
        if partition >= self.partitions:
            raise DeviceError(f"the cartridge in {self.path} has {self.partitions} partition(s): there is "
                              f"no partition {partition}", partition=partition)
        if self.partitions > 1 and not self._counted():
            return self._scsi_locate(partition, block)
        if partition != self._partition_now():
            raise DeviceError(f"{self.path}: the drive does not report its position, so lto-archive cannot "
                              f"move to partition {partition}", partition=partition)
        if not self._counted():
            try:
                self._drv.op(io.MTSEEK, block)
            except OSError as exc:
                here = self._here()
                if here < block:
                    self._eod = here
                    raise EndOfData(f"cannot locate to block {block}: end of data is at block {here}",
                                    block=block, eod=here) from None
                raise self._error(exc, "MTSEEK") from None
            return
        self._counted_locate(block)

    def _scsi_locate(self, partition: int, block: int) -> None:
        """LOCATE(16) through SG_IO: st's MTSEEK cannot change partition (st's state is stale after it)."""
        from .scsi.sense import ScsiUnsupported
        if partition != self._partition_now():
            self._eod = None
        try:
            self._drv.locate_partition(partition, block)
        except ScsiUnsupported:
            raise DeviceError(f"{self.path}: the drive refuses LOCATE(16), so lto-archive cannot move between "
                              f"the cartridge's partitions (partition {partition} block {block})",
                              partition=partition, block=block) from None
        except EndOfData:
            here = self._here()
            self._eod = here
            raise EndOfData(f"cannot locate to block {block} of partition {partition}: end of data is at "
                            f"block {here}", partition=partition, block=block, eod=here) from None
        except OSError as exc:
            raise self._error(exc, "LOCATE") from None

    def _partition_now(self) -> int:
        if self.partitions <= 1:
            return 0
        longpos = None if self._counted() else self._drv.long_position()
        return longpos[0] if longpos is not None else 0

    def _counted_locate(self, block: int) -> None:
        """Rewind (if going back) and space forward: the only safe way without LOCATE."""
        if self._addr is None or block < self._addr:
            self._op(io.MTREW)
            self._addr, self._file = 0, 0
        # whole files we know: one MTFSF over them
        f = self._file
        while f in self._fms and self._fms[f] < block:
            f += 1
        if f > self._file:
            self._op(io.MTFSF, f - self._file)
            self._addr, self._file = self._fms[f - 1] + 1, f
        # inside the file: space records when the file's end (filemark or EOD) is known to lie beyond
        end = self._fms.get(self._file, self._eod)
        if block > self._addr and end is not None and block <= end:
            try:
                self._drv.op(io.MTFSR, block - self._addr)
            except OSError as exc:
                if block != self._eod:        # the emulator fails a space that ends exactly at EOD
                    self._addr = None
                    raise self._error(exc, "MTFSR") from None
            self._addr = block
        while self._addr < block:
            self.read_record(self.options.max_record)   # learns filemarks; EndOfData at the end

    def position(self) -> Position:
        self._check()
        st = self._status()
        here = self._here()
        if self._counted():
            part, fileno = 0, self._file
        else:
            part = st.partition if st.partition >= 0 else 0
            fileno = st.file_number if 0 <= st.file_number < 0x7FFFFF else None
            longpos = self._drv.long_position()
            if longpos is not None and longpos[1] == here:
                part, fileno = longpos[0], longpos[2]
        eod = self._is_eod(here)
        ew = self._ew_seen or st.eot
        return Position(partition=part, block=here, file_number=fileno, bop=here == 0, eod=eod,
                        early_warning=ew, programmable_early_warning=ew)

    def _is_eod(self, here: int) -> bool:
        if self._eod_here:
            return True
        if self._eod is not None:
            if here >= self._eod:
                return True
            return False
        # find out by reading one object, then step back over it
        try:
            data = self.read_record(self.options.max_record)
        except EndOfData:
            return True
        except DeviceError:
            return False
        self._step_back(here, was_filemark=not data)
        return False

    def _step_back(self, target: int, was_filemark: bool) -> None:
        if self._counted():
            try:
                self._drv.op(io.MTBSR, 1)   # crosses the object just read, a filemark too
            except OSError:
                if not was_filemark:
                    self._counted_locate(target)
                    return
            self._addr = target
            if was_filemark:
                self._file -= 1
        else:
            self._op(io.MTSEEK, target)

    def space_filemarks(self, count: int) -> None:
        self._check()
        self._eod_here = False
        if count == 0:
            return
        if not self._counted():
            return self._space_drive(io.MTFSF if count > 0 else io.MTBSF, abs(count), "filemarks")
        if count > 0:
            for _ in range(count):
                self._cross_filemark()
            return
        back = -count
        target_file = self._file - back
        if target_file < 0:
            self._counted_locate(0)
            raise DeviceError(f"beginning of partition 0 reached after crossing {self._file} of {back} "
                              f"filemarks backward", partition=0)
        self._counted_locate(self._fms[target_file])

    def _cross_filemark(self) -> None:
        f = self._file
        if f in self._fms:
            self._op(io.MTFSF, 1)
            self._addr, self._file = self._fms[f] + 1, f + 1
            return
        if self._eod is not None and self._addr is not None and self._addr >= self._eod:
            raise EndOfData(f"end of data on {self.path}: no more filemarks", path=self.path)
        while self._file == f:
            try:
                self.read_record(self.options.max_record)
            except EndOfData:
                raise EndOfData(f"end of data on {self.path} before the next filemark", path=self.path) from None

    def space_records(self, count: int) -> None:
        self._check()
        self._eod_here = False
        if count == 0:
            return
        if not self._counted():
            return self._space_drive(io.MTFSR if count > 0 else io.MTBSR, abs(count), "records")
        here = self._here()
        if count < 0:
            floor = self._file_start(self._file) or 0
            target = max(here + count, floor)
            if target < here:
                self._op(io.MTBSR, here - target)
                self._addr = target
            if here + count < floor and self._file == 0:
                raise DeviceError(f"beginning of partition 0 reached after spacing {here} of {-count} records "
                                  f"backward", partition=0)
            return
        limit = self._fms.get(self._file)
        if limit is not None:
            target = min(here + count, limit)
            if target > here:
                self._counted_locate(target)
            return
        for _ in range(count):
            before = self._addr
            data = self.read_record(self.options.max_record)   # EndOfData at the end
            if not data:               # a filemark stops the move: stay before it
                self._step_back(before, was_filemark=True)
                return

    def _space_drive(self, op: int, count: int, what: str) -> None:
        """Spacing on a drive that reports its position: the drive does it, READ POSITION tells."""
        try:
            self._drv.op(op, count)
        except OSError as exc:
            st = self._safe_status()
            if st is not None and st.eod:
                self._eod = self._here()
                raise EndOfData(f"end of data on {self.path} while spacing {count} {what}",
                                path=self.path) from None
            if st is not None and st.bot:
                raise DeviceError(f"beginning of partition reached while spacing {count} {what} backward",
                                  path=self.path) from None
            if op in (io.MTFSR, io.MTBSR) and exc.errno == errno.EIO:
                # a filemark stopped the move; the interface leaves it on the near side going forward
                here = self._here()
                if op == io.MTFSR:
                    self._op(io.MTSEEK, here - 1)
                else:
                    self._op(io.MTSEEK, here + 1)
                return
            raise self._error(exc, io.OP_NAMES[op]) from None

    def seek_eod(self) -> None:
        self._check()
        self._eod_here = False
        if not self._counted():
            self._op(io.MTEOM)
            self._eod_here = True
            return
        if self._eod is None:
            self._learn_eod()
        self._op(io.MTEOM)          # cheap, and leaves the driver's state clean for writing
        self._addr = self._eod
        self._file = len(self._fms)

    def _learn_eod(self) -> None:
        # forward over everything, learning the filemarks: the only way to count without READ POSITION
        self._say_once("seek_eod", f"{self.path}: counting the records to end of data by reading them "
                       f"(the drive does not answer READ POSITION)")
        try:
            while True:
                self._cross_filemark()
        except EndOfData:
            pass

    # --- the cartridge ----------------------------------------------------------------------------
    @property
    def partitions(self) -> int:
        """From MODE SENSE page 0x11 (asked once per load); 1 when the drive does not answer it."""
        if self._nparts is None:
            n = self._drv.partition_count() if self._loaded else None
            if n is None:
                self._say_once("partitions", f"{self.path}: the drive does not answer MODE SENSE page 0x11; "
                               f"taking the cartridge for one partition")
                n = 1
            self._nparts = n
        return self._nparts

    def format_partitions(self, count: int) -> None:
        """Erase the cartridge and make `count` partitions (LTFS: 2) through SG_IO, then rewind st."""
        self._check()
        if count not in (1, 2):
            raise UsageError(f"an LTO cartridge takes 1 or 2 partitions, not {count}", count=count)
        from .scsi.sense import ScsiUnsupported
        try:
            self._drv.format_partitions(count)
        except ScsiUnsupported:
            raise UsageError(f"{self.path}: this drive cannot partition a cartridge (it refused MODE SELECT "
                             f"page 0x11 / FORMAT MEDIUM); LTFS needs a partition-capable drive (LTO-5 or "
                             f"newer). Nothing on the tape was changed.", path=self.path, partitions=count) from None
        except OSError as exc:
            raise self._error(exc, "FORMAT MEDIUM") from None
        finally:
            # the commands bypassed st: its counters are stale until st rewinds itself
            self._op(io.MTREW)
            self._reset_tracking()

    def medium(self) -> MediumInfo:
        self._check()
        st = self._status()
        drive = self.drive_generation()
        if self._mam is None:
            self._mam = self._drv.cartridge_memory() or False
        mam = self._mam or None
        density = st.density_code or (mam.density_code if mam is not None and mam.density_code else 0)
        medium = drive
        if density:
            try:
                medium = by_density_code(density)
            except DeviceError:
                medium = drive
        else:
            self._say_once("density", f"{self.path}: the drive reports no density code; taking the cartridge "
                           f"for a {drive} medium (the drive's own generation)")
        capacity = medium.capacity
        remaining = capacity
        if mam is not None and mam.max_capacity_mb:
            capacity = mam.max_capacity_mb * MiB
        if mam is not None and mam.remaining_capacity_mb is not None:
            remaining = mam.remaining_capacity_mb * MiB      # as of the last unload: an estimate
        if self._ew_seen:
            remaining = max(0, self.options.ew_room - self._after_ew) if self.options.ew_room else 0
        return MediumInfo(generation=medium, drive_generation=drive, density_code=density,
                          barcode=mam.barcode if mam is not None else None, partitions=self.partitions,
                          capacity=capacity, remaining=min(remaining, capacity), write_protected=st.write_protected)

    def drive_generation(self) -> Generation:
        vendor, product = self._drv.inquiry()
        gen = None
        try:
            from .scsi.drives import generation_of
            gen = generation_of(vendor, product)
        except ImportError:
            pass
        if gen is None:
            self._say_once("drive", f"{self.path}: drive {vendor} {product!r} is not an LTO drive this tool "
                           f"knows; taking it for LTO-5, the oldest it writes to")
            gen = GENERATIONS["LTO-5"]
        return gen

    def load(self) -> None:
        try:
            self._drv.op(io.MTLOAD, 1)
        except OSError as exc:
            st = self._safe_status()
            if st is None or not st.online:
                raise self._error(exc, "MTLOAD") from None
        st = self._status()
        if not st.online:
            raise NoMedium(f"no cartridge in {self.path} to load", path=self.path)
        self._setup()

    def unload(self) -> None:
        self._check()
        self._op(io.MTOFFL)
        self._locked = False
        self._loaded = False
        self._reset_tracking()

    def _lock(self) -> None:
        """Keep the cartridge in while a job writes (MTLOCK); the commit filemark or close unlocks."""
        try:
            self._drv.op(io.MTLOCK, 1)
            self._locked = True
        except OSError:
            self._locked = True     # a drive without a lock: nothing to undo later
            self._say_once("lock", f"{self.path}: the drive cannot lock its cartridge in")

    def _unlock(self) -> None:
        self._locked = False
        try:
            self._drv.op(io.MTUNLOCK, 1)
        except OSError:
            pass

    def close(self) -> None:
        if self._drv is None:
            return
        try:
            if self._locked and self._loaded:
                self._unlock()
        finally:
            self._drv.close()

    def __repr__(self) -> str:
        return f"<StTape {self.path} {'loaded' if self._loaded else 'empty'} position from {self.position_source}>"
