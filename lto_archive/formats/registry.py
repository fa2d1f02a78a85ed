"""The archive formats a tape file can hold, behind one writer and one reader interface.

A format registers a writer (TarWriter is the model: `add_file`, `add_bytes`,
`add_directory`, `add_symlink`, `close`, over a RecordStream) and a reader
(TarReader is the model: iterate members with `path`, `kind`, `size`, `mode`,
`mtime`, `mtime_ns`, `linkname`, `header_offset`; `iter_data`, `read_data`),
plus `detect`, which recognises the format from the first record of a tape file.
The write, verify, list and restore jobs only speak these interfaces. LTFS is
not here: it is a volume layout, not a tape-file format (jobs/ltfs_*.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError


@dataclass(frozen=True)
class ArchiveFormat:
    name: str
    writer: Callable[..., Any]                   # (RecordStream, session=SessionInfo) -> writer
    reader: Callable[[Any], Any]                 # binary stream -> reader (iterable of members)
    detect: Callable[[bytes], bool]              # first record of a tape file -> is it ours?
    member_overhead: Callable[[str, int, int], int]   # (name, size, record size) -> bytes on tape beyond the data
    description: str = ""
    # called with the scanned SourceEntry list before anything is written: raise (e.g. UsageError
    # naming the file) for what this format cannot hold, such as a file too big for its headers
    preflight: Callable[[list[Any]], None] | None = None
    # a span set's volume (binary stream -> reader): its first and last members may be parts of files that go on
    # from or to the next cartridge (TAR: GNU multi-volume continuations); None: `reader` reads volumes too
    volume_reader: Callable[[Any], Any] | None = None


_FORMATS: dict[str, ArchiveFormat] = {}


def register(fmt: ArchiveFormat) -> None:
    _FORMATS[fmt.name] = fmt


def get_format(name: str) -> ArchiveFormat:
    _load()
    try:
        return _FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown archive format {name!r}; use one of {', '.join(names())}") from None


def names() -> list[str]:
    _load()
    return list(_FORMATS)


def detect_format(first_record: bytes) -> ArchiveFormat | None:
    _load()
    for fmt in _FORMATS.values():
        if fmt.detect(first_record):
            return fmt
    return None


_loaded = False


def _load() -> None:
    """Import the format modules (each registers itself) on first use, in this order."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import tar_format  # noqa: F401
    from . import cpio_format  # noqa: F401
    from . import axf_format  # noqa: F401


__all__ = ["ArchiveFormat", "register", "get_format", "names", "detect_format"]
