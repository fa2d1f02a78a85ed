"""What `--device` says about an st drive: `/dev/nst0` or `st:/dev/nst0?block=512K&ew_room=64M`
(docs/st.md), and the check that the node does not rewind."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ..errors import DeviceError, DeviceNotFound, UsageError
from .device import MAX_RECORD

MiB = 1024 * 1024
DEFAULT_EW_ROOM = 1024 * MiB
DEFAULT_MAX_READ = 1 * MiB     # st and most HBAs cap records at 1 MiB; `max_record=` raises it
_FMT_SIZES = {"K": 1024, "M": MiB, "G": 1024 * MiB}


@dataclass(frozen=True)
class StOptions:
    """What `st:/dev/nst0?block=524288&ew_room=64M` says."""

    block: int = 0                 # 0: variable block mode; else fixed blocks of this size
    ew_room: int = DEFAULT_EW_ROOM  # bytes accepted past early warning (0: until the drive's hard end)
    max_record: int = DEFAULT_MAX_READ


def _size(text: str, what: str) -> int:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = _FMT_SIZES.get(t[-1:], 1)
    digits = t[:-1] if t[-1:] in _FMT_SIZES else t
    try:
        value = int(digits) * mult
    except ValueError:
        raise UsageError(f"{what}={text!r} is not a size (use e.g. 524288, 512K, 64M)", value=text) from None
    if value < 0:
        raise UsageError(f"{what} cannot be negative", value=text)
    return value


def parse_spec(spec: str) -> tuple[str, StOptions]:
    """"/dev/nst0" or "st:/dev/nst0?block=512K&ew_room=64M" -> (path, options)."""
    rest = spec[3:] if spec.startswith("st:") else spec
    path, _, query = rest.partition("?")
    if not path:
        raise UsageError("device 'st:' needs the tape device, as in st:/dev/nst0", spec=spec)
    opts: dict[str, int] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key in ("block", "ew_room", "max_record"):
            opts[key] = _size(value, key)
        else:
            raise UsageError(f"unknown st option {key!r} in {spec!r}; known: block, ew_room, max_record",
                             spec=spec)
    o = StOptions(**opts)
    if o.block and not 1 <= o.block <= MAX_RECORD:
        raise UsageError(f"block={o.block}: a fixed block is 1 .. {MAX_RECORD} bytes (0 for variable blocks)")
    if not 1 <= o.max_record <= MAX_RECORD:
        raise UsageError(f"max_record={o.max_record}: use 1 .. {MAX_RECORD} bytes")
    return path, o


ST_MAJOR = 9                       # SCSI tape (Documentation/admin-guide/devices.txt)
_REWINDING = re.compile(r"st\d+[lma]?")


def _non_rewinding_name(name: str) -> str:
    return "n" + name if _REWINDING.fullmatch(name) else "nst0"


def check_node(path: str) -> None:
    """Refuse a rewinding node: every close would rewind the tape under the next command."""
    name = os.path.basename(path)
    if _REWINDING.fullmatch(name):
        raise UsageError(f"{path} rewinds the tape each time it is closed, so the next command would overwrite "
                         f"the start of the tape: use the non-rewinding /dev/{_non_rewinding_name(name)} instead",
                         path=path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DeviceNotFound(f"no tape device {path}: check the drive is connected and the st module loaded "
                             f"(ls /dev/nst*)", path=path) from None
    except PermissionError:
        raise DeviceError(f"cannot look at {path}: permission denied (add the user to group 'tape')",
                          path=path) from None
    if not stat.S_ISCHR(st.st_mode) or os.major(st.st_rdev) != ST_MAJOR:
        raise UsageError(f"{path} is not a SCSI tape device (st); use /dev/nst0 or similar", path=path)
    if not os.minor(st.st_rdev) & 0x80:   # st minors: bit 7 set = no rewind on close
        raise UsageError(f"{path} rewinds the tape each time it is closed, so the next command would overwrite "
                         f"the start of the tape: use a non-rewinding /dev/nst* node instead", path=path)
