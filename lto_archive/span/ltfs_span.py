"""A spanning job written as LTFS: every cartridge of the set is a complete LTFS volume of its own.

Each cartridge must already be formatted as LTFS (`lto-archive format`): the job
appends one session to it, as `write --format ltfs` does (data partition, index
at checkpoints and at the end, index partition and cartridge memory at commit),
so any LTFS reader mounts it alone. Blank cartridges are passed over (the
supply says "format it first"): a spanning job never partitions or erases one.

Files stay whole: a file that does not fit in the room left goes to the next
cartridge. A file larger than an empty cartridge (or, with `split_files`, any
file at a cartridge's end) is stored in parts, ordinary LTFS files named as
CPIO parts (`NAME.part0001`, `NAME.part0002`, ...: `cat NAME.part* > NAME`
joins them). Each part carries its own `ltfs.hash.*` checksums in the index and
is listed in its cartridge's manifest (`files[].part`: number, offset, length,
size, last, member, and the whole file's hashes on the cartridge of the last part).

The manifest (`.lto-archive/<job>-volN/manifest.json`, a file of the volume)
carries `session.span` = {set_id, job, sequence, last, previous} as TAR/CPIO sets.
Room is planned from what the data partition has left (`medium().remaining`)
minus a reserve for the final index and the session's metadata files; a volume
that reports early warning takes no new file and is closed.

span/write.py's engine drives `LtfsSpanJob` as it drives span/tape_span.py's `TapeSpanJob`
(start, add, check_drives, close_volume, fail, settle, close_devices): the same loop, failure
report, `--copy-to` folders and copy logs.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..errors import ArchiveError, DeviceError, LtoArchiveError, NoNextCartridge, UsageError
from ..formats.cpio_writer import CpioWriter
from ..formats.ltfs.session import Checkpoints, LtfsSession
from ..formats.ltfs.volume import DATA_PARTITION, VolumeState
from ..formats.registry import LTFS
from ..hashing import MultiHasher
from ..jobs.engine import WriteJob, close_job_session
from ..jobs.journal import JobJournal
from ..jobs.room import stream_charge
from ..jobs.folder_dest import FolderDestination, FolderFile
from ..jobs.ltfs_write import INDEX_BYTES_PER_ENTRY, add_ltfs_entry, add_metadata, ltfs_times, open_ltfs_volume
from ..progress import ProgressTracker
from ..jobs.session import (TOOL, WriteOptions, WriteResult, close_session, copy_source_file, mark_lost, mark_unindexed,
                            metadata_reserve, new_session_id, new_session_info, prepare_medium)
from ..manifest import META_DIR, SKIPPED, FileRecord, Manifest, iso, utc_now
from ..scan import SourceEntry
from ..streaming import RecordStream
from ..tape.device import MediumInfo, TapeDevice, WriteFlags
from .supply import BLANK_NOT_LTFS, DATA_NOT_LTFS, UNFINISHED_LTFS, CartridgeSupply
from .result import BothHashers, SpanResult, card_histories, set_stopped, settle_parts, whole_file_feed
from .tape_span import open_span_journal
from . import evidence
from ..jobs.session_evidence import evidence_files, record_head

part_name = CpioWriter.part_name      # NAME.part0001: the same names as CPIO parts


@dataclass
class _Volume:
    """The cartridge being written: its LTFS session and the manifest of what it gets."""

    sequence: int
    device: TapeDevice
    state: VolumeState
    stream: RecordStream
    session: LtfsSession
    manifest: Manifest
    started: Any
    remaining: int                   # bytes the data partition had left when the session started
    covered: int = 0                 # manifest.files[:covered] are described by an index on tape
    ends: dict[int, int] = field(default_factory=dict)    # for `fail`: nothing past what is indexed

    @property
    def block_size(self) -> int:
        return self.state.block_size


class LtfsSpanJob(WriteJob[list[SpanResult]]):
    """The LTFS side of span/write.py's engine: it drives this job as it drives a TapeSpanJob. A signal
    stops it at a file boundary: the open volume gets its final index as the set's last (interrupted)."""

    interruptible = True

    def __init__(self, sources: list[str | Path], supplies: list[CartridgeSupply], opts: WriteOptions,
                 tracker: ProgressTracker, entries: list[SourceEntry], split_files: bool,
                 cards: list[Any], dests: list[FolderDestination] = ()) -> None:  # type: ignore[assignment]
        _check_own_part_names(entries)
        supply = supplies[0]                   # one drive: each LTFS cartridge its own index
        supply.accepts = ltfs_unusable         # the supply hands out LTFS volumes, not blank cartridges
        self.sources, self.supply, self.opts, self.tracker = sources, supply, opts, tracker
        self.entries, self.cards, self.split_files = entries, list(cards), split_files
        self.dests = list(dests)
        self.copies: list[FolderFile] = []     # folder copies of the file being split
        self.job_id = new_session_id()
        self.set_id = str(uuid.uuid4())
        self.result = SpanResult(self.set_id, self.job_id)
        self.vol: _Volume | None = None
        self.rs = opts.record_size      # (LTFS volumes use their own block size)
        self.pending: list[SourceEntry] = list(entries)    # what is not written yet (the engine takes them)
        self.journal: JobJournal | None = None    # the job's journal over the open volume's stream
        self.earlier = evidence.EarlierVolumes()    # the closed volumes' files, for the next ones' paperwork
        self.bound_info = evidence.bound_info(opts, sources, self.job_id)

    @property
    def stream(self) -> RecordStream | None:
        """The open volume's stream (what a second signal aborts)."""
        return self.vol.stream if self.vol is not None else None

    def stopped_records(self) -> list[FileRecord]:
        return self.vol.manifest.files

    @property
    def results(self) -> list[SpanResult]:
        return [self.result]

    def start(self) -> None:
        """Load the first cartridge and open its volume (errors here: nothing written); the folders."""
        self.open_volume(self.supply.first())
        self.journal = open_span_journal(self.opts.log_dir, self.job_id, self.vol.stream, [self.vol.manifest.session])
        for d in self.dests:
            d.open()

    def add_next(self) -> None:
        self.add(self.pending[0])
        self.pending.pop(0)

    def commit(self) -> None:
        self.close_volume(last=True)

    def finish(self) -> list[SpanResult]:
        self.tracker.finish()
        if self.journal is not None:
            self.journal.close()
        self.earlier.close()
        return [self.result]

    def close_devices(self) -> None:
        """The cartridge stays in the drive; `result.media` says what it was."""
        if self.vol is not None:
            self.vol.device.close()

    def fail(self, exc: DeviceError) -> None:
        """The set stops here: only what an index on tape describes is on the open volume; say which
        file on which cartridge, and what was not written."""
        self.result.error = exc
        self.device_failed(exc)
        vol = self.vol
        if vol is not None:
            vol.stream.abort()
            if self.journal is not None:
                self.journal.commit(force=True)
            on_tape = max((s.records_written for s in vol.stream.status), default=0) * self.rs
            mark_lost(vol.manifest.files, vol.ends, on_tape, exc)
            close_session(vol.manifest.session, vol.manifest.files, vol.started, self.tracker, failed=True)
        set_stopped(self.result, exc, self.pending, vol is not None)

    # --- volumes ----------------------------------------------------------------------------
    def open_volume(self, dev: TapeDevice) -> None:
        """Start this job's session on the LTFS volume in `dev`; a volume that already holds one of the
        job's paths is passed over (an LTFS volume holds one file per path)."""
        seq = len(self.result.volumes) + 1
        while True:
            try:
                prepare_medium(dev, self.opts.allow_old_generation)
                state = open_ltfs_volume(dev, self.entries)
                _check_part_names(state, self.entries)
                dev.locate(DATA_PARTITION, 0)
                dev.seek_eod()
                left = dev.medium().remaining - self.reserve(state) - 8 * state.block_size
                why = None if left > 0 else "no room left on its data partition"
            except LtoArchiveError as exc:
                why = exc.message
            if why is None:
                break
            self.result.notes.append(f"{self._label(dev)} passed over: {why}")
            dev = self.supply.next(dev, self.set_id, seq)
        stream = RecordStream(dev, state.block_size,
                              **({"chunk_size": self.opts.chunk_size} if self.opts.chunk_size else {}))
        session = LtfsSession([(dev, state)], stream, f"{TOOL} - write",
                              Checkpoints(self.opts.index_every_bytes, self.opts.index_every_seconds))
        medium = self._labelled(dev.medium())          # the data partition: the session is at its end
        started = utc_now()
        info = new_session_info(self.opts, self.sources, dev, medium, None, DATA_PARTITION,
                                session.volumes[0].start, started)
        info.format, info.record_size = "ltfs", state.block_size
        info.device = getattr(dev, "name", "") or info.device
        info.barcode = medium.barcode
        info.session_id = f"{self.job_id}-vol{seq}"
        previous = self.result.volumes[-1].manifest.session.barcode if self.result.volumes else None
        info.span = {"set_id": self.set_id, "job": self.job_id, "sequence": seq, "last": False,
                     "previous": previous, "volume_uuid": state.label.volume_uuid}
        info.destinations = [{"kind": "tape", "device": info.device, "barcode": medium.barcode,
                              "volume_uuid": state.label.volume_uuid, "tape_file": None,
                              "partition": DATA_PARTITION, "start_block": session.volumes[0].start}]
        self.vol = _Volume(seq, dev, state, stream, session, Manifest(info, []), started, medium.remaining)
        if self.journal is not None:       # the job's one journal goes on over the new volume's stream
            self.journal = JobJournal(stream, self.journal.journal)
        self.result.volumes.append(WriteResult(self.vol.manifest))

    def reserve(self, state: VolumeState) -> int:
        """Room kept for the final data-partition index and the session's metadata files."""
        entries = state.index.highest_file_uid + len(self.entries) + 16
        meta = metadata_reserve(len(self.entries), len(self.opts.algorithms), state.block_size)
        files = metadata_reserve(len(self.entries), len(self.opts.algorithms), 0)    # the files, not their blocks
        own = evidence.room(self.bound_info, files, self.earlier, len(self.cards), self.opts.paperwork)
        return 2 * INDEX_BYTES_PER_ENTRY * entries + meta + own + 4 * state.block_size

    def room(self) -> int:
        """Bytes of file data this volume can still take (0 once the drive warns of the end)."""
        vol = self.vol
        if vol.stream.flags & (WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING):
            return 0
        return vol.remaining - self.reserve(vol.state) - stream_charge(vol.stream) - vol.block_size

    def empty_room(self) -> int:
        """About what an empty cartridge like this one takes (whether a file must be split at all)."""
        vol = self.vol
        dev = vol.device
        cap = getattr(dev, "partition_capacity", None)
        data = cap(DATA_PARTITION) if cap is not None else vol.remaining + vol.stream.device_offset
        return data - self.reserve(vol.state) - 8 * vol.block_size

    def checkpoint(self) -> None:
        vol = self.vol
        if vol.session.checkpoint_due():
            vol.session.write_data_index()
            vol.covered = len(vol.manifest.files)
            if self.journal is not None:
                self.journal.commit(force=True)

    def close_volume(self, last: bool) -> None:
        """The session's metadata files, final index and index partition: the cartridge describes itself."""
        vol = self.vol
        vol.stream.flush_hashes()
        s = vol.manifest.session
        s.span["last"] = last
        history: dict[str, bytes] = {}
        if last and self.cards:
            card_histories(self.cards, vol.manifest.session, self.result.files)
            history = {k: v for card in self.cards
                       for k, v in card.tape_members(f"{META_DIR}/{s.session_id}/mhl").items()}
        close_job_session(s, vol.manifest.files, vol.started, self.tracker, interrupted=self.interrupted if last else None)
        files = evidence_files(vol.manifest, self.cards if last else [], self.opts, self.result.notes,
                               base=f"{META_DIR}/{s.session_id}", earlier=self.earlier.items())
        add_metadata(vol.session, vol.manifest, history, files)
        self.result.volumes[-1].custody_record = record_head(files)
        self.earlier.add(vol.manifest)      # as on this cartridge, for the paperwork of the set's next volumes
        vol.session.commit()
        vol.covered = len(vol.manifest.files)
        if self.journal is not None:
            self.journal.commit(everything=True)     # the commit point: the volume's index describes them
        self.result.media.append(self._labelled(vol.device.medium()))

    def roll(self) -> None:
        """This cartridge is full: close its volume, get the next one from the supply."""
        self.close_volume(last=False)
        full = self.vol.device
        self.vol = None
        self.open_volume(self.supply.next(full, self.set_id, len(self.result.volumes) + 1))

    def _labelled(self, medium: MediumInfo) -> MediumInfo:
        known = getattr(self.supply, "current_barcode", None)
        return medium if medium.barcode or not known else replace(medium, barcode=known)

    def _label(self, dev: TapeDevice) -> str:
        try:
            return self._labelled(dev.medium()).barcode or getattr(dev, "name", "the cartridge")
        except LtoArchiveError:
            return getattr(dev, "name", "the cartridge")

    # --- entries --------------------------------------------------------------------------
    def add(self, entry: SourceEntry) -> None:
        rec = FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(entry.st.st_mtime),
                         mode=entry.st.st_mode & 0o7777, source=str(entry.path))
        if entry.kind == "special":
            rec.status, rec.message = SKIPPED, "not a regular file, folder or link"
            self.vol.manifest.files.append(rec)
            return
        need = entry.size if entry.kind == "file" else 0
        rolled = False
        while need > self.room() or self.room() < 0:
            if entry.kind == "file" and need > 0 and (self.split_files or need > self.empty_room() or rolled):
                break                          # split: fill this cartridge, go on on the next
            if rolled:
                raise NoNextCartridge(f"{entry.name} does not fit on an empty cartridge "
                                      f"({self.vol.manifest.session.barcode or 'the next one'})", path=entry.name)
            self.roll()
            rolled = True
        if entry.kind == "file" and need > max(0, self.room()):
            self.add_split(entry, rec)
        else:
            self.vol.manifest.files.append(rec)
            added = add_ltfs_entry(self.vol.session, self.vol.stream, entry, rec, self.opts, self.tracker, self.dests)
            if rec.kind != "file" or added is not None:
                self.journaled(rec, added)
        self.checkpoint()

    def add_split(self, entry: SourceEntry, first: FileRecord) -> None:
        """A file in parts NAME.part0001, ...: each fills the room a volume has left, the last the rest."""
        parts: list[FileRecord] = []

        def write_member(raw, before, hasher):  # type: ignore[no-untyped-def]
            offset, copied, error = 0, 0, None
            size = before.st_size
            feed = whole_file_feed(self, entry.name, before, hasher)
            while True:
                vol = self.vol
                rest, room = size - offset, self.room()
                plan = rest if rest <= room else room // vol.block_size * vol.block_size
                if plan <= 0:
                    self.roll()
                    continue
                times = ltfs_times(before)
                if offset == 0 and plan == rest:       # it fits whole after all (on a fresh cartridge)
                    vol.manifest.files.append(first)
                    added = vol.session.add_file(entry.name.split("/"), raw, plan, times, feed)
                    first.partition, first.block, first.offset = DATA_PARTITION, added.start_block, 0
                    self.journaled(first, added)
                    vol.stream.call_after_hashing(lambda s=vol.session, a=added: (
                        first.hashes.update(hasher.hexdigests()), s.set_hashes(a, first.hashes)))
                    return SimpleNamespace(copied=added.copied, size=size, read_error=added.read_error)
                number = len(parts) + 1
                member = part_name(entry.name, number)
                rec = first if offset == 0 else FileRecord(
                    path=entry.name, size=size, mtime=first.mtime, mode=first.mode, source=first.source)
                part_hasher = MultiHasher(self.opts.algorithms)
                vol.manifest.files.append(rec)
                added = vol.session.add_file(member.split("/"), raw, plan, times, BothHashers(feed, part_hasher))
                n = added.copied
                error = error or added.read_error
                copied += n
                done = offset + n >= size or n < plan     # a source that ends early: its last part
                rec.partition, rec.block, rec.offset = DATA_PARTITION, added.start_block, 0
                rec.part = {"number": number, "offset": offset, "length": n, "size": size, "last": done,
                            "member": member, "file_hashes": {}}
                self.journaled(rec, added, member)
                vol.stream.call_after_hashing(lambda r=rec, h=part_hasher, s=vol.session, a=added: (
                    r.hashes.update(h.hexdigests()), s.set_hashes(a, r.hashes)))
                parts.append(rec)
                offset += n
                if done:
                    vol.stream.call_after_hashing(
                        lambda: [p.part["file_hashes"].update(hasher.hexdigests()) for p in parts])
                    return SimpleNamespace(copied=copied, size=size, read_error=error)
                self.roll()

        out = copy_source_file(entry, first, self.opts, self.tracker, write_member)
        if out is None:                      # could not be opened: nothing written
            self.vol.manifest.files.append(first)
            return
        settle_parts(self, entry, first, parts, out, zero_filled=False)

    def journaled(self, rec: FileRecord, added: Any, member: str | None = None) -> None:
        """An entry (or a part, stored as `member`) is on the open volume's stream: journal it with its
        volume and cartridge, its start block and length there (what `ltfs recover` proves)."""
        if self.journal is not None:
            vol = self.vol
            s = vol.manifest.session
            extra = {"member": member} if member else {}
            self.journal.placed(rec, sequence=vol.sequence, barcode=s.barcode, volume_uuid=s.span["volume_uuid"],
                                length=added.copied if added else 0, blocks=[added.start_block] if added else [],
                                **extra)

    def device_failed(self, exc: DeviceError) -> None:
        """The device failed on the open volume: only what an index on tape describes is on it (the
        files after the last checkpoint are lost), said before `fail` names the cartridge."""
        vol = self.vol
        if vol is None:
            return
        vol.stream.abort()
        mark_unindexed(vol.manifest.files, vol.covered, exc)
        vol.ends = {id(r): 0 for r in vol.manifest.files}    # already judged: mark_lost's tape rule changes nothing


