"""The one member type the archive readers (TAR, CPIO, AXF) yield.

    for m in reader:            # Member, whatever the format
        m.path, m.kind, m.size, m.mode, m.mtime_ns, m.linkname, m.header_offset
        m.extra                 # TarExtra | CpioExtra | AxfExtra: what only that format has

`kind` is one of KINDS. `size` is the number of data bytes the reader's
`iter_data` yields for the member (0 for everything but files, and TAR's hard
links that carry data). Offsets are stream offsets: `header_offset` of the
first byte that belongs to the member, `data_offset` of its first data byte,
`end_offset` of the byte after its stored data and the format's padding (TAR,
CPIO; None in AXF, where a file footer follows the data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from .axf.structures import FileFooter

__all__ = ["KINDS", "Member", "TarExtra", "CpioExtra", "AxfExtra", "E"]

#: what a member can be; 'other' is CPIO's name for devices, fifos and sockets
KINDS = ("file", "dir", "symlink", "hardlink", "chardev", "blockdev", "fifo", "other")


@dataclass(slots=True, eq=True)
class TarExtra:
    """TAR: the pax records in force for the member (its 'x' header over the global 'g' ones)."""

    pax: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, eq=True)
class CpioExtra:
    """CPIO: the header fields TAR has no place for."""

    format: str                  # 'newc', 'crc' or 'odc'
    stored_size: int = 0         # data bytes the header says follow it (a symlink's target, a link's data)
    nlink: int = 1
    ino: int = 0
    rdevmajor: int = 0
    rdevminor: int = 0
    check: int = 0               # crc format: the sum of the file's bytes
    raw_mode: int = 0            # the header's whole mode field, file type bits included


@dataclass(slots=True, eq=True)
class AxfExtra:
    """AXF: where the member is in its object, and what its file footer says."""

    seq: int = 0                       # the member's number in its object
    object_uuid: str = ""
    algorithms: tuple[str, ...] = ()   # the checksums its file footer carries
    footer: FileFooter | None = None   # set once the reader has read past the member's data
    file_size: int = 0                 # the whole file's size (= size unless a segment of a spanned file)
    continues: bool = False            # a segment that goes on in the next volume


E = TypeVar("E", TarExtra, CpioExtra, AxfExtra)


@dataclass(slots=True, eq=True)
class Member(Generic[E]):
    """One archive member, as stored (see the module notes for the fields TAR, CPIO and AXF share).

    `mtime` is a float in seconds, `mtime_ns` the same time as exact integer
    nanoseconds. `part_offset`: the member holds part of a file that spans
    volumes (a TAR continuation, an AXF segment), beginning at this offset in
    the whole file; None otherwise.
    """

    path: str
    kind: str
    size: int
    mode: int
    mtime: float
    mtime_ns: int
    extra: E
    uid: int = 0
    gid: int = 0
    uname: str = ""
    gname: str = ""
    linkname: str = ""
    header_offset: int = 0
    data_offset: int = 0
    end_offset: int | None = None
    devmajor: int = 0
    devminor: int = 0
    part_offset: int | None = None

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"

    # AXF's extras, where the read and span jobs look for them on any member

    @property
    def footer(self) -> FileFooter | None:
        """AXF: the member's file footer (once read); None for other formats."""
        return self.extra.footer if isinstance(self.extra, AxfExtra) else None

    @property
    def file_size(self) -> int:
        """The whole file's size: differs from `size` only for a segment of a spanned AXF file."""
        return self.extra.file_size if isinstance(self.extra, AxfExtra) else self.size

    @property
    def continues(self) -> bool:
        """AXF: a segment that goes on in the next volume; False for other formats."""
        return self.extra.continues if isinstance(self.extra, AxfExtra) else False
