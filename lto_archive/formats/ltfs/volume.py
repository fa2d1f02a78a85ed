"""An LTFS volume on any TapeDevice: format it, find its current index, write indexes.

Layout (docs ltfs-format.md): partition a (0) holds the index partition,
b (1) the data. Each starts VOL1, FM, label, FM; then indexes, each between
two filemarks; file data lies in b between indexes. Block addresses count
filemarks. The reader's choice of index follows the reference: the
index-partition index when it is at least as new as the data partition's
latest and points back to it, otherwise the data partition's latest; an
unreadable newest index makes it fall back to an older one, loudly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ...errors import CorruptArchive, EndOfData, LtoArchiveError, UsageError
from ...tape import mam
from ...tape.device import MAX_RECORD, TapeDevice
from ...version import __version__
from .index import Directory, Index, index_xml_chunks, parse_index, times_now
from .label import Label, build_vol1, parse_vol1, partition_letter, partition_number
from .times import format_time, now_ns

INDEX_PARTITION, DATA_PARTITION = 0, 1
FIRST_INDEX_BLOCK = 5       # VOL1, FM, label, FM, FM, index
IP_REWRITE_BLOCK = 4        # the reference rewrites the index partition from here: FM, index, FM
MAX_BACKWARD_FILEMARKS = 10_000
_LABEL_AREA_END = 4         # objects 0..3: VOL1, FM, label, FM


@dataclass
class IndexFound:
    """An index read from one partition, or why it could not be."""

    index: Index | None
    block: int | None                # where it starts
    end: int | None = None           # address just past its closing filemark
    problems: list[str] = field(default_factory=list)   # unreadable newer indexes passed over
    newest_block: int | None = None  # the newest index on the partition, readable or not
    newest_end: int | None = None


@dataclass
class VolumeState:
    """What `open_volume` learned: the current index and everything a check needs to know."""

    label: Label
    serial: str | None
    index: Index                     # the current index (what a mount shows)
    source: str                      # "index partition" or "data partition"
    ip: IndexFound
    dp: IndexFound
    dp_eod: int
    notes: list[str] = field(default_factory=list)      # said loudly: fallbacks, stale index partition
    indexed_end: int | None = None   # data-partition address past the index the current one continues

    @property
    def unindexed_blocks(self) -> int:
        """Records and filemarks after the data partition's last index (a crash left them)."""
        end = self.indexed_end if self.indexed_end is not None else self.dp.end
        end = end if end is not None else self.dp_eod
        return max(0, self.dp_eod - end)

    damaged_data_index: bool = False   # the data partition's newest index is unreadable (IP copy in use)

    @property
    def stale_index_partition(self) -> bool:
        return self.source != "index partition"

    @property
    def consistent(self) -> bool:
        return not self.unindexed_blocks and not self.stale_index_partition and not self.ip.problems \
            and not self.dp.problems and not self.damaged_data_index

    @property
    def block_size(self) -> int:
        return self.label.blocksize


# --- records <-> bytes --------------------------------------------------------

