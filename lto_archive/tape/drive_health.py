"""A cartridge's and its drive's health, read at load: cartridge memory and the drive's log pages.

`read_health(dev)` asks a loaded device for what it keeps: the cartridge memory (load count, total
MB written and read, capacity left: tape/mam.py) and the log pages of tape/logpages.py (error
counters, TapeAlert, volume and device statistics). A device offers them through two optional
methods: `read_attribute(partition, id)` (the CartridgeMemory protocol) and `log_sense(page)` (the
page's bytes; a DeviceError when the drive does not answer it). What a device cannot say becomes a
note in the reading, never an error: tgt answers few pages, the null target none.

Devices call `note_load(self)` when a cartridge is loaded (a virtual tape opened, an st drive
opened or loaded): the reading waits in a short in-process queue until the catalog that records
the job takes it (`take_pending`, catalog/health.py), so the tape layer never knows the catalog.
"""

from __future__ import annotations

import collections
import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import GenerationError, LtoArchiveError
from ..generations import by_density_code
from . import logpages as lp
from . import mam

PENDING_MAX = 64        # readings kept for the catalog; older ones are dropped (a process that never records)


@dataclass
class DriveHealth:
    """One reading of a loaded cartridge and its drive. A figure nobody could give is None."""

    barcode: str | None
    device: str
    read_at: str                                    # UTC, ISO 8601
    generation: str | None = None                   # of the medium
    load_count: int | None = None                   # MAM 0x0003, else volume statistics' mounts
    mb_written: int | None = None                   # lifetime MiB written (MAM 0x0220, else page 0x17)
    mb_read: int | None = None                      # lifetime MiB read (MAM 0x0221, else page 0x17)
    remaining_mb: int | None = None                 # MAM 0x0000 of partition 0
    capacity_mb: int | None = None                  # MAM 0x0001 of partition 0
    write_errors: dict[str, int] = field(default_factory=dict)     # page 0x02
    read_errors: dict[str, int] = field(default_factory=dict)      # page 0x03
    tapealert: list[int] = field(default_factory=list)             # page 0x2E: active flags
    volume: dict[str, Any] = field(default_factory=dict)           # page 0x17
    device_stats: dict[str, Any] = field(default_factory=dict)     # page 0x14
    notes: list[str] = field(default_factory=list)                 # what could not be read, and why

    @property
    def label(self) -> str:
        """The cartridge's barcode, else the device it was read in."""
        return self.barcode or f"device:{self.device}"

    @property
    def uncorrected_errors(self) -> int:
        """Unrecovered errors: this mount's (pages 0x02 / 0x03) and the cartridge's last mount's (page 0x17):
        read at load, the first are those since the load and the second those the last job met."""
        names = ("last_mount_unrecovered_write_errors", "last_mount_unrecovered_read_errors")
        return (int(self.write_errors.get("total_uncorrected", 0)) + int(self.read_errors.get("total_uncorrected", 0))
                + sum(int(self.volume.get(n, 0)) for n in names))

    @property
    def lifetime_uncorrected_errors(self) -> int | None:
        """Unrecovered errors in the cartridge's life (page 0x17), None when the drive does not say."""
        names = ("unrecovered_write_errors", "unrecovered_read_errors")
        if not any(n in self.volume for n in names):
            return None
        return sum(int(self.volume.get(n, 0)) for n in names)

    @property
    def corrected_errors(self) -> int:
        return int(self.write_errors.get("total_corrected", 0)) + int(self.read_errors.get("total_corrected", 0))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label,
                "tapealert_flags": [lp.tapealert_flag(n) for n in self.tapealert]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DriveHealth":
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


def _mam_value(dev: Any, attr_id: int, notes: list[str]) -> bytes | None:
    read = getattr(dev, "read_attribute", None)
    if read is None:
        if not any(n.startswith("cartridge memory") for n in notes):
            notes.append(f"cartridge memory: {getattr(dev, 'name', 'the device')} has none")
        return None
    try:
        value: bytes | None = read(0, attr_id)
    except LtoArchiveError as exc:
        if not any(n.startswith("cartridge memory") for n in notes):
            notes.append(f"cartridge memory: {exc.message}")
        return None
    return value or None


def _mam_number(dev: Any, attr_id: int, notes: list[str]) -> int | None:
    value = _mam_value(dev, attr_id, notes)
    return int.from_bytes(value, "big") if value else None


