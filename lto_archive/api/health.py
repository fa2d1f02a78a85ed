"""Cartridge and drive health for scripts: the readings taken at every load, their trend, and the flags
("migrate soon", "clean the drive") that `lto-archive health` and `status` show (docs/health.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalog.health import (CLEAN_DRIVE, MIGRATE_SOON, WATCH, HealthFlag, assess, flags, latest, rated_loads,
                              readings)
from ..errors import LtoArchiveError, UsageError
from ..library import Library
from ..tape.drive_health import DriveHealth, pending_readings, read_health
from .catalog import CatalogArg, catalog_store
from .targets import open_tape

TREND_COLUMNS = ("read_at", "device", "load_count", "mb_written", "mb_read", "corrected_errors",
                 "uncorrected_errors", "tapealert")


@dataclass
class HealthReport:
    """One cartridge's readings (oldest first) and what they call for."""

    label: str
    readings: list[DriveHealth] = field(default_factory=list)
    flags: list[HealthFlag] = field(default_factory=list)

    @property
    def rated_loads(self) -> int:
        return rated_loads(self.readings[-1].generation if self.readings else None)

    def trend(self) -> list[dict[str, Any]]:
        """One row per reading: the figures `health` prints in its table."""
        return [{"read_at": h.read_at, "device": h.device, "load_count": h.load_count, "mb_written": h.mb_written,
                 "mb_read": h.mb_read, "corrected_errors": h.corrected_errors,
                 "uncorrected_errors": h.uncorrected_errors, "tapealert": list(h.tapealert)} for h in self.readings]

    def to_dict(self) -> dict[str, Any]:
        last = self.readings[-1] if self.readings else None
        return {"cartridge": self.label, "readings": len(self.readings), "rated_loads": self.rated_loads,
                "trend": self.trend(), "flags": [f.to_dict() for f in self.flags],
                "last": last.to_dict() if last is not None else None}


def cartridge_health(barcode: str, *, catalog: CatalogArg = None) -> HealthReport:
    """What the catalog knows of one cartridge's health: every reading taken at a load, and the flags."""
    with catalog_store(catalog) as store:
        if store is None:
            raise UsageError("cartridge health needs a catalog (catalog=False given)")
        history = readings(store, barcode)
    return HealthReport(barcode, history, assess(history))


def read_cartridge_health(device: str, *, barcode: str | None = None, library: str | None = None,
                          catalog: CatalogArg = None) -> HealthReport:
    """Load (open) the cartridge a device spec names, which takes a reading; record it; and return the
    cartridge's report with it. `barcode` and `library` select a cartridge in a library, as for a job."""
    with open_tape(device, barcode=barcode, library=library) as dev:
        now = read_health(dev)
    label = now.label
    with catalog_store(catalog) as store:          # records the reading taken at the load
        if store is None:
            return HealthReport(label, [now], assess([now]))
        history = readings(store, label)
    return HealthReport(label, history, assess(history))


def record_health_readings(catalog: CatalogArg = None, *, create: bool = True) -> int:
    """Record the readings taken at the loads of this process that no job's catalog took yet (a job that
    failed before recording); how many. Nothing pending: the catalog is not even opened; `create=False`:
    a catalog that does not exist yet is not made for them (CatalogError)."""
    count = len(pending_readings())
    if count and catalog is not False:
        with catalog_store(catalog, create=create):     # opening it for a job records them (api/catalog.py)
            pass
    return count


def record_load_health(library: Library, drive: int, *, catalog: CatalogArg = None) -> str | None:
    """After a library load (`library load`): read the health of the cartridge now in `drive` and record it in
    `catalog`, if that catalog exists already. None when recorded; else why not (a note, never an error)."""
    why = library.read_health(drive)
    if why is None:
        try:
            record_health_readings(catalog, create=False)
        except LtoArchiveError as exc:
            why = exc.message
    return why


def health_summary(catalog: CatalogArg = None) -> list[dict[str, Any]]:
    """Every cartridge's newest reading, as the figures a dashboard graphs (metrics): label, device, when, load
    count, MiB written and read, corrected and uncorrected errors, lifetime uncorrected errors, TapeAlert flags."""
    with catalog_store(catalog) as store:
        newest = latest(store) if store is not None else []
    return [{"label": h.label, "device": h.device, "read_at": h.read_at, "load_count": h.load_count,
             "mb_written": h.mb_written, "mb_read": h.mb_read, "corrected_errors": h.corrected_errors,
             "uncorrected_errors": h.uncorrected_errors, "lifetime_uncorrected_errors": h.lifetime_uncorrected_errors,
             "tapealert": list(h.tapealert)} for h in newest]


def health_flags(catalog: CatalogArg = None) -> list[dict[str, Any]]:
    """Every cartridge's flags (what `status` shows), most urgent first; the readings taken at loads in this
    process are recorded first."""
    with catalog_store(catalog) as store:
        if store is None:
            return []
        found = flags(store)           # opening the store recorded this process's pending readings first
    order = {"error": 0, "warning": 1, "note": 2}
    return [f.to_dict() for f in sorted(found, key=lambda f: (order.get(f.severity, 3), f.label))]


__all__ = ["HealthReport", "HealthFlag", "DriveHealth", "cartridge_health", "read_cartridge_health", "health_flags",
           "health_summary", "record_health_readings", "record_load_health", "MIGRATE_SOON", "CLEAN_DRIVE", "WATCH", "TREND_COLUMNS"]
