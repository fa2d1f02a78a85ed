"""The write job for LTFS: sources -> one session appended to an LTFS volume.

Same contract as the TAR job (jobs/write.py): preconditions raise before
anything is written (medium, volume, names that LTFS cannot store, paths
already on the volume); per-file problems and device failures are reported
in the result. The session's manifest, checksum lists and copy log become
files of the volume under `.lto-archive/<session id>/`, so a mounted LTFS
volume describes itself too; every file's checksums are also stored as
`ltfs.hash.*` extended attributes in the index.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..errors import ArchiveError, CorruptArchive, DeviceError, EndOfMedium, LtoArchiveError, UsageError
from ..formats.ltfs.index import Directory, times_now
from ..formats.registry import write_format
from ..formats.ltfs.session import AddedFile, Checkpoints, LtfsSession
from ..formats.ltfs.times import format_time, now_ns
from ..formats.ltfs.volume import DATA_PARTITION, VolumeState, open_volume
from ..hashing import MultiHasher
from ..manifest import META_DIR, NOT_WRITTEN, FileRecord, Manifest, utc_now
from ..record_file import SpooledRecords
from ..scan import SourceEntry
from ..streaming import RecordStream
from ..tape.blocks import records_cost
from ..tape.device import TapeDevice
from ..progress import ProgressCallback, ProgressTracker
from . import mhl_job, session_evidence
from .engine import WriteJob, close_job_session, run
from .folder_dest import FolderDestination, close_folders, job_files, verify_folders
from .journal import JobJournal
from .room import IndexBudget, MetadataBudget, index_cost, index_partition_room, stream_charge
from .spool import Kept, SessionFiles, session_file_chunks, spooled
from .session import (TOOL, JobPlan, WriteOptions, WriteResult, add_entry, mark_unindexed, new_record,
                      keep_copy_log, new_session_info, not_reached, plan_job, prepare_medium, say_full, stop_reason,
                      settled, tape_devices)

INDEX_BYTES_PER_ENTRY = 1024   # measured ~800 bytes of index XML per file with two hashes; keep a margin
NO_ROOM = "no room left on this cartridge (the final index needs its space): not written"


def ltfs_times(st: os.stat_result) -> list[str]:
    m = format_time(st.st_mtime_ns)
    return [m, format_time(st.st_ctime_ns), m, format_time(st.st_atime_ns), format_time(now_ns())]


def open_ltfs_volume(device: TapeDevice, entries: list[SourceEntry]) -> VolumeState:
    """The volume's current state; refuse paths it already holds (before anything is written)."""
    try:
        state = open_volume(device)
    except CorruptArchive as exc:
        raise CorruptArchive(f"{exc.message} (format the cartridge first: lto-archive format --format ltfs)") \
            from None
    # a file where one is, or a folder where a file is (adding to an existing folder is fine)
    clashes = [e.name for e in entries if (node := state.index.lookup(e.name)) is not None
               and (e.kind != "dir" or not isinstance(node, Directory))]
    if clashes:
        raise ArchiveError(f"{len(clashes)} path(s) are already on {'LTFS volume ' + state.serial if state.serial else 'this LTFS volume'}: "
                           + ", ".join(clashes[:10]) + (" ..." if len(clashes) > 10 else "")
                           + " (an LTFS volume holds one file per path; write them under another folder)",
                           files=clashes)
    return state


def write_ltfs(sources: list[str | Path], device: TapeDevice | Sequence[TapeDevice], opts: WriteOptions,
               progress: ProgressCallback | None = None, folders: Sequence[str | Path] = ()) -> WriteResult:
    """One session appended to every LTFS volume (one per device), the sources read once.

    The file records are the same on every volume; each volume gets its own
    indexes (jobs/../formats/ltfs/session.py). A volume whose device fails is
    dropped and reported; the others are completed.
    """
    devices = tape_devices(device)
    for dev in devices:
        prepare_medium(dev, opts.allow_old_generation)
    plan = plan_job(sources, opts, write_format(opts.format), folders)   # (LTFS's preflight: its names)
    states = [open_ltfs_volume(dev, plan.entries) for dev in devices]
    if len({s.block_size for s in states}) > 1:
        raise UsageError("these LTFS volumes were formatted with different block sizes ("
                         + ", ".join(f"{s.serial or dev.name}: {s.block_size}" for s, dev in zip(states, devices))
                         + "); one pass writes the same records to each: write them separately")
    if len({s.label.volume_uuid for s in states}) < len(states):
        raise UsageError("the same LTFS volume is named twice (one volume UUID): give each cartridge once")
    return run(_LtfsJob(sources, devices, states, opts, plan, progress))


