"""Registers POSIX pax TAR (tar_writer / tar_reader) with the format registry."""

from __future__ import annotations

from typing import Any

from ..streaming import RecordStream
from .registry import ArchiveFormat, register
from .tar_reader import TarReader
from .tar_writer import BLOCK, TarWriter


def _is_tar(record: bytes) -> bool:
    """ustar magic at offset 257 ('ustar\\0' POSIX, 'ustar ' GNU) of the first header."""
    return len(record) >= 263 and record[257:262] == b"ustar"


def _overhead(name: str, size: int, record_size: int) -> int:
    return 3 * BLOCK + len(name.encode("utf-8", "surrogateescape")) + BLOCK


def _writer(stream: RecordStream, session: Any = None) -> TarWriter:
    return TarWriter(stream)


register(ArchiveFormat("tar", _writer, TarReader, _is_tar, _overhead,
                       "POSIX pax archive, one per session (GNU tar and bsdtar read it)", gnu_multivolume=True,
                       volume_reader=lambda stream: TarReader(stream, volume=True)))
