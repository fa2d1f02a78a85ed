"""A write job that spans cartridges: one archive in volumes, one volume per cartridge.

Each cartridge gets, at its end of data (docs/spanning.md):

    [ volume N: a TAR volume in GNU tar's multi-volume layout ] FM [ its metadata archive ] FM

The volume starts with the rest of a file split at the end of volume N-1 (if
any), then `.lto-archive/session.json` (with the set), then whole members. A
volume that more volumes follow ends on a record boundary without end-of-archive
blocks (so `tar -xM` goes on to the next volume); the last one ends normally.
The metadata archive right after is an ordinary tar archive holding the
volume's manifest, checksum lists and copy log: every cartridge describes
itself, including which part of a split file it holds.

Files stay whole: a file that does not fit in the room left goes to the next
cartridge. A file that would not fit even on an empty cartridge, or any file
with `split_files`, fills this cartridge and continues on the next; a TAR
volume also ends inside a file where the drive reports early warning (real
drives do not say how much room is left). CPIO: every volume is a whole
archive and a split file is stored as members NAME.part0001, NAME.part0002, ...
AXF-style: the set is one object over the volumes of one collection, a split file
is stored in segments (docs/formats/axf-style.md 7.3), and the metadata archive is
a second object continuing the volume. LTFS sets: span/ltfs_span.py.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..errors import DeviceError, LtoArchiveError, NoNextCartridge, UsageError
from ..formats.registry import get_format
from ..formats.tar_writer import BLOCK
from ..hashing import MultiHasher
from ..jobs import mhl_job
from ..jobs.folder_dest import (FolderDestination, FolderFile, FolderResult, close_folders, feeding, job_files,
                                open_copies, verify_folders)
from ..jobs.progress import ProgressCallback, ProgressTracker
from ..jobs.write import (TOOL, WriteOptions, WriteResult, _add_entry, _close_session, _mark_lost,
                          _metadata_reserve, _new_session_id, _place, check_copied, copy_source_file,
                          new_session_info, prepare_medium, write_copy_log)
from ..manifest import (COPY_LOG_MEMBER, MANIFEST_MEMBER, META_DIR, NOT_WRITTEN, OK, SESSION_MEMBER,
                        SKIPPED, FileRecord, Manifest, iso, utc_now)
from ..scan import SourceEntry, scan_sources
from ..streaming import RecordStream
from ..tape.device import MediumInfo, TapeDevice, WriteFlags
from .supply import CartridgeSupply


@dataclass
class SpanResult:
    """What a spanning job did: one WriteResult per cartridge (its manifest), in set order."""

    set_id: str
    job_id: str
    volumes: list[WriteResult] = field(default_factory=list)
    media: list[MediumInfo] = field(default_factory=list)   # each cartridge as it was when its volume closed
    error: LtoArchiveError | None = None
    notes: list[str] = field(default_factory=list)
    log_paths: list[Path] = field(default_factory=list)
    folders: list[FolderResult] = field(default_factory=list)   # each --copy-to folder: written, read back
    drive: str = ""       # the drive that wrote the set, when a pass wrote several sets (write_spans)

    @property
    def barcodes(self) -> list[str | None]:
        return [v.manifest.session.barcode for v in self.volumes]

    @property
    def files(self) -> list[FileRecord]:
        """Every file of the job once: a split file as its last part's record."""
        out: dict[str, FileRecord] = {}
        for v in self.volumes:
            for f in v.files:
                out[f.path] = f
        return list(out.values())

    def whole_manifest(self) -> Manifest:
        """The job as one manifest of whole files (a split file with its whole-file hashes): what a
        folder copy holds, and what it is proven against."""
        first = self.volumes[0].manifest.session
        session = replace(first, session_id=self.job_id, barcode=None,
                          span={"set_id": self.set_id, "job": self.job_id, "cartridges": self.barcodes})
        return Manifest(session, [_whole(f) for f in self.files])

    @property
    def problems(self) -> list[FileRecord]:
        return [f for f in self.files if f.status != OK or (f.part and not f.part.get("last"))]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        return "incomplete" if self.problems or any(f.status != "ok" for f in self.folders) else "ok"

    def raise_for_status(self) -> None:
        if self.error is not None:
            raise self.error
        if self.volumes:
            WriteResult(Manifest(self.volumes[-1].manifest.session, self.files),
                        destinations=[f.to_dict() for f in self.folders]).raise_for_status()


