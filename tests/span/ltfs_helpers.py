"""LTFS span sets for the tests: a virtual library whose cartridges are formatted as LTFS, and the set written."""

from __future__ import annotations

from pathlib import Path

from lto_archive.formats.ltfs.volume import format_volume
from lto_archive.jobs.write import WriteOptions
from lto_archive.library.vlib import VirtualLibrary
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import SpanResult, write_span
from tests.span.helpers import MiB, make_library

BS = 64 * 1024     # small LTFS blocks: tiny cartridges hold more files


def ltfs_library(root: Path, cartridges: int = 4, capacity: int = 12 * MiB, blank: tuple[str, ...] = (),
                 slots: int | None = None) -> VirtualLibrary:
    """A library of `cartridges` LTFS volumes (64 KiB blocks); the labels in `blank` stay blank."""
    lib = make_library(root, cartridges=cartridges, capacity=capacity, slots=slots or cartridges + 1)
    for barcode in sorted(lib.status().barcodes()):
        if barcode in blank:
            continue
        drive = lib.load_barcode(barcode, None)
        dev = lib.open_drive(drive)
        format_volume(dev, creator="tests", serial=barcode[:6], block_size=BS)
        dev.close()
        lib.unload(drive)
    return lib


def write_ltfs_set(card: Path, lib: VirtualLibrary, *, split_files: bool = False, log_dir: Path | None = None,
                   **opts: object) -> SpanResult:
    return write_span([card], LibrarySupply(lib, "LTA*"),
                      WriteOptions(format="ltfs", record_size=BS, log_dir=log_dir, **opts),  # type: ignore[arg-type]
                      split_files=split_files)
