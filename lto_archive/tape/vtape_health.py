"""What a virtual drive counts for health: its error counters, TapeAlert flags and the cartridge's volume
statistics, answered as real log pages (tape/logpages.py) by `VirtualTape.log_sense` (docs/vtape.md).

- Per load (pages 0x02 / 0x03): bytes processed, errors corrected (a reread or rewrite) and uncorrected.
  Fault knobs raise them: an injected read or write error is an uncorrected error and sets TapeAlert
  4 (media) with 5 (read failure) or 6 (write failure); `corrected_errors_every` = N counts a corrected
  error every N records; `clean_drive` sets 20 (clean now); `tapealert_flag` = N sets flag N.
- Per cartridge (page 0x17 and the cartridge memory): mounts (MAM load count), lifetime MiB written and
  read (MAM 0x0220 / 0x0221), lifetime and last-mount error counts, and the media flags of the last
  mount, which the drive raises again at the next load. They live in the cartridge's folder
  (`lto-archive-health.json` and the MAM attribute files), counted at load and saved at unload, only
  when the mount wrote, met an error or cleared the last mount's flags: a mount that only read, without
  trouble (a job refused after reading the volume, a clean verify), leaves the folder as it was, so
  such mounts and their reads are not counted. Only a cartridge with our sidecar is written to: one
  the LTFS reference made never is.
- The drive (page 0x14): loads and hard errors of this device object, cleaning never.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import DeviceError
from ..fsutil import atomic_write
from . import logpages as lp
from . import mam
from .vtape_settings import FSYNC, MiB

HEALTH_NAME = "lto-archive-health.json"
LIMIT = 2 ** 62             # no counter gets near it; a larger one is damage
MEDIA_ALERTS = (lp.MEDIA_FLAGS - {19})      # what a mount's trouble leaves on the cartridge for the next load


@dataclass
class VolumeRecord:
    """The cartridge's own counters, kept in its folder."""

    mounts: int = 0
    bytes_written: int = 0
    bytes_read: int = 0
    recovered_write_errors: int = 0
    unrecovered_write_errors: int = 0
    recovered_read_errors: int = 0
    unrecovered_read_errors: int = 0
    last_mount_unrecovered_write_errors: int = 0
    last_mount_unrecovered_read_errors: int = 0
    last_mount_bytes_written: int = 0
    last_mount_bytes_read: int = 0
    media_alerts: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> "VolumeRecord":
        try:
            data = json.loads(path.read_text("utf-8"))
            known = cls.__dataclass_fields__
            rec = cls(**{k: v for k, v in data.items() if k in known})
            if not all(isinstance(getattr(rec, k), int) and 0 <= getattr(rec, k) < LIMIT
                       for k in known if k != "media_alerts"):
                raise ValueError("a counter is not a whole number of a sane size")
            rec.media_alerts = [int(n) for n in rec.media_alerts if 1 <= int(n) <= 64]
            return rec
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise DeviceError(f"{path} is not a health record lto-archive wrote ({exc}); move it aside to start "
                              f"the cartridge's counters again", path=str(path)) from None


@dataclass
class Session:
    """This load's counters (pages 0x02 / 0x03) and flags."""

    bytes_written: int = 0
    bytes_read: int = 0
    records: int = 0
    corrected_write: int = 0
    corrected_read: int = 0
    uncorrected_write: int = 0
    uncorrected_read: int = 0
    alerts: set[int] = field(default_factory=set)
    carried: set[int] = field(default_factory=set)      # the last mount's media flags, raised at this load


