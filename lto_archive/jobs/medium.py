"""What the loaded cartridge holds, decided once: tape files, or an LTFS volume.

    medium = open_medium(device)                 # TapeFiles or LtfsVolume
    result = medium.read("verify", patterns=["A001*"])

A layout is a class with `probe(device)` (an instance when the cartridge is laid
out its way, else None) and `read(phase, ...)`, the pass behind ls, verify and
restore. `open_medium` asks the layouts of LAYOUTS in order; TapeFiles, the
layout of any cartridge no other layout claims, comes last. The engine's other
readers (catalog import, span restore) keep a table of what they do per layout
class, so a new layout is one class here plus one entry in each table; nothing
branches on a format's name.

- TapeFiles: tape files one after another on the last partition, each in a
  format formats.registry detects from its first record (jobs/read.py).
- LtfsVolume: an LTFS volume, its files found through its current index
  (jobs/ltfs_read.py).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ..errors import UsageError
from ..progress import ProgressCallback
from ..tape.device import TapeDevice
from ..formats.registry import LTFS
from .ltfs_read import read_ltfs
from .read import ReadResult, read_tape_files


#: allocations between two collections of the garbage collector's youngest generation during a read pass
READ_GC_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_gc_passes = 0
_gc_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A read pass makes a handful of short-lived objects per member (header, member, pax records, hashes):
    with the collector's default threshold (700 allocations) its collections were ~10 % of the CPU of a
    restore of 12 KiB frames. During the pass the youngest generation is collected every
    READ_GC_THRESHOLD allocations instead; cycles are still collected. Passes may nest or overlap
    (threads): the first one in saves the thresholds, the last one out puts them back."""
    global _gc_passes, _gc_saved
    with _gc_lock:
        if _gc_passes == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(_gc_saved[0], READ_GC_THRESHOLD), _gc_saved[1], _gc_saved[2])
        _gc_passes += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_passes -= 1
            if _gc_passes == 0:
                gc.set_threshold(*_gc_saved)


class Medium(Protocol):
    device: TapeDevice

    def read(self, phase: str, *, patterns: Iterable[str] = (), dest: Path | None = None, overwrite: bool = False,
             progress: ProgressCallback | None = None, generation: int | None = None,
             rollback: bool = False, keep_damaged: bool = False,
             accept_unproven: bool = False) -> ReadResult: ...


class TapeFiles:
    """Tape files of any registered format (TAR, CPIO, AXF-style), read one after another."""

    def __init__(self, device: TapeDevice) -> None:
        self.device = device

    @classmethod
    def probe(cls, device: TapeDevice) -> "TapeFiles":
        return cls(device)

    def read(self, phase: str, *, patterns: Iterable[str] = (), dest: Path | None = None, overwrite: bool = False,
             progress: ProgressCallback | None = None, generation: int | None = None,
             rollback: bool = False, keep_damaged: bool = False,
             accept_unproven: bool = False) -> ReadResult:
        if generation is not None or rollback:
            raise UsageError("--generation and --rollback choose an LTFS index; this cartridge holds tape files")
        with fewer_collections():
            return read_tape_files(self.device, phase, patterns=patterns, dest=dest, overwrite=overwrite,
                                   progress=progress, keep_damaged=keep_damaged, accept_unproven=accept_unproven)


class LtfsVolume:
    """An LTFS volume (a VOL1 label on partition 0): its files through its current index."""

    def __init__(self, device: TapeDevice) -> None:
        self.device = device

    @classmethod
    def probe(cls, device: TapeDevice) -> "LtfsVolume | None":
        return cls(device) if LTFS.holds(device) else None

    def read(self, phase: str, *, patterns: Iterable[str] = (), dest: Path | None = None, overwrite: bool = False,
             progress: ProgressCallback | None = None, generation: int | None = None,
             rollback: bool = False, keep_damaged: bool = False,
             accept_unproven: bool = False) -> ReadResult:
        with fewer_collections():
            return read_ltfs(self.device, phase, patterns=list(patterns), dest=dest, overwrite=overwrite,
                             progress=progress, generation=generation, rollback=rollback,
                             keep_damaged=keep_damaged, accept_unproven=accept_unproven)


LAYOUTS: tuple[type[LtfsVolume] | type[TapeFiles], ...] = (LtfsVolume, TapeFiles)   # probed in this order


def open_medium(device: TapeDevice) -> LtfsVolume | TapeFiles:
    """The loaded cartridge's layout: the first of LAYOUTS that recognises it (TapeFiles takes any)."""
    for layout in LAYOUTS:
        medium = layout.probe(device)
        if medium is not None:
            return medium
    return TapeFiles(device)


__all__ = ["Medium", "TapeFiles", "LtfsVolume", "LAYOUTS", "open_medium", "fewer_collections", "READ_GC_THRESHOLD"]
