"""A virtual tape: one cartridge as a folder in the LTFS reference's file-backend layout.

See docs/vtape.md. `create_vtape` makes a blank cartridge; `VirtualTape` opens one. The
pieces: the device (vtape_device.py) over the shared block table (blocks.py); the folder's
files, with crash repair (vtape_store.py); the reference's cartridge configuration and our
sidecar `lto-archive-vtape.json` (vtape_settings.py); injected failures (vtape_faults.py).
This module re-exports their public names.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable

from ..errors import GenerationError, UsageError
from ..generations import Generation
from . import mam
from .blocks import KiB, MIN_ZONE, P0_SHARE_PERCENT, partition_capacities, warning_points
from .speed import SpeedSettings
from .vtape_device import VirtualTape
from .vtape_faults import Faults
from .vtape_settings import (CONF_DEFAULTS, CONF_NAME, SIDECAR_NAME, TMP_PREFIX, MiB, VTapeSettings, as_generation,
                             default_drive_generation, read_conf, update_conf)

__all__ = [
    "CONF_DEFAULTS", "CONF_NAME", "SIDECAR_NAME", "TMP_PREFIX", "KiB", "MiB", "MIN_ZONE", "P0_SHARE_PERCENT",
    "Faults", "VTapeSettings", "VirtualTape", "create_vtape", "default_drive_generation",
    "partition_capacities", "read_conf", "update_conf", "warning_points",
]


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
    gen = as_generation(generation)
    drive = as_generation(drive_generation) if drive_generation is not None else default_drive_generation(gen)
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
