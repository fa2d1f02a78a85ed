"""Cartridge and drive health in the catalog: one reading per cartridge per load, and what the trend says.

Readings come from the tape layer (tape/drive_health.py: cartridge memory and the drive's log pages,
taken when a cartridge is loaded). `record_pending` stores those taken since the last call; the API
calls it whenever a job's catalog is opened, so every job's loads are recorded in that job's catalog.
`assess` turns a cartridge's readings into flags: "migrate soon" (uncorrected errors at several loads,
a TapeAlert flag about the medium, a load count near what the generation is rated for) and
"clean the drive" (TapeAlert 20 or 21). See docs/health.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..tape.drive_health import DriveHealth, take_pending
from ..tape.logpages import CLEANING_FLAGS, MEDIA_FLAGS, TAPEALERT, tapealert_flag
from .schema import HEALTH_V7
from .store import Catalog

MIGRATE_SOON = "migrate soon"
CLEAN_DRIVE = "clean the drive"
WATCH = "watch"
RECENT = 5                  # the loads looked at for a trend
ERROR_LOADS = 2             # uncorrected errors at this many of them: migrate soon
RATED_SHARE = 0.8           # a load count past this share of the rated loads: migrate soon


def rated_loads(generation: str | None) -> int:
    """Loads (load/unload cycles) a cartridge is rated for: 20,000 for LTO-5 and newer (and LTO-M8),
    5,000 for older generations (the figure the manufacturers' media specifications give)."""
    try:
        number = int((generation or "LTO-9").removeprefix("LTO-").removeprefix("M"))
    except ValueError:
        number = 9
    return 20_000 if number >= 5 else 5_000


@dataclass(frozen=True)
class HealthFlag:
    """One thing to do about a cartridge (or the drive that read it)."""

    label: str              # the cartridge's barcode (or device:NAME)
    kind: str               # "migrate soon", "clean the drive", or "watch"
    severity: str           # "error", "warning" or "note" (as `status` sorts them)
    why: str
    device: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_table(cat: Catalog) -> None:
    """The readings' table, also in a catalog that a build without migration 7 brought past version 7."""
    if "health_readings" in cat.conn.table_names():
        return
    with cat.transaction():
        for sql in HEALTH_V7:
            cat.conn.execute(sql)


def record(cat: Catalog, reading: DriveHealth) -> int:
    """Store one reading; its row id."""
    doc = reading.to_dict()
    ensure_table(cat)
    with cat.transaction():
        cur = cat.conn.execute(
            "INSERT INTO health_readings(label, barcode, device, read_at, generation, load_count, mb_written, mb_read, "
            "remaining_mb, capacity_mb, corrected_errors, uncorrected_errors, tapealert, reading) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (reading.label, reading.barcode, reading.device, reading.read_at, reading.generation, reading.load_count,
             reading.mb_written, reading.mb_read, reading.remaining_mb, reading.capacity_mb,
             reading.corrected_errors, reading.uncorrected_errors, ",".join(map(str, reading.tapealert)),
             json.dumps(doc, sort_keys=True, default=str)))
    return int(cur.lastrowid or 0)


def record_pending(cat: Catalog) -> int:
    """Store the readings taken at load since the last call (tape/drive_health.py); how many."""
    pending = take_pending()
    for reading in pending:
        record(cat, reading)
    return len(pending)


def readings(cat: Catalog, label: str) -> list[DriveHealth]:
    """Every reading of one cartridge (its barcode, or device:NAME), oldest first."""
    ensure_table(cat)
    rows = cat.conn.execute("SELECT reading FROM health_readings WHERE label = ? OR barcode = ? "
                            "ORDER BY read_at, id", (label, label)).fetchall()
    return [DriveHealth.from_dict(json.loads(r[0])) for r in rows]


def labels(cat: Catalog) -> list[str]:
    """The cartridges (labels) with at least one reading."""
    ensure_table(cat)
    return [r[0] for r in cat.conn.execute("SELECT DISTINCT label FROM health_readings ORDER BY label")]


def latest(cat: Catalog) -> list[DriveHealth]:
    """The newest reading of every cartridge, by label."""
    ensure_table(cat)
    rows = cat.conn.execute("SELECT h.reading FROM health_readings h WHERE h.id = (SELECT g.id FROM health_readings g "
                            "WHERE g.label = h.label ORDER BY g.read_at DESC, g.id DESC LIMIT 1) "
                            "ORDER BY h.label").fetchall()
    return [DriveHealth.from_dict(json.loads(r[0])) for r in rows]


def assess(history: list[DriveHealth]) -> list[HealthFlag]:
    """The flags a cartridge's readings (oldest first) call for, most urgent first."""
    if not history:
        return []
    last = history[-1]
    recent = history[-RECENT:]
    out: list[HealthFlag] = []
    media = [n for n in last.tapealert if n in MEDIA_FLAGS]
    if media:
        names = ", ".join(f"{n} ({TAPEALERT[n][0]})" for n in media)
        out.append(HealthFlag(last.label, MIGRATE_SOON, "error" if any(tapealert_flag(n)["severity"] == "critical"
                                                                        for n in media) else "warning",
                              f"TapeAlert about the medium at the last load: {names}", last.device))
    bad = [h for h in recent if h.uncorrected_errors]
    if len(bad) >= ERROR_LOADS:
        out.append(HealthFlag(last.label, MIGRATE_SOON, "error",
                              f"uncorrected errors at {len(bad)} of the last {len(recent)} loads "
                              f"({', '.join(str(h.uncorrected_errors) for h in recent)})", last.device))
    elif bad:
        out.append(HealthFlag(last.label, WATCH, "note", f"uncorrected errors at 1 of the last {len(recent)} loads "
                              f"({bad[0].uncorrected_errors} read at {bad[0].read_at})", bad[0].device))
    rated = rated_loads(last.generation)
    if last.load_count is not None and last.load_count >= RATED_SHARE * rated:
        out.append(HealthFlag(last.label, MIGRATE_SOON, "warning",
                              f"{last.load_count} loads of the {rated} a {last.generation or 'LTO'} cartridge "
                              f"is rated for", last.device))
    cleaning = [n for n in last.tapealert if n in CLEANING_FLAGS]
    if cleaning:
        out.append(HealthFlag(last.label, CLEAN_DRIVE, "warning" if cleaning != [21] else "note",
                              f"drive {last.device} asked for cleaning at the last load (TapeAlert "
                              f"{', '.join(f'{n} ({TAPEALERT[n][0]})' for n in cleaning)})", last.device))
    return out


def flags(cat: Catalog) -> list[HealthFlag]:
    """The flags of every cartridge with readings."""
    return [f for label in labels(cat) for f in assess(readings(cat, label))]