def _medium(dev: Any, notes: list[str]) -> tuple[str | None, str | None]:
    """(barcode, generation) from the cartridge memory, without asking the drive anything else."""
    raw = _mam_value(dev, mam.BARCODE, notes)
    barcode = raw.decode("ascii", "replace").strip(" \x00") or None if raw else None
    density = _mam_number(dev, mam.MEDIUM_DENSITY_CODE, notes)
    try:
        generation = by_density_code(density).name if density else None
    except GenerationError:
        generation = None
    return barcode or getattr(dev, "barcode", None), generation


def _pages(dev: Any, notes: list[str]) -> dict[int, lp.LogPage]:
    """The health pages the device answers, parsed; a note for each it does not."""
    ask = getattr(dev, "log_sense", None)
    if ask is None:
        notes.append(f"{getattr(dev, 'name', 'the device')} keeps no log pages")
        return {}
    supported: list[int] | None = None
    try:
        supported = lp.supported_pages(ask(lp.SUPPORTED_PAGES))
    except LtoArchiveError:
        supported = None        # no list of pages: ask each one
    out = {}
    for page in lp.HEALTH_PAGES:
        name = f"log page 0x{page:02X} ({lp.PAGE_NAMES[page]})"
        if supported is not None and page not in supported:
            notes.append(f"{name}: the drive does not keep it")
            continue
        try:
            out[page] = lp.parse_page(ask(page), page)
        except LtoArchiveError as exc:
            notes.append(f"{name}: {exc.message}")
    return out


def read_health(dev: Any, *, now: _dt.datetime | None = None) -> DriveHealth:
    """What the loaded cartridge and its drive say about their health (see the module docstring)."""
    notes: list[str] = []
    when = (now or _dt.datetime.now(_dt.timezone.utc)).isoformat(timespec="seconds")
    barcode, generation = _medium(dev, notes)
    h = DriveHealth(barcode=barcode, device=str(getattr(dev, "name", "?")), read_at=when, generation=generation,
                    notes=notes)
    h.load_count = _mam_number(dev, mam.LOAD_COUNT, notes)
    h.mb_written = _mam_number(dev, mam.TOTAL_MB_WRITTEN_IN_MEDIUM_LIFE, notes)
    h.mb_read = _mam_number(dev, mam.TOTAL_MB_READ_IN_MEDIUM_LIFE, notes)
    h.remaining_mb = _mam_number(dev, mam.REMAINING_CAPACITY_IN_PARTITION, notes)
    h.capacity_mb = _mam_number(dev, mam.MAXIMUM_CAPACITY_IN_PARTITION, notes)
    pages = _pages(dev, notes)
    if lp.WRITE_ERRORS in pages:
        h.write_errors = dict(pages[lp.WRITE_ERRORS].values)
    if lp.READ_ERRORS in pages:
        h.read_errors = dict(pages[lp.READ_ERRORS].values)
    if lp.TAPE_ALERT in pages:
        h.tapealert = pages[lp.TAPE_ALERT].tapealert_flags
    if lp.VOLUME_STATISTICS in pages:
        h.volume = dict(pages[lp.VOLUME_STATISTICS].values)
        h.load_count = h.load_count if h.load_count is not None else h.volume.get("volume_mounts")
        h.mb_written = h.mb_written if h.mb_written is not None else h.volume.get("lifetime_mb_written")
        h.mb_read = h.mb_read if h.mb_read is not None else h.volume.get("lifetime_mb_read")
    if lp.DEVICE_STATISTICS in pages:
        h.device_stats = dict(pages[lp.DEVICE_STATISTICS].values)
    return h


# --- readings at load, waiting for the catalog ---------------------------------------------------

_PENDING: collections.deque[DriveHealth] = collections.deque(maxlen=PENDING_MAX)


def note_load(dev: Any) -> DriveHealth | None:
    """A cartridge was just loaded in `dev`: read its health and keep the reading for the catalog.
    Never raises for the device's sake: a reading that fails is a reading with a note."""
    try:
        reading = read_health(dev)
    except (LtoArchiveError, OSError) as exc:
        reading = DriveHealth(barcode=None, device=str(getattr(dev, "name", "?")),
                              read_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                              notes=[getattr(exc, "message", None) or str(exc)])
    return _keep(reading)


def _keep(reading: DriveHealth) -> DriveHealth:
    _PENDING.append(reading)
    return reading


def pending_readings() -> list[DriveHealth]:
    """The readings waiting for a catalog, oldest first (the queue is left as it is)."""
    return list(_PENDING)


def take_pending() -> list[DriveHealth]:
    """The readings taken at load since the last call, oldest first (the queue is emptied)."""
    out = list(_PENDING)
    _PENDING.clear()
    return out
