"""VirtualTape: the TapeDevice over a virtual cartridge folder (made by create_vtape, vtape.py).

Behaviour beyond the TapeDevice docstring (the conformance suite does not rely
on it): `space_records` stops silently at a filemark; spacing backward into
BOP leaves the position at block 0 and raises DeviceError; `locate` past EOD
leaves the position at EOD and raises EndOfData; a record longer than
`max_size` raises DeviceError and does not move; an injected read error does
not move either. The E marker is exact after `close()`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Callable

from ..errors import (DeviceError, DeviceNotFound, EndOfData, EndOfMedium, GenerationError, MediumError,
                      NoMedium, UsageError, WriteProtected)
from ..generations import by_cart_type, by_density_code
from . import mam
from .blocks import BlockTable, partition_capacities
from .device import MAX_RECORD, MediumInfo, Position, TapeDevice, WriteFlags, record_length
from .speed import DriveSpeedModel, SpeedSettings, TapeStats
from .drive_health import note_load
from .vtape_faults import Faults
from .vtape_health import DriveCounters
from .vtape_settings import (CONF_DEFAULTS, CONF_NAME, SIDECAR_NAME, MiB, VTapeSettings, as_generation, conf_bool,
                             default_drive_generation, read_conf)
from .vtape_store import OBJECT, CartridgeFolder, object_name

__all__ = ["VirtualTape"]


class VirtualTape(TapeDevice):
    """A TapeDevice (and CartridgeMemory) over one cartridge directory.

    Opening loads the cartridge (position: partition 0, block 0). Settings come
    from the sidecar; `faults`, `write_protected` and speed emulation can be
    changed from code, and `save_settings()` writes them back to the sidecar.
    """

    name = "vtape"

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.path = Path(path)
        self.name = f"vtape:{self.path}"   # which cartridge, in job results and messages
        self._clock = clock
        self._sleep = sleep
        self._folder: CartridgeFolder | None = None
        self._ready = False
        self._closed = False
        self.stats = TapeStats()
        self.faults = Faults()
        self.speed: DriveSpeedModel | None = None
        self.counters: DriveCounters | None = None
        self._load_medium()

    # --- loading ----------------------------------------------------------------
    def _load_medium(self) -> None:
        path = self.path
        if not path.exists():
            raise DeviceNotFound(f"no virtual cartridge at {path}: the folder does not exist", path=str(path))
        if not path.is_dir():
            raise DeviceNotFound(f"{path} is not a virtual cartridge: it is a file, not a folder", path=str(path))
        names = os.listdir(path)
        if CONF_NAME not in names and not any(OBJECT.fullmatch(n) for n in names):
            raise DeviceNotFound(
                f"{path} is not a virtual cartridge (no {CONF_NAME} and no tape objects such as 0_0_E); "
                f"create one with create_vtape()", path=str(path))
        folder = CartridgeFolder(path)
        try:
            self._folder = folder
            self._read_settings(names)
            self._scan()
        except BaseException:
            self._folder = None
            folder.close()
            raise
        self._vcr_pending = True
        self._ready = True
        self._count_load(SIDECAR_NAME in names)

    def _count_load(self, ours: bool) -> None:
        """The drive's counters for this load (tape/vtape_health.py), and the health reading at load."""
        before = self.counters
        self.counters = DriveCounters(self.path, persist=ours, attr=self._mam_number)
        self.counters.drive_loads = before.drive_loads if before is not None else 0
        self.counters.loaded()
        note_load(self)

    def _mam_number(self, attr_id: int, value: int | None) -> int | None:
        """A binary MAM number the drive keeps: read it (value None) or write it."""
        if value is None:
            attr = self._open_folder().read_attribute(0, attr_id)
            return attr.number() if attr is not None and attr.value else None
        self._write_attr(0, attr_id, mam.BINARY | mam.READ_ONLY_FLAG, value.to_bytes(8, "big"))
        return None

    def _read_settings(self, names: list[str]) -> None:
        conf = read_conf(self.path) if CONF_NAME in names else dict(CONF_DEFAULTS)
        self.conf = conf
        cart_type = conf.get("cart_type", "L5")
        try:
            density = int(conf.get("density_code", "58"), 16)
        except ValueError:
            raise DeviceError(f"density_code {conf.get('density_code')!r} in {self.path / CONF_NAME} "
                              f"is not a hexadecimal number", path=str(self.path)) from None
        try:
            gen = by_density_code(density)
        except GenerationError:
            gen = by_cart_type(cart_type)
        self.density_code = density
        self.generation = gen
        settings = VTapeSettings.load(self.path / SIDECAR_NAME)
        self.settings = settings
        self.drive_generation = (as_generation(settings.drive_generation) if settings.drive_generation
                                 else default_drive_generation(gen))
        if gen.name not in self.drive_generation.reads:
            raise GenerationError(
                f"the {self.drive_generation} drive cannot load {gen} cartridge {self.path.name} "
                f"(it reads {', '.join(self.drive_generation.reads)})",
                drive=self.drive_generation.name, medium=gen.name)
        self._emulate_readonly = conf_bool(conf.get("emulate_readonly"))
        if settings.capacity is not None:
            self.capacity = settings.capacity
        else:
            try:
                mb = int(conf.get("capacity_mb", "3072"))
            except ValueError:
                mb = 3072
            self.capacity = (mb if mb > 0 else 3072) * MiB
        self.faults = Faults.from_dict(settings.faults, f"faults of {self.path / SIDECAR_NAME}")
        speed = SpeedSettings.from_dict(settings.speed, f"speed of {self.path / SIDECAR_NAME}")
        self.speed = (DriveSpeedModel(self.drive_generation, speed, self.stats, clock=self._clock,
                                      sleep=self._sleep) if speed.enabled else None)
        self.barcode: str | None = None

    def _scan(self) -> None:
        """The block table from the folder (repairing what a crash left), and the barcode."""
        s = self.settings

        def new_table(partitions: int) -> BlockTable:
            return BlockTable(self.capacity, partitions, describe=self._describe,
                              early_warning_bytes=s.early_warning_bytes,
                              programmable_early_warning_bytes=s.programmable_early_warning_bytes)
        self._table = self._open_folder().scan(new_table)
        attr = self._read_attr(0, mam.BARCODE)
        self.barcode = attr.text() or None if attr else None

    # --- small internals ---------------------------------------------------------
    def _open_folder(self) -> CartridgeFolder:
        folder = self._folder
        if folder is None:
            raise NoMedium(f"no cartridge loaded in the virtual drive for {self.path}: load it first",
                           path=str(self.path))
        return folder

    def _stop_streaming(self) -> None:
        """Leave write mode: E markers exact, drive buffer flushed."""
        folder = self._folder
        if folder is not None and folder.edirty:
            folder.sync_end_markers(self._table)
        if self.speed is not None:
            self.speed.flush()

    @property
    def label(self) -> str:
        return self.barcode or self.path.name

    def _describe(self) -> str:
        return f"cartridge {self.label}"

    def _check_ready(self) -> None:
        if self.faults.gone:
            self.faults.check_gone(self.label, "a command")
        if not self._ready:
            if self._closed:
                raise DeviceError(f"virtual tape {self.path} is closed", path=str(self.path))
            raise NoMedium(f"no cartridge loaded in the virtual drive for {self.path}: load it first",
                           path=str(self.path))

    def _check_writable(self) -> None:
        if self.settings.write_protected or self._emulate_readonly:
            why = ("its sidecar says write_protected: true" if self.settings.write_protected
                   else f"its {CONF_NAME} says emulate_readonly: true")
            raise WriteProtected(
                f"cartridge {self.label} is write-protected: slide its write-protect tab to unlocked "
                f"and load it again ({why})", barcode=self.barcode, path=str(self.path))
        if self.generation.name not in self.drive_generation.writes:
            raise GenerationError(
                f"the {self.drive_generation} drive can read but not write {self.generation} cartridge "
                f"{self.label} (it writes {', '.join(self.drive_generation.writes)})",
                drive=self.drive_generation.name, medium=self.generation.name)

    def _bump_vcr(self) -> None:
        """First write of a load: the drive bumps the volume change reference, as the reference does."""
        attr = self._read_attr(0, mam.VOLUME_CHANGE_REFERENCE)
        current = attr.number() if attr else 1
        self._write_attr(0, mam.VOLUME_CHANGE_REFERENCE, mam.BINARY, ((current + 1) & 0xFFFFFFFF).to_bytes(4, "big"))
        self._vcr_pending = False

    def _os_error(self, exc: OSError, what: str) -> DeviceError:
        if exc.errno == errno.ENOSPC:
            return DeviceError(f"the disk holding virtual cartridge {self.path} is full ({what} failed)",
                               path=str(self.path))
        return MediumError(f"{what} failed on virtual cartridge {self.label}: {exc.strerror}",
                           path=str(self.path), errno=exc.errno)

    # --- writing ------------------------------------------------------------------
    def write_record(self, data: bytes | bytearray | memoryview) -> WriteFlags:
        if not self._ready:
            self._check_ready()
        n = record_length(data)
        if self._vcr_pending:
            self._check_writable()
            self._bump_vcr()
        elif self.settings.write_protected or self._emulate_readonly:
            self._check_writable()
        table = self._table
        p, b = table.part, table.block
        if self.faults.armed:
            self._faulted(self.faults.check_write, True, self.label, p, b, table.after_record(n))
        table.check_room(n)
        short = self.faults.short_write(n) if self.faults.armed else None
        if short is not None:
            self._write_short(data, n, short)
        folder = self._open_folder()
        if b != table.eod[p]:
            folder.discard(table, p, b)
        try:
            folder.write_record(p, b, data, n)
        except OSError as exc:
            raise self._os_error(exc, f"writing block {b} of partition {p}") from exc
        flags = table.write_record(n)
        folder.edirty = True
        st = self.stats
        st.records_written += 1
        st.bytes_written += n
        if self.counters is not None:
            self.counters.record(n, write=True, every=self.faults.corrected_errors_every)
        if self.speed is not None:
            self.speed.on_write(n)
        return flags

    def _write_short(self, data: bytes | bytearray | memoryview, asked: int, taken: int) -> None:
        """An injected short write: the drive took the first `taken` bytes of the record (a record of
        its own, none when 0) and reports the end of the medium, as st does for a short write."""
        table = self._table
        p, b = table.part, table.block
        if taken:
            folder = self._open_folder()
            if b != table.eod[p]:
                folder.discard(table, p, b)
            folder.write_record(p, b, memoryview(data).cast("B")[:taken], taken)
            table.write_record(taken)
            folder.edirty = True
        raise EndOfMedium(f"cartridge {self.label} is full: only {taken} of {asked} bytes of the record at "
                          f"partition {p} block {b} were written (injected short write)",
                          partition=p, block=b, size=asked, written=taken, injected=True)

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        self._check_ready()
        if count < 0:
            raise UsageError(f"cannot write {count} filemarks", count=count)
        table = self._table
        folder = self._open_folder()
        if count:
            self._check_writable()
            if self._vcr_pending:
                self._bump_vcr()
            p, b = table.part, table.block
            if self.faults.armed:
                for addr in range(b, b + count):
                    self._faulted(self.faults.check_write, True, self.label, p, addr, None)
            if b != table.eod[p]:
                folder.discard(table, p, b)
            for addr in range(b, b + count):
                try:
                    folder.touch(object_name(p, addr, "F"))
                except OSError as exc:
                    raise self._os_error(exc, f"writing a filemark at block {addr} of partition {p}") from exc
                table.write_filemark()
                folder.edirty = True
                self.stats.filemarks_written += 1
        folder.sync_end_markers(table)
        if self.speed is not None and not immediate:
            self.speed.flush()
        return table.flags()

    # --- reading ------------------------------------------------------------------
    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        self._check_ready()
        if max_size < 1:
            raise UsageError(f"max_size must be at least 1, not {max_size}")
        self._stop_streaming()
        table = self._table
        p, b = table.part, table.block
        if self.faults.armed:
            self._faulted(self.faults.check_read, False, self.label, p, b, table.eod[p])
        if b >= table.eod[p]:
            raise EndOfData(f"end of data on cartridge {self.label}: nothing is written at partition {p} "
                            f"block {b}", partition=p, block=b)
        if table.is_filemark(p, b):
            table.block = b + 1
            return b""
        size = table.record_size(p, b)
        if size > max_size:
            raise DeviceError(f"the record at partition {p} block {b} is {size} bytes, larger than the "
                              f"{max_size}-byte read buffer; read it with max_size >= {size}",
                              partition=p, block=b, size=size, max_size=max_size)
        try:
            data = self._open_folder().read_record(p, b, size)
        except OSError as exc:
            raise self._os_error(exc, f"reading block {b} of partition {p}") from exc
        if len(data) != size:
            raise MediumError(f"record at partition {p} block {b} of cartridge {self.label} is "
                              f"{len(data)} bytes on disk, {size} expected (changed behind our back)",
                              partition=p, block=b)
        table.block = b + 1
        st = self.stats
        st.records_read += 1
        st.bytes_read += size
        if self.counters is not None:
            self.counters.record(size, write=False, every=self.faults.corrected_errors_every)
        return data

    # --- moving -------------------------------------------------------------------
    def rewind(self) -> None:
        self._check_ready()
        self._stop_streaming()
        self._table.rewind()

    def locate(self, partition: int, block: int) -> None:
        self._check_ready()
        self._table.check_address(partition, block)
        self._stop_streaming()
        self._table.locate(partition, block)

    def position(self) -> Position:
        self._check_ready()
        return self._table.position()

    def space_filemarks(self, count: int) -> None:
        self._check_ready()
        self._stop_streaming()
        self._table.space_filemarks(count)

    def space_records(self, count: int) -> None:
        self._check_ready()
        self._stop_streaming()
        self._table.space_records(count)

    def seek_eod(self) -> None:
        self._check_ready()
        self._stop_streaming()
        self._table.seek_eod()

    # --- the cartridge ------------------------------------------------------------
    @property
    def partitions(self) -> int:
        self._check_ready()
        return self._table.partitions

    @property
    def write_protected(self) -> bool:
        return bool(self.settings.write_protected or self._emulate_readonly)

    @write_protected.setter
    def write_protected(self, value: bool) -> None:
        """Slide the tab (in memory; `save_settings()` keeps it)."""
        self.settings.write_protected = bool(value)

    def medium(self) -> MediumInfo:
        self._check_ready()
        table = self._table
        return MediumInfo(
            generation=self.generation,
            drive_generation=self.drive_generation,
            density_code=self.density_code,
            barcode=self.barcode,
            partitions=table.partitions,
            capacity=self.capacity,
            remaining=table.remaining(table.part),
            write_protected=self.write_protected,
        )

    def partition_capacity(self, partition: int) -> int:
        """Bytes partition `partition` holds."""
        self._check_ready()
        return self._table.cap[partition]

    def used_bytes(self, partition: int) -> int:
        """Bytes of records on `partition` up to its EOD."""
        self._check_ready()
        return self._table.used(partition)

    def eod(self, partition: int) -> int:
        """The EOD address of `partition` (without moving)."""
        self._check_ready()
        return self._table.eod[partition]

    def format_partitions(self, count: int) -> None:
        """Erase the cartridge and divide it into `count` partitions (FORMAT MEDIUM)."""
        self._check_ready()
        self._check_writable()
        if count not in (1, 2):
            raise UsageError(f"a cartridge has 1 or 2 partitions, not {count}", partitions=count)
        if count > self.generation.partitions:
            raise GenerationError(f"{self.generation} media cannot be partitioned (LTO-5 and newer can)",
                                  medium=self.generation.name)
        self._stop_streaming()
        folder = self._open_folder()
        folder.erase()
        for part, cap in enumerate(partition_capacities(self.capacity, count)):
            self._write_attr(part, mam.MAXIMUM_CAPACITY_IN_PARTITION, mam.BINARY | mam.READ_ONLY_FLAG,
                             (cap // MiB).to_bytes(8, "big"))
        for part in range(count):
            folder.touch(object_name(part, 0, "E"))
        self._scan()

    def load(self) -> None:
        if self._closed:
            self._check_ready()
        if self._ready:
            self._stop_streaming()
            self._table.rewind()
            return
        self.stats = TapeStats()
        self._load_medium()

    def unload(self) -> None:
        self._check_ready()
        self._stop_streaming()
        self._release()

    def close(self) -> None:
        if self._ready:
            try:
                self._stop_streaming()
            finally:
                self._release()
        self._closed = True

    def _release(self) -> None:
        if self._ready and self.counters is not None and self._folder is not None:
            try:
                self.counters.unloaded()       # this mount's counters join the cartridge's
            except (OSError, DeviceError):
                pass                            # a full disk: the counters are lost, not the unload
        self._ready = False
        folder, self._folder = self._folder, None
        if folder is not None:
            folder.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_ready", False):
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "loaded" if self._ready else ("closed" if self._closed else "unloaded")
        return f"<VirtualTape {self.path} {self.generation} {state}>"

    # --- health: the drive's log pages (tape/vtape_health.py, tape/logpages.py) -----------------------
    def _faulted(self, check: Callable[..., None], write: bool, *args: object) -> None:
        """Run an injected-fault check; a medium error it raises is an uncorrected error in the counters."""
        try:
            check(*args)
        except MediumError:
            if self.counters is not None:
                self.counters.failed(write=write)
            raise

    def log_sense(self, page: int) -> bytes:
        """Log page `page` as a drive answers LOG SENSE (0x00, 0x02, 0x03, 0x14, 0x17, 0x2E); DeviceError else."""
        self._check_ready()
        assert self.counters is not None
        table = self._table
        parts = range(table.partitions)
        return self.counters.page(page, alerts=self.faults.alerts(), barcode=self.barcode,
                                  capacity_mb={p: table.cap[p] // MiB for p in parts},
                                  used_mb={p: table.used(p) // MiB for p in parts})

    # --- settings -----------------------------------------------------------------
    def save_settings(self) -> None:
        """Write the current settings, faults and speed settings to the sidecar."""
        s = self.settings
        s.faults = {k: v for k, v in self.faults.to_dict().items() if v is not None}
        if self.speed is not None:
            s.speed = self.speed.settings.to_dict()
        s.save(self.path / SIDECAR_NAME)

    def enable_speed_emulation(self, settings: SpeedSettings | None = None, *,
                               clock: Callable[[], float] | None = None,
                               sleep: Callable[[float], None] | None = None) -> DriveSpeedModel:
        """Start the drive-speed model (see speed.py); returns it (also `self.speed`)."""
        settings = settings or SpeedSettings()
        settings.enabled = True
        self.speed = DriveSpeedModel(self.drive_generation, settings, self.stats,
                                     clock=clock or self._clock, sleep=sleep or self._sleep)
        return self.speed

    def disable_speed_emulation(self) -> None:
        self.speed = None
        self.settings.speed = {}

    # --- cartridge memory (CartridgeMemory protocol) ----------------------------------
    def _read_attr(self, partition: int, attr_id: int) -> mam.Attribute | None:
        if attr_id == mam.REMAINING_CAPACITY_IN_PARTITION:     # kept up to date by the drive, as a real one does
            left = self._table.remaining(partition) // MiB
            return mam.Attribute(attr_id, mam.BINARY | mam.READ_ONLY_FLAG, left.to_bytes(8, "big"))
        if attr_id == mam.LOAD_COUNT and self.counters is not None:     # this load counted (kept at unload)
            loads = self.counters.volume.mounts
            return mam.Attribute(attr_id, mam.BINARY | mam.READ_ONLY_FLAG, loads.to_bytes(8, "big"))
        return self._open_folder().read_attribute(partition, attr_id)

    def _write_attr(self, partition: int, attr_id: int, fmt: int, value: bytes) -> None:
        self._open_folder().write_attribute(partition, attr_id, fmt, value)

    def _check_attr_partition(self, partition: int) -> None:
        if not 0 <= partition < self._table.partitions:
            raise DeviceError(f"cartridge {self.label} has no partition {partition}", partition=partition)

    def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
        self._check_ready()
        self._check_attr_partition(partition)
        attr = self._read_attr(partition, attr_id)
        return attr.value if attr else None

    def read_attribute_full(self, partition: int, attr_id: int) -> mam.Attribute | None:
        """The attribute with its format byte."""
        self._check_ready()
        self._check_attr_partition(partition)
        return self._read_attr(partition, attr_id)

    def attributes(self, partition: int = 0) -> dict[int, mam.Attribute]:
        """Every attribute stored for `partition`, by id."""
        self._check_ready()
        out = {}
        for attr_id in self._open_folder().attribute_ids(partition):
            attr = self._read_attr(partition, attr_id)
            if attr is not None:
                out[attr_id] = attr
        return out

    def write_attribute(self, partition: int, attr_id: int, value: bytes, fmt: int) -> None:
        self._check_ready()
        self._check_attr_partition(partition)
        if self.write_protected:
            self._check_writable()
        self._write_attr(partition, attr_id, fmt, bytes(value))
        if partition == 0 and attr_id == mam.BARCODE:
            self.barcode = mam.Attribute(attr_id, fmt, bytes(value)).text() or None
