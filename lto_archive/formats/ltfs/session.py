"""One write session appended to an LTFS volume.

File data goes to the data partition as one extent per file, each file
starting on a new record (the last record of a file is short: no padding),
in the order files are added. A data-partition index (filemark, index,
filemark) is written at every checkpoint and at commit; commit then rewrites
the index partition and the cartridge memory's coherency information. If
the writer dies between checkpoints, what the last index describes is intact
and everything after it is found by `ltfs recover`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from ...errors import ArchiveError
from ...streaming import RecordStream
from ...tape.device import TapeDevice
from .index import Directory, Extent, File, Index, index_xml_chunks
from .times import format_time, now_ns
from .volume import DATA_PARTITION, INDEX_PARTITION, FIRST_INDEX_BLOCK, VolumeState, write_coherency, \
    write_index_partition

HASH_XATTR_PREFIX = "ltfs.hash."
# how the checksum of each algorithm is named as an extended attribute (the names other LTFS tools use)
HASH_XATTRS = {"md5": "ltfs.hash.md5sum", "sha1": "ltfs.hash.sha1sum", "sha256": "ltfs.hash.sha256sum",
               "xxh64": "ltfs.hash.xxh64", "xxh3": "ltfs.hash.xxh3", "xxh128": "ltfs.hash.xxh128"}
ALGORITHM_OF_XATTR = {v: k for k, v in HASH_XATTRS.items()}


@dataclass
class Checkpoints:
    """When to write an intermediate data-partition index (whichever comes first)."""

    every_bytes: int | None = 64 << 30
    every_seconds: float | None = 600.0


@dataclass
class AddedFile:
    node: File
    start_block: int | None
    size: int                 # what the source's size was when it was opened
    copied: int               # what went to tape (the index says this length)
    read_error: OSError | None


class LtfsSession:
    """Appends files to an open volume through a RecordStream on its device."""

    def __init__(self, device: TapeDevice, state: VolumeState, stream: RecordStream, creator: str,
                 checkpoints: Checkpoints | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if state.unindexed_blocks:
            raise ArchiveError(
                f"LTFS volume {state.serial or ''}: a previous write session did not finish "
                f"({state.unindexed_blocks} blocks after the last index); run 'lto-archive ltfs recover' "
                f"before writing to it", unindexed_blocks=state.unindexed_blocks)
        if stream.record_size != state.block_size:
            raise ArchiveError(f"this LTFS volume was formatted with {state.block_size}-byte blocks; "
                               f"write it with that block size, not {stream.record_size}")
        self.device, self.state, self.stream, self.creator = device, state, stream, creator
        self.index: Index = state.index
        self.checkpoints = checkpoints or Checkpoints()
        self.clock = clock
        self._last_checkpoint = clock()
        self._bytes_since = 0
        device.locate(DATA_PARTITION, 0)
        device.seek_eod()
        self.base = device.position().block
        self.dp_location: tuple[str, int] | None = state.dp.index.location if state.dp.index else None
        self.indexes_written = 0
        self.changed = False

    # --- placing entries ---------------------------------------------------------
    def _parent(self, parts: list[str], times: list[str]) -> Directory:
        return self.index.make_dirs(parts[:-1], times)

    def exists(self, parts: list[str]) -> bool:
        return self.index.lookup("/".join(parts)) is not None

    def add_directory(self, parts: list[str], times: list[str]) -> Directory:
        self.changed = True
        d = self.index.make_dirs(parts, times)
        d.times = list(times)
        return d

    def add_file(self, parts: list[str], source: BinaryIO, size: int, times: list[str],
                 hasher: Any | None = None) -> AddedFile:
        """Stream one file's bytes as a new extent; the index entry gets the length actually copied."""
        parent = self._parent(parts, times)
        name = parts[-1]
        if name in parent.children:
            raise ArchiveError(f"{'/'.join(parts)} is already on this LTFS volume", path="/".join(parts))
        stream = self.stream
        start = self.base + stream.record_number
        copied, err = stream.copy_from(source, size, hasher)
        stream.end_record()
        node = File(name, self.index.next_uid(), list(times), copied,
                    [Extent(0, "b", start, 0, copied)] if copied else None)
        parent.children[name] = node
        self.changed = True
        self._bytes_since += copied
        return AddedFile(node, start if copied else None, size, copied, err)

    def add_bytes(self, parts: list[str], data: bytes, times: list[str]) -> File:
        import io
        return self.add_file(parts, io.BytesIO(data), len(data), times).node

    def add_symlink(self, parts: list[str], target: str, times: list[str]) -> File:
        parent = self._parent(parts, times)
        node = File(parts[-1], self.index.next_uid(), list(times), 0, None, target)
        parent.children[parts[-1]] = node
        self.changed = True
        return node

    def set_hashes(self, node: File, digests: dict[str, str]) -> None:
        """Called on the hash thread once the file's bytes are hashed."""
        xattrs = dict(node.xattrs or {})
        for algo, hexdigest in digests.items():
            key = HASH_XATTRS.get(algo, HASH_XATTR_PREFIX + algo)
            xattrs[key] = hexdigest
        node.xattrs = xattrs

    # --- indexes ---------------------------------------------------------------------
    def checkpoint_due(self) -> bool:
        c = self.checkpoints
        return bool(self.changed and (
            (c.every_bytes is not None and self._bytes_since >= c.every_bytes)
            or (c.every_seconds is not None and self.clock() - self._last_checkpoint >= c.every_seconds)))

    def write_data_index(self) -> None:
        """Filemark, index, filemark on the data partition: everything added so far is now findable."""
        stream = self.stream
        stream.flush_hashes()
        stream.filemark()
        ix = self.index
        ix.generation += 1
        ix.location = ("b", self.base + stream.record_number)
        ix.previous = self.dp_location
        ix.update_time = format_time(now_ns())
        ix.creator = self.creator
        for chunk in index_xml_chunks(ix):
            stream.write(chunk)
        stream.end_record()
        stream.filemark()
        self.dp_location = ix.location
        self.indexes_written += 1
        self.changed = False
        self._bytes_since = 0
        self._last_checkpoint = self.clock()

    def commit(self) -> Index:
        """Final data-partition index, wait for the device, then the index partition and coherency."""
        if self.changed or not self.indexes_written:
            self.write_data_index()
        self.stream.close()
        dp_block = self.index.location[1]
        self.index.previous = self.dp_location
        write_index_partition(self.device, self.index, self.state.block_size)
        write_coherency(self.device, self.index.volume_uuid, self.index.generation,
                        {INDEX_PARTITION: FIRST_INDEX_BLOCK, DATA_PARTITION: dp_block})
        return self.index


__all__ = ["LtfsSession", "Checkpoints", "AddedFile", "HASH_XATTRS", "ALGORITHM_OF_XATTR", "HASH_XATTR_PREFIX"]
