"""A virtual tape: one cartridge as a directory in the LTFS reference's file-backend layout.

See docs/vtape.md. In short:

- `P_B_R` record, `P_B_F` filemark, `P_B_E` end of data (one per partition),
  `attr_P_<hex id>` cartridge memory, `filedebug_tc_conf.xml` the cartridge;
  `lto-archive-vtape.json` our own settings (capacity in bytes, drive
  generation, write protect, early-warning zones, faults, speed emulation).
- A record is written to a temporary name and renamed into place, so a
  process killed at any moment leaves whole records only. Opening scans
  addresses 0, 1, 2, ... per partition: EOD is the first address without a
  record or filemark; anything else (temporary files, objects past EOD, stale
  E markers) is removed and exactly one E marker is left at EOD.
- The E marker is moved lazily (on filemark, any move or read, close, unload),
  never per record; it is exact after `close()`.
- Discarding (a write before EOD) deletes the first discarded address first,
  so a scan after a crash stops there.

Behaviour beyond the TapeDevice docstring (the conformance suite does not rely
on it): `space_records` stops silently at a filemark; spacing backward into
BOP leaves the position at block 0 and raises DeviceError; `locate` past EOD
leaves the position at EOD and raises EndOfData; a record longer than
`max_size` raises DeviceError and does not move; an injected read error does
not move either.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import uuid
from array import array
import xml.etree.ElementTree as ET
from bisect import bisect_left
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from ..errors import (DeviceError, DeviceNotFound, EndOfData, EndOfMedium, GenerationError,
                      MediumError, NoMedium, UsageError, WriteProtected)
from ..generations import GENERATIONS, Generation, by_cart_type, by_density_code, by_name
from . import mam
from .device import MAX_RECORD, MediumInfo, Position, TapeDevice, WriteFlags, record_length
from .speed import DriveSpeedModel, SpeedSettings, TapeStats

CONF_NAME = "filedebug_tc_conf.xml"
SIDECAR_NAME = "lto-archive-vtape.json"
TMP_PREFIX = ".lto-archive-tmp"
MiB = 1024 * 1024
KiB = 1024
MIN_ZONE = 64 * KiB
P0_SHARE_PERCENT = 5     # as the reference: partition 0 gets 5 % of a 2-partition cartridge

_OBJECT = re.compile(r"([01])_(0|[1-9][0-9]*)_([RFE])")
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)

# Elements the reference writes, in its order, with the defaults it uses
# (threading_sec is 0 in the reference's own cartridges).
CONF_DEFAULTS: dict[str, str] = {
    "dummy_io": "false",
    "emulate_readonly": "false",
    "capacity_mb": "3072",
    "cart_type": "L5",
    "density_code": "58",
    "delay_mode": "None",
    "wraps": "40",
    "eot_to_bot_sec": "12",
    "change_direction_us": "2000000",
    "change_track_us": "10000",
    "threading_sec": "0",
}


# --- helpers shared with NullTape ---------------------------------------------

def warning_points(partition_capacity: int, early_warning_bytes: int | None = None,
                   programmable_early_warning_bytes: int | None = None) -> tuple[int, int]:
    """(PEW point, EW point) in bytes from the start of a partition.

    Zones are measured back from the end of the partition. Defaults: the EW zone
    is max(1 % of the partition, 64 KiB); the PEW zone is twice the EW zone. The
    PEW zone is never smaller than the EW zone and neither exceeds the partition.
    """
    ew = early_warning_bytes if early_warning_bytes is not None else max(partition_capacity // 100, MIN_ZONE)
    pew = programmable_early_warning_bytes if programmable_early_warning_bytes is not None else 2 * ew
    ew = min(max(ew, 0), partition_capacity)
    pew = min(max(pew, ew), partition_capacity)
    return partition_capacity - pew, partition_capacity - ew


def partition_capacities(capacity: int, partitions: int) -> list[int]:
    if partitions == 1:
        return [capacity]
    p0 = capacity * P0_SHARE_PERCENT // 100
    return [p0, capacity - p0]


def default_drive_generation(medium: Generation) -> Generation:
    """The newest generation whose drives write `medium` (the medium's own on a tie)."""
    writers = [g for g in GENERATIONS.values() if medium.name in g.writes]
    if not writers:
        return medium
    newest = max(g.number for g in writers)
    top = [g for g in writers if g.number == newest]
    return medium if medium in top else top[0]


def _generation(value: Generation | str) -> Generation:
    return value if isinstance(value, Generation) else by_name(str(value))


# --- faults ------------------------------------------------------------------------

_FAULT_KEYS = ("write_error_at_block", "write_error_partition", "read_error_at_block",
               "read_error_partition", "write_error_after_calls", "read_error_after_calls",
               "end_of_medium_at", "end_of_medium_partition")


@dataclass
class Faults:
    """Failures on demand. Every fault stays armed until set back to None.

    - write_error_at_block: a record or filemark written at this address raises
      MediumError (on `write_error_partition`, or any partition when None).
    - read_error_at_block: reading this address raises MediumError (position
      unchanged), on `read_error_partition` or any.
    - write_error_after_calls = N: N more `write_record` calls succeed, every
      later one raises MediumError (counting starts when the field is set).
    - read_error_after_calls = N: likewise for `read_record`.
    - end_of_medium_at = B: the partition (`end_of_medium_partition`, or any)
      ends after B bytes: a record that would go past raises EndOfMedium,
      without the early warnings a real end would have given.
    A faulted write writes nothing.
    """

    write_error_at_block: int | None = None
    write_error_partition: int | None = None
    read_error_at_block: int | None = None
    read_error_partition: int | None = None
    write_error_after_calls: int | None = None
    read_error_after_calls: int | None = None
    end_of_medium_at: int | None = None
    end_of_medium_partition: int | None = None
    write_calls: int = field(default=0, compare=False, repr=False)
    read_calls: int = field(default=0, compare=False, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FAULT_KEYS and value is not None and (not isinstance(value, int) or value < 0):
            raise UsageError(f"fault {name} must be a whole number >= 0 or None, not {value!r}")
        object.__setattr__(self, name, value)
        if name == "write_error_after_calls":
            object.__setattr__(self, "write_calls", 0)
        elif name == "read_error_after_calls":
            object.__setattr__(self, "read_calls", 0)
        if name in _FAULT_KEYS:
            armed = any(getattr(self, k, None) is not None for k in _FAULT_KEYS)
            object.__setattr__(self, "armed", armed)

    def clear(self) -> None:
        for k in _FAULT_KEYS:
            setattr(self, k, None)

    def to_dict(self) -> dict[str, int | None]:
        return {k: getattr(self, k) for k in _FAULT_KEYS}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "faults") -> "Faults":
        unknown = sorted(set(data) - set(_FAULT_KEYS))
        if unknown:
            raise UsageError(f"unknown fault(s) {', '.join(unknown)} in {where}; known: {', '.join(_FAULT_KEYS)}",
                             keys=unknown)
        return cls(**data)


# --- sidecar --------------------------------------------------------------------

@dataclass
class VTapeSettings:
    """Our sidecar, `lto-archive-vtape.json` (the reference ignores it)."""

    capacity: int | None = None                 # bytes; wins over capacity_mb of the conf
    drive_generation: str | None = None         # None: newest generation that writes the medium
    write_protected: bool = False
    early_warning_bytes: int | None = None      # EW zone before the end of each partition
    programmable_early_warning_bytes: int | None = None  # PEW zone (from the end, includes EW zone)
    faults: dict[str, Any] = field(default_factory=dict)
    speed: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "VTapeSettings":
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} is not valid JSON: {exc}", path=str(path)) from None
        if not isinstance(data, dict):
            raise UsageError(f"{path} must hold a JSON object", path=str(path))
        data = {k: v for k, v in data.items() if k not in ("format", "version")}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown key(s) {', '.join(unknown)} in {path}; known: {', '.join(sorted(known))}",
                             path=str(path), keys=unknown)
        s = cls(**data)
        for name in ("capacity", "early_warning_bytes", "programmable_early_warning_bytes"):
            v = getattr(s, name)
            if v is not None and (not isinstance(v, int) or v < (1 if name == "capacity" else 0)):
                raise UsageError(f"{name} in {path} must be a whole number of bytes, not {v!r}", path=str(path))
        return s

    def to_dict(self) -> dict[str, Any]:
        return {"format": "lto-archive-vtape", "version": 1, **asdict(self)}

    def save(self, path: Path) -> None:
        _atomic_write(path, (json.dumps(self.to_dict(), indent=2) + "\n").encode())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{TMP_PREFIX}-{path.name}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --- the reference's cartridge configuration --------------------------------------

