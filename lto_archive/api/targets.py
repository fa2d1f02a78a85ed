"""Targets of the public API: cartridges, libraries, folders and mounted LTFS volumes; creating,
opening and formatting them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from ..errors import UsageError
from ..generations import Generation, by_name
from ..devices import Library
from ..devices import open_device as _tape_from_spec
from ..devices import open_library as _library_from_spec
from ..library.cartridge import open_cartridge
from ..library.mtx import parse_drive_devices
from ..library.vlib import VirtualLibrary
from ..library.vlib import create_vlib as _make_vlib
from ..jobs.targets import MOUNT_PREFIX, LtfsMount
from ..tape import TapeDevice
from ..tape import create_vtape as _make_vtape

PathLike = Union[str, "os.PathLike[str]"]
LIBRARY_PREFIXES = ("vlib:", "mtx:", "/dev/sg", "/dev/sch", "/dev/changer")
_BINARY = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_DECIMAL = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5}
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(I?)(B?)\s*")


def _parse(text: str, default: dict[str, int], what: str, examples: str) -> int:
    m = _SIZE_RE.fullmatch(text.upper())
    if not m or (m.group(3) and not (m.group(2) and m.group(4))):
        raise UsageError(f"not a {what}: {text!r} (examples: {examples})", value=text)
    units = _BINARY if m.group(3) else default
    return int(float(m.group(1)) * units[m.group(2)])


def parse_size(text: str | int) -> int:
    """A block or record size: binary units ("512K" = "512KiB" = 524288 bytes; K, M, G, T, an optional
    trailing B or iB), as block sizes always are. An int is bytes. Capacities: `parse_capacity`."""
    if isinstance(text, int):
        return text
    return _parse(text, _BINARY, "size", "512K, 1M")


def parse_capacity(text: str | int) -> int:
    """A capacity or an amount of data, as tape vendors quote them: decimal units ("20G" = "20GB" =
    20,000,000,000 bytes, "18T" = an LTO-9's native 18 TB); binary only when said ("20GiB" = 20 x 2^30).
    An int is bytes. Block and record sizes are binary: `parse_size`."""
    if isinstance(text, int):
        return text
    return _parse(text, _DECIMAL, "capacity", "20G = 20 GB, 18T, 20GiB")


@dataclass(frozen=True)
class Folder:
    """A folder destination (a shuttle drive, a RAID: `--copy-to`), or a folder copy to verify."""

    path: Path

    def __init__(self, path: PathLike) -> None:
        object.__setattr__(self, "path", Path(path))

    def __str__(self) -> str:
        return str(self.path)


def drive_map(drive_devices: Mapping[int, str] | Iterable[str] | str | None) -> dict[int, str]:
    """Library drive numbers to tape devices: {0: "/dev/nst0"} or ["0=/dev/nst0", ...] or "0=/dev/nst0,1=..."."""
    if drive_devices is None:
        return {}
    if isinstance(drive_devices, Mapping):
        return {int(k): str(v) for k, v in drive_devices.items()}
    return parse_drive_devices(drive_devices if isinstance(drive_devices, str) else list(drive_devices))


def is_library_spec(spec: str) -> bool:
    """vlib:DIR, mtx:/dev/sgN, /dev/sgN: a medium changer, not a drive."""
    return spec.startswith(LIBRARY_PREFIXES)


def open_tape(spec: str, *, barcode: str | None = None, library: str | None = None,
              drive_devices: Mapping[int, str] | Iterable[str] | None = None) -> TapeDevice:
    """A tape device from a spec: /dev/nstN (st:/dev/nstN?block=512K), vtape:DIR, vlib:DIR (its first loaded
    drive), null:. With `barcode` (and a library, as `library` or as the spec), the robot loads that
    cartridge into a free drive first (or finds the drive that holds it)."""
    if barcode or (library is not None and spec == library):
        return open_cartridge(spec, barcode, library=library, drive_devices=drive_map(drive_devices) or None)
    return _tape_from_spec(spec)


def open_device(spec: str, *, barcode: str | None = None, library: str | None = None,
                drive_devices: Mapping[int, str] | Iterable[str] | None = None) -> TapeDevice | LtfsMount:
    """Open what a `--device` spec names; use it as a context manager (`with open_device(...) as dev:`).

    /dev/nstN, vtape:DIR, vlib:DIR, null: give a tape device; ltfs-mount:DIR a mounted LTFS volume.
    """
    spec = spec.strip()
    mount = mount_of(spec)
    if mount is not None:
        return mount
    return open_tape(spec, barcode=barcode, library=library, drive_devices=drive_devices)


def mount_of(target: object) -> LtfsMount | None:
    """The mounted LTFS volume a target names (an LtfsMount, or "ltfs-mount:DIR"), else None."""
    if isinstance(target, LtfsMount):
        return target
    if isinstance(target, str) and target.startswith(MOUNT_PREFIX):
        return LtfsMount(Path(target[len(MOUNT_PREFIX):]))
    return None


def open_library(spec: str, *, drive_devices: Mapping[int, str] | Iterable[str] | None = None) -> Library:
    """A tape library: vlib:DIR, /dev/sgN or mtx:/dev/sgN (a context manager). `drive_devices` names the
    tape device of each drive of a real changer (see docs/library.md)."""
    return _library_from_spec(spec, drive_devices=drive_map(drive_devices) or None)


def loaded_drive(lib: Library) -> int:
    """The first drive of the library that holds a cartridge (one no other queued job holds: library/leases.py)."""
    return lib.loaded_drive()


def _generation(value: str | Generation) -> Generation:
    return value if isinstance(value, Generation) else by_name(value)


def create_vtape(path: PathLike, *, generation: str | Generation = "LTO-9", capacity: str | int | None = "2G",
                 partitions: int = 1, barcode: str | None = None) -> TapeDevice:
    """A blank virtual cartridge in the folder `path`, loaded: the open device (close it, or use `with`).
    `capacity`: "2G" (decimal: 2 GB; "2GiB" for binary, see `parse_capacity`), bytes, or None for the
    generation's native capacity."""
    return _make_vtape(Path(path), _generation(generation), capacity=None if capacity is None else parse_capacity(capacity),
                       barcode=barcode, partitions=partitions)


def create_vlib(path: PathLike, *, drives: int = 2, slots: int = 8, generation: str | Generation = "LTO-9",
                capacity: str | int | None = "100M", cartridges: int | None = None, import_export: int = 0,
                prefix: str = "LTA", partitions: int = 1) -> VirtualLibrary:
    """A virtual library in the folder `path`: `cartridges` (default: one per slot) blank cartridges
    labelled PREFIX001L9, PREFIX002L9, ... in the slots, its drives empty."""
    return _make_vlib(Path(path), drives=drives, slots=slots, generation=_generation(generation),
                      capacity=None if capacity is None else parse_capacity(capacity), cartridges=cartridges,
                      import_export=import_export, prefix=prefix, partitions=partitions)


Target = Union[TapeDevice, LtfsMount, Folder, Library, str]


def one_drive_error(kind: str) -> UsageError:
    """A job over several cartridges through one drive, with nobody to change them."""
    return UsageError(f"{kind} on one drive needs --next-tape-command (or a terminal to ask for the next "
                      f"cartridge); with a library give --library or a vlib:/changer --device")


def target_name(t: Any) -> str:
    """How a target is named in logs and messages: its spec."""
    return t if isinstance(t, str) else str(getattr(t, "name", t))


def partition_room(dev: TapeDevice) -> list[dict[str, int | None]]:
    """Per partition: its number, its capacity (None when the drive does not say) and the bytes left
    after its end of data as the drive counts them (records' bytes and their overhead). The last
    partition is the data partition (of an LTFS volume, and where tape files are appended).
    The head goes back where it was."""
    pos = dev.position()
    capacity = getattr(dev, "partition_capacity", None)
    out: list[dict[str, int | None]] = []
    try:
        for p in range(dev.partitions):
            dev.locate(p, 0)
            out.append({"partition": p, "capacity": int(capacity(p)) if capacity else None,
                        "remaining": dev.medium().remaining})
    finally:
        dev.locate(pos.partition, pos.block)
    return out


__all__ = ["Folder", "LtfsMount", "Target", "parse_size", "parse_capacity", "partition_room", "drive_map", "is_library_spec", "open_tape", "open_device",
           "open_library", "create_vtape", "create_vlib", "target_name", "loaded_drive", "mount_of", "one_drive_error", "MOUNT_PREFIX"]
