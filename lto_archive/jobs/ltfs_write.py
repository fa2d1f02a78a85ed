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
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import ArchiveError, CorruptArchive, DeviceError, LtoArchiveError, UnstorableName, UsageError
from ..formats.ltfs.index import Directory, times_now
from ..formats.ltfs.names import check_name
from ..formats.ltfs.session import Checkpoints, LtfsSession
from ..formats.ltfs.times import format_time, now_ns
from ..formats.ltfs.volume import DATA_PARTITION, VolumeState, open_volume
from ..hashing import MultiHasher
from ..manifest import LOST, META_DIR, NOT_WRITTEN, SKIPPED, UNREADABLE, FileRecord, Manifest, iso, utc_now
from ..scan import SourceEntry, scan_sources
from ..streaming import RecordStream
from ..tape.device import TapeDevice, WriteFlags
from .progress import ProgressCallback, ProgressTracker
from . import mhl_job
from .folder_dest import (FolderDestination, FolderFile, close_folders, feeding, job_files, mirror_entry,
                          open_copies, verify_folders)
from .write import (TOOL, WriteOptions, WriteResult, _close_session, check_copied, copy_source_file,
                    new_session_info, prepare_medium, write_copy_log)

INDEX_BYTES_PER_ENTRY = 1024   # measured ~700 bytes of index XML per file with two hashes; keep a margin


def _times(st: os.stat_result) -> list[str]:
    m = format_time(st.st_mtime_ns)
    return [m, format_time(st.st_ctime_ns), m, format_time(st.st_atime_ns), format_time(now_ns())]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _check_names(entries: list[SourceEntry]) -> None:
    """Refuse, before writing anything, any name (or link target) LTFS cannot store as it is."""
    for e in entries:
        for part in e.name.split("/"):
            check_name(part, str(e.path))
        if e.kind == "symlink":
            target = os.readlink(e.path)
            if _NOT_XML.search(target):
                raise UnstorableName(f"{e.path}: the link target {target!r} holds a control character that an "
                                     f"LTFS index cannot store; lto-archive never changes it silently - "
                                     f"fix the link, or use --format tar", path=str(e.path))