_PART = re.compile(r"(.+)\.part\d{4}")


def _check_own_part_names(entries: list[SourceEntry]) -> None:
    """Refuse a source file named like a part of another file of the job (`X.part0001` beside `X`):
    the parts of X would need its name."""
    files = {e.name for e in entries if e.kind == "file"}
    clash = [e.name for e in entries if (m := _PART.fullmatch(e.name)) and m.group(1) in files]
    if clash:
        raise UsageError(f"{clash[0]} is named like a part of {_PART.fullmatch(clash[0]).group(1)}: an LTFS "  # type: ignore[union-attr]
                         f"set stores the parts of a split file as NAME.part0001, ...; rename it, or write the "
                         f"set as TAR", files=clash)


def _check_part_names(state: VolumeState, entries: list[SourceEntry]) -> None:
    """Refuse a volume that holds parts (NAME.partNNNN) of a path of this job: the job may need those names."""
    from ..formats.ltfs.index import Directory
    clash = []
    for e in entries:
        if e.kind != "file":
            continue
        folder, _, name = e.name.rpartition("/")
        parent = state.index.lookup(folder) if folder else state.index.root
        if isinstance(parent, Directory) and any(
                (m := _PART.fullmatch(child)) and m.group(1) == name for child in parent.children):
            clash.append(e.name)
    if clash:
        raise ArchiveError(f"LTFS volume {state.serial or ''} holds parts of {len(clash)} path(s) of this job: "
                           + ", ".join(clash[:10]) + " (an LTFS volume holds one file per path)", files=clash)


def ltfs_unusable(dev: TapeDevice, med: MediumInfo) -> str | None:
    """Why the cartridge in `dev` cannot take a volume of an LTFS set (said of it, supply.py's words), or
    None (supply.py asks)."""
    from ..formats.ltfs.volume import open_volume
    if med.partitions < 2 or not LTFS.holds(dev):
        return DATA_NOT_LTFS if holds_data(dev) else BLANK_NOT_LTFS
    try:
        state = open_volume(dev)
    except LtoArchiveError as exc:
        return f"holds an LTFS volume that cannot be read: {exc.message}"
    if state.unindexed_blocks:
        return UNFINISHED_LTFS
    return None


def holds_data(dev: TapeDevice) -> bool:
    """Anything written on any partition of the loaded cartridge."""
    for p in range(dev.partitions):
        dev.locate(p, 0)
        dev.seek_eod()
        if dev.position().block:
            return True
    return False


__all__ = ["LtfsSpanJob", "ltfs_unusable", "holds_data", "part_name"]
