"""Room on tape: what a job's records, filemarks, LTFS indexes and metadata files will cost.

A drive charges a record its own length plus a small overhead and a filemark
that overhead alone (tape/blocks.py: `record_cost`, `records_cost`); nothing is
padded to whole blocks unless the format pads it (TAR, CPIO). The writers ask
this module, before each member, whether it still fits *with* everything that
must follow it: the session's metadata files (manifest, checksum lists, copy
log), and for LTFS the final index on the data partition and its copy on the
index partition. The estimates are upper bounds built from the real writers
(an index entry and a manifest line are measured once per job, with the widest
numbers they can hold), so a job never runs into hard end of medium where the
estimate said it fits, and they stay within a few percent of what is written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from ..errors import LtoArchiveError
from ..formats.ltfs.index import Directory, Extent, File, Index, index_xml_chunks, times_now
from ..formats.ltfs.session import HASH_XATTR_PREFIX, HASH_XATTRS
from ..hashing import MultiHasher, checksum_line
from ..manifest import NOT_WRITTEN, OK, FileRecord, Manifest, SessionInfo, iso
from ..mhl.writer import generation_from_manifest, history_files
from ..scan import SourceEntry
from ..streaming import RecordStream
from ..tape.blocks import RECORD_OVERHEAD, partition_capacities, record_cost, records_cost
from ..tape import mam
from ..tape.device import TapeDevice
from . import session_evidence

__all__ = ["stream_charge", "padded_cost", "text_cost", "json_cost", "IndexBudget", "MetadataBudget", "index_partition_room",
           "index_cost", "LABEL_BLOCKS_COST"]

MiB = 1 << 20
WIDE = 10**15                   # wider than any length, block or offset a manifest line holds in practice
PLAIN = re.compile(r"[A-Za-z0-9._ +=,@#~()\[\]{}'!$^/-]*")   # stored as they are in XML, JSON and logs
JSON_PLAIN = re.compile(r'[^"\\\x00-\x1f\x7f\ud800-\udfff]*')   # JSON, logs: stored as they are
ESCAPE_FACTOR = 6               # any other text: a byte may become up to 6 (\uXXXX, %XX, &amp;)
HEADER_MARGIN = 1024            # an index header's generation, times and locations may grow
SESSION_MARGIN = 8192           # the manifest's and copy log's session part grows as the job closes
STOP_MESSAGE_BYTES = 80        # the longest reason a job gives for a file it did not write (no room, the
                                # early warning: 77 bytes, a signal: 62), in the manifest and the copy log
MHL_FILES_BYTES = 8192          # a card's ASC MHL generation and chain files, without their entries
MHL_MARGIN = 16                 # an entry's hash dates and attributes may be a little wider
# the index partition before the index (VOL1 record, filemark, label of at most 4096 bytes, filemark)
LABEL_BLOCKS_COST = record_cost(80) + record_cost(4096) + 2 * record_cost(0)


def stream_charge(stream: RecordStream, padded: bool = False) -> int:
    """Bytes of tape what `stream` produced so far takes on the device that took the most.

    Short records (LTFS: each file ends one) cost their bytes, not their slot;
    `padded` formats (TAR, CPIO) pad every record, the one begun included."""
    rs = stream.record_size
    slots = -(-stream.offset // rs)
    shared = slots * (rs + RECORD_OVERHEAD) if padded else stream.offset - stream.slack + slots * RECORD_OVERHEAD
    status = stream.status
    if len(status) == 1:          # asked once per file: one device, no list
        s = status[0]
        return shared + (s.own_bytes + s.own_slots * RECORD_OVERHEAD if s.error is None else 0)
    own = max((s.own_bytes + s.own_slots * RECORD_OVERHEAD for s in stream.live_devices), default=0)
    return shared + own


def padded_cost(size: int, record_size: int) -> int:
    """Upper bound of the tape `size` more bytes of a padded format take (records of `record_size`)."""
    return -(-size // record_size) * record_cost(record_size)


def index_cost(index_bytes: int, block_size: int) -> int:
    """Filemark, an index of `index_bytes` in records of `block_size`, filemark."""
    return records_cost(index_bytes, block_size) + 2 * record_cost(0)


def json_cost(text: str) -> int:
    """Upper bound of the bytes `text` takes in a manifest (JSON), a copy log or a checksum list."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return len(text)                                  # the usual case, without encoding it
    n = len(text.encode("utf-8", "surrogateescape"))
    return n if JSON_PLAIN.fullmatch(text) else ESCAPE_FACTOR * n