def read_conf(cart_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The elements of `filedebug_tc_conf.xml` as text, in file order."""
    path = Path(cart_dir) / CONF_NAME
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise DeviceError(f"{path} is not a cartridge configuration the LTFS file backend writes: {exc}",
                          path=str(path)) from None
    if root.tag != "filedebug_cartridge_config":
        raise DeviceError(f"{path} is not a cartridge configuration (root element <{root.tag}>)", path=str(path))
    return {child.tag: (child.text or "").strip() for child in root if isinstance(child.tag, str)}


def update_conf(cart_dir: str | os.PathLike[str], **values: Any) -> None:
    """Set elements of `filedebug_tc_conf.xml`, keeping every other element (and comments).

    Missing elements are appended; a missing file is started from the
    reference's defaults. Booleans become true/false; density_code may be an int.
    """
    path = Path(cart_dir) / CONF_NAME
    if path.exists():
        parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
        root = ET.parse(path, parser).getroot()
    else:
        root = ET.Element("filedebug_cartridge_config")
        for k, v in CONF_DEFAULTS.items():
            ET.SubElement(root, k).text = v
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif key == "density_code" and isinstance(value, int):
            text = f"{value:x}"
        else:
            text = str(value)
        elem = root.find(key)
        if elem is None:
            elem = ET.SubElement(root, key)
        elem.text = text
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    _atomic_write(path, ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8"))


def _conf_bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes")


# --- the device -------------------------------------------------------------------

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
        self._dfd: int | None = None
        self._ready = False
        self._closed = False
        self.stats = TapeStats()
        self.faults = Faults()
        self.speed: DriveSpeedModel | None = None
        self._load_medium()

    # --- loading ----------------------------------------------------------------
    def _load_medium(self) -> None:
        path = self.path
        if not path.exists():
            raise DeviceNotFound(f"no virtual cartridge at {path}: the folder does not exist", path=str(path))
        if not path.is_dir():
            raise DeviceNotFound(f"{path} is not a virtual cartridge: it is a file, not a folder", path=str(path))
        names = os.listdir(path)
        if CONF_NAME not in names and not any(_OBJECT.fullmatch(n) for n in names):
            raise DeviceNotFound(
                f"{path} is not a virtual cartridge (no {CONF_NAME} and no tape objects such as 0_0_E); "
                f"create one with create_vtape()", path=str(path))
        dfd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            try:
                fcntl.flock(dfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DeviceError(f"virtual cartridge {path} is in use by another process or device object",
                                  path=str(path)) from None
            self._dfd = dfd
            self._read_settings(names)
            self._scan()
        except BaseException:
            self._dfd = None
            os.close(dfd)
            raise
        self._part = 0
        self._block = 0
        self._vcr_pending = True
        self._ready = True

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
        self.drive_generation = (_generation(settings.drive_generation) if settings.drive_generation
                                 else default_drive_generation(gen))
        if gen.name not in self.drive_generation.reads:
            raise GenerationError(
                f"the {self.drive_generation} drive cannot load {gen} cartridge {self.path.name} "
                f"(it reads {', '.join(self.drive_generation.reads)})",
                drive=self.drive_generation.name, medium=gen.name)
        self._emulate_readonly = _conf_bool(conf.get("emulate_readonly"))
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
        """Find EOD per partition from the directory, repair what a crash left."""
        dfd = self._dfd
        found: list[dict[int, str]] = [{}, {}]
        for name in os.listdir(dfd):
            if name.startswith(TMP_PREFIX):
                self._unlink(name)
                continue
            m = _OBJECT.fullmatch(name)
            if m:
                p, b, t = int(m.group(1)), int(m.group(2)), m.group(3)
                found[p][b] = found[p].get(b, "") + t
        partitions = 2 if found[1] else 1
        self._partitions = partitions
        self._eod = [0, 0]
        self._cum: list[array] = [array("Q", [0]), array("Q", [0])]
        self._fms: list[list[int]] = [[], []]
        self._emark: list[int | None] = [None, None]
        for p in range(partitions):
            objs = found[p]
            cum = self._cum[p]
            fms = self._fms[p]
            b = 0
            while True:
                kinds = objs.get(b, "")
                if "F" in kinds:
                    if "R" in kinds:          # the reference reads F first; drop the stray R
                        self._unlink(f"{p}_{b}_R")
                    fms.append(b)
                    cum.append(cum[-1])
                elif "R" in kinds:
                    size = os.stat(f"{p}_{b}_R", dir_fd=dfd).st_size
                    cum.append(cum[-1] + size)
                else:
                    break
                b += 1
            eod = b
            self._eod[p] = eod
            for addr, kinds in objs.items():
                for t in kinds:
                    if addr >= eod and not (t == "E" and addr == eod):
                        self._unlink(f"{p}_{addr}_{t}")
                    elif t == "E" and addr < eod:
                        self._unlink(f"{p}_{addr}_E")
            if "E" in objs.get(eod, ""):
                self._emark[p] = eod
        self._edirty = True
        self._sync_emarks()
        caps = partition_capacities(self.capacity, partitions)
        self._cap = caps
        self._pew = []
        self._ew = []
        for cap in caps:
            pew, ew = warning_points(cap, self.settings.early_warning_bytes,
                                     self.settings.programmable_early_warning_bytes)
            self._pew.append(pew)
            self._ew.append(ew)
        attr = self._read_attr(0, mam.BARCODE)
        self.barcode = attr.text() or None if attr else None

    # --- small internals ---------------------------------------------------------
    def _unlink(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self._dfd)
        except FileNotFoundError:
            pass

    def _touch(self, name: str) -> None:
        os.close(os.open(name, _WRITE_FLAGS, 0o644, dir_fd=self._dfd))

    def _sync_emarks(self) -> None:
        """Leave exactly one E marker per partition, at EOD."""
        if not self._edirty:
            return
        for p in range(self._partitions):
            eod = self._eod[p]
            old = self._emark[p]
            if old != eod:
                self._touch(f"{p}_{eod}_E")
                self._emark[p] = eod
                if old is not None:
                    self._unlink(f"{p}_{old}_E")
        self._edirty = False

    def _stop_streaming(self) -> None:
        """Leave write mode: E markers exact, drive buffer flushed."""
        if self._edirty:
            self._sync_emarks()
        if self.speed is not None:
            self.speed.flush()

    @property
    def label(self) -> str:
        return self.barcode or self.path.name

    def _check_ready(self) -> None:
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

    def _write_fault(self, p: int, b: int, after: int | None) -> None:
        f = self.faults
        if after is not None and f.write_error_after_calls is not None:
            f.write_calls += 1
            if f.write_calls > f.write_error_after_calls:
                raise MediumError(f"write error on cartridge {self.label} at partition {p} block {b} "
                                  f"(injected after {f.write_error_after_calls} writes): nothing was written",
                                  partition=p, block=b, injected=True)
        if f.write_error_at_block == b and f.write_error_partition in (None, p):
            raise MediumError(f"write error on cartridge {self.label} at partition {p} block {b} "
                              f"(injected): nothing was written", partition=p, block=b, injected=True)
        if (after is not None and f.end_of_medium_at is not None and f.end_of_medium_partition in (None, p)
                and after > f.end_of_medium_at):
            raise EndOfMedium(f"cartridge {self.label} ended early on partition {p} after "
                              f"{f.end_of_medium_at} bytes (injected): the record was not written",
                              partition=p, block=b, injected=True)

    def _truncate(self, p: int, b: int) -> None:
        """Discard addresses b..EOD-1 of partition p, address b first."""
        fms = self._fms[p]
        i = bisect_left(fms, b)
        marks = set(fms[i:])
        for addr in range(b, self._eod[p]):
            self._unlink(f"{p}_{addr}_{'F' if addr in marks else 'R'}")
        del fms[i:]
        del self._cum[p][b + 1:]
        self._eod[p] = b
        old = self._emark[p]
        if old is not None and old != b:
            self._unlink(f"{p}_{old}_E")
            self._emark[p] = None
        self._edirty = True

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
        p = self._part
        b = self._block
        cum = self._cum[p]
        after = cum[b] + n
        if self.faults.armed:
            self._write_fault(p, b, after)
        if after > self._cap[p]:
            raise EndOfMedium(
                f"cartridge {self.label} is full: partition {p} has {self._cap[p] - cum[b]} bytes left "
                f"at block {b}; the {n}-byte record was not written", partition=p, block=b, size=n)
        if b != self._eod[p]:
            self._truncate(p, b)
        dfd = self._dfd
        try:
            fd = os.open(TMP_PREFIX, _WRITE_FLAGS, 0o644, dir_fd=dfd)
            try:
                written = os.write(fd, data)
                if written != n:
                    view = memoryview(data).cast("B")
                    while written < n:
                        written += os.write(fd, view[written:])
            finally:
                os.close(fd)
            os.rename(TMP_PREFIX, f"{p}_{b}_R", src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as exc:
            self._unlink(TMP_PREFIX)
            raise self._os_error(exc, f"writing block {b} of partition {p}") from exc
        cum.append(after)
        self._block = self._eod[p] = b + 1
        self._edirty = True
        st = self.stats
        st.records_written += 1
        st.bytes_written += n
        if self.speed is not None:
            self.speed.on_write(n)
        if after > self._pew[p]:
            if after > self._ew[p]:
                return WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING
            return WriteFlags.PROGRAMMABLE_EARLY_WARNING
        return WriteFlags.NONE

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        self._check_ready()
        if count < 0:
            raise UsageError(f"cannot write {count} filemarks", count=count)
        if count:
            self._check_writable()
            if self._vcr_pending:
                self._bump_vcr()
            p = self._part
            b = self._block
            if self.faults.armed:
                for addr in range(b, b + count):
                    self._write_fault(p, addr, None)
            if b != self._eod[p]:
                self._truncate(p, b)
            cum = self._cum[p]
            fms = self._fms[p]
            for addr in range(b, b + count):
                try:
                    self._touch(f"{p}_{addr}_F")
                except OSError as exc:
                    raise self._os_error(exc, f"writing a filemark at block {addr} of partition {p}") from exc
                fms.append(addr)
                cum.append(cum[-1])
                self._block = self._eod[p] = addr + 1
                self._edirty = True
                self.stats.filemarks_written += 1
        self._sync_emarks()
        if self.speed is not None and not immediate:
            self.speed.flush()
        return self._flags_here()

    def _flags_here(self) -> WriteFlags:
        p = self._part
        used = self._cum[p][self._block]
        flags = WriteFlags.NONE
        if used > self._pew[p]:
            flags |= WriteFlags.PROGRAMMABLE_EARLY_WARNING
        if used > self._ew[p]:
            flags |= WriteFlags.EARLY_WARNING
        return flags

    # --- reading ------------------------------------------------------------------
    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        self._check_ready()
        if max_size < 1:
            raise UsageError(f"max_size must be at least 1, not {max_size}")
        self._stop_streaming()
        p = self._part
        b = self._block
        f = self.faults
        if f.armed:
            if f.read_error_after_calls is not None:
                f.read_calls += 1
                if f.read_calls > f.read_error_after_calls:
                    raise MediumError(f"read error on cartridge {self.label} at partition {p} block {b} "
                                      f"(injected after {f.read_error_after_calls} reads)",
                                      partition=p, block=b, injected=True)
            if f.read_error_at_block == b and f.read_error_partition in (None, p) and b < self._eod[p]:
                raise MediumError(f"read error on cartridge {self.label} at partition {p} block {b} (injected)",
                                  partition=p, block=b, injected=True)
        if b >= self._eod[p]:
            raise EndOfData(f"end of data on cartridge {self.label}: nothing is written at partition {p} "
                            f"block {b}", partition=p, block=b)
        fms = self._fms[p]
        i = bisect_left(fms, b)
        if i < len(fms) and fms[i] == b:
            self._block = b + 1
            return b""
        cum = self._cum[p]
        size = cum[b + 1] - cum[b]
        if size > max_size:
            raise DeviceError(f"the record at partition {p} block {b} is {size} bytes, larger than the "
                              f"{max_size}-byte read buffer; read it with max_size >= {size}",
                              partition=p, block=b, size=size, max_size=max_size)
        try:
            fd = os.open(f"{p}_{b}_R", _READ_FLAGS, dir_fd=self._dfd)
            try:
                data = os.read(fd, size)
                while len(data) < size:
                    more = os.read(fd, size - len(data))
                    if not more:
                        break
                    data += more
            finally:
                os.close(fd)
        except OSError as exc:
            raise self._os_error(exc, f"reading block {b} of partition {p}") from exc
        if len(data) != size:
            raise MediumError(f"record at partition {p} block {b} of cartridge {self.label} is "
                              f"{len(data)} bytes on disk, {size} expected (changed behind our back)",
                              partition=p, block=b)
        self._block = b + 1
        st = self.stats
        st.records_read += 1
        st.bytes_read += size
        return data

    # --- moving -------------------------------------------------------------------
    def rewind(self) -> None:
        self._check_ready()
        self._stop_streaming()
        self._part = 0
        self._block = 0

    def locate(self, partition: int, block: int) -> None:
        self._check_ready()
        if block < 0:
            raise UsageError(f"block {block} is not a tape address", block=block)
        if not 0 <= partition < self._partitions:
            raise DeviceError(
                f"cartridge {self.label} has {self._partitions} partition(s): there is no partition {partition}",
                partition=partition, partitions=self._partitions)
        self._stop_streaming()
        self._part = partition
        eod = self._eod[partition]
        if block > eod:
            self._block = eod
            raise EndOfData(f"cannot locate to partition {partition} block {block} of cartridge "
                            f"{self.label}: end of data is at block {eod}", partition=partition,
                            block=block, eod=eod)
        self._block = block

    def position(self) -> Position:
        self._check_ready()
        p = self._part
        b = self._block
        used = self._cum[p][b]
        return Position(partition=p, block=b, file_number=bisect_left(self._fms[p], b), bop=b == 0,
                        eod=b == self._eod[p], early_warning=used > self._ew[p],
                        programmable_early_warning=used > self._pew[p])

    def space_filemarks(self, count: int) -> None:
        self._check_ready()
        self._stop_streaming()
        if count == 0:
            return
        p = self._part
        b = self._block
        fms = self._fms[p]
        i = bisect_left(fms, b)
        if count > 0:
            j = i + count - 1
            if j < len(fms):
                self._block = fms[j] + 1
                return
            self._block = self._eod[p]
            raise EndOfData(f"end of data on cartridge {self.label} after crossing {len(fms) - i} of "
                            f"{count} filemarks", partition=p, crossed=len(fms) - i)
        back = -count
        if i >= back:
            self._block = fms[i - back]
            return
        self._block = 0
        raise DeviceError(f"beginning of partition {p} reached after crossing {i} of {back} filemarks "
                          f"backward", partition=p, crossed=i)

    def space_records(self, count: int) -> None:
        self._check_ready()
        self._stop_streaming()
        if count == 0:
            return
        p = self._part
        b = self._block
        fms = self._fms[p]
        eod = self._eod[p]
        i = bisect_left(fms, b)
        if count > 0:
            limit = fms[i] if i < len(fms) else eod
            if b + count <= limit:
                self._block = b + count
                return
            self._block = limit
            if limit == eod:
                raise EndOfData(f"end of data on cartridge {self.label} after spacing {limit - b} of "
                                f"{count} records", partition=p, spaced=limit - b)
            return
        floor = fms[i - 1] + 1 if i > 0 else 0
        if b + count >= floor:
            self._block = b + count
            return
        self._block = floor
        if i == 0:
            raise DeviceError(f"beginning of partition {p} reached after spacing {b} of {-count} records "
                              f"backward", partition=p, spaced=b)

    def seek_eod(self) -> None:
        self._check_ready()
        self._stop_streaming()
        self._block = self._eod[self._part]

    # --- the cartridge ------------------------------------------------------------
    @property
    def partitions(self) -> int:
        self._check_ready()
        return self._partitions

    @property
    def write_protected(self) -> bool:
        return bool(self.settings.write_protected or self._emulate_readonly)

    @write_protected.setter
    def write_protected(self, value: bool) -> None:
        """Slide the tab (in memory; `save_settings()` keeps it)."""
        self.settings.write_protected = bool(value)

    def medium(self) -> MediumInfo:
        self._check_ready()
        p = self._part
        return MediumInfo(
            generation=self.generation,
            drive_generation=self.drive_generation,
            density_code=self.density_code,
            barcode=self.barcode,
            partitions=self._partitions,
            capacity=self.capacity,
            remaining=max(0, self._cap[p] - self._cum[p][self._eod[p]]),
            write_protected=self.write_protected,
        )

    def partition_capacity(self, partition: int) -> int:
        """Bytes partition `partition` holds."""
        self._check_ready()
        return self._cap[partition]

    def used_bytes(self, partition: int) -> int:
        """Bytes of records on `partition` up to its EOD."""
        self._check_ready()
        return self._cum[partition][self._eod[partition]]

    def eod(self, partition: int) -> int:
        """The EOD address of `partition` (without moving)."""
        self._check_ready()
        return self._eod[partition]

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
        for name in os.listdir(self._dfd):
            if _OBJECT.fullmatch(name):
                self._unlink(name)
        for part, cap in enumerate(partition_capacities(self.capacity, count)):
            self._write_attr(part, mam.MAXIMUM_CAPACITY_IN_PARTITION, mam.BINARY | mam.READ_ONLY_FLAG,
                             (cap // MiB).to_bytes(8, "big"))
        for part in range(count):
            self._touch(f"{part}_0_E")
        self._emark = [None, None]
        self._scan()
        self._part = 0
        self._block = 0

    def load(self) -> None:
        if self._closed:
            self._check_ready()
        if self._ready:
            self._stop_streaming()
            self._part = 0
            self._block = 0
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
        self._ready = False
        dfd, self._dfd = self._dfd, None
        if dfd is not None:
            os.close(dfd)   # also drops the flock

    def __del__(self) -> None:
        try:
            if getattr(self, "_ready", False):
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "loaded" if self._ready else ("closed" if self._closed else "unloaded")
        return f"<VirtualTape {self.path} {self.generation} {state}>"

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
            left = max(0, self._cap[partition] - self._cum[partition][self._eod[partition]]) // MiB
            return mam.Attribute(attr_id, mam.BINARY | mam.READ_ONLY_FLAG, left.to_bytes(8, "big"))
        try:
            fd = os.open(mam.filename(partition, attr_id), _READ_FLAGS, dir_fd=self._dfd)
        except FileNotFoundError:
            return None
        try:
            raw = os.read(fd, 0x10000 + mam.HEADER_SIZE)
        finally:
            os.close(fd)
        try:
            attr = mam.decode(raw)
        except ValueError as exc:
            raise MediumError(f"cartridge memory attribute 0x{attr_id:04X} of {self.path} is damaged: {exc}",
                              attr_id=attr_id) from None
        return attr

    def _write_attr(self, partition: int, attr_id: int, fmt: int, value: bytes) -> None:
        data = mam.encode(attr_id, fmt, value)
        tmp = f"{TMP_PREFIX}-attr"
        fd = os.open(tmp, _WRITE_FLAGS, 0o644, dir_fd=self._dfd)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, mam.filename(partition, attr_id), src_dir_fd=self._dfd, dst_dir_fd=self._dfd)

    def _check_attr_partition(self, partition: int) -> None:
        if not 0 <= partition < self._partitions:
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
        prefix = f"attr_{partition}_"
        for name in sorted(os.listdir(self._dfd)):
            if name.startswith(prefix):
                try:
                    attr_id = int(name[len(prefix):], 16)
                except ValueError:
                    continue
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


# --- creating a cartridge ---------------------------------------------------------

def create_vtape(path: str | os.PathLike[str], generation: Generation | str, capacity: int | None = None,
                 barcode: str | None = None, partitions: int = 1,
                 drive_generation: Generation | str | None = None, *,
                 write_protected: bool = False,
                 early_warning_bytes: int | None = None,
                 programmable_early_warning_bytes: int | None = None,
                 faults: Faults | dict[str, Any] | None = None,
                 speed: SpeedSettings | dict[str, Any] | None = None,
                 clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None) -> VirtualTape:
    """Make a blank cartridge at `path` (a new or empty folder) and load it.

    `capacity` is in bytes (default: the generation's native capacity; nothing
    is preallocated). With two partitions, partition 0 gets 5 % of it.
    """
    gen = _generation(generation)
    drive = _generation(drive_generation) if drive_generation is not None else default_drive_generation(gen)
    path = Path(path)
    if partitions not in (1, 2):
        raise UsageError(f"a cartridge has 1 or 2 partitions, not {partitions}", partitions=partitions)
    if partitions > gen.partitions:
        raise GenerationError(f"{gen} media cannot be partitioned (LTO-5 and newer can)", medium=gen.name)
    if capacity is None:
        capacity = gen.capacity
    if not isinstance(capacity, int) or capacity < (20 if partitions == 2 else 1):
        raise UsageError(f"capacity must be a whole number of bytes (at least {20 if partitions == 2 else 1}), "
                         f"not {capacity!r}", capacity=capacity)
    if gen.name not in drive.reads:
        raise GenerationError(f"a {drive} drive cannot load {gen} media (it reads {', '.join(drive.reads)})",
                              drive=drive.name, medium=gen.name)
    barcode_value = mam.ascii_value(barcode, 32) if barcode is not None else None
    if barcode is not None and not barcode.strip():
        raise UsageError("the barcode is empty")
    faults_obj = faults if isinstance(faults, Faults) else Faults.from_dict(dict(faults or {}))
    speed_obj = speed if isinstance(speed, SpeedSettings) else SpeedSettings.from_dict(dict(speed or {}))
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"cannot create a virtual cartridge at {path}: it is a file", path=str(path))
        if any(path.iterdir()):
            raise UsageError(f"cannot create a virtual cartridge at {path}: the folder is not empty "
                             f"(choose a new folder; an existing cartridge is opened with VirtualTape)",
                             path=str(path))
    path.mkdir(parents=True, exist_ok=True)

    update_conf(path, capacity_mb=max(1, capacity // MiB), cart_type=gen.cart_type, density_code=gen.density_code)
    VTapeSettings(
        capacity=capacity, drive_generation=drive.name, write_protected=write_protected,
        early_warning_bytes=early_warning_bytes,
        programmable_early_warning_bytes=programmable_early_warning_bytes,
        faults={k: v for k, v in faults_obj.to_dict().items() if v is not None},
        speed=speed_obj.to_dict() if speed_obj.enabled else {},
    ).save(path / SIDECAR_NAME)

    def attr(part: int, attr_id: int, fmt: int, value: bytes) -> None:
        (path / mam.filename(part, attr_id)).write_bytes(mam.encode(attr_id, fmt, value))

    serial = (barcode or f"VT{uuid.uuid4().hex[:10].upper()}")[:32]
    attr(0, mam.MEDIUM_MANUFACTURER, mam.ASCII | mam.READ_ONLY_FLAG, mam.ascii_value("VIRTUAL", 8))
    attr(0, mam.MEDIUM_SERIAL_NUMBER, mam.ASCII | mam.READ_ONLY_FLAG, mam.ascii_value(serial, 32))
    attr(0, mam.MEDIUM_DENSITY_CODE, mam.BINARY | mam.READ_ONLY_FLAG, bytes([gen.density_code]))
    attr(0, mam.MEDIUM_TYPE, mam.BINARY | mam.READ_ONLY_FLAG, b"\x00")
    for p, cap in enumerate(partition_capacities(capacity, partitions)):
        attr(p, mam.MAXIMUM_CAPACITY_IN_PARTITION, mam.BINARY | mam.READ_ONLY_FLAG, (cap // MiB).to_bytes(8, "big"))
    if barcode_value is not None:
        attr(0, mam.BARCODE, mam.ASCII, barcode_value)
    for p in range(partitions):
        (path / f"{p}_0_E").touch()
    vt = VirtualTape(path, clock=clock, sleep=sleep)
    if faults_obj.armed:
        vt.faults = faults_obj
    if speed_obj.enabled and vt.speed is None:
        vt.enable_speed_emulation(speed_obj, clock=clock, sleep=sleep)
    return vt
