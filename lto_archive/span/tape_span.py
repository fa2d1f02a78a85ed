"""A TAR, CPIO or AXF-style set over cartridges: the tape-file side of span/write.py's engine.

One `TapeSpanJob` writes one set per cartridge supply (drive) from one read: the shared
RecordStream carries the same records to every drive, so every drive's volume ends at the same
point (the least room), and each closes its volume with its own metadata archive. Where a volume
ends inside a file depends on the format's capabilities (formats/registry.py): a
`gnu_multivolume` format (TAR) cuts the member where the drive warns and starts the next volume
with the rest; CPIO stores parts NAME.part0001, ...; AXF-style, segments of one object.
"""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..errors import DeviceError, NoNextCartridge
from ..formats.registry import write_format
from ..formats.tar_writer import BLOCK
from ..hashing import MultiHasher
from ..jobs.append import append_point
from ..jobs.engine import WriteJob, close_job_session
from ..jobs.journal import JobJournal
from ..jobs.folder_dest import FolderDestination, FolderFile
from ..progress import ProgressTracker
from ..jobs.session import (WriteOptions, WriteResult, add_entry, close_session, copy_source_file, mark_lost,
                            metadata_reserve, new_record, new_session_id, new_session_info, placer, prepare_medium,
                            session_document)
from ..manifest import COPY_LOG_MEMBER, MANIFEST_MEMBER, META_DIR, SESSION_MEMBER, SKIPPED, FileRecord, Manifest, utc_now
from ..scan import SourceEntry
from ..streaming import RecordStream
from ..tape.device import MediumInfo, TapeDevice, WriteFlags
from .result import BothHashers, SpanResult, card_histories, set_stopped, settle_parts, whole_file_feed
from .supply import CartridgeSupply
from . import evidence
from ..jobs.session_evidence import evidence_files, record_head


@dataclass
class _Drive:
    """One drive of the pass and the set it writes (its own set id, cartridges and manifests)."""

    supply: CartridgeSupply
    result: SpanResult
    device: TapeDevice | None = None
    medium: MediumInfo | None = None
    start: Any = None                 # Position of its open volume's first record
    manifest: Manifest | None = None  # its open volume's manifest (the files are copied in at close)
    slot: int = 0                     # its place in the open volume's stream
    ended: bool = False               # its set stopped early (result.error says why)
    open: bool = False                # its volume is open (no metadata archive yet)
    closed: list[tuple[FileRecord, FileRecord]] = field(default_factory=list)   # (as written, its copy)
    axf_volumes: list[str] = field(default_factory=list)   # AXF: each cartridge's volume UUID, in set order
    earlier: evidence.EarlierVolumes = field(default_factory=evidence.EarlierVolumes)   # its closed volumes' files

    @property
    def set_id(self) -> str:
        return self.result.set_id


@dataclass
class _Volume:
    sequence: int
    stream: RecordStream
    writer: Any                      # TarWriter, CpioWriter or AxfWriter
    files: list[FileRecord]          # the volume's files as written (shared: the same on every drive)
    started: Any
    drives: list[_Drive]             # the drives the volume went out to, in stream order
    ends: dict[int, int] = field(default_factory=dict)

    @property
    def live(self) -> list[_Drive]:
        return [d for d in self.drives if not d.ended]

    @property
    def device(self) -> TapeDevice:
        return self.live[0].device if self.live else self.drives[0].device

    @property
    def medium(self) -> MediumInfo:
        return self.live[0].medium if self.live else self.drives[0].medium

    @property
    def start(self) -> Any:
        return self.drives[0].start

    @property
    def label(self) -> str | None:
        return self.drives[0].manifest.session.barcode