def text_cost(text: str) -> int:
    """Upper bound of the bytes `text` takes as a name in an LTFS index."""
    n = len(text.encode("utf-8", "surrogateescape"))
    return n if PLAIN.fullmatch(text) else ESCAPE_FACTOR * n


def index_partition_room(device: TapeDevice) -> int:
    """Bytes the index partition gives its index (it is rewritten after the label's blocks)."""
    cap = getattr(device, "partition_capacity", None)
    if cap is not None:
        return int(cap(0)) - LABEL_BLOCKS_COST
    read = getattr(device, "read_attribute", None)    # a real drive: its cartridge memory says (MiB)
    try:
        most = read(0, mam.MAXIMUM_CAPACITY_IN_PARTITION) if read is not None else None
    except LtoArchiveError:
        most = None
    if most:
        return int.from_bytes(most, "big") * MiB - LABEL_BLOCKS_COST
    med = device.medium()
    return partition_capacities(med.capacity, max(med.partitions, 1))[0] - LABEL_BLOCKS_COST


def _hexdigests(algorithms: Sequence[str]) -> dict[str, str]:
    return MultiHasher(tuple(algorithms)).hexdigests() if algorithms else {}


def _widest(n: int) -> int:
    """The widest number with as many digits as n."""
    return int(10 ** len(str(max(n, 1))) - 1)


def _index_bytes(root: Directory) -> int:
    ix = Index("c", "00000000-0000-0000-0000-000000000000", 1, times_now(0)[0], ("b", 0), None, root)
    return sum(len(c) for c in index_xml_chunks(ix))


class IndexBudget:
    """Upper bound of the next index's bytes as entries are added: the volume's index as it is now,
    measured once, plus a measured entry per file or folder whose numbers are as wide as the job's
    can be (its largest file, the cartridge's last block, the highest uid it can reach)."""

    def __init__(self, indexes: Sequence[Index], algorithms: Sequence[str], entries: Sequence[SourceEntry],
                 capacity: int) -> None:
        stamp = times_now(time.time_ns())
        xattrs: dict[str, str | bytes] = {HASH_XATTRS.get(a, HASH_XATTR_PREFIX + a): h
                                          for a, h in _hexdigests(algorithms).items()}
        uid = _widest(max(ix.highest_file_uid for ix in indexes) + len(entries) + 1000)
        length = _widest(max((e.size for e in entries), default=0))
        one_file, one_dir = Directory("", 1, stamp), Directory("", 1, stamp)
        one_file.children["x"] = File("x", uid, stamp, length, [Extent(0, "b", _widest(capacity), 0, length)],
                                      xattrs=xattrs)
        one_dir.children["x"] = Directory("x", uid, stamp)
        empty = _index_bytes(Directory("", 1, stamp))
        self.file_base = _index_bytes(one_file) - empty - 1      # without its name
        self.dir_base = _index_bytes(one_dir) - empty - 1
        self.bytes = max(sum(len(c) for c in index_xml_chunks(ix)) for ix in indexes) + HEADER_MARGIN

    def entry(self, entry: SourceEntry) -> int:
        """Bytes `entry` adds to the index."""
        name = text_cost(entry.name.rsplit("/", 1)[-1])
        if entry.kind == "dir":
            return self.dir_base + name
        if entry.kind == "symlink":
            return self.file_base + name + ESCAPE_FACTOR * 4096
        return self.file_base + name

    def metadata(self, files: int) -> int:
        """Two folders (.lto-archive/<session>) and `files` metadata files with names up to 64 bytes."""
        return 2 * (self.dir_base + 64) + files * (self.file_base + 64)