class _LtfsJob(WriteJob[WriteResult]):
    """One session appended to the LTFS volume of every device: its index is the commit point. A signal
    stops it at a file boundary: the session is closed with an index of every complete file."""

    interruptible = True

    def __init__(self, sources: list[str | Path], devices: list[TapeDevice], states: list[VolumeState],
                 opts: WriteOptions, plan: JobPlan, progress: ProgressCallback | None) -> None:
        self.devices, self.states, self.opts, self.plan = devices, states, opts, plan
        state = states[0]
        opts.record_size = state.block_size     # the volume's block size, whatever was asked
        device = devices[0]
        medium = device.medium()
        self.started = utc_now()
        self.stream = stream = RecordStream(devices, state.block_size,
                                            **({"chunk_size": opts.chunk_size} if opts.chunk_size else {}))
        try:
            self.session = session = LtfsSession(list(zip(devices, states)), stream, f"{TOOL} - write",
                                                 Checkpoints(opts.index_every_bytes, opts.index_every_seconds))
        except LtoArchiveError:
            stream.abort()
            raise
        self.info = info = new_session_info(opts, sources, device, medium, None, DATA_PARTITION,
                                            session.volumes[0].start, self.started)
        info.destinations = [{"kind": "tape", "device": getattr(dev, "name", ""), "barcode": dev.medium().barcode,
                              "volume_uuid": v.index.volume_uuid, "tape_file": None, "partition": DATA_PARTITION,
                              "start_block": v.start} for dev, v in zip(devices, session.volumes)] \
            + [{"kind": "folder", "destination": str(f.root)} for f in plan.dests]
        self.records = SpooledRecords(settled)     # on disk once settled (record_file.py), as write_archive's
        self.manifest = Manifest(info, cast("list[FileRecord]", self.records))
        self.tracker = plan.tracker(progress)
        self.remaining = min(dev.medium().remaining for dev in devices)      # the data partition's
        self.ip_room = min(index_partition_room(dev) for dev in devices)     # the index partition's copy
        self.index_budget = IndexBudget([s.index for s in states], opts.algorithms, plan.entries, medium.capacity)
        self.meta_budget = MetadataBudget(info, plan.entries, NO_ROOM, len(plan.cards), medium.capacity,
                                          paperwork=opts.paperwork)
        self.evidence_notes: list[str] = []
        self.custody_record: dict[str, Any] | None = None    # the on-tape custody record (for the catalog)
        if self.room_left() < 0:
            stream.abort()
            raise EndOfMedium("no room left on this LTFS volume for a new session: its metadata files and index "
                              "alone do not fit; nothing was written")
        for d in plan.dests:
            d.open()
        self.covered = [0] * len(devices)    # per volume: records[:n] are described by an index on it
        self.blocks: list[dict[str, int]] = [{} for _ in devices]   # per volume: where each file starts
        self.writer = LtfsWriter(session, self.blocks)
        self.error: LtoArchiveError | None = None
        self.stopped: str | None = None
        self.pending: deque[SourceEntry] = deque(plan.entries)
        plan.entries = []      # the pending queue holds them: each is dropped once taken (10^6 entries)
        self.journal = JobJournal.open(opts.log_dir, info, stream)   # the copy log growing as the job goes

    def indexed(self) -> None:
        """An index is on every live volume: what it describes is committed there."""
        for i, st in enumerate(self.stream.status):
            if st.error is None:
                self.covered[i] = len(self.records)

    def add_next(self) -> None:
        entry = self.pending.popleft()
        rec = new_record(entry)
        self.records.append(rec)
        if self.stopped is None:
            self.stopped = stop_reason(self.stream, self.fits(entry), "volume", NO_ROOM)
        if self.stopped:
            rec.status, rec.message = NOT_WRITTEN, self.stopped
            return
        self.writer.add_entry(self.stream, entry, rec, self.opts, self.tracker, self.plan.dests)
        self.index_budget.bytes += self.index_budget.entry(entry)
        self.meta_budget.written(entry, rec)
        added, self.writer.last = self.writer.last, None
        if rec.kind != "file" or added is not None:
            self.journal.placed(rec, length=added.copied if added else 0,
                                blocks=list(added.start_blocks) if added else [])
        self.records.settle()
        if self.session.checkpoint_due() and self.room_left(self.index_budget.bytes) >= 0:
            self.session.write_data_index()
            self.indexed()
            self.journal.commit(force=True)

    def room_left(self, checkpoint: int = 0, entry: SourceEntry | None = None) -> int:
        """Bytes the data partition has left once `entry` (and a checkpoint index of `checkpoint` bytes),
        the metadata files and the final index are written; negative: they do not fit. The final index
        must also fit on the index partition."""
        bs, budget = self.states[0].block_size, self.index_budget
        final = budget.bytes + budget.metadata(self.meta_budget.files)
        data = 0
        if entry is not None:
            final += budget.entry(entry)
            data = records_cost(entry.size, bs) if entry.kind == "file" else 0
        if index_cost(final, bs) > self.ip_room:
            return -1
        after = (stream_charge(self.stream) + data + (index_cost(checkpoint, bs) if checkpoint else 0)
                 + self.meta_budget.cost(bs) + index_cost(final, bs))
        return self.remaining - after

    def fits(self, entry: SourceEntry) -> bool:
        return self.room_left(entry=entry) >= 0

    def commit(self) -> None:
        """The session's metadata files, the final data-partition index, the index partition."""
        session = self.session
        self.stream.flush_hashes()
        self.records.settle(everything=True)
        mhl_job.finish(self.plan.cards, self.manifest)  # ingest check against the cards' histories
        close_job_session(self.info, self.records, self.started, self.tracker, interrupted=self.interrupted)
        # one file per path on LTFS: a card's new history sits in this session's metadata folder
        history = {k: v for card in self.plan.cards
                   for k, v in card.tape_members(f"{META_DIR}/{self.info.session_id}/mhl").items()}
        with SessionFiles(self.manifest) as files:     # each made once: for the volume and the paperwork
            evidence = session_evidence.evidence_files(self.manifest, self.plan.cards, self.opts,
                                                       self.evidence_notes, base=f"{META_DIR}/{self.info.session_id}",
                                                       files=files)
            add_metadata(session, self.manifest, history, evidence, files)
        self.custody_record = session_evidence.record_head(evidence)
        session.write_data_index()
        self.indexed()
        self.writer.close()          # the index partition: the commit point
        self.journal.commit(everything=True)

    def fail(self, exc: DeviceError) -> None:
        """Only what an index on tape describes is on the volume."""
        self.stream.abort()
        self.error = exc
        self.journal.commit(force=True)
        mark_unindexed(self.records, max(self.covered), exc)

    def finish(self) -> WriteResult:
        self.tracker.finish()
        self.journal.close()
        close_job_session(self.info, self.records, self.started, self.tracker, failed=self.error is not None,
                          interrupted=self.interrupted)
        result = WriteResult(self.manifest, self.error, custody_record=self.custody_record)
        result.notes = [n for s in self.states for n in s.notes] + self.plan.notes() + self.evidence_notes
        result.blocks = {i: b for i, b in enumerate(self.blocks) if i}
        plan, opts = self.plan, self.opts
        if plan.dests or opts.verify or len(self.devices) > 1:
            _finish_destinations(result, self.session, self.stream, self.covered, self.records, plan.dests,
                                 plan.cards, self.manifest, self.error, opts)
        if self.stopped is not None:      # no room, or the early-warning zone: the cartridge is full
            say_full([d for d in result.destinations if d["kind"] == "tape"], self.records)
        keep_copy_log(result, self.manifest, opts.log_dir)
        return result