def _whole(f: FileRecord) -> FileRecord:
    """A file's record as the whole file: a split file's last part carries the whole file's hashes."""
    rec = copy.copy(f)
    if f.part:
        rec.hashes, rec.part = dict(f.part.get("file_hashes") or {}), None
    return rec


class _Both:
    """Hashes a part's bytes into the whole file's hasher and the part's own (on the hash thread)."""

    def __init__(self, whole: Any, part: MultiHasher) -> None:
        self.whole, self.part = whole, part

    def update(self, view: memoryview) -> None:
        self.whole.update(view)
        self.part.update(view)


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


class _SpanJob:
    """TAR, CPIO and AXF-style sets. With several supplies (drives), one set per drive from the same
    read: the shared stream carries identical records to every drive, so every drive's volume ends at
    the same point (the smallest room), and each closes it with its own metadata archive."""

    def __init__(self, sources: list[str | Path], supplies: CartridgeSupply | list[CartridgeSupply],
                 opts: WriteOptions, tracker: ProgressTracker, entries: list[SourceEntry], split_files: bool,
                 cards: list[Any] = (), dests: list[FolderDestination] = ()) -> None:  # type: ignore[assignment]
        supplies = list(supplies) if isinstance(supplies, (list, tuple)) else [supplies]
        self.sources, self.supply, self.opts, self.tracker = sources, supplies[0], opts, tracker
        self.dests = list(dests)
        self.copies: list[FolderFile] = []     # folder copies of the file being written
        self.cards = list(cards)
        self.split_files = split_files
        self.fmt = get_format(opts.format)
        self.rs = opts.record_size
        self.reserve = _metadata_reserve(len(entries), len(opts.algorithms), self.rs)
        self.job_id = _new_session_id()
        self.drives = [_Drive(s, SpanResult(str(uuid.uuid4()), self.job_id)) for s in supplies]
        self.set_id = self.drives[0].set_id
        self.result = self.drives[0].result
        self.pending: list[SourceEntry] = list(entries)
        self.volumes: list[list[FileRecord]] = []    # each volume's files as written
        self.vol: _Volume | None = None
        self.defer_session = False     # TAR: the open volume's session.json comes after a continued file
        self.axf_object = str(uuid.uuid4())    # AXF: the set is one object over its volumes (spec 7.3)

    @property
    def results(self) -> list[SpanResult]:
        return [d.result for d in self.drives]

    # --- volumes ----------------------------------------------------------------------------
    def start(self) -> None:
        """Load every drive's first cartridge and open volume 1 (errors here: nothing written)."""
        self.open_volume([(d, d.supply.first()) for d in self.drives])

    def open_volume(self, loaded: list[tuple[_Drive, TapeDevice]], continuing: bool = False) -> None:
        seq = len(self.volumes) + 1
        opened: list[_Drive] = []
        started = utc_now()
        for d, dev in loaded:
            try:
                prepare_medium(dev, self.opts.allow_old_generation)
                dev.locate(dev.partitions - 1, 0)
                dev.seek_eod()
                pos = dev.position()
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
        self.defer_session = continuing and self.fmt.name == "tar"   # GNU tar wants the continuation first
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
        doc = {"format": "lto-archive-session", "version": 1, "session_id": f"{self.job_id}-vol{vol.sequence}",
               "algorithms": s.algorithms, "record_size": self.rs, "tool": TOOL, "started": s.started,
               "operator": s.operator, "host": s.host, "sources": s.sources, "span": span}
        vol.writer.add_bytes(SESSION_MEMBER, json.dumps(doc, indent=1).encode(), time.time_ns())

    def room(self) -> int:
        """Bytes the volume can still take before the metadata reserve (on every drive: the least)."""
        vol = self.vol
        if vol.stream.flags & (WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING):
            return 0
        closing = getattr(vol.writer, "closing_room", None)    # AXF: its footers and metadata object
        remaining = min(d.medium.remaining for d in vol.live or vol.drives)
        return remaining - self.reserve - vol.stream.device_offset - (closing() if closing else 0)

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
        if last:
            self._job_card_histories()
        for d in vol.live:
            d.manifest.files[:] = self._copies(d, vol.files)
            s = d.manifest.session
            s.span["last"] = last
            _close_session(s, d.manifest.files, vol.started, self.tracker)
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
        w.add_bytes(MANIFEST_MEMBER, d.manifest.to_json(), now)
        w.close()
        meta.close()
        d.device.write_filemarks(1)

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
                _place(c, d.start, self.rs)(f.header_offset + shift)
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
            _mark_lost(d.manifest.files, ends, on_tape, exc)
            _close_session(d.manifest.session, d.manifest.files, vol.started, self.tracker, failed=True)
        _set_stopped(result, exc, self.pending, open_here)
        result.error = exc

    def fail(self, exc: DeviceError) -> None:
        """The job stops (no drive left to write to, or a file no cartridge can take): every set still
        going ends here, each with its own drive's error when it has one."""
        vol = self.vol
        if vol is not None:
            vol.stream.abort()
        for d in self.drives:
            if not d.ended:
                err = vol.stream.status[d.slot].error if vol is not None and d in vol.drives else None
                self._drop(d, err if isinstance(err, DeviceError) else exc)

    # --- members ------------------------------------------------------------------------------
    def add(self, entry: SourceEntry) -> None:
        rec = FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(entry.st.st_mtime),
                         mode=entry.st.st_mode & 0o7777, source=str(entry.path))
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
        _add_entry(self.vol.writer, self.vol.stream, entry, rec, self.opts, self.tracker,
                   _place(rec, self.vol.start, self.rs), self.dests)
        self.vol.ends[id(rec)] = self.vol.stream.offset

    def add_file(self, entry: SourceEntry, first: FileRecord) -> None:
        """Write a regular file, in parts where a volume fills: at the room planned from the
        medium's size, or where the drive reports early warning (real drives do not say how
        much room is left). Each part ends on a record boundary; the next volume goes on."""
        parts: list[FileRecord] = []

        def write_member(raw, before, hasher):  # type: ignore[no-untyped-def]
            offset, copied, error = 0, 0, None
            size = before.st_size
            self.copies = open_copies(self.dests, entry.name, before)
            feed = feeding(hasher, self.copies)      # the folders get the whole file, whatever the parts
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
                hashing = feed if part_hasher is None else _Both(feed, part_hasher)
                through = vol.writer.part_hasher(hashing) if hasattr(vol.writer, "part_hasher") else hashing
                n, got, err = self._copy(raw, plan, through, cut=self.fmt.name == "tar")
                if through is not hashing:    # cpio-crc: the bytes' sum against its header's, once hashed
                    vol.stream.flush_hashes()
                    err = err or vol.writer.part_error()
                error = error or err
                copied += got
                vol.files.append(rec)
                _place(rec, vol.start, self.rs)(header)
                done = offset + n == size
                finish = getattr(vol.writer, "finish_part", None)
                if finish is not None:    # AXF: the segment's footer with its checksums (the file's at its end)
                    finish(part_hasher or hasher, hasher if done else None, got)
                elif done:
                    vol.writer.pad_data(rest)
                vol.ends[id(rec)] = vol.stream.offset
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