def _records(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Cut a byte stream into full records of `size` and one short last record."""
    buf = bytearray()
    for c in chunks:
        buf += c
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def write_index_records(device: TapeDevice, ix: Index, block_size: int) -> None:
    """The index as records of `block_size` bytes (the last one shorter), from the current position."""
    for rec in _records(index_xml_chunks(ix), block_size):
        device.write_record(rec)


def read_size(block_size: int) -> int:
    """The read buffer for a data record of an LTFS volume whose label says `block_size`: at least 1 MiB
    (a record written by another tool may be larger than the label says), never more than any device
    reads (MAX_RECORD), whatever number the tape holds."""
    return min(max(block_size, 1 << 20), MAX_RECORD)


#: an index is read with the largest buffer any device reads: another writer may cut it into records
#: larger than its block size (a record too large for the buffer would make the index unreadable)
INDEX_READ_SIZE = MAX_RECORD


def _read_until_filemark(device: TapeDevice) -> Iterator[bytes]:
    """The records from here to the next filemark; EndOfData ends early (the caller sees a truncated object)."""
    while True:
        try:
            rec = device.read_record(INDEX_READ_SIZE)
        except EndOfData:
            return
        if not rec:
            return
        yield rec


def _looks_like_index(record: bytes) -> bool:
    head = record[:512]
    return b"<ltfsindex" in head


# --- reading ------------------------------------------------------------------------

def read_index_at(device: TapeDevice, partition: int, block: int, block_size: int) -> Index:
    """Parse the index starting at (partition, block); its own location must say the same. (Its records
    are read whatever their size up to MAX_RECORD: `block_size` is not needed.)"""
    device.locate(partition, block)
    ix = parse_index(_read_until_filemark(device))
    want = (partition_letter(partition), block)
    if ix.location != want:
        raise CorruptArchive(f"the LTFS index at {want[0]}/{block} says it is at {ix.location[0]}/{ix.location[1]}")
    return ix


def find_last_index(device: TapeDevice, partition: int, block_size: int, volume_uuid: str) -> IndexFound:
    """The newest readable index on a partition, found by walking filemarks back from end of data."""
    device.locate(partition, 0)
    device.seek_eod()
    eod = device.position().block
    problems: list[str] = []
    pos_fm: int | None = None
    newest: tuple[int, int] | None = None
    for _ in range(MAX_BACKWARD_FILEMARKS):
        try:
            device.space_filemarks(-1)
        except LtoArchiveError:
            break
        fm = device.position().block
        if pos_fm is not None and fm >= pos_fm:
            break
        pos_fm = fm
        if fm < _LABEL_AREA_END - 1:
            break
        start = fm + 1
        if start >= eod:
            continue
        device.locate(partition, start)
        try:
            first = device.read_record(INDEX_READ_SIZE)
        except EndOfData:
            first = b""
        if first and _looks_like_index(first):
            if newest is None:
                newest = (start, _end_of_object(device, partition, start, eod))
            try:
                ix = read_index_at(device, partition, start, block_size)
                if ix.volume_uuid != volume_uuid:
                    raise CorruptArchive(f"it belongs to volume {ix.volume_uuid}, not {volume_uuid}")
            except CorruptArchive as exc:
                problems.append(f"the index at {partition_letter(partition)}/{start} cannot be read: {exc.message}")
            else:
                end = device.position().block
                return IndexFound(ix, start, end, problems, newest[0], newest[1])
        device.locate(partition, fm)
    return IndexFound(None, None, None, problems, *(newest or (None, None)))


def _end_of_object(device: TapeDevice, partition: int, start: int, eod: int) -> int:
    """The address just past the filemark that closes the object starting at `start` (or EOD)."""
    device.locate(partition, start)
    try:
        device.space_filemarks(1)
    except LtoArchiveError:
        return eod
    return device.position().block


def holds_volume(device: TapeDevice) -> bool:
    """Whether the loaded cartridge carries an LTFS VOL1 label (cheap: one record); the head is left
    at the start of the last partition."""
    if device.partitions < 2:
        return False
    try:
        device.locate(0, 0)
        parse_vol1(device.read_record())
        return True
    except (LtoArchiveError, ValueError):
        return False
    finally:
        try:
            device.locate(device.partitions - 1, 0)
        except LtoArchiveError:
            pass


def read_labels(device: TapeDevice) -> tuple[Label, str | None]:
    """VOL1 and LTFS label of both partitions; they must agree."""
    if device.partitions < 2:
        raise CorruptArchive("this cartridge has one partition: it is not an LTFS volume "
                             "(format it with: lto-archive format --format ltfs)")
    labels = []
    serials = []
    for p in (INDEX_PARTITION, DATA_PARTITION):
        device.locate(p, 0)
        try:
            vol1 = device.read_record()
            serials.append(parse_vol1(vol1))
            if device.read_record() != b"":
                raise CorruptArchive("no filemark after VOL1")
            raw = device.read_record()
            labels.append(Label.from_xml(raw))
        except EndOfData:
            raise CorruptArchive(f"partition {partition_letter(p)} has no LTFS label: "
                                 f"the cartridge is blank or not LTFS") from None
        except CorruptArchive as exc:
            raise CorruptArchive(f"partition {partition_letter(p)}: {exc.message} - not an LTFS volume "
                                 f"(or a damaged one)") from None
    a, b = labels
    if a.with_partition(b.partition) != b:
        raise CorruptArchive("the LTFS labels of the two partitions disagree: not one volume")
    if a.blocksize > MAX_RECORD:    # a size read from the tape: it sizes every read of this volume
        raise CorruptArchive(f"the LTFS label's block size {a.blocksize} is larger than any record a drive "
                             f"reads ({MAX_RECORD} bytes): damaged, or not a volume this tool can read")
    if (a.index_partition, a.data_partition) != ("a", "b"):
        raise CorruptArchive(f"unsupported LTFS partition map (index {a.index_partition}, data {a.data_partition})")
    return a, serials[0]


def open_volume(device: TapeDevice) -> VolumeState:
    """Read the labels and choose the current index as the reference does."""
    label, serial = read_labels(device)
    bs = label.blocksize
    ip = find_last_index(device, INDEX_PARTITION, bs, label.volume_uuid)
    dp = find_last_index(device, DATA_PARTITION, bs, label.volume_uuid)
    device.locate(DATA_PARTITION, 0)
    device.seek_eod()
    dp_eod = device.position().block
    notes: list[str] = []
    if ip.index is None and dp.index is None:
        raise CorruptArchive("no readable LTFS index on either partition: "
                             + "; ".join(ip.problems + dp.problems or ["none was found"]))
    # the index partition's copy is current when it is at least as new as the data partition's newest
    # index and points back to it, even when that one cannot be read (then it is the only good copy)
    dp_newest = ("b", dp.newest_block) if dp.newest_block is not None else None
    indexed_end = dp.end
    if (ip.index is not None and (dp.index is None or ip.index.generation >= dp.index.generation)
            and dp_newest is not None and ip.index.previous == dp_newest):
        current, source = ip.index, "index partition"
        indexed_end = dp.newest_end
        if dp.newest_block != dp.block:
            notes.append(f"WARNING: the data partition's newest index (b/{dp.newest_block}) cannot be read; "
                         f"using its copy on the index partition (generation {ip.index.generation}) - "
                         f"run lto-archive ltfs recover to write a good copy on the data partition")
        damaged_dp = dp.newest_block != dp.block
        if damaged_dp:      # said in the note above; not a fallback
            dp = IndexFound(dp.index, dp.block, dp.end, [], dp.newest_block, dp.newest_end)
    else:
        damaged_dp = False
        if dp.index is None:
            raise CorruptArchive("no readable LTFS index on the data partition, and the index partition's does "
                                 "not match it: " + "; ".join(ip.problems + dp.problems or ["none was found"]))
        current, source = dp.index, "data partition"
        if ip.index is not None:
            notes.append(f"the index partition is stale (generation {ip.index.generation}); using the data "
                         f"partition's index generation {dp.index.generation} at b/{dp.block}")
        else:
            notes.append(f"the index partition has no readable index; using the data partition's index "
                         f"generation {dp.index.generation} at b/{dp.block}")
        for p in ip.problems + dp.problems:
            notes.append(f"WARNING: {p}; fell back to an older index generation - files written after it "
                         f"are not shown")
    state = VolumeState(label, serial, current, source, ip, dp, dp_eod, notes, indexed_end)
    state.damaged_data_index = damaged_dp
    if state.unindexed_blocks:
        notes.append(f"{state.unindexed_blocks} records/filemarks on the data partition after the last index "
                     f"(b/{dp.block}) are not in any index: a write session did not finish "
                     f"(run: lto-archive ltfs recover)")
    return state


# --- writing --------------------------------------------------------------------------

def write_index_partition(device: TapeDevice, ix: Index, block_size: int) -> None:
    """Rewrite the index partition from block 4: filemark, index, filemark (exactly one index)."""
    ix.location = ("a", FIRST_INDEX_BLOCK)
    device.locate(INDEX_PARTITION, IP_REWRITE_BLOCK)
    device.write_filemarks(1)
    write_index_records(device, ix, block_size)
    device.write_filemarks(1)


def write_coherency(device: TapeDevice, volume_uuid: str, generation: int, blocks: dict[int, int]) -> None:
    """Volume coherency information (MAM 0x080C) per partition, with the drive's current VCR.

    Correct or none: a reader that trusts a stale one jumps to an old index, so
    when the cartridge memory cannot be read back we remove what is there.
    """
    read = getattr(device, "read_attribute", None)
    write = getattr(device, "write_attribute", None)
    if read is None or write is None:
        return
    raw = read(0, mam.VOLUME_CHANGE_REFERENCE)
    if raw is None:
        return
    vcr = int.from_bytes(raw, "big")
    app = b"LTFS\x00" + volume_uuid.encode("ascii") + b"\x00" + b"\x01"
    for part, block in blocks.items():
        value = mam.VolumeCoherency(vcr, generation, block, app).encode_value()
        write(part, mam.VOLUME_COHERENCY_INFORMATION, value, mam.BINARY)


def new_volume_uuid() -> str:
    return str(uuid.uuid4())


def format_volume(device: TapeDevice, *, creator: str, serial: str | None = None, volume_name: str = "",
                  block_size: int = 524288, compression: bool = True) -> VolumeState:
    """The mkltfs equivalent: two partitions, VOL1 and label on both, index generation 1 on both."""
    if block_size > MAX_RECORD:
        raise UsageError(f"block size {block_size} is larger than a record a drive writes ({MAX_RECORD} bytes)",
                         block_size=block_size)
    if device.partitions != 2:
        device.format_partitions(2)
    when = now_ns()
    vol_uuid = new_volume_uuid()
    vol1 = build_vol1(serial)
    label = Label(creator=creator, format_time_ns=when, volume_uuid=vol_uuid, partition="b",
                  blocksize=block_size, compression=compression)
    times = times_now(when)
    root = Directory(volume_name, 1, times)
    ix = Index(creator=creator, volume_uuid=vol_uuid, generation=1, update_time=format_time(when),
               location=("b", FIRST_INDEX_BLOCK), previous=None, root=root, highest_file_uid=1,
               volume_lock_state="unlocked")
    # data partition first (as mkltfs), then the index partition pointing back to it
    for part in (DATA_PARTITION, INDEX_PARTITION):
        device.locate(part, 0)
        device.write_record(vol1)
        device.write_filemarks(1)
        device.write_record(label.with_partition(partition_letter(part)).to_xml())
        device.write_filemarks(1)
        if part == DATA_PARTITION:
            device.write_filemarks(1)
            write_index_records(device, ix, block_size)
            device.write_filemarks(1)
    ix.previous = ("b", FIRST_INDEX_BLOCK)
    write_index_partition(device, ix, block_size)
    _write_volume_attributes(device, creator, volume_name, serial)
    write_coherency(device, vol_uuid, 1, {INDEX_PARTITION: FIRST_INDEX_BLOCK, DATA_PARTITION: FIRST_INDEX_BLOCK})
    return open_volume(device)


def _write_volume_attributes(device: TapeDevice, creator: str, volume_name: str, serial: str | None) -> None:
    write = getattr(device, "write_attribute", None)
    if write is None:
        return
    write(0, mam.APPLICATION_VENDOR, mam.ascii_value("LTOARCH", 8), mam.ASCII)
    write(0, mam.APPLICATION_NAME, mam.ascii_value("lto-archive", 32), mam.ASCII)
    write(0, mam.APPLICATION_VERSION, mam.ascii_value(__version__, 8), mam.ASCII)
    label = volume_name.encode("utf-8")[:160]
    write(0, mam.USER_MEDIUM_TEXT_LABEL, label + bytes(160 - len(label)), mam.TEXT)
    write(0, mam.TEXT_LOCALIZATION_IDENTIFIER, b"\x81", mam.BINARY)
    write(0, mam.APPLICATION_FORMAT_VERSION, mam.ascii_value("2.4.0", 16), mam.ASCII)


def partition_of(letter: str) -> int:
    try:
        return partition_number(letter)
    except (ValueError, KeyError):
        raise CorruptArchive(f"LTFS index names partition {letter!r}") from None


__all__ = ["close_data_partition", "holds_volume", "VolumeState", "IndexFound", "open_volume", "format_volume", "read_index_at", "find_last_index",
           "write_index_partition", "write_coherency", "read_labels", "DATA_PARTITION", "INDEX_PARTITION",
           "partition_of", "UsageError", "write_index_records"]


def close_data_partition(device: TapeDevice) -> bool:
    """At the data partition's end of data, after a filemark: one is written when the last object there
    is a record (an index a writer was stopped before closing; what was written last is left open).
    Whether one was written."""
    device.locate(DATA_PARTITION, 0)
    device.seek_eod()
    pos = device.position().block
    device.locate(DATA_PARTITION, pos - 1)
    last_is_fm = device.read_record(MAX_RECORD) == b"" if pos > 0 else False
    device.seek_eod()
    if not last_is_fm:
        device.write_filemarks(1)
    return not last_is_fm
