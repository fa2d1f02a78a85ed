"""Registers SVR4 cpio with the format registry: "cpio" (newc, 070701) and "cpio-crc" (070702).

Both write with CpioWriter (cpio_writer.py) and read with CpioReader
(cpio_reader.py), which also reads POSIX odc (070707) archives other tools
wrote. A tape file is recognised from the magic at the start of its first
record: 070701 or 070707 (and the old binary magic, refused by the reader
with a clear message) is "cpio", 070702 is "cpio-crc".
"""

from __future__ import annotations

from typing import Any

from ..streaming import RecordStream
from .cpio_reader import BINARY_MAGICS, CpioReader
from .cpio_writer import CpioWriter, member_overhead, preflight
from .registry import ArchiveFormat, register


def _is_cpio(record: bytes) -> bool:
    head = bytes(record[:6])
    return head in (b"070701", b"070707") or (len(record) >= 26 and head[:2] in BINARY_MAGICS)


def _is_cpio_crc(record: bytes) -> bool:
    return bytes(record[:6]) == b"070702"


def _overhead(name: str, size: int, record_size: int) -> int:
    return member_overhead(name, size, record_size)


def _newc_writer(stream: RecordStream, session: Any = None) -> CpioWriter:
    return CpioWriter(stream)


def _crc_writer(stream: RecordStream, session: Any = None) -> CpioWriter:
    return CpioWriter(stream, crc=True)


register(ArchiveFormat("cpio", _newc_writer, CpioReader, _is_cpio, _overhead,
                       "SVR4 newc cpio archive, one per session (GNU cpio -idv reads it); files under 4 GiB",
                       preflight=preflight))
register(ArchiveFormat("cpio-crc", _crc_writer, CpioReader, _is_cpio_crc, _overhead,
                       "SVR4 cpio with per-file byte-sum checksums (cpio -H crc); reads large files twice",
                       preflight=preflight))