def _finish_destinations(result: WriteResult, session: LtfsSession, stream: RecordStream, covered: list[int],
                         records: Sequence[FileRecord], dests: list[FolderDestination], cards: list[mhl_job.CardHistory],
                         manifest: Manifest, error: LtoArchiveError | None, opts: WriteOptions) -> None:
    """Folders get the metadata and the cards' histories; every volume and folder is read back on its own."""
    from .ltfs_read import read_ltfs
    from .read import ReadResult, TapeFileResult
    close_folders(dests, job_files(manifest, cards) if dests else {})
    tapes = []
    for i, (v, st) in enumerate(zip(session.volumes, stream.status)):
        err = st.error if st.error is not None else error
        dev = v.device
        tape: dict = {"kind": "tape", "destination": _barcode(dev) or dev.name, "device": dev.name,
                      "volume_uuid": v.index.volume_uuid, "tape_file": None, "start_block": v.start,
                      "status": "failed" if err is not None else "ok",
                      "error": (getattr(err, "message", None) or str(err)) if err is not None else "",
                      "verified": None, "failed": []}
        tapes.append(tape)
        if err is not None:
            lost = [r.path for r in records[covered[i]:] if r.kind == "file" and r.status == "ok"]
            tape["error"] += (f" (files from {lost[0]} on are not in this volume's index; " if lost else
                              " (every file is in an index on the data partition, but the volume was not "
                              "closed; ") + "run 'lto-archive ltfs recover' on it before writing again)"
            tape["failed"] = [{"path": p, "reason": "not on this volume: its device failed before an index "
                               "described it"} for p in lost]
            continue
        tops = sorted({r.path.split("/", 1)[0] for r in manifest.files})
        try:
            r = read_ltfs(dev, "verify", patterns=tops)
        except LtoArchiveError as exc:   # the read-back stopped (a read error): none of the files is proven
            tape.update(status="failed", error=f"the read-back stopped: {exc.message}",
                        failed=not_reached(records, set(), exc))
            result.readbacks[i] = ReadResult("verify", [TapeFileResult(    # catalogued, every file unproven
                0, manifest=manifest, manifest_source="LTFS index", error=exc,
                unproven=[{"path": f["path"], "reason": f["reason"]} for f in tape["failed"]])])
            continue
        result.readbacks[i] = r          # the catalog records it as this copy's verification
        wanted = {f.path for f in manifest.files if f.kind == "file" and f.status == "ok"}
        tape["verified"] = len([p for p in r.tape_files[0].verified if p in wanted])
        tape["failed"] = [{"path": f["path"], "reason": f["reason"]} for f in r.failed]
        if r.failed:
            tape["status"], tape["error"] = "failed", f"{len(r.failed)} file(s) failed read-back"
    expected = {f.path: f.hashes for f in manifest.files if f.status == "ok" and f.hashes} if dests else {}
    result.destinations = tapes + verify_folders(dests, expected, tuple(opts.algorithms))
    result.folders = [d.result for d in dests]