def _open_volume(device: TapeDevice, entries: list[SourceEntry]) -> VolumeState:
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
        raise ArchiveError(f"{len(clashes)} path(s) are already on LTFS volume {state.serial or ''}: "
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
    devices = [device] if isinstance(device, TapeDevice) else list(device)
    for dev in devices:
        prepare_medium(dev, opts.allow_old_generation)
    entries = scan_sources(list(sources))
    cards, entries, opts.algorithms = mhl_job.prepare(list(sources), entries, tuple(opts.algorithms))
    _check_names(entries)
    dests = [FolderDestination(f) for f in folders]
    for d in dests:
        d.check_space(sum(e.size for e in entries if e.kind == "file"))
    states = [_open_volume(dev, entries) for dev in devices]
    if len({s.block_size for s in states}) > 1:
        raise UsageError("these LTFS volumes were formatted with different block sizes ("
                         + ", ".join(f"{s.serial or dev.name}: {s.block_size}" for s, dev in zip(states, devices))
                         + "); one pass writes the same records to each: write them separately")
    if len({s.label.volume_uuid for s in states}) < len(states):
        raise UsageError("the same LTFS volume is named twice (one volume UUID): give each cartridge once")
    state = states[0]
    opts.record_size = state.block_size     # the volume's block size, whatever was asked
    device = devices[0]
    medium = device.medium()
    started = utc_now()
    stream = RecordStream(devices, state.block_size,
                          **({"chunk_size": opts.chunk_size} if opts.chunk_size else {}))
    try:
        session = LtfsSession(list(zip(devices, states)), stream, f"{TOOL} - write",
                              Checkpoints(opts.index_every_bytes, opts.index_every_seconds))
    except LtoArchiveError:
        stream.abort()
        raise
    info = new_session_info(opts, sources, device, medium, None, DATA_PARTITION, session.volumes[0].start, started)
    info.destinations = [{"kind": "tape", "device": getattr(dev, "name", ""), "barcode": dev.medium().barcode,
                          "volume_uuid": v.index.volume_uuid, "tape_file": None, "partition": DATA_PARTITION,
                          "start_block": v.start} for dev, v in zip(devices, session.volumes)] \
        + [{"kind": "folder", "destination": str(f.root)} for f in dests]
    records: list[FileRecord] = []
    manifest = Manifest(info, records)
    files = [e for e in entries if e.kind == "file"]
    tracker = ProgressTracker("write", progress, sum(e.size for e in files), len(files))
    remaining = min(dev.medium().remaining for dev in devices)
    existing = max(s.index.highest_file_uid for s in states)
    for d in dests:
        d.open()
    reserve = 2 * INDEX_BYTES_PER_ENTRY * (existing + len(entries) + 16) + 64 * 1024 + 4 * state.block_size
    covered = [0] * len(devices)    # per volume: records[:n] are described by an index on it
    blocks: list[dict[str, int]] = [{} for _ in devices]   # per volume: where each file starts
    error: LtoArchiveError | None = None
    stopped: str | None = None

    def indexed() -> None:
        for i, st in enumerate(stream.status):
            if st.error is None:
                covered[i] = len(records)

    try:
        for entry in entries:
            rec = FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(entry.st.st_mtime),
                             mode=entry.st.st_mode & 0o7777, source=str(entry.path))
            records.append(rec)
            if stopped:
                rec.status, rec.message = NOT_WRITTEN, stopped
                continue
            if stream.flags & (WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING):
                stopped = "the cartridge reached its early-warning zone: closed the volume, not written"
                rec.status, rec.message = NOT_WRITTEN, stopped
                continue
            if stream.device_offset + entry.size + state.block_size + reserve > remaining:
                stopped = "no room left on this cartridge (the final index needs its space): not written"
                rec.status, rec.message = NOT_WRITTEN, stopped
                continue
            _add(session, stream, entry, rec, opts, tracker, dests, blocks)
            if session.checkpoint_due():
                session.write_data_index()
                indexed()
        stream.flush_hashes()
        mhl_job.finish(cards, manifest)      # ingest check against the cards' histories, new generations
        _close_session(info, records, started, tracker)
        # one file per path on LTFS: a card's new history sits in this session's metadata folder
        history = {k: v for card in cards
                   for k, v in card.tape_members(f"{META_DIR}/{info.session_id}/mhl").items()}
        _add_metadata(session, manifest, history)
        session.write_data_index()
        indexed()
        session.commit()
    except DeviceError as exc:
        stream.abort()
        error = exc
        _mark_unindexed(records, max(covered), exc)
    tracker.finish()
    _close_session(info, records, started, tracker, failed=error is not None)
    result = WriteResult(manifest, error)
    result.notes = [n for s in states for n in s.notes] + [n for card in cards for n in card.notes]
    result.blocks = {i: b for i, b in enumerate(blocks) if i}
    if dests or opts.verify or len(devices) > 1:
        _finish_destinations(result, session, stream, covered, records, dests, cards, manifest, error, opts)
    if opts.log_dir is not None:
        result.log_paths = write_copy_log(manifest, opts.log_dir)
    return result


def _finish_destinations(result: WriteResult, session: LtfsSession, stream: RecordStream, covered: list[int],
                         records: list[FileRecord], dests: list[FolderDestination], cards: list[mhl_job.CardHistory],
                         manifest: Manifest, error: LtoArchiveError | None, opts: WriteOptions) -> None:
    """Folders get the metadata and the cards' histories; every volume and folder is read back on its own."""
    from .ltfs_read import read_ltfs
    close_folders(dests, job_files(manifest, cards))
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
        r = read_ltfs(dev, "verify", patterns=tops)
        result.readbacks[i] = r          # the catalog records it as this copy's verification
        wanted = {f.path for f in manifest.files if f.kind == "file" and f.status == "ok"}
        tape["verified"] = len([p for p in r.tape_files[0].verified if p in wanted])
        tape["failed"] = [{"path": f["path"], "reason": f["reason"]} for f in r.failed]
        if r.failed:
            tape["status"], tape["error"] = "failed", f"{len(r.failed)} file(s) failed read-back"
    expected = {f.path: f.hashes for f in manifest.files if f.status == "ok" and f.hashes}
    result.destinations = tapes + verify_folders(dests, expected, tuple(opts.algorithms))
    result.folders = [d.result for d in dests]


