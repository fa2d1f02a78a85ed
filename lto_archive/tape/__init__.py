"""Tape devices: the TapeDevice interface and its targets.

`open_device(spec)` turns a tape device spec into a device:

    /dev/nst0   a Linux tape drive, non-rewinding node (also st:/dev/nst0?block=512K; see docs/st.md)
    vtape:DIR   a virtual cartridge folder (see docs/vtape.md)
    null:       the null target (keeps nothing; for benchmarks)

A library's drive (vlib:DIR) is a device spec too, but libraries are a layer above this
package: `lto_archive.devices.open_device` opens every kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError, WriteProtected
from ..generations import check_writable
from .device import (MAX_RECORD, MIN_RECORD, CartridgeMemory, MediumInfo, Position, TapeDevice,
                     WriteFlags)
from .null import NullTape
from .speed import DriveSpeedModel, SpeedSettings, TapeStats
from .vtape import Faults, VirtualTape, VTapeSettings, create_vtape
from .vtape_settings import SIDECAR_NAME

TAPE_DEVICE_KINDS = ("/dev/nstN", "vtape:DIR", "null:")

__all__ = [
    "MAX_RECORD", "MIN_RECORD", "CartridgeMemory", "MediumInfo", "Position", "TapeDevice", "WriteFlags",
    "NullTape", "VirtualTape", "VTapeSettings", "create_vtape", "Faults", "SpeedSettings",
    "DriveSpeedModel", "TapeStats", "open_device", "check_medium_writable", "TAPE_DEVICE_KINDS",
]


def open_device(spec: str, *, kinds: Sequence[str] = TAPE_DEVICE_KINDS) -> TapeDevice:
    """Open the tape device a spec names ("vtape:/path/to/cartridge", "null:", "/dev/nst0").

    `kinds` are the spec kinds the caller accepts, named when the spec has an unknown kind."""
    spec = spec.strip()
    if spec.startswith("/dev/") or spec.startswith("st:"):   # a Linux st drive (docs/st.md)
        from .st import StTape, parse_spec
        path, options = parse_spec(spec)
        return StTape(path, options)
    kind, sep, rest = spec.partition(":")
    if not sep:
        raise UsageError(f"device {spec!r} has no kind; use one of {', '.join(kinds)}{_folder_hint(spec)}", spec=spec)
    kind = kind.lower()
    if kind == "vtape":
        if not rest:
            raise UsageError("device 'vtape:' needs the cartridge folder, as in vtape:/srv/tapes/ABC123L9",
                             spec=spec)
        return VirtualTape(rest)
    if kind == "null":
        if rest:
            raise UsageError(f"device {spec!r}: the null device takes no argument; write 'null:'", spec=spec)
        return NullTape()
    raise UsageError(f"unknown device kind {kind!r} in {spec!r}; use one of {', '.join(kinds)}",
                     spec=spec)


def _folder_hint(spec: str) -> str:
    """What a folder given without a kind probably is."""
    folder = Path(spec).expanduser()
    if (folder / SIDECAR_NAME).is_file():
        return f" (it is a virtual cartridge: did you mean --device vtape:{spec}?)"
    if folder.is_dir():
        return f" (it is a folder: vtape:{spec} for a virtual cartridge, vlib:{spec} for a virtual library)"
    return ""


def check_medium_writable(info: MediumInfo, *, allow_old: bool = False) -> None:
    """Raise WriteProtected or GenerationError unless a job may write the loaded medium."""
    if info.write_protected:
        label = info.barcode or "the loaded cartridge"
        raise WriteProtected(f"cartridge {label} is write-protected: slide its write-protect tab to unlocked "
                             f"and load it again", barcode=info.barcode)
    check_writable(info.drive_generation, info.generation, allow_old=allow_old)
