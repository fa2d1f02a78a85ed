"""A virtual cartridge's settings: the LTFS reference's `filedebug_tc_conf.xml` and our
sidecar `lto-archive-vtape.json` (see docs/vtape.md)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import DeviceError, UsageError
from ..fsutil import atomic_write
from ..generations import GENERATIONS, Generation, by_name

CONF_NAME = "filedebug_tc_conf.xml"
SIDECAR_NAME = "lto-archive-vtape.json"
TMP_PREFIX = ".lto-archive-tmp"
MiB = 1024 * 1024
# A virtual cartridge is as durable as its folder: records are renamed into place without fsync,
# and so are its settings (atomic_write's fsync would double the time create_vtape takes).
FSYNC = False

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


def default_drive_generation(medium: Generation) -> Generation:
    """The newest generation whose drives write `medium` (the medium's own on a tie)."""
    writers = [g for g in GENERATIONS.values() if medium.name in g.writes]
    if not writers:
        return medium
    newest = max(g.number for g in writers)
    top = [g for g in writers if g.number == newest]
    return medium if medium in top else top[0]


def as_generation(value: Generation | str) -> Generation:
    """A Generation, or the one a name ("LTO-9") names."""
    return value if isinstance(value, Generation) else by_name(str(value))


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
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise DeviceError(f"cannot read {path}: {exc.strerror or exc}", path=str(path)) from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:     # bad UTF-8, not JSON, nested too deep
            raise UsageError(f"{path} is not valid JSON: {str(exc)[:200]}", path=str(path)) from None
        if not isinstance(data, dict):
            raise UsageError(f"{path} must hold a JSON object", path=str(path))
        data = {k: v for k, v in data.items() if k not in ("format", "version")}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown key(s) {', '.join(unknown)} in {path}; known: {', '.join(sorted(known))}",
                             path=str(path), keys=unknown)
        s = cls(**data)
        for name, kind in (("faults", dict), ("speed", dict), ("write_protected", bool),
                           ("drive_generation", (str, type(None)))):
            if not isinstance(getattr(s, name), kind):
                raise UsageError(f"{name} in {path} has the wrong type ({type(getattr(s, name)).__name__})",
                                 path=str(path))
        for name in ("capacity", "early_warning_bytes", "programmable_early_warning_bytes"):
            v = getattr(s, name)
            if v is not None and (not isinstance(v, int) or v < (1 if name == "capacity" else 0)):
                raise UsageError(f"{name} in {path} must be a whole number of bytes, not {v!r}", path=str(path))
        return s

    def to_dict(self) -> dict[str, Any]:
        return {"format": "lto-archive-vtape", "version": 1, **asdict(self)}

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(self.to_dict(), indent=2) + "\n", fsync=FSYNC)


# --- the reference's cartridge configuration --------------------------------------

def read_conf(cart_dir: str | os.PathLike[str]) -> dict[str, str]:
    """The elements of `filedebug_tc_conf.xml` as text, in file order."""
    path = Path(cart_dir) / CONF_NAME
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, LookupError, ValueError) as exc:     # LookupError: an unknown encoding declared
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
    atomic_write(path, '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", fsync=FSYNC)


def conf_bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "1", "yes")
