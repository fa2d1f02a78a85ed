"""A cartridge holding foreign archives (one tape file each, as `dd` + `mt weof` write them), restored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lto_archive.jobs.read import restore_tape
from lto_archive.tape import VirtualTape, create_vtape
from tests.test_read_foreign import put_archive


def restore_archives(tmp: Path, archives: list[bytes], dest: Path, **kw: Any) -> Any:
    """Put each archive on a fresh cartridge as a tape file, then restore_tape(..., **kw) into `dest`."""
    cart = tmp / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=1024**3)
    for raw in archives:
        put_archive(tape, raw)
    tape.close()
    tape = VirtualTape(cart)
    try:
        return restore_tape(tape, dest, **kw)
    finally:
        tape.close()
