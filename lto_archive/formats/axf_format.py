"""Registers the AXF-style container (formats/axf, docs/formats/axf-style.md) with the format registry."""

from __future__ import annotations

from typing import Any

from ..errors import CorruptArchive
from ..streaming import RecordStream
from .axf.reader import AxfReader, probe_volume, read_frame_at
from .axf.structures import MAGIC, FrameType
from .axf.writer import AxfWriter, VolumeState, member_overhead
from .registry import ArchiveFormat, register


def _is_axf(record: bytes) -> bool:
    """Our 8-byte magic at the start of the record. Nothing else is checked here, so that a
    damaged first structure is reported by the AXF reader (which names the CRC), not as bad TAR."""
    return record[:8] == MAGIC


def _writer(stream: RecordStream, session: Any = None, metadata: dict[str, str] | None = None) -> AxfWriter:
    """A writer for one session. Appending (nothing written yet): each volume's identity and
    object list are read from its tape first (probe_volume), so this session's volume footer
    supersedes the previous one there."""
    volumes: list[VolumeState] | None = None
    if session is not None and stream.offset == 0:
        volumes = [probe_volume(st.device) for st in stream.status]
    return AxfWriter(stream, session, volume=volumes, metadata=metadata)


def _reader(stream: Any) -> AxfReader:
    return AxfReader(stream)


def _member_at(device: Any, partition: int, block: int, offset: int, path: str) -> tuple[str, str, int, int, int]:
    """The file header frame where the catalog says `path` starts; its data starts on the next record."""
    frame, h, _ = read_frame_at(device, partition, block, offset)
    if frame.type != FrameType.FILE_HEADER:
        raise CorruptArchive(f"a {frame.type_name} at block {block}, where the catalog says the file header "
                             f"of {path!r} is")
    if h.flags or h.segment_offset or (h.kind == "file" and h.segment_size != h.size):
        raise CorruptArchive(f"{h.path!r} at block {block} is a segment of a file that spans cartridges, not "
                             f"the whole file: restore its set with 'lto-archive span restore'")
    return h.path, h.kind, (h.size if h.kind == "file" else 0), h.mode, h.mtime_ns


register(ArchiveFormat("axf", _writer, _reader, _is_axf, member_overhead,
                       "AXF-style container: self-describing objects with per-file checksum footers, "
                       "recoverable by scanning (docs/formats/axf-style.md)", member_at=_member_at))
