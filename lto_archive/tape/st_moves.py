"""The st device's moves: rewind, locate, spacing, end of data and `position()`, by the drive
(READ POSITION, MTSEEK, LOCATE(16)) or counted (rewind and space forward); see st.py."""

from __future__ import annotations

import errno

from ..errors import DeviceError, EndOfData, UsageError
from . import st_ioctl as io
from .device import Position
from .st_drive import StDriveBase


class StMoves(StDriveBase):
    """TapeDevice's moving methods over the st driver, for StTape."""

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
        fileno: int | None
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
            before = self._here()
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