def card_histories(cards: list[Any], session: Any, files: list[FileRecord]) -> None:
    """The cards' new ASC MHL generations, from every file of the job (a split file by its
    whole-file hashes); a file that contradicts its card's history becomes CHANGED."""
    if not cards:
        return
    whole = [_whole(f) for f in files]
    mhl_job.finish(cards, Manifest(session, whole))
    for f, rec in zip(files, whole):
        if rec.status != f.status:
            f.status, f.message = rec.status, rec.message


def settle_parts(job: Any, entry: SourceEntry, first: FileRecord, parts: list[FileRecord], out: Any, *,
                 zero_filled: bool = True) -> None:
    """After a file went to tape (whole, or in `parts`): its status goes on its last part (earlier
    parts point to it), and its folder copies are kept only when the whole file is good."""
    last = parts[-1] if parts else first
    check_copied(entry, last, out.copied, out.size, out.read_error, out.before, zero_filled=zero_filled)
    if parts and last.status != OK:
        for p in parts[:-1]:
            p.message = f"the whole file is {last.status}: see part {len(parts)}"
    copies, job.copies = job.copies, []
    if copies:
        good = last.status == OK
        job.vol.stream.call_after_hashing(lambda: [c.finish(good) for c in copies])


def write_span(sources: list[str | Path], supply: CartridgeSupply, options: WriteOptions | None = None,
               progress: ProgressCallback | None = None, *, split_files: bool = False,
               folders: list[str | Path] = ()) -> SpanResult:  # type: ignore[assignment]
    """Write `sources` as one archive over as many cartridges as `supply` hands out (one set).

    Preconditions (format, sources, the first cartridge) raise before anything is
    written. A cartridge that fills is closed with its manifest and the job goes on
    on the next; when the supply has none left (NoNextCartridge) or a device fails,
    the result carries the error, every volume closed before still describes itself,
    and the files not written are listed as such.

    `folders` (a shuttle drive, a RAID): each gets every file whole from the same
    read, plus the job's manifest of whole files, and is read back at the end.
    """
    return write_spans(sources, [supply], options, progress, split_files=split_files, folders=folders)[0]


