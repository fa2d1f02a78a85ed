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

from ..errors import DeviceError, EndOfMedium, MediumError, NoMedium, UsageError, WriteProtected
from ..generations import GENERATIONS, Generation, by_density_code
from . import st_ioctl as io
from .device import MediumInfo, WriteFlags, record_length
from .st_drive import StDriveBase
from .st_driver import Driver, StDriver
from .st_moves import StMoves
from .st_spec import DEFAULT_EW_ROOM, DEFAULT_MAX_READ, ST_MAJOR, MiB, StOptions, check_node, parse_spec

__all__ = ["DEFAULT_EW_ROOM", "DEFAULT_MAX_READ", "ST_MAJOR", "Driver", "StDriveBase", "StDriver", "StOptions",
           "StTape", "check_node", "parse_spec"]


class StTape(StMoves):
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

    def _write_error(self, exc: OSError) -> DeviceError | UsageError:
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
