"""The archive formats a tape file can hold, behind one writer and one reader interface.

A format registers a writer (TarWriter is the model: `add_file`, `add_bytes`,
`add_directory`, `add_symlink`, `close`, over a RecordStream) and a reader
(TarReader is the model: iterate members with `path`, `kind`, `size`, `mode`,
`mtime`, `mtime_ns`, `linkname`, `header_offset`; `iter_data`, `read_data`),
plus `detect`, which recognises the format from the first record of a tape file.
The write, verify, list and restore jobs only speak these interfaces.

What a format can do is said on its object, so the engine never asks for a
format by name: `gnu_multivolume` (a spanning volume may end inside a member,
cut where the drive warns, and the next volume begins with the rest of it, as
GNU tar -M reads it), `is_volume` (a volume layout such as LTFS: a session is
appended to a volume with its own index, not written as one tape file),
`spans_several_drives` (one read can write one set per drive). LTFS is a
`VolumeLayout` here (its session, formats/ltfs/session.py, is a FormatWriter
through jobs/ltfs_write.LtfsWriter; its index is the commit point);
`write_format(name)` gives either kind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, Union

from ..errors import UnstorableName, UsageError


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
    gnu_multivolume: bool = False   # a spanning volume may end inside a member (GNU tar -M's layout)
    is_volume: bool = False         # a tape-file format: one tape file per session
    spans_several_drives: bool = True   # a spanning job may write one set per drive from one read
    # a span set's volume (binary stream -> reader): its first and last members may be parts of files that go on
    # from or to the next cartridge (TAR: GNU multi-volume continuations); None: `reader` reads volumes too
    volume_reader: Callable[[Any], Any] | None = None
    # a member read straight at a catalogued position, without a stream reader (AXF: its file header frame):
    # (device, partition, block, offset, path) -> (path, kind, size, mode, mtime_ns); its data follows from the
    # next record on. None: the format's `reader` reads from the member's header on.
    member_at: Callable[[Any, int, int, int, str], tuple[str, str, int, int, int]] | None = None


@dataclass(frozen=True)
class VolumeLayout:
    """A format that is a volume layout (LTFS): each session appends to a volume that carries its own
    index; the index written at the session's end (and at checkpoints) is its commit point."""

    name: str
    description: str = ""
    preflight: Callable[[list[Any]], None] | None = None
    gnu_multivolume: bool = False
    is_volume: bool = True
    spans_several_drives: bool = False   # each cartridge its own index: one set at a time
    detect: Callable[[Any], bool] | None = None   # loaded TapeDevice -> does it carry this layout's volume?

    def holds(self, device: Any) -> bool:
        """Whether the cartridge loaded in `device` carries a volume of this layout."""
        return self.detect is not None and self.detect(device)


WriteFormat = Union[ArchiveFormat, VolumeLayout]


class FormatWriter(Protocol):
    """What the write engine asks of a tape-file format's writer for one session (TarWriter is the
    model). Every `add_*` returns where the member's header starts in the tape file (an int, or an
    object with `header_offset`; `add_file`'s also says `copied`, `size` and `read_error`). `close`
    ends the archive; the engine's filemark after it is the session's commit point."""

    def add_directory(self, name: str, st: Any) -> Any: ...

    def add_symlink(self, name: str, target: str, st: Any) -> Any: ...

    def add_file(self, name: str, source: BinaryIO, st: Any, hasher: Any | None = None) -> Any: ...

    def add_bytes(self, name: str, data: bytes, mtime_ns: int, mode: int = 0o644) -> Any: ...

    def close(self) -> None: ...


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _ltfs_preflight(entries: list[Any]) -> None:
    """Refuse, before writing anything, any name (or link target) LTFS cannot store as it is."""
    from .ltfs.names import check_name
    for e in entries:
        for part in e.name.split("/"):
            check_name(part, e.source)
        if e.kind == "symlink":
            target = os.readlink(e.path)
            if _NOT_XML.search(target):
                raise UnstorableName(f"{e.path}: the link target {target!r} holds a control character that an "
                                     f"LTFS index cannot store; lto-archive never changes it silently - "
                                     f"fix the link, or use --format tar", path=str(e.path))


def _ltfs_detect(device: Any) -> bool:
    from .ltfs.volume import holds_volume
    return holds_volume(device)


LTFS = VolumeLayout("ltfs", "LTFS: an open volume layout any LTFS reader mounts (index partition + data partition)",
                    preflight=_ltfs_preflight, detect=_ltfs_detect)
_LAYOUTS: dict[str, VolumeLayout] = {LTFS.name: LTFS}


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


def write_format(name: str) -> WriteFormat:
    """The tape-file format or volume layout `write --format NAME` means."""
    if name in _LAYOUTS:
        return _LAYOUTS[name]
    _load()
    try:
        return _FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; use one of {', '.join(write_format_names())}") from None


def layout_on(device: Any) -> VolumeLayout | None:
    """The volume layout the loaded cartridge carries (LTFS), or None: tape files, or blank."""
    return next((layout for layout in _LAYOUTS.values() if layout.holds(device)), None)


def is_volume_layout(name: str | None) -> bool:
    """Whether a format name (as a manifest or the catalog records it) is a volume layout: its files are
    found through the volume's index (partition and block), not in tape files."""
    return name in _LAYOUTS


def write_format_names() -> tuple[str, ...]:
    """Every format a write job takes: the tape-file formats, then the volume layouts."""
    return (*names(), *_LAYOUTS)


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


__all__ = ["ArchiveFormat", "VolumeLayout", "WriteFormat", "FormatWriter", "LTFS", "register", "get_format", "names",
           "write_format", "write_format_names", "detect_format", "layout_on", "is_volume_layout"]
