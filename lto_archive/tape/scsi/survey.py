"""Everything a drive will say about itself and its cartridge, asked once, with fallbacks.

`survey(dev)` runs the read-only commands one after the other; a command the
drive does not support (or that fails) leaves its field None and one line in
`missing` saying what could not be learned and why, so a caller (the st
backend, `lto-archive drive info`) can report it once instead of failing.
INQUIRY must work (every SCSI device answers it): its error is raised. When
TEST UNIT READY says there is no cartridge, the cartridge fields stay None and
`loaded` is False.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, TypeVar

from ...errors import DeviceError, GenerationError, NoMedium
from ...generations import Generation, by_density_code
from .device import CartridgeMemoryInfo, ScsiDevice
from .mode import ModeParameters
from .responses import BlockLimits, DensityDescriptor, Inquiry, LongPosition

T = TypeVar("T")


@dataclass
class DriveSurvey:
    inquiry: Inquiry | None = None
    serial: str | None = None
    block_limits: BlockLimits | None = None
    loaded: bool = False
    mode: ModeParameters | None = None
    position: LongPosition | None = None
    densities: list[DensityDescriptor] | None = None      # of the loaded medium
    cartridge: CartridgeMemoryInfo | None = None
    missing: dict[str, str] = field(default_factory=dict)  # what -> why not

    @property
    def drive_generation(self) -> Generation | None:
        return self.inquiry.generation if self.inquiry else None

    @property
    def medium_density_code(self) -> int | None:
        """The loaded medium's density code: MODE SENSE, else the MAM's, else the default
        density REPORT DENSITY SUPPORT names for the medium; None when nobody says."""
        if self.mode and self.mode.density_code:
            return self.mode.density_code
        if self.cartridge and self.cartridge.density_code:
            return self.cartridge.density_code
        for d in self.densities or ():
            if d.default and d.primary_density_code:
                return d.primary_density_code
        return None

    @property
    def medium_generation(self) -> Generation | None:
        code = self.medium_density_code
        if not code:
            return None
        try:
            return by_density_code(code)
        except GenerationError:
            return None


def survey(dev: ScsiDevice) -> DriveSurvey:
    s = DriveSurvey()

    def ask(what: str, call: Callable[[], T]) -> T | None:
        try:
            return call()
        except DeviceError as exc:
            s.missing[what] = exc.message
            return None

    s.inquiry = dev.inquiry()       # every SCSI device answers INQUIRY: if it fails, nothing else will work
    s.serial = dev.serial_number()
    if s.serial is None:
        s.missing["drive serial number"] = f"{dev.name}: the drive reports no serial number (VPD page 0x80)"
    s.block_limits = ask("record size limits (READ BLOCK LIMITS)", dev.block_limits)
    try:
        dev.test_unit_ready()
        s.loaded = True
    except NoMedium as exc:
        s.missing["cartridge"] = exc.message
        return s
    except DeviceError as exc:
        s.missing["cartridge"] = exc.message
    s.mode = ask("density code and write protection (MODE SENSE)", dev.mode_sense)
    s.position = ask("position (READ POSITION)", dev.read_position)
    s.densities = ask("medium densities (REPORT DENSITY SUPPORT)", dev.report_density_support)
    s.cartridge = ask("cartridge memory (READ ATTRIBUTE)", dev.cartridge_memory)
    if s.mode is not None and not s.mode.density_code and s.medium_density_code is None:
        s.missing["medium generation"] = (f"{dev.name}: the drive reports density code 0 and no other source "
                                          f"names the medium's format")
    return s
