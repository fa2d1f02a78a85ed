"""Small spanning jobs for the tests: a virtual library of tiny cartridges and a card of random clips."""

from __future__ import annotations

import os
from pathlib import Path

from lto_archive.library.vlib import VirtualLibrary, create_vlib
from tests.tape_helpers import tape_file_bytes

MiB = 1 << 20
RS = 64 * 1024


def make_card(root: Path, sizes: dict[str, int]) -> Path:
    card = root / "card"
    for name, size in sizes.items():
        p = card / "CLIPS" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
    return card


def make_library(root: Path, cartridges: int = 3, capacity: int = 8 * MiB, slots: int = 4) -> VirtualLibrary:
    return create_vlib(root, drives=1, slots=slots, capacity=capacity, cartridges=cartridges)


def cartridge_folder(lib: VirtualLibrary, barcode: str) -> Path:
    """Where a cartridge of the virtual library is now (a slot or a drive)."""
    found = [p for p in lib.path.glob(f"*/*/{barcode}") if p.is_dir()]
    assert len(found) == 1, found
    return found[0]


def volume_bytes(lib: VirtualLibrary, barcode: str, tape_file: int = 0) -> bytes:
    return tape_file_bytes(cartridge_folder(lib, barcode), tape_file)