def _barcode(device: TapeDevice) -> str | None:
    try:
        return device.medium().barcode
    except LtoArchiveError:
        return None


class LtfsWriter:
    """An LTFS session as a FormatWriter (formats/registry.py): a member's name is its path on the
    volume, its position the first block of its extent on the data partition (per volume: `blocks`);
    its hashes go into the index (`ltfs.hash.*`); the index at the end is the commit point (`close`)."""

    def __init__(self, session: LtfsSession, blocks: list[dict[str, int]] | None = None) -> None:
        self.session, self.blocks = session, blocks
        self.last: AddedFile | None = None    # the file the last add_entry placed

    def add_directory(self, name: str, st: os.stat_result) -> None:
        self.session.add_directory(name.split("/"), ltfs_times(st))

    def add_symlink(self, name: str, target: str, st: os.stat_result) -> None:
        self.session.add_symlink(name.split("/"), target, ltfs_times(st))

    def add_file(self, name: str, source: BinaryIO, st: os.stat_result, hasher: Any | None = None) -> AddedFile:
        return self.session.add_file(name.split("/"), source, st.st_size, ltfs_times(st), hasher)

    def add_bytes(self, name: str, data: bytes, mtime_ns: int, mode: int = 0o644) -> AddedFile:
        return self.session.add_bytes(name.split("/"), data, times_now(mtime_ns))

    def set_hashes(self, added: AddedFile, hashes: dict[str, str]) -> None:
        self.session.set_hashes(added, hashes)

    def close(self) -> None:
        self.session.commit()

    def add_entry(self, stream: RecordStream, entry: SourceEntry, rec: FileRecord, opts: WriteOptions,
                  tracker: ProgressTracker, dests: Sequence[FolderDestination] = ()) -> None:
        """One source entry onto the volume(s): the engine's add_entry through this writer (a source
        that fails part-way keeps only what was read)."""
        rec.partition = DATA_PARTITION
        add_entry(self, stream, entry, rec, opts, tracker, self.placer(rec), dests, zero_filled=False,
                  on_hashes=self.set_hashes)

    def placer(self, rec: FileRecord) -> Callable[[AddedFile | None], None]:
        """Where a member went: the data partition; a file, at its extent's first block."""
        def place(added: AddedFile | None) -> None:
            if added is None:          # a folder or a link: in the index only
                return
            self.last = added
            rec.block, rec.offset = added.start_block, 0
            for per_volume, start in zip(self.blocks or [], added.start_blocks):
                if start is not None:
                    per_volume[rec.path] = start
        return place