def write_spans(sources: list[str | Path], supplies: list[CartridgeSupply], options: WriteOptions | None = None,
                progress: ProgressCallback | None = None, *, split_files: bool = False,
                folders: list[str | Path] = ()) -> list[SpanResult]:  # type: ignore[assignment]
    """Write `sources` once as one set per supply (drive): the A and B copies of a job that spans
    cartridges, from one read. Returns one SpanResult per set, in supply order; a set whose drive
    fails or runs out of cartridges ends there (its result says why) and the others go on.
    TAR, CPIO and AXF-style sets with several supplies; one supply: every format (see write_span)."""
    opts = options or WriteOptions()
    if opts.format not in ("tar", "cpio", "cpio-crc", "axf", "ltfs"):
        raise UsageError(f"a job that spans cartridges is written as TAR or CPIO (newc or crc), AXF-style or "
                         f"LTFS, not {opts.format}", format=opts.format)
    if not supplies:
        raise UsageError("a job that spans cartridges needs a drive")
    if len(supplies) > 1 and opts.format == "ltfs":
        raise UsageError("--span with several drives writes TAR, CPIO or AXF-style sets, not LTFS (each LTFS "
                         "cartridge its own index): write the LTFS sets one after the other", format=opts.format)
    entries = scan_sources(list(sources))
    cards, entries, algorithms = mhl_job.prepare(list(sources), entries, tuple(opts.algorithms))
    opts.algorithms = algorithms    # what the cards' ASC MHL histories need to be verified, too
    fmt = get_format(opts.format) if opts.format != "ltfs" else None    # (LTFS: a volume layout, not a format)
    if fmt is not None and fmt.preflight is not None:
        fmt.preflight(entries)
    total = sum(e.size for e in entries if e.kind == "file")
    dests = [FolderDestination(f) for f in folders]
    for d in dests:
        d.check_space(total)
    tracker = ProgressTracker("write", progress, total, sum(1 for e in entries if e.kind == "file"))
    job: Any
    if opts.format == "ltfs":       # each cartridge its own LTFS volume (span/ltfs_span.py)
        from .ltfs_span import LtfsSpanJob
        job = LtfsSpanJob(sources, supplies[0], opts, tracker, entries, split_files, cards, dests)
        job.open_volume(supplies[0].first())
    else:
        job = _SpanJob(sources, list(supplies), opts, tracker, entries, split_files, cards, dests)
        job.start()
    for d in dests:
        d.open()
    results: list[SpanResult] = getattr(job, "results", [job.result])
    pending = job.pending if isinstance(job, _SpanJob) else list(entries)
    try:
        while pending:
            job.add(pending[0])
            pending.pop(0)
            if isinstance(job, _SpanJob):
                job.check_drives()
        job.close_volume(last=True)
    except DeviceError as exc:
        if isinstance(job, _SpanJob):
            job.fail(exc)
        else:
            job.result.error = exc
            job.device_failed(exc)       # LTFS: only what an index on tape describes is on the volume
            _fail(job, exc, pending)
    tracker.finish()
    if isinstance(job, _SpanJob):
        job.settle()
    for result in results:
        result.notes.extend(n for card in cards for n in card.notes)
        for v in result.volumes:      # the copy logs next to the job know what later cartridges learned
            for f in v.files:
                if f.part and not f.part.get("file_hashes"):
                    last = next((g for g in result.files if g.path == f.path and g.part), None)
                    if last is not None and last.part.get("file_hashes"):
                        f.part["file_hashes"] = dict(last.part["file_hashes"])
    for c in job.copies:             # the file being written when the job stopped: not in the folders
        c.broken = True
        c.finish(False)
    if dests:                        # the folders hold the job once: by the set that went furthest
        best = next((r for r in results if r.error is None), results[0])
        whole = best.whole_manifest()
        close_folders(dests, job_files(whole, cards))
        expected = {f.path: f.hashes for f in whole.files if f.status == OK and f.hashes}
        verify_folders(dests, expected, tuple(opts.algorithms))
        best.folders = [d.result for d in dests]
    if opts.log_dir is not None:
        for result in results:
            for v in result.volumes:
                result.log_paths.extend(write_copy_log(v.manifest, opts.log_dir))
    if isinstance(job, _SpanJob):
        for d in job.drives:
            if d.device is not None:
                d.device.close()    # the cartridge stays in the drive; `result.media` says what it was
    elif job.vol is not None:
        job.vol.device.close()
    for supply, result in zip(supplies, results):
        if len(supplies) > 1:
            result.drive = supply.drive
        supply.close()
    return results


