"""One write session appended to an LTFS volume.

File data goes to the data partition as one extent per file, each file
starting on a new record (the last record of a file is short: no padding),
in the order files are added. A data-partition index (filemark, index,
filemark) is written at every checkpoint and at commit; commit then rewrites
the index partition and the cartridge memory's coherency information. If
the writer dies between checkpoints, what the last index describes is intact
and everything after it is found by `ltfs recover`.

Several volumes take one session at once (one RecordStream, a device each):
the file records are shared, the indexes are each volume's own (LtfsVolume),
written to its device alone at every checkpoint (RecordStream.each_device).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ...errors import ArchiveError
from ...streaming import DeviceStatus, RecordStream
from ...tape.device import TapeDevice
from .index import Directory, Extent, File, Index, index_records
from .times import format_time, now_ns
from .volume import (DATA_PARTITION, FIRST_INDEX_BLOCK, INDEX_PARTITION, VolumeState, close_data_partition,
                     write_coherency, write_index_partition)

HASH_XATTR_PREFIX = "ltfs.hash."
# how the checksum of each algorithm is named as an extended attribute (the names other LTFS tools use)
HASH_XATTRS = {"md5": "ltfs.hash.md5sum", "sha1": "ltfs.hash.sha1sum", "sha256": "ltfs.hash.sha256sum",
               "xxh64": "ltfs.hash.xxh64", "xxh3": "ltfs.hash.xxh3", "xxh128": "ltfs.hash.xxh128"}
ALGORITHM_OF_XATTR = {v: k for k, v in HASH_XATTRS.items()}


DEFAULT_INDEX_EVERY_BYTES = 64_000_000_000   # "64G": decimal, as the CLI's --index-every default and tape vendors say


@dataclass
class Checkpoints:
    """When to write an intermediate data-partition index (whichever comes first)."""

    every_bytes: int | None = DEFAULT_INDEX_EVERY_BYTES
    every_seconds: float | None = 600.0


@dataclass
class AddedFile:
    node: File                # the file in the first volume's index
    start_block: int | None   # ... and where its extent starts there
    size: int                 # what the source's size was when it was opened
    copied: int               # what went to tape (the index says this length)
    read_error: OSError | None
    nodes: list[File] = field(default_factory=list)                 # per volume
    start_blocks: list[int | None] = field(default_factory=list)    # per volume


class LtfsVolume:
    """One volume's side of a session: its own index, generations and back pointers.

    Its data partition holds the session's shared records from `start` on;
    index objects are its own, so shared slot k lies at
    `start + own_slots + k` (own_slots: the records and filemarks of the
    indexes written to this volume so far in the session).
    """

    def __init__(self, device: TapeDevice, state: VolumeState, record_size: int) -> None:
        if state.unindexed_blocks:
            raise ArchiveError(
                f"LTFS volume {state.serial or ''}: a previous write session did not finish "
                f"({state.unindexed_blocks} blocks after the last index); run 'lto-archive ltfs recover' "
                f"before writing to it", unindexed_blocks=state.unindexed_blocks)
        if record_size != state.block_size:
            raise ArchiveError(f"this LTFS volume was formatted with {state.block_size}-byte blocks; "
                               f"write it with that block size, not {record_size}")
        self.device, self.state = device, state
        self.index: Index = state.index
        close_data_partition(device)     # a writer stopped between an index and its filemark: close that index
        self.start = device.position().block
        self.dp_location: tuple[str, int] | None = state.dp.index.location if state.dp.index else None
        self.indexes_written = 0

    def block(self, status: DeviceStatus, slot: int) -> int:
        return self.start + status.own_slots + slot

    def write_index(self, status: DeviceStatus, slot: int, creator: str) -> None:
        """Filemark, this volume's index, filemark: straight to its device, after the shared records."""
        status.filemark_own()
        ix = self.index
        ix.generation += 1
        ix.location = ("b", self.block(status, slot))
        ix.previous = self.dp_location
        ix.update_time = format_time(now_ns())
        ix.creator = creator
        for rec in index_records(ix, self.state.block_size):   # streamed: 10^6 files are ~800 MB of XML
            status.write_own(rec, self.state.block_size)
        status.filemark_own()
        self.dp_location = ix.location
        self.indexes_written += 1

    def write_index_partition(self) -> None:
        """The index partition's copy and the cartridge memory's coherency: the session is committed."""
        dp_block = self.index.location[1]
        self.index.previous = self.dp_location
        write_index_partition(self.device, self.index, self.state.block_size)
        write_coherency(self.device, self.index.volume_uuid, self.index.generation,
                        {INDEX_PARTITION: FIRST_INDEX_BLOCK, DATA_PARTITION: dp_block})


