"""Device and library specs: what `--device` and `--library` take, opened.

This module sits above the tape and library packages (it imports both), so
that the tape package need not know about libraries.

`open_device(spec)` turns a device spec from the command line into a device:

    /dev/nstN   a Linux tape drive, non-rewinding node (also st:/dev/nst0?block=512K; see docs/st.md)
    vtape:DIR   a virtual cartridge folder (see docs/vtape.md)
    vlib:DIR    the loaded drive of a virtual library (see docs/library.md)
    null:       the null target (keeps nothing; for benchmarks)

`open_library(spec)` opens a library (medium changer): vlib:DIR, /dev/sgN or mtx:/dev/sgN.
"""

from __future__ import annotations

from .library import LIBRARY_KINDS, Library, open_library
from .library.cartridge import open_cartridge
from .tape import TAPE_DEVICE_KINDS, TapeDevice
from .tape import open_device as open_tape_device

DEVICE_KINDS = ("/dev/nstN", "vtape:DIR", "vlib:DIR", "null:")

__all__ = ["DEVICE_KINDS", "LIBRARY_KINDS", "TAPE_DEVICE_KINDS", "Library", "open_device", "open_library"]


def open_device(spec: str) -> TapeDevice:
    """Open the device a spec names: one of DEVICE_KINDS ("vtape:/path/to/cartridge", "null:", ...)."""
    spec = spec.strip()
    kind, sep, _ = spec.partition(":")
    if sep and kind.lower() == "vlib":   # a virtual library: the cartridge in its first loaded drive
        return open_cartridge(spec, None)
    return open_tape_device(spec, kinds=DEVICE_KINDS)