class DriveCounters:
    """The counters of one virtual drive with one cartridge loaded (`VirtualTape.counters`)."""

    def __init__(self, folder: Path, *, persist: bool, attr: Callable[[int, int | None], int | None]) -> None:
        """`attr(id, value)`: reads a MAM number (value None) or writes one (the cartridge memory)."""
        self.path = folder / HEALTH_NAME
        self.persist = persist
        self._attr = attr
        self.volume = VolumeRecord.load(self.path) if persist else VolumeRecord()
        self.session = Session()
        self.drive_loads = 0

    # --- load and unload ----------------------------------------------------------------------
    def loaded(self) -> None:
        """A cartridge was loaded: one more mount (kept at unload, when the mount used the cartridge)."""
        self.session = Session(carried=set(self.volume.media_alerts))
        self.drive_loads += 1
        known = self._attr(mam.LOAD_COUNT, None) if self.persist else None
        self.volume.mounts = min(max(self.volume.mounts, known or 0), LIMIT) + 1

    def unloaded(self) -> None:
        """The cartridge leaves the drive: this mount's counters join the cartridge's."""
        v, s = self.volume, self.session
        kept = bool(s.bytes_written or s.alerts or s.corrected_write or s.corrected_read or s.uncorrected_write
                    or s.uncorrected_read or (s.carried and s.bytes_read))
        v.bytes_written += s.bytes_written
        v.bytes_read += s.bytes_read
        v.recovered_write_errors += s.corrected_write
        v.recovered_read_errors += s.corrected_read
        v.unrecovered_write_errors += s.uncorrected_write
        v.unrecovered_read_errors += s.uncorrected_read
        v.last_mount_unrecovered_write_errors = s.uncorrected_write
        v.last_mount_unrecovered_read_errors = s.uncorrected_read
        v.last_mount_bytes_written, v.last_mount_bytes_read = s.bytes_written, s.bytes_read
        v.media_alerts = sorted(s.alerts & MEDIA_ALERTS)
        if self.persist and kept:
            self._attr(mam.LOAD_COUNT, v.mounts)
            self._attr(mam.TOTAL_MB_WRITTEN_IN_MEDIUM_LIFE, v.bytes_written // MiB)
            self._attr(mam.TOTAL_MB_READ_IN_MEDIUM_LIFE, v.bytes_read // MiB)
            self._save()
        self.session = Session()

    def _save(self) -> None:
        atomic_write(self.path, json.dumps(asdict(self.volume), indent=2) + "\n", fsync=FSYNC)

    # --- what happens while loaded ------------------------------------------------------------------
    def record(self, n: int, *, write: bool, every: int | None) -> None:
        """A record of `n` bytes written or read; every `every`-th one needed a retry (a corrected error)."""
        s = self.session
        s.records += 1
        if write:
            s.bytes_written += n
        else:
            s.bytes_read += n
        if every and s.records % every == 0:
            if write:
                s.corrected_write += 1
            else:
                s.corrected_read += 1

    def failed(self, *, write: bool) -> None:
        """An uncorrected (injected) medium error."""
        s = self.session
        if write:
            s.uncorrected_write += 1
            s.alerts |= {4, 6}
        else:
            s.uncorrected_read += 1
            s.alerts |= {4, 5}

    # --- the log pages ---------------------------------------------------------------------------------
    def page(self, code: int, *, alerts: set[int], barcode: str | None, capacity_mb: dict[int, int],
             used_mb: dict[int, int]) -> bytes:
        """The bytes of log page `code`, as a drive answers LOG SENSE; DeviceError for a page it lacks."""
        s = self.session
        if code == lp.SUPPORTED_PAGES:
            return lp.build_page(code, {"pages": [lp.SUPPORTED_PAGES, *sorted(lp.HEALTH_PAGES)]})
        if code in (lp.WRITE_ERRORS, lp.READ_ERRORS):
            w = code == lp.WRITE_ERRORS
            corrected, uncorrected = (s.corrected_write, s.uncorrected_write) if w else (s.corrected_read,
                                                                                         s.uncorrected_read)
            return lp.build_page(code, {
                "corrected_without_delay": corrected, "corrected_with_delay": 0,
                "total_rewrites_or_rereads": corrected, "total_corrected": corrected,
                "correction_algorithm_processed": corrected,
                "total_bytes_processed": s.bytes_written if w else s.bytes_read, "total_uncorrected": uncorrected})
        if code == lp.TAPE_ALERT:
            return lp.build_tapealert(s.alerts | s.carried | alerts)
        if code == lp.VOLUME_STATISTICS:
            return lp.build_page(code, self._volume_values(barcode, capacity_mb, used_mb))
        if code == lp.DEVICE_STATISTICS:
            return lp.build_page(code, {"lifetime_volume_loads": self.drive_loads, "lifetime_cleaning_operations": 0,
                                        "volume_loads_since_last_reset": self.drive_loads,
                                        "hard_write_errors": s.uncorrected_write, "hard_read_errors": s.uncorrected_read})
        raise DeviceError(f"the virtual drive keeps no log page 0x{code:02X}", page=code)

    def _volume_values(self, barcode: str | None, capacity_mb: dict[int, int],
                       used_mb: dict[int, int]) -> dict[str, Any]:
        v, s = self.volume, self.session
        values: dict[str, Any] = {
            "volume_mounts": v.mounts or self.drive_loads,
            "recovered_write_errors": v.recovered_write_errors + s.corrected_write,
            "unrecovered_write_errors": v.unrecovered_write_errors + s.uncorrected_write,
            "recovered_read_errors": v.recovered_read_errors + s.corrected_read,
            "unrecovered_read_errors": v.unrecovered_read_errors + s.uncorrected_read,
            "last_mount_unrecovered_write_errors": v.last_mount_unrecovered_write_errors,
            "last_mount_unrecovered_read_errors": v.last_mount_unrecovered_read_errors,
            "last_mount_mb_written": v.last_mount_bytes_written // MiB,
            "last_mount_mb_read": v.last_mount_bytes_read // MiB,
            "lifetime_mb_written": (v.bytes_written + s.bytes_written) // MiB,
            "lifetime_mb_read": (v.bytes_read + s.bytes_read) // MiB,
            "total_native_capacity_mb": sum(capacity_mb.values()),
            "total_used_native_capacity_mb": sum(used_mb.values()),
            "partition_native_capacity_mb": capacity_mb,
            "partition_used_native_capacity_mb": used_mb,
        }
        if barcode:
            values["volume_barcode"] = barcode
        return values