class MetadataBudget:
    """Upper bound of the session's metadata files (manifest, copy log, checksum lists, the cards'
    ASC MHL histories, and its evidence: the custody record and the paperwork that packs them all again,
    jobs/session_evidence.py): every entry is counted from the start as not written (with the stop message);
    once an entry is written its cost is what its record holds, plus its history entry."""

    def __init__(self, info: SessionInfo, entries: Sequence[SourceEntry], stop_message: str, cards: int,
                 capacity: int, paperwork: bool = True) -> None:
        self.algorithms = list(info.algorithms)
        self.paperwork, self.custody = paperwork, session_evidence.custody_room(info)
        self.files = 3 + len(self.algorithms) + 8 * cards     # manifest, copy log, session, lists, histories
        self.files += session_evidence.MEMBERS
        hashes = _hexdigests(self.algorithms)
        size = _widest(max((e.size for e in entries), default=0))
        block = _widest(capacity)
        written = FileRecord(path="", size=size, mtime=iso(time.time()), mode=0o7777, hashes=hashes,
                             status="x" * 12, source="", tape_file=_widest(10**5), partition=1, block=block,
                             offset=_widest(info.record_size), header_offset=block)
        pending = FileRecord(path="", size=size, mtime=written.mtime, mode=0o7777, status=NOT_WRITTEN, source="")
        none = Manifest(info, [])
        lists = sum(len(checksum_line(a, h, "") or "") + 1 for a, h in hashes.items())
        self.base_written = _record_bytes(written, none) + lists
        self.base_pending = _record_bytes(pending, none)
        self.mhl = _mhl_entry_bytes(info, written) if cards else 0
        self.bytes = len(none.to_json()) + len(none.copy_log_text()) + SESSION_MARGIN + cards * MHL_FILES_BYTES
        self.stop_message = max(stop_message, "x" * STOP_MESSAGE_BYTES, key=len)   # or early warning, a signal
        self.pending_base = self.base_pending + 2 * (json_cost(self.stop_message) + 4) + 8
        self.bytes += sum(self.not_written(e) for e in entries)

    def not_written(self, entry: SourceEntry) -> int:
        """What `entry` costs while it is counted as not written (recomputed, never held: 10^6 entries):
        `texts(name, source, stop message)` with the message's part counted once per job."""
        return self.pending_base + 2 * json_cost(entry.name) + json_cost(entry.source)

    @staticmethod
    def texts(path: str, source: str, message: str) -> int:
        """A record's texts: its path in the manifest and the copy log, its source, its message in both."""
        return 2 * json_cost(path) + json_cost(source) + 2 * (json_cost(message) + 4) + 8

    def written(self, entry: SourceEntry, rec: FileRecord) -> None:
        """`entry` was written as `rec`: its cost is its record's and its history entry's. (Once per file:
        each text's cost is counted once, `texts` and `not_written` spelled out.)"""
        path = json_cost(rec.path)
        source = json_cost(rec.source)
        message = json_cost(rec.message) if rec.message else 0
        cost = self.base_written + (2 + len(self.algorithms)) * path + source + 2 * (message + 4) + 8
        if self.mhl and entry.kind == "file":
            cost += self.mhl + path     # its history entry
        # what it cost while it was counted as not written (`not_written`)
        was = 2 * (path if entry.name == rec.path else json_cost(entry.name))
        was += source if entry.source == rec.source else json_cost(entry.source)
        self.bytes += cost - (self.pending_base + was)

    def total(self) -> int:
        """Bytes of every metadata file, the custody record and the paperwork included."""
        paperwork = session_evidence.paperwork_room(self.bytes, self.files, self.custody) if self.paperwork else 0
        return self.bytes + self.custody + paperwork

    def cost(self, block_size: int, padded: bool = False) -> int:
        """Tape the metadata files take: LTFS files each end a short record; `padded` (TAR) members
        have a 512-byte header (and a PAX header for a long name) and pad to 512 bytes."""
        if padded:
            return padded_cost(self.total() + self.files * 2560 + 1024, block_size) + record_cost(0)
        return records_cost(self.total(), block_size) + self.files * RECORD_OVERHEAD


def _record_bytes(rec: FileRecord, none: Manifest) -> int:
    """Bytes `rec` adds to the manifest and the copy log (its empty texts included)."""
    one = Manifest(none.session, [rec])
    return len(one.to_json()) - len(none.to_json()) + len(one.copy_log_text()) - len(none.copy_log_text())


def _mhl_entry_bytes(info: SessionInfo, rec: FileRecord) -> int:
    """Bytes one file adds to a card's ASC MHL generation (measured with the real writer; its path not counted)."""
    def size(records: list[FileRecord]) -> int:
        gen = generation_from_manifest(Manifest(info, records), "c").generation
        return sum(len(b) for b in history_files("c", gen).values())
    one, two = (FileRecord(path=f"c/{n}", size=rec.size, mtime=rec.mtime, hashes=rec.hashes, status=OK) for n in "xy")
    return size([one, two]) - size([one]) - 1 + MHL_MARGIN