class TapeSpanJob(WriteJob[list[SpanResult]]):
    """TAR, CPIO and AXF-style sets. With several supplies (drives), one set per drive from the same
    read: the shared stream carries identical records to every drive, so every drive's volume ends at
    the same point (the smallest room), and each closes it with its own metadata archive. A signal stops
    the job at a file boundary: the open volume is closed as the set's last (status interrupted)."""

    interruptible = True

    def __init__(self, sources: list[str | Path], supplies: CartridgeSupply | list[CartridgeSupply],
                 opts: WriteOptions, tracker: ProgressTracker, entries: list[SourceEntry], split_files: bool,
                 cards: list[Any] = (), dests: list[FolderDestination] = ()) -> None:  # type: ignore[assignment]
        supplies = list(supplies) if isinstance(supplies, (list, tuple)) else [supplies]
        self.sources, self.supply, self.opts, self.tracker = sources, supplies[0], opts, tracker
        self.dests = list(dests)
        self.copies: list[FolderFile] = []     # folder copies of the file being written
        self.cards = list(cards)
        self.split_files = split_files
        self.fmt = write_format(opts.format)
        self.rs = opts.record_size
        self.metadata = metadata_reserve(len(entries), len(opts.algorithms), self.rs)
        self.reserve = self.metadata      # and each volume's evidence (open_volume)
        self.job_id = new_session_id()
        self.drives = [_Drive(s, SpanResult(str(uuid.uuid4()), self.job_id)) for s in supplies]
        self.set_id = self.drives[0].set_id
        self.result = self.drives[0].result
        self.pending: list[SourceEntry] = list(entries)
        self.volumes: list[list[FileRecord]] = []    # each volume's files as written
        self.vol: _Volume | None = None
        self.defer_session = False     # TAR: the open volume's session.json comes after a continued file
        self.axf_object = str(uuid.uuid4())    # AXF: the set is one object over its volumes (spec 7.3)
        self.journal: JobJournal | None = None    # the job's journal over the open volume's stream

    @property
    def results(self) -> list[SpanResult]:
        return [d.result for d in self.drives]

    @property
    def stream(self) -> RecordStream | None:
        """The open volume's stream (what a second signal aborts)."""
        return self.vol.stream if self.vol is not None else None

    def stopped_records(self) -> list[FileRecord]:
        return self.vol.files

    # --- volumes ----------------------------------------------------------------------------
    def start(self) -> None:
        """Load every drive's first cartridge and open volume 1 (errors here: nothing written); the folders."""
        self.open_volume([(d, d.supply.first()) for d in self.drives])
        self.journal = open_span_journal(self.opts.log_dir, self.job_id, self.vol.stream,
                                         [d.manifest.session for d in self.vol.drives])
        for d in self.dests:
            d.open()

    def add_next(self) -> None:
        """The next entry (rolling over to the next cartridges as they fill); a drive whose device
        failed is dropped after it, its set ends there."""
        self.add(self.pending[0])
        self.pending.pop(0)
        self.check_drives()

    def commit(self) -> None:
        self.close_volume(last=True)

    def finish(self) -> list[SpanResult]:
        self.tracker.finish()
        if self.journal is not None:
            self.journal.close()
        for d in self.drives:
            d.earlier.close()
        self.settle()
        return self.results

    def open_volume(self, loaded: list[tuple[_Drive, TapeDevice]], continuing: bool = False) -> None:
        seq = len(self.volumes) + 1
        opened: list[_Drive] = []
        started = utc_now()
        for d, dev in loaded:
            try:
                prepare_medium(dev, self.opts.allow_old_generation)
                pos, closed = append_point(dev)     # a tape file a crash left open is closed first
                d.result.notes.extend([closed] if closed else [])
                medium = self._labelled(dev.medium(), d.supply)
            except DeviceError as exc:
                if seq == 1 or len(loaded) == 1:
                    raise
                d.device = dev
                self._drop(d, exc)
                continue
            session = new_session_info(self.opts, self.sources, dev, medium, pos.file_number, pos.partition,
                                       pos.block, started)
            session.device = getattr(dev, "name", "") or session.device
            session.barcode = medium.barcode
            # several sets: each its own session ids (catalog jobs, copy log names), job + set + volume
            several = f"-{d.set_id[:8]}" if len(self.drives) > 1 else ""
            session.session_id = f"{self.job_id}{several}-vol{seq}"
            previous = d.result.volumes[-1].manifest.session.barcode if d.result.volumes else None
            session.span = {"set_id": d.set_id, "job": self.job_id, "sequence": seq, "last": False,
                            "previous": previous, "data_tape_file": pos.file_number,
                            "manifest_tape_file": pos.file_number + 1 if pos.file_number is not None else None}
            d.device, d.medium, d.start, d.manifest, d.slot = dev, medium, pos, Manifest(session, []), len(opened)
            d.open = True
            d.result.volumes.append(WriteResult(d.manifest))
            opened.append(d)
        if not opened:
            raise next(d.result.error for d in reversed(self.drives) if d.result.error is not None)
        files = metadata_reserve(len(self.pending), len(self.opts.algorithms), 0)   # the files, not their records
        self.reserve = self.metadata + max(evidence.room(d.manifest.session, files, d.earlier, len(self.cards),
                                                         self.opts.paperwork) for d in opened)
        chunk_kw = {"chunk_size": self.opts.chunk_size} if self.opts.chunk_size else {}
        stream = RecordStream([d.device for d in opened], self.rs, **chunk_kw)
        self.volumes.append([])
        session = opened[0].manifest.session
        if len(opened) > 1:      # what each device's own structures say (AXF: volume and object headers)
            session = replace(session, destinations=[
                {"kind": "tape", "device": d.manifest.session.device, "barcode": d.medium.barcode,
                 "tape_file": d.start.file_number, "session_id": d.manifest.session.session_id} for d in opened])
        self.vol = _Volume(seq, stream, self.fmt.writer(stream, session=session), self.volumes[-1], started, opened)
        join = getattr(self.vol.writer, "join_collection", None)
        if join is not None:     # AXF: part `seq` of the object; a blank cartridge begins volume `seq` of its set
            for i, d in enumerate(opened):
                prev = d.axf_volumes[-1] if d.axf_volumes else ""
                join(d.set_id, seq, prev, object_uuid=self.axf_object, part=seq, continued_from=prev, device=i)
                d.axf_volumes.append(self.vol.writer.volumes[i].identity.volume_uuid)
        self.defer_session = continuing and self.fmt.gnu_multivolume   # GNU tar wants the continuation first
        if self.journal is not None:       # the job's one journal goes on over the new volume's stream
            self.journal = JobJournal(stream, self.journal.journal)
        if not self.defer_session:
            self.session_member()

    def session_member(self) -> None:
        """`.lto-archive/session.json`: inside the shared records, so the same on every drive of the pass
        (one set: its set id and previous cartridge; several: the job and every set of the pass)."""
        vol = self.vol
        s = vol.drives[0].manifest.session
        if len(self.drives) == 1:
            span = {k: s.span[k] for k in ("set_id", "job", "sequence", "previous")}
        else:
            span = {"sets": [d.set_id for d in self.drives], "job": self.job_id, "sequence": vol.sequence}
        doc = session_document(s, f"{self.job_id}-vol{vol.sequence}", span=span)
        vol.writer.add_bytes(SESSION_MEMBER, doc, time.time_ns())

    def room(self) -> int:
        """Bytes the volume can still take before the metadata reserve (on every drive: the least)."""
        vol = self.vol
        if vol.stream.flags & (WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING):
            return 0
        closing = getattr(vol.writer, "closing_room", None)    # AXF: its footers and metadata object
        remaining = min(d.medium.remaining for d in vol.live or vol.drives)
        return remaining - self.reserve - vol.stream.device_offset - (closing(self.meta_members) if closing else 0)

    @property
    def meta_members(self) -> int:
        """Members of a volume's metadata archive, at most: checksum lists, copy log, paperwork, custody record,
        manifest, and (the last volume) each card's history files with its new generation's two."""
        return max(8, 4 + len(self.opts.algorithms) + sum(len(getattr(c, "files", {})) + 2 for c in self.cards))

    def whole_room(self) -> int:
        """About what an empty cartridge takes (the smallest of the drives')."""
        return min(d.medium.capacity // max(1, d.medium.partitions)
                   for d in self.vol.live or self.vol.drives) - self.reserve - 4 * self.rs

    def check_drives(self) -> None:
        """Drop every drive of the open volume whose device failed: its set ends, the others go on."""
        vol = self.vol
        for d in vol.live:
            err = vol.stream.status[d.slot].error
            if err is not None:
                self._drop(d, err if isinstance(err, DeviceError) else DeviceError(str(err)))

    def close_volume(self, last: bool) -> None:
        """End the volume, then write each drive's metadata archive: every cartridge describes itself."""
        vol = self.vol
        self._collection_continues(vol.writer, last, vol.drives)
        if last:
            vol.writer.close()
        else:
            vol.writer.end_volume()
        vol.stream.close()                 # every hash task has run once the stream is closed
        self.check_drives()
        for d in vol.live:
            try:
                d.device.write_filemarks(1)
            except DeviceError as exc:
                self._drop(d, exc)
        if not vol.live:
            raise next(d.result.error for d in vol.drives if d.result.error is not None)
        if self.journal is not None:
            self.journal.commit(everything=True)     # the commit point: every entry of the volume is on tape
        if last:
            self._job_card_histories()
        for d in vol.live:
            d.manifest.files[:] = self._copies(d, vol.files)
            s = d.manifest.session
            s.span["last"] = last
            close_job_session(s, d.manifest.files, vol.started, self.tracker,
                              interrupted=self.interrupted if last else None)
            try:
                self._metadata_archive(d, last)
            except DeviceError as exc:
                self._drop(d, exc)
                continue
            d.open = False
            d.closed.extend(zip(vol.files, d.manifest.files))
            d.result.media.append(self._labelled(d.device.medium(), d.supply))
        if not vol.live:
            raise next(d.result.error for d in vol.drives if d.result.error is not None)

    def _metadata_archive(self, d: _Drive, last: bool) -> None:
        """The volume's manifest, checksum lists and copy log, in the tape file after it, on drive `d`."""
        s = d.manifest.session
        meta = RecordStream(d.device, self.rs)
        w = self.fmt.writer(meta, session=replace(s, tape_file=s.span["manifest_tape_file"]))   # (AXF says it)
        self._collection_continues(w, last, [d])
        now = time.time_ns()
        for name, data in d.manifest.checksum_lists().items():    # first: it marks a metadata archive
            w.add_bytes(f"{META_DIR}/{name}", data, now)
        if last:
            for card in self.cards:          # the cards' ASC MHL histories, with the set's last volume
                for name, data in card.tape_members().items():
                    w.add_bytes(name, data, now)
        w.add_bytes(COPY_LOG_MEMBER, d.manifest.copy_log_text().encode("utf-8", "surrogateescape"), now)
        files = evidence_files(d.manifest, self.cards if last else [], self.opts, d.result.notes,
                               earlier=d.earlier.items())
        for name, data in files.items():     # paperwork.7z, custody.jsonl: the volume's own evidence
            w.add_bytes(name, data, now)
        d.result.volumes[-1].custody_record = record_head(files)
        w.add_bytes(MANIFEST_MEMBER, d.manifest.to_json(), now)
        w.close()
        meta.close()
        d.device.write_filemarks(1)
        d.earlier.add(d.manifest)      # as on this cartridge, for the paperwork of the set's next volumes

    def _copies(self, d: _Drive, files: list[FileRecord]) -> list[FileRecord]:
        """Drive `d`'s records of the volume's files: the same files, at its own tape positions
        (its cartridge may hold earlier sessions); parts share their `part` (the whole file's hashes
        arrive with the last part)."""
        leads = getattr(self.vol.writer, "leads", None)     # AXF: each volume's own records come first
        shift = leads[d.slot] - leads[0] if leads else 0
        out = []
        for f in files:
            c = copy.copy(f)
            if f.header_offset is not None and f.tape_file is not None:
                placer(c, d.start, self.rs)(f.header_offset + shift)
            out.append(c)
        return out

    @staticmethod
    def _collection_continues(writer: Any, last: bool, drives: list[_Drive]) -> None:
        """AXF: a volume of the set's collection says in its volume footer that the collection goes
        on (not the last one; not a volume appended to, whose identity is its own); with several
        drives, each device's volume by its own set."""
        if hasattr(writer, "in_collection"):
            goes_on = [not last and writer.in_collection(d.set_id, i) for i, d in enumerate(drives)]
            writer.collection_continues = goes_on if len(goes_on) > 1 else goes_on[0]

    def _labelled(self, medium: MediumInfo, supply: CartridgeSupply | None = None) -> MediumInfo:
        """The medium with the label the library read, when the drive does not report one (no MAM)."""
        known = getattr(supply or self.supply, "current_barcode", None)
        return medium if medium.barcode or not known else replace(medium, barcode=known)

    def job_files(self) -> list[FileRecord]:
        """Every file of the job once, as written (a split file as its last part's record)."""
        out: dict[str, FileRecord] = {}
        for files in self.volumes:
            for f in files:
                out[f.path] = f
        return list(out.values())

    def _job_card_histories(self) -> None:
        """The cards' histories, once for the job (every set holds the same files)."""
        card_histories(self.cards, self.vol.live[0].manifest.session, self.job_files())

    def settle(self) -> None:
        """What was learnt about files after their volume closed (a changed file's earlier parts, a
        card history) reaches the records of every set that went to the end."""
        for d in self.drives:
            if d.result.error is None:
                for f, c in d.closed:
                    c.status, c.message = f.status, f.message

    def close_devices(self) -> None:
        """The cartridges stay in the drives; each result's `media` says what they were."""
        for d in self.drives:
            if d.device is not None:
                d.device.close()

    def roll(self, continuing: bool = False) -> None:
        """The cartridges are full: close the volume, each drive gets its next one from its supply."""
        self.close_volume(last=False)
        vol, self.vol = self.vol, None
        loaded: list[tuple[_Drive, TapeDevice]] = []
        for d in vol.live:
            try:
                loaded.append((d, d.supply.next(d.device, d.set_id, len(d.result.volumes) + 1)))
            except DeviceError as exc:
                self._drop(d, exc)
        if not loaded:
            raise next(d.result.error for d in reversed(vol.drives) if d.result.error is not None)
        self.open_volume(loaded, continuing)

    def _drop(self, d: _Drive, exc: DeviceError) -> None:
        """Drive `d`'s set stops here (no cartridge left, the device failed); the other sets go on.
        Every volume it closed describes itself; its open one keeps what reached the tape."""
        if any(o.result.error is exc for o in self.drives):
            exc = copy.copy(exc)             # the same error for several sets: each says its own
            exc.data = dict(exc.data)
        d.ended = True
        result = d.result
        vol = self.vol
        open_here = vol is not None and d.open
        d.open = False
        if open_here:
            on_tape = vol.stream.status[d.slot].records_written * self.rs
            d.manifest.files[:] = self._copies(d, vol.files)
            ends = {id(c): vol.ends[id(f)] for f, c in zip(vol.files, d.manifest.files) if id(f) in vol.ends}
            mark_lost(d.manifest.files, ends, on_tape, exc)
            close_session(d.manifest.session, d.manifest.files, vol.started, self.tracker, failed=True)
        set_stopped(result, exc, self.pending, open_here)
        result.error = exc

    def fail(self, exc: DeviceError) -> None:
        """The job stops (no drive left to write to, or a file no cartridge can take): every set still
        going ends here, each with its own drive's error when it has one."""
        vol = self.vol
        if vol is not None:
            vol.stream.abort()
            if self.journal is not None:
                self.journal.commit(force=True)
        for d in self.drives:
            if not d.ended:
                err = vol.stream.status[d.slot].error if vol is not None and d in vol.drives else None
                self._drop(d, err if isinstance(err, DeviceError) else exc)

    # --- members ------------------------------------------------------------------------------
    def add(self, entry: SourceEntry) -> None:
        rec = new_record(entry)
        if entry.kind == "special":
            rec.status, rec.message = SKIPPED, "not a regular file, folder or link"
            self.vol.files.append(rec)
            return
        size = entry.size if entry.kind == "file" else 0
        need = self.fmt.member_overhead(entry.name, size, self.rs) + size
        rolled = False
        while need > self.room():
            if entry.kind == "file" and size > 2 * BLOCK and (self.split_files or need > self.whole_room() or rolled):
                break                       # split: fill this cartridge, go on on the next
            if rolled:
                raise NoNextCartridge(f"{entry.name} does not fit on an empty cartridge "
                                      f"({self.vol.label or 'the next one'})", path=entry.name)
            self.roll()
            rolled = True
        if entry.kind == "file":
            self.add_file(entry, rec)
            return
        self.vol.files.append(rec)
        add_entry(self.vol.writer, self.vol.stream, entry, rec, self.opts, self.tracker,
                   placer(rec, self.vol.start, self.rs), self.dests)
        self.vol.ends[id(rec)] = self.vol.stream.offset
        self.journaled(rec)

    def add_file(self, entry: SourceEntry, first: FileRecord) -> None:
        """Write a regular file, in parts where a volume fills: at the room planned from the
        medium's size, or where the drive reports early warning (real drives do not say how
        much room is left). Each part ends on a record boundary; the next volume goes on."""
        parts: list[FileRecord] = []

        def write_member(raw, before, hasher):  # type: ignore[no-untyped-def]
            offset, copied, error = 0, 0, None
            size = before.st_size
            feed = whole_file_feed(self, entry.name, before, hasher)
            while True:
                vol = self.vol
                overhead = vol.writer.part_overhead(entry.name, before, offset, vol.sequence)
                rest = size - offset
                room = self.room() - overhead
                if rest + (-rest % BLOCK) <= room:
                    plan = rest
                else:    # what fits, ending on a record boundary so that the volume's records stay whole
                    end = (vol.stream.offset + overhead + max(0, room)) // self.rs * self.rs
                    plan = min(end - vol.stream.offset - overhead, rest - 1) // BLOCK * BLOCK
                    if plan <= 0 or rest <= 2 * BLOCK:
                        self.roll(continuing=offset > 0)
                        continue
                rec = first if offset == 0 else FileRecord(
                    path=entry.name, size=size, mtime=first.mtime, mode=first.mode, source=first.source)
                part_hasher = MultiHasher(self.opts.algorithms) if offset else None
                number = len(parts) + 1
                header = vol.writer.start_part(entry.name, before, offset, vol.sequence, length=plan, number=number,
                                               source=raw)
                vol.files.append(rec)       # in the volume before its bytes: a fault during the copy finds it lost
                placer(rec, vol.start, self.rs)(header)
                hashing = feed if part_hasher is None else BothHashers(feed, part_hasher)
                through = vol.writer.part_hasher(hashing) if hasattr(vol.writer, "part_hasher") else hashing
                n, got, err = self._copy(raw, plan, through, cut=self.fmt.gnu_multivolume)
                if through is not hashing:    # cpio-crc: the bytes' sum against its header's, once hashed
                    vol.stream.flush_hashes()
                    err = err or vol.writer.part_error()
                error = error or err
                copied += got
                done = offset + n == size
                finish = getattr(vol.writer, "finish_part", None)
                if finish is not None:    # AXF: the segment's footer with its checksums (the file's at its end)
                    finish(part_hasher or hasher, hasher if done else None, got)
                elif done:
                    vol.writer.pad_data(rest)
                vol.ends[id(rec)] = vol.stream.offset
                self.journaled(rec)
                if not (offset == 0 and done):      # a part: its own hashes (part 1: the file's so far)
                    member = vol.writer.part_name(entry.name, number) if hasattr(vol.writer, "part_name") \
                        else entry.name
                    rec.part = {"number": number, "offset": offset, "length": n, "size": size, "last": done,
                                "member": member, "file_hashes": {}}
                    h = part_hasher or hasher
                    vol.stream.call_after_hashing(lambda r=rec, h=h: r.hashes.update(h.hexdigests()))
                    parts.append(rec)
                offset += n
                if done:
                    if parts:
                        vol.stream.call_after_hashing(
                            lambda: [p.part["file_hashes"].update(hasher.hexdigests()) for p in parts])
                    if rec is not first and self.defer_session:
                        self.session_member()    # a continued volume describes itself after the rest of the file
                        self.defer_session = False
                    return SimpleNamespace(copied=copied, size=size, read_error=error)
                self.roll(continuing=True)

        out = copy_source_file(entry, first, self.opts, self.tracker, write_member)
        if out is None:                      # could not be opened: nothing written
            self.vol.files.append(first)
            return
        settle_parts(self, entry, first, parts, out)
        if not parts:
            self.vol.stream.call_after_hashing(lambda: first.hashes.update(out.hasher.hexdigests()))

    def journaled(self, rec: FileRecord) -> None:
        """An entry (or a part) is on the open volume's stream: journal it, naming the volume and, per drive,
        its cartridge and where its tape file starts."""
        if self.journal is not None:
            vol = self.vol
            self.journal.placed(rec, sequence=vol.sequence, cartridges=[
                {"set_id": d.set_id, "barcode": d.medium.barcode, "tape_file": d.start.file_number,
                 "start_block": d.start.block} for d in vol.live])

    def _copy(self, raw, length: int, hasher: Any, cut: bool = True  # type: ignore[no-untyped-def]
              ) -> tuple[int, int, OSError | None]:
        """Copy up to `length` bytes in slices ending on record boundaries; with `cut` (TAR, whose
        headers do not say a part's length) stop early, after a slice, once the drive reports
        early warning. Returns (bytes in the member, bytes read
        from the source, read error); a source that ends early or fails is completed with zeros."""
        stream, rs = self.vol.stream, self.rs
        step = max(rs, stream.chunk_size)
        done = read = 0
        error: OSError | None = None
        while done < length:
            left = length - done
            target = stream.offset + min(left, step)
            if target - stream.offset < left:
                target = max(target // rs * rs, stream.offset + min(left, rs - stream.offset % rs))
            n = target - stream.offset
            got = 0
            if error is None:
                got, error = stream.copy_from(raw, n, hasher)
            if got < n:
                stream.zero_fill(n - got)
            done += n
            read += got
            if cut and done < length and stream.offset % rs == 0 and stream.flags & (
                    WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING):
                break
        return done, read, error


def open_span_journal(log_dir: Path | None, job_id: str, stream: RecordStream, sessions: list[Any]) -> JobJournal | None:
    """A spanning job's one journal (`<log dir>/<job id>.journal.jsonl`): its header names the first
    cartridges (each set's volume 1), every entry its volume and cartridges."""
    if log_dir is None:
        return None
    head = replace(sessions[0], session_id=job_id, destinations=[
        {"kind": "tape", "barcode": s.barcode, "device": s.device, "volume_uuid": s.span.get("volume_uuid"),
         "tape_file": s.tape_file, "start_block": s.start_block, "set_id": s.span.get("set_id")} for s in sessions])
    return JobJournal.open(log_dir, head, stream)


__all__ = ["TapeSpanJob", "open_span_journal"]
