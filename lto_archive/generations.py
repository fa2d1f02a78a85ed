"""LTO generations as data, and the rules for which drive may write which medium.

Figures from vendor manuals, the LTFS reference's source and FreeBSD mt(1). The
speed-matching floor matters because below it a drive shoe-shines; capacities
are native (uncompressed) and in decimal units as vendors state them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import GenerationError, UsageError

TB = 10**12
GB = 10**9


@dataclass(frozen=True)
class Generation:
    """One LTO generation (or cartridge format, for M8 and LTO-10P)."""

    name: str                 # "LTO-9"
    number: int               # 9; M8 cartridges are LTO-7 media
    cart_type: str            # as the LTFS file backend writes it: "L9"
    density_code: int         # SCSI density code of the format, 0x60
    native_mb_s: int          # native streaming rate, MB/s (10^6)
    min_mb_s: int | None      # bottom of speed matching, MB/s; None when not published
    capacity: int             # native capacity, bytes
    reads: tuple[str, ...]    # media a drive of this generation reads
    writes: tuple[str, ...]   # media a drive of this generation writes
    partitions: int           # most partitions the format supports

    def __str__(self) -> str:
        return self.name


_TABLE = (
    Generation("LTO-1", 1, "L1", 0x40, 20, None, 100 * GB, ("LTO-1",), ("LTO-1",), 1),
    Generation("LTO-2", 2, "L2", 0x42, 40, None, 200 * GB, ("LTO-1", "LTO-2"), ("LTO-1", "LTO-2"), 1),
    Generation("LTO-3", 3, "L3", 0x44, 80, None, 400 * GB, ("LTO-1", "LTO-2", "LTO-3"), ("LTO-2", "LTO-3"), 1),
    Generation("LTO-4", 4, "L4", 0x46, 120, None, 800 * GB, ("LTO-2", "LTO-3", "LTO-4"), ("LTO-3", "LTO-4"), 1),
    Generation("LTO-5", 5, "L5", 0x58, 140, 40, 1500 * GB, ("LTO-3", "LTO-4", "LTO-5"), ("LTO-4", "LTO-5"), 2),
    Generation("LTO-6", 6, "L6", 0x5A, 160, 40, 2500 * GB, ("LTO-4", "LTO-5", "LTO-6"), ("LTO-5", "LTO-6"), 2),
    Generation("LTO-7", 7, "L7", 0x5C, 300, 101, 6 * TB, ("LTO-5", "LTO-6", "LTO-7"), ("LTO-6", "LTO-7"), 2),
    Generation("LTO-M8", 7, "M8", 0x5D, 300, 101, 9 * TB, ("LTO-7", "LTO-M8", "LTO-8"), ("LTO-7", "LTO-M8", "LTO-8"), 2),
    Generation("LTO-8", 8, "L8", 0x5E, 360, 112, 12 * TB, ("LTO-7", "LTO-M8", "LTO-8"), ("LTO-7", "LTO-M8", "LTO-8"), 2),
    Generation("LTO-9", 9, "L9", 0x60, 400, 177, 18 * TB, ("LTO-8", "LTO-9"), ("LTO-8", "LTO-9"), 2),
    Generation("LTO-10", 10, "LA", 0x62, 400, None, 30 * TB, ("LTO-10", "LTO-10P"), ("LTO-10", "LTO-10P"), 2),
    Generation("LTO-10P", 10, "LB", 0x63, 400, None, 40 * TB, ("LTO-10", "LTO-10P"), ("LTO-10", "LTO-10P"), 2),
)

GENERATIONS: dict[str, Generation] = {g.name: g for g in _TABLE}
OLDEST_RECOMMENDED = GENERATIONS["LTO-5"]  # CST RT-030: LTO-5 or newer


def by_name(name: str) -> Generation:
    """Accept "LTO-9", "lto9", "L9", "9", "M8"."""
    key = name.strip().upper().replace("_", "-")
    for g in _TABLE:
        if key in (g.name, g.name.replace("-", ""), g.cart_type, str(g.number) if g.name[4:].isdigit() else g.name):
            return g
    if key in ("M8", "LTOM8"):
        return GENERATIONS["LTO-M8"]
    raise UsageError(f"unknown LTO generation {name!r}; use one of {', '.join(GENERATIONS)}", value=name)


def by_density_code(code: int) -> Generation:
    for g in _TABLE:
        if g.density_code == code:
            return g
    raise GenerationError(f"unknown density code 0x{code:02X}: not an LTO format this tool knows",
                          density_code=code)


def by_cart_type(cart_type: str) -> Generation:
    for g in _TABLE:
        if g.cart_type == cart_type.upper():
            return g
    raise GenerationError(f"unknown cartridge type {cart_type!r}", cart_type=cart_type)


def check_writable(drive: Generation, medium: Generation, *, allow_old: bool = False) -> None:
    """Raise GenerationError unless `drive` may write `medium` for an archive job.

    Media older than LTO-5 are refused unless the user explicitly allows them:
    CST RT-030 asks for LTO-5 or newer (and LTFS needs LTO-5 partitions).
    """
    if medium.name not in drive.writes:
        raise GenerationError(
            f"a {drive} drive cannot write {medium} media (it writes {', '.join(drive.writes)})",
            drive=drive.name, medium=medium.name)
    if medium.number < OLDEST_RECOMMENDED.number and not allow_old:
        raise GenerationError(
            f"{medium} media is older than LTO-5, which CST RT-030 asks for; "
            f"use --allow-old-generation to write it anyway",
            drive=drive.name, medium=medium.name)


def check_readable(drive: Generation, medium: Generation) -> None:
    if medium.name not in drive.reads:
        raise GenerationError(
            f"a {drive} drive cannot read {medium} media (it reads {', '.join(drive.reads)})",
            drive=drive.name, medium=medium.name)