def _fail(job: Any, exc: DeviceError, pending: list[SourceEntry]) -> None:
    """(LTFS sets) The set stops here: say which file on which cartridge, and what was not written."""
    vol = job.vol
    if vol is not None:
        vol.stream.abort()
        on_tape = max((s.records_written for s in vol.stream.status), default=0) * job.rs
        _mark_lost(vol.manifest.files, vol.ends, on_tape, exc)
        _close_session(vol.manifest.session, vol.manifest.files, vol.started, job.tracker, failed=True)
    _set_stopped(job.result, exc, pending, vol is not None)


def _set_stopped(result: SpanResult, exc: DeviceError, pending: list[SourceEntry], in_volume: bool) -> None:
    """A set that stops: its error names the cartridge (in or `after` its last volume) and the set,
    the files not written are listed with its last volume, and a split file begun says that only
    part of it is on tape."""
    why = "the set ran out of cartridges" if isinstance(exc, NoNextCartridge) else "the device failed"
    last = result.volumes[-1] if result.volumes else None
    if last is not None:
        s = last.manifest.session
        barcode = s.barcode or s.device
        where = f"volume {s.span['sequence']} on {barcode}" if in_volume else \
            f"after volume {s.span['sequence']} on {barcode}"
        exc.message = f"{exc.message} ({where}, set {result.set_id})"
        exc.args = (exc.message,)
        exc.data.setdefault("barcode", barcode)
        exc.data.setdefault("set_id", result.set_id)
    started = pending[0].name if pending else None
    for entry in pending:
        rec = FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(entry.st.st_mtime),
                         mode=entry.st.st_mode & 0o7777, source=str(entry.path), status=NOT_WRITTEN,
                         message=f"{why}: not written")
        if last is not None and not any(f.path == rec.path for f in last.manifest.files):
            last.manifest.files.append(rec)
    if started is not None:
        for v in result.volumes:
            for f in v.manifest.files:
                if f.path == started and f.part and f.status == OK:
                    f.message = f"only part of this file is on tape: {why}"
    if last is not None:
        last.error = exc


__all__ = ["SpanResult", "write_span", "write_spans"]