def _barcode(device: TapeDevice) -> str | None:
    try:
        return device.medium().barcode
    except LtoArchiveError:
        return None


def _add(session: LtfsSession, stream: RecordStream, entry: SourceEntry, rec: FileRecord, opts: WriteOptions,
         tracker: ProgressTracker, dests: list[FolderDestination] = (),  # type: ignore[assignment]
         blocks: list[dict[str, int]] | None = None) -> None:
    parts = entry.name.split("/")
    times = _times(entry.st)
    rec.partition = DATA_PARTITION
    if entry.kind == "dir":
        session.add_directory(parts, times)
        mirror_entry(dests, entry.name, entry.st)
        return
    if entry.kind == "symlink":
        rec.linkname = os.readlink(entry.path)
        session.add_symlink(parts, rec.linkname, times)
        mirror_entry(dests, entry.name, entry.st, rec.linkname)
        return
    if entry.kind == "special":
        rec.status, rec.message = SKIPPED, "not a regular file, folder or link"
        return

    copies: list[FolderFile] = []

    def write_member(raw, before, hasher):  # type: ignore[no-untyped-def]
        copies.extend(open_copies(dests, entry.name, before))
        return session.add_file(parts, raw, before.st_size, _times(before), feeding(hasher, copies))

    copied = copy_source_file(entry, rec, opts, tracker, write_member)
    if copied is None:
        return
    added = copied.extra
    rec.block, rec.offset = added.start_block, 0
    for per_volume, start in zip(blocks or [], added.start_blocks):
        if start is not None:
            per_volume[rec.path] = start
    hasher = copied.hasher

    def record_hashes() -> None:
        rec.hashes.update(hasher.hexdigests())
        session.set_hashes(added, rec.hashes)

    stream.call_after_hashing(record_hashes)
    check_copied(entry, rec, copied.copied, copied.size, copied.read_error, copied.before, zero_filled=False)
    if copies:
        good = rec.status == "ok"
        stream.call_after_hashing(lambda: [c.finish(good) for c in copies])


def _add_metadata(session: LtfsSession, manifest: Manifest, history: dict[str, bytes] | None = None) -> None:
    """The manifest, checksum lists, copy log (and the cards' ASC MHL) as files of the volume, hashed."""
    base = [META_DIR, manifest.session.session_id]
    times = times_now(now_ns())
    algorithms = tuple(manifest.session.algorithms)
    for path, data in (history or {}).items():
        added = session.add_bytes(path.split("/"), data, times)
        h = MultiHasher(algorithms)
        h.update(data)
        session.set_hashes(added, h.hexdigests())
    items = dict(manifest.checksum_lists())
    items["copy-log.txt"] = manifest.copy_log_text().encode("utf-8", "surrogateescape")
    items["manifest.json"] = manifest.to_json()
    algorithms = tuple(manifest.session.algorithms)
    for name, data in items.items():
        added = session.add_bytes(base + [name], data, times)
        h = MultiHasher(algorithms)
        h.update(data)
        session.set_hashes(added, h.hexdigests())


def _mark_unindexed(records: list[FileRecord], covered: int, exc: DeviceError) -> None:
    """After a device failure only what an index on tape describes is on the volume."""
    first = None
    for rec in records[covered:]:
        if rec.status in (UNREADABLE, SKIPPED, NOT_WRITTEN) or rec.kind != "file":
            continue
        if first is None:
            first = rec
        rec.status = LOST
        rec.message = ("the device failed before an index described this file: it is not on the volume "
                       f"({exc.message})")
    lost = (f"files from {first.path} on are not in the volume's index; every file before it is"
            if first is not None else "every file is in an index on the data partition, but the volume was not closed")
    exc.message = f"{exc.message} ({lost}; run 'lto-archive ltfs recover' before writing again)"
    exc.args = (exc.message,)


__all__ = ["write_ltfs"]