def add_ltfs_entry(session: LtfsSession, stream: RecordStream, entry: SourceEntry, rec: FileRecord, opts: WriteOptions,
                   tracker: ProgressTracker, dests: Sequence[FolderDestination] = (),
                   blocks: list[dict[str, int]] | None = None) -> AddedFile | None:
    """One source entry onto the LTFS volume(s) of `session` (see LtfsWriter.add_entry): the file's
    extent(s) (None: a folder, a link, a file that could not be opened)."""
    writer = LtfsWriter(session, blocks)
    writer.add_entry(stream, entry, rec, opts, tracker, dests)
    return writer.last


def _add_hashed(writer: LtfsWriter, path: str, data: bytes, now: int, algorithms: tuple[str, ...]) -> None:
    added = writer.add_bytes(path, data, now)
    h = MultiHasher(algorithms)
    h.update(data)
    writer.set_hashes(added, h.hexdigests())


def add_metadata(session: LtfsSession, manifest: Manifest, history: dict[str, bytes] | None = None,
                 evidence: dict[str, bytes] | None = None, files: SessionFiles | None = None) -> None:
    """The manifest, checksum lists, copy log (and the cards' ASC MHL, the session's paperwork and custody
    record: jobs/session_evidence.py) as files of the volume, hashed; the manifest last. The session's
    files are made chunk by chunk into a spool file (`files`' own, made once, when given), hashed, and
    streamed from it."""
    writer = LtfsWriter(session)
    now = now_ns()
    algorithms = tuple(manifest.session.algorithms)
    for path, data in (history or {}).items():
        _add_hashed(writer, path, data, now, algorithms)
    for path, make in (files.items() if files is not None else session_file_chunks(manifest)):
        if path.endswith("/manifest.json"):
            for epath, edata in (evidence or {}).items():    # the evidence before the manifest, which ends it
                _add_hashed(writer, epath, edata, now, algorithms)
        h = MultiHasher(algorithms)
        kept = make.spooled() if isinstance(make, Kept) else None
        sp = kept if kept is not None else spooled(make, h)
        if sp is None:            # the temporary folder cannot take it: this one is made in memory
            _add_hashed(writer, path, b"".join(make()), now, algorithms)
            continue
        if kept is not None:
            for chunk in kept.chunks():
                h.update(chunk)
            kept.file.seek(0)
        try:
            added = session.add_file(path.split("/"), sp.file, sp.size, times_now(now))
        finally:
            if kept is None:
                sp.close()
        writer.set_hashes(added, h.hexdigests())


__all__ = ["write_ltfs", "LtfsWriter", "add_ltfs_entry", "add_metadata", "ltfs_times", "open_ltfs_volume"]