class LtfsSession:
    """Appends files to open volumes, one per device of a RecordStream, the data written once.

    The file records are the same on every volume; each volume places them at
    its own blocks in its own index (volumes may start at different blocks and
    hold different files), and gets its own indexes at every checkpoint.
    """

    def __init__(self, volumes: list[tuple[TapeDevice, VolumeState]], stream: RecordStream, creator: str,
                 checkpoints: Checkpoints | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if len(volumes) != len(stream.status):
            raise ValueError("one volume per device of the stream")
        self.volumes = [LtfsVolume(dev, state, stream.record_size) for dev, state in volumes]
        self.stream, self.creator = stream, creator
        self.checkpoints = checkpoints or Checkpoints()
        self.clock = clock
        self._last_checkpoint = clock()
        self._bytes_since = 0
        self.indexes_written = 0
        self.changed = False
        self._last_folder: tuple[str, list[Directory]] | None = None     # add_file's last folder, every volume's

    @property
    def live(self) -> list[tuple[LtfsVolume, DeviceStatus]]:
        return [(v, st) for v, st in zip(self.volumes, self.stream.status) if st.error is None]

    # --- placing entries ---------------------------------------------------------
    def add_directory(self, parts: list[str], times: list[str]) -> None:
        self.changed = True
        for v in self.volumes:
            d = v.index.make_dirs(parts, times)
            d.times = list(times)

    def add_file(self, parts: list[str], source: BinaryIO, size: int, times: list[str],
                 hasher: Any | None = None) -> AddedFile:
        """Stream one file's bytes as a new extent; each index entry gets the length actually copied."""
        path = "/".join(parts)
        name = parts[-1]
        folder = path[:-len(name) - 1] if len(parts) > 1 else ""
        last = self._last_folder      # a frame sequence's files share their folder: found once (folders stay)
        if last is not None and last[0] == folder:
            parents = last[1]
        else:
            parents = [v.index.make_dirs(parts[:-1], times) for v in self.volumes]
            self._last_folder = (folder, parents)
        for parent in parents:
            if name in parent.children:
                raise ArchiveError(f"{path} is already on this LTFS volume", path=path)
        stream = self.stream
        slot = stream.record_number
        copied, err = stream.copy_from(source, size, hasher)
        stream.end_record()
        nodes: list[File] = []
        starts: list[int | None] = []
        for v, st, parent in zip(self.volumes, stream.status, parents):
            start = v.block(st, slot)
            node = File(name, v.index.next_uid(), list(times), copied,
                        [Extent(0, "b", start, 0, copied)] if copied else None)
            parent.children[name] = node
            nodes.append(node)
            starts.append(start if copied else None)
        self.changed = True
        self._bytes_since += copied
        return AddedFile(nodes[0], starts[0], size, copied, err, nodes, starts)

    def add_bytes(self, parts: list[str], data: bytes, times: list[str]) -> AddedFile:
        import io
        return self.add_file(parts, io.BytesIO(data), len(data), times)

    def add_symlink(self, parts: list[str], target: str, times: list[str]) -> None:
        for v in self.volumes:
            parent = v.index.make_dirs(parts[:-1], times)
            parent.children[parts[-1]] = File(parts[-1], v.index.next_uid(), list(times), 0, None, target)
        self.changed = True

    def set_hashes(self, added: AddedFile, digests: dict[str, str]) -> None:
        """Called on the hash thread once the file's bytes are hashed: into every volume's index."""
        for node in added.nodes:
            xattrs = dict(node.xattrs or {})
            for algo, hexdigest in digests.items():
                xattrs[HASH_XATTRS.get(algo, HASH_XATTR_PREFIX + algo)] = hexdigest
            node.xattrs = xattrs

    # --- indexes ---------------------------------------------------------------------
    def checkpoint_due(self) -> bool:
        c = self.checkpoints
        return bool(self.changed and (
            (c.every_bytes is not None and self._bytes_since >= c.every_bytes)
            or (c.every_seconds is not None and self.clock() - self._last_checkpoint >= c.every_seconds)))

    def write_data_index(self) -> None:
        """Each volume's index on its data partition, once every device holds the data before it:
        everything added so far is then findable on every volume still going."""
        slot = self.stream.record_number
        self.stream.each_device(lambda i, st: self.volumes[i].write_index(st, slot, self.creator))
        self.indexes_written += 1
        self.changed = False
        self._bytes_since = 0
        self._last_checkpoint = self.clock()

    def commit(self) -> None:
        """Final data-partition indexes, then every volume's index partition and coherency."""
        if self.changed or not self.indexes_written:
            self.write_data_index()
        self.stream.close()
        self.stream.each_device(lambda i, st: self.volumes[i].write_index_partition())


__all__ = ["LtfsSession", "LtfsVolume", "Checkpoints", "AddedFile", "HASH_XATTRS", "ALGORITHM_OF_XATTR",
           "HASH_XATTR_PREFIX"]
