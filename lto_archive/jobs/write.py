"""The write job: sources -> one TAR archive (one tape file) with hashes, manifest and copy log."""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..version import __version__
from ..errors import DeviceError, JobIncomplete, LtoArchiveError, UsageError
from ..formats.registry import get_format, names as format_names
from ..formats.tar_writer import TarWriter
from ..hashing import DEFAULT_ALGORITHMS, MultiHasher, parse_algorithms
from ..manifest import (CHANGED, COPY_LOG_MEMBER, LOST, MANIFEST_MEMBER, META_DIR, NOT_WRITTEN, OK,
                        READ_ERROR, SESSION_MEMBER, SKIPPED, UNREADABLE, FileRecord, Manifest,
                        SessionInfo, iso, utc_now)
from ..scan import SourceEntry, scan_sources
from ..streaming import DEFAULT_RECORD_SIZE, RecordStream, check_record_size
from ..tape import check_medium_writable
from ..tape.device import TapeDevice, WriteFlags
from . import mhl_job
from .folder_dest import (FolderDestination, FolderFile, FolderResult, close_folders, feeding, job_files,
                          mirror_entry, open_copies, verify_folders)
from .progress import CountingReader, ProgressCallback, ProgressTracker

TOOL = f"lto-archive {__version__}"
def formats() -> tuple[str, ...]:
    """Every format `write --format` takes: the tape-file formats, and LTFS."""
    return (*format_names(), "ltfs")


@dataclass
class WriteOptions:
    format: str = "tar"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    record_size: int = DEFAULT_RECORD_SIZE
    operator: str | None = None
    allow_old_generation: bool = False
    log_dir: Path | None = None          # where the copy log goes; None: nowhere but the tape
    device_name: str = ""                # how the user named the device, for the log
    chunk_size: int | None = None        # streaming buffer size (tests use small ones)
    verify: bool = False                 # read every destination back after writing (several destinations: on)
    index_every_bytes: int | None = 64 << 30   # LTFS: a data-partition index at least this often...
    index_every_seconds: float | None = 600.0  # ...and this often, so a crash loses at most that much

    def __post_init__(self) -> None:
        if self.format not in formats():
            raise UsageError(f"format {self.format!r} is not available yet; use one of {', '.join(formats())}",
                             format=self.format)
        self.algorithms = parse_algorithms(self.algorithms)
        check_record_size(self.record_size)


@dataclass
class WriteResult:
    """What the job did. `error` is set when the device failed part-way."""

    manifest: Manifest
    error: LtoArchiveError | None = None
    log_paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # warnings worth showing (e.g. an LTFS fallback index)
    destinations: list[dict[str, Any]] = field(default_factory=list)   # per tape / folder: what is proven
    folders: list[FolderResult] = field(default_factory=list)          # per folder: the files written, proven
    readbacks: dict[int, Any] = field(default_factory=dict)   # tape index -> its read-back (jobs.read.ReadResult)
    blocks: dict[int, dict[str, int]] = field(default_factory=dict)   # LTFS: tape index -> path -> its start block

    @property
    def files(self) -> list[FileRecord]:
        return [f for f in self.manifest.files if f.kind == "file"]

    @property
    def problems(self) -> list[FileRecord]:
        return [f for f in self.files if f.status != OK]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        if any(d.get("status") not in ("ok", None) for d in self.destinations):
            return "incomplete"
        return "incomplete" if self.problems else "ok"

    def for_destination(self, i: int) -> "WriteResult":
        """This result as tape destination `i` holds it: the same files at that tape's own positions."""
        import copy
        import dataclasses
        if i == 0 or i >= len(self.manifest.session.destinations):
            return self
        first, dest = self.manifest.session.destinations[0], self.manifest.session.destinations[i]
        m = copy.deepcopy(self.manifest)
        m.session.device, m.session.barcode = dest.get("device", ""), dest.get("barcode")
        m.session.tape_file, m.session.start_block = dest.get("tape_file"), dest.get("start_block")
        own = self.blocks.get(i)                   # LTFS: each volume's indexes move its blocks on
        lead = dest.get("lead", 0) - first.get("lead", 0)   # AXF: its own volume structures before the object
        for rec in m.files:
            if own is not None:
                rec.block = own.get(rec.path)
            elif rec.block is not None and first.get("start_block") is not None and dest.get("start_block") is not None:
                if rec.header_offset is not None:
                    rec.header_offset += lead          # a whole number of records: rec.offset stays
                rec.block = rec.block - first["start_block"] + dest["start_block"] + lead // m.session.record_size
            if rec.tape_file is not None:
                rec.tape_file = dest.get("tape_file")
        return dataclasses.replace(self, manifest=m)

    def raise_for_status(self) -> None:
        """Raise the device error, or JobIncomplete naming every file not copied cleanly."""
        if self.error is not None:
            raise self.error
        bad = [d for d in self.destinations if d.get("status") not in ("ok", None)]
        if bad and not self.problems:
            raise JobIncomplete("not every destination holds a proven copy: " + "; ".join(
                f"{d['destination']}: {d['status']}" + (f" ({d['error']})" if d.get("error") else "")
                + (f", {len(d['failed'])} file(s) failed" if d.get("failed") else "") for d in bad),
                destinations=[d["destination"] for d in bad])
        if self.problems:
            names = "; ".join(f"{f.path}: {f.status}{' (' + f.message + ')' if f.message else ''}"
                              for f in self.problems[:20])
            more = f" and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
            raise JobIncomplete(f"{len(self.problems)} file(s) not copied cleanly: {names}{more}",
                                files=[f.path for f in self.problems])


def _new_session_id() -> str:
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _metadata_reserve(entries: int, algorithms: int, record_size: int) -> int:
    """Room kept for the manifest, checksum lists and copy log at the end."""
    return 64 * 1024 + entries * (700 + 160 * algorithms) + 2 * record_size


def new_session_info(opts: WriteOptions, sources: list[str | Path], device: TapeDevice, medium: Any,
                     tape_file: int | None, partition: int | None, block: int | None, started: Any) -> SessionInfo:
    return SessionInfo(
        session_id=_new_session_id(), tool=TOOL, format=opts.format, algorithms=list(opts.algorithms),
        record_size=opts.record_size, operator=opts.operator or getpass.getuser(), host=socket.gethostname(),
        sources=[str(Path(s).resolve()) for s in sources], device=opts.device_name or device.name,
        barcode=medium.barcode, generation=medium.generation.name, tape_file=tape_file,
        partition=partition, start_block=block, started=iso(started))


def prepare_medium(device: TapeDevice, allow_old: bool) -> None:
    """Refuse before writing anything: write-protected, or a generation we must not write."""
    check_medium_writable(device.medium(), allow_old=allow_old)


def write_archive(sources: list[str | Path], device: TapeDevice | Sequence[TapeDevice],
                  options: WriteOptions | None = None, progress: ProgressCallback | None = None,
                  folders: Sequence[str | Path] = ()) -> WriteResult:
    """Append one archive session to the tape(s), copy to the folders, and say what happened to every file.

    The sources are read once and fanned out: every tape gets the same tape
    file (one RecordStream, a writer thread per drive), every folder a copy fed
    from the same buffers. A destination that fails is dropped and reported;
    the others go on. Preconditions (devices, media, sources, room on the
    folders) raise before anything is written. Per-file problems (unreadable,
    changed while read, no room) and device failures part-way are reported in
    the result, never hidden; call `raise_for_status()` to turn them into an
    exception. With `options.verify` (the default for several destinations)
    each destination is read back and proven on its own.
    """
    opts = options or WriteOptions()
    devices = [device] if isinstance(device, TapeDevice) else list(device)
    if not devices:
        raise UsageError("a write job needs at least one tape device")
    dests = [FolderDestination(f) for f in folders]
    if opts.format == "ltfs":
        from .ltfs_write import write_ltfs
        return write_ltfs(sources, devices, opts, progress, folders=list(folders))
    for dev in devices:
        prepare_medium(dev, opts.allow_old_generation)
    entries = scan_sources(list(sources))
    cards, entries, algorithms = mhl_job.prepare(list(sources), entries, tuple(opts.algorithms))
    opts.algorithms = algorithms   # what the cards' ASC MHL histories need to be verified, too
    fmt = get_format(opts.format)
    if fmt.preflight is not None:
        fmt.preflight(entries)      # refuse what the format cannot hold, before anything is written
    total_bytes = sum(e.size for e in entries if e.kind == "file")
    for d in dests:
        d.check_space(total_bytes)
    device = devices[0]
    medium = device.medium()

    starts = []
    for dev in devices:
        dev.locate(dev.partitions - 1, 0)   # TAR goes to the last (data) partition
        dev.seek_eod()
        starts.append(dev.position())
    pos = starts[0]
    remaining = min(dev.medium().remaining for dev in devices)
    rs = opts.record_size
    started = utc_now()
    session = new_session_info(opts, sources, device, medium, pos.file_number, pos.partition, pos.block, started)
    records: list[FileRecord] = []
    manifest = Manifest(session, records)
    tracker = ProgressTracker("write", progress, total_bytes, sum(1 for e in entries if e.kind == "file"))
    reserve = _metadata_reserve(len(entries), len(opts.algorithms), rs)
    session.destinations = [{"kind": "tape", "device": getattr(d, "name", ""), "barcode": d.medium().barcode,
                             "tape_file": p.file_number, "partition": p.partition, "start_block": p.block}
                            for d, p in zip(devices, starts)] + [{"kind": "folder", "destination": str(f.root)}
                                                                 for f in dests]
    for d in dests:
        d.open()

    chunk_kw = {"chunk_size": opts.chunk_size} if opts.chunk_size else {}
    stream = RecordStream(devices, rs, **chunk_kw)
    writer = fmt.writer(stream, session=session)
    if hasattr(writer, "plan"):
        writer.plan(entries)      # formats that list the files up front (AXF object header)
    error: LtoArchiveError | None = None
    stopped: str | None = None  # why the remaining files were not taken
    ends: dict[int, int] = {}   # id(record) -> tape-file offset just past its member
    meta: dict[str, bytes] = {}  # manifest, checksum lists, copy log: on tape and in every folder
    try:
        session_doc = {"format": "lto-archive-session", "version": 1, "session_id": session.session_id,
                       "algorithms": session.algorithms, "record_size": rs, "tool": TOOL,
                       "started": session.started, "operator": session.operator, "host": session.host,
                       "sources": session.sources}
        writer.add_bytes(SESSION_MEMBER, json.dumps(session_doc, indent=1).encode(), time.time_ns())
        for entry in entries:
            rec = FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(entry.st.st_mtime),
                             mode=entry.st.st_mode & 0o7777, source=str(entry.path))
            records.append(rec)
            if stopped:
                rec.status, rec.message = NOT_WRITTEN, stopped
                continue
            if stream.flags & (WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING):
                stopped = "the cartridge reached its early-warning zone: closed the archive, not written"
                rec.status, rec.message = NOT_WRITTEN, stopped
                continue
            need = fmt.member_overhead(entry.name, entry.size, rs) + entry.size
            if stream.device_offset + need + reserve > remaining:
                stopped = "no room left on this cartridge: not written"
                rec.status, rec.message = NOT_WRITTEN, stopped
                continue
            _add_entry(writer, stream, entry, rec, opts, tracker, _place(rec, pos, rs), dests)
            ends[id(rec)] = stream.offset
        # the tape describes itself: manifest, checksum lists and copy log as last members
        stream.flush_hashes()
        mhl_job.finish(cards, manifest)      # ingest check against the cards' histories, new generations
        _close_session(session, records, started, tracker)
        now = time.time_ns()
        for card in cards:
            meta.update(card.tape_members())
        meta.update((f"{META_DIR}/{name}", data) for name, data in manifest.checksum_lists().items())
        meta[COPY_LOG_MEMBER] = manifest.copy_log_text().encode("utf-8", "surrogateescape")
        for dest, lead in zip(session.destinations, getattr(writer, "leads", ())):
            if lead:
                dest["lead"] = lead    # AXF: where the shared object bytes start in this tape's tape file
        meta[MANIFEST_MEMBER] = manifest.to_json()
        for name, data in meta.items():
            writer.add_bytes(name, data, now)
        writer.close()
        stream.close()
        for st in stream.live_devices:
            try:
                st.device.write_filemarks(1)   # the commit point: the archive is complete on this tape
            except DeviceError as exc:
                st.error = exc
        stream.check()
    except DeviceError as exc:
        stream.abort()
        error = exc
        on_tape = max((s.records_written for s in stream.status), default=0) * rs
        _mark_lost(records, ends, on_tape, exc)
    tracker.finish()
    _close_session(session, records, started, tracker, failed=error is not None)
    close_folders(dests, job_files(manifest, cards))
    result = WriteResult(manifest, error)
    result.notes.extend(n for card in cards for n in card.notes)
    result.destinations = _destination_results(stream, starts, dests, error)
    result.folders = [d.result for d in dests]
    if opts.verify or len(devices) + len(dests) > 1:
        _verify_destinations(result, devices, stream, dests, opts)
    if opts.log_dir is not None:
        result.log_paths = write_copy_log(manifest, opts.log_dir)
    return result


def _destination_results(stream: RecordStream, starts: list[Any], dests: list[FolderDestination],
                         error: LtoArchiveError | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for st, p in zip(stream.status, starts):
        med = None
        try:
            med = st.device.medium().barcode
        except LtoArchiveError:
            pass
        err = st.error if st.error is not None else error
        out.append({"kind": "tape", "destination": med or getattr(st.device, "name", "tape"),
                    "device": getattr(st.device, "name", ""), "tape_file": p.file_number, "start_block": p.block,
                    "status": "failed" if err is not None else "ok",
                    "error": (getattr(err, "message", None) or str(err)) if err is not None else "",
                    "verified": None, "failed": []})
    for d in dests:
        out.append(d.result.to_dict())
    return out


def _verify_destinations(result: WriteResult, devices: list[TapeDevice], stream: RecordStream,
                         dests: list[FolderDestination], opts: WriteOptions) -> None:
    """Read every destination back on its own: per destination, per file, what is proven."""
    from .read import verify_tape
    for i, (info, st) in enumerate(zip(result.destinations, stream.status)):
        if info["status"] == "failed" or info["tape_file"] is None:
            continue
        try:
            r = verify_tape(st.device, tape_files=[info["tape_file"]])
        except LtoArchiveError as exc:
            info.update(status="failed", error=exc.message)
            continue
        result.readbacks[i] = r
        t = r.tape_files[0]
        info["verified"] = len(t.verified)
        info["failed"] = [{"path": f["path"], "reason": f["reason"]} for f in t.failed]
        if t.failed or t.error is not None:
            info["status"] = "failed"
            info["error"] = t.error.message if t.error is not None else f"{len(t.failed)} file(s) failed read-back"
    expected = {r.path: r.hashes for r in result.files if r.status == OK and r.hashes}
    result.destinations[len(stream.status):] = verify_folders(dests, expected, tuple(opts.algorithms))


def _place(rec: FileRecord, pos, rs: int):  # type: ignore[no-untyped-def]
    """A function that records a member's header position on `rec`."""
    def place(header_offset: int) -> None:
        rec.tape_file, rec.partition = pos.file_number, pos.partition
        rec.header_offset = header_offset
        rec.block = pos.block + header_offset // rs
        rec.offset = header_offset % rs
    return place


def _add_entry(writer: TarWriter, stream: RecordStream, entry: SourceEntry, rec: FileRecord,
               opts: WriteOptions, tracker: ProgressTracker, place,  # type: ignore[no-untyped-def]
               dests: list[FolderDestination] = ()) -> None:  # type: ignore[assignment]
    if entry.kind == "dir":
        place(writer.add_directory(entry.name, entry.st))
        mirror_entry(dests, entry.name, entry.st)
        return
    if entry.kind == "symlink":
        rec.linkname = os.readlink(entry.path)
        place(writer.add_symlink(entry.name, rec.linkname, entry.st))
        mirror_entry(dests, entry.name, entry.st, rec.linkname)
        return
    if entry.kind == "special":
        rec.status, rec.message = SKIPPED, "not a regular file, folder or link"
        return
    copies: list[FolderFile] = []

    def write_member(raw, before, hasher):  # type: ignore[no-untyped-def]
        copies.extend(open_copies(dests, entry.name, before))
        return writer.add_file(entry.name, raw, before, feeding(hasher, copies))

    placement = copy_source_file(entry, rec, opts, tracker, write_member)
    if placement is None:
        return
    place(placement.header_offset)
    stream.call_after_hashing(lambda: rec.hashes.update(placement.hasher.hexdigests()))
    check_copied(entry, rec, placement.copied, placement.size, placement.read_error, placement.before)
    if copies:
        good = rec.status == OK
        stream.call_after_hashing(lambda: [c.finish(good) for c in copies])


@dataclass
class Copied:
    """What a format's writer did with one source file (see copy_source_file)."""

    copied: int
    size: int
    read_error: OSError | None
    before: os.stat_result
    hasher: MultiHasher
    header_offset: int = 0
    extra: Any = None


def copy_source_file(entry: SourceEntry, rec: FileRecord, opts: WriteOptions, tracker: ProgressTracker,
                     write_member: Callable[[Any, os.stat_result, MultiHasher], Any]) -> Copied | None:
    """Open a source file safely and hand it to a format's writer; None when it cannot be opened.

    `write_member(reader, stat_before, hasher)` streams the bytes and returns an
    object with `copied`, `size`, `read_error` (and, for TAR, `header_offset`).
    """
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        rec.status, rec.message = UNREADABLE, f"cannot open: {exc.strerror}"
        tracker.file_done()
        return None
    with open(fd, "rb", buffering=0) as raw:
        before = os.fstat(fd)
        rec.size = before.st_size
        rec.mtime = iso(before.st_mtime)
        tracker.file_started(entry.name)
        hasher = MultiHasher(opts.algorithms)
        out = write_member(CountingReader(raw, tracker), before, hasher)
    tracker.file_done()
    return Copied(out.copied, out.size, out.read_error, before, hasher,
                  getattr(out, "header_offset", 0), out)


def check_copied(entry: SourceEntry, rec: FileRecord, copied: int, size: int, read_error: OSError | None,
                 before: os.stat_result, *, zero_filled: bool = True) -> None:
    """Set READ_ERROR or CHANGED when the bytes taken are not the file as it stands."""
    if read_error is not None:
        rec.status = READ_ERROR
        rest = "rest filled with zeros on tape" if zero_filled else "only that part is on tape"
        rec.message = f"read failed after {copied} of {size} bytes: {read_error.strerror}; {rest}"
        return
    try:
        after = os.stat(entry.path, follow_symlinks=False)
    except OSError:
        after = None
    if (copied != size or after is None or after.st_size != before.st_size
            or after.st_mtime_ns != before.st_mtime_ns):
        rec.status = CHANGED
        rec.message = ("changed while it was read (size or modification time differ): "
                       "copy it again once it is stable")


def _mark_lost(records: list[FileRecord], ends: dict[int, int], on_tape: int, exc: DeviceError) -> None:
    """After a device failure: only members whose last byte reached a written record stay good.

    `ends` maps id(record) to the tape-file offset just past the member;
    `on_tape` is how many bytes of the tape file the device took.
    """
    first_lost: FileRecord | None = None
    for rec in records:
        end = ends.get(id(rec))
        if end is not None and end <= on_tape:
            continue
        if rec.status in (UNREADABLE, SKIPPED, NOT_WRITTEN):
            continue
        # a file is lost when some of it went out: it has an end, or it is the one being written
        if first_lost is None and rec.kind == "file" and (end is not None or rec is records[-1]):
            first_lost = rec
            rec.status, rec.message = LOST, f"the device failed while writing this file: {exc.message}"
        else:
            rec.status, rec.message = NOT_WRITTEN, "the device failed before this file"
    if first_lost is not None:
        exc.message = f"{exc.message} (while writing {first_lost.path}; every file before it is complete on tape)"
        exc.args = (exc.message,)
        exc.data.setdefault("file", first_lost.path)


def _close_session(session: SessionInfo, records: list[FileRecord], started, tracker: ProgressTracker,
                   failed: bool = False) -> None:  # type: ignore[no-untyped-def]
    files = [r for r in records if r.kind == "file"]
    now = utc_now()
    session.finished = iso(now)
    # a volume of a span set: its own time and the bytes of its parts (a split file's record has the whole size)
    session.duration_s = round((now - started).total_seconds() if session.span else tracker.elapsed, 3)
    session.files = sum(1 for r in files if r.status in (OK, CHANGED, READ_ERROR))
    session.bytes_copied = sum(r.part["length"] if r.part else r.size
                               for r in files if r.status in (OK, CHANGED, READ_ERROR))
    session.mb_per_s = round(session.bytes_copied / 1e6 / session.duration_s, 1) if session.duration_s else 0.0
    problems = sum(1 for r in files if r.status != OK)
    session.status = "failed" if failed else ("incomplete" if problems else "ok")


def write_copy_log(manifest: Manifest, log_dir: Path) -> list[Path]:
    """The copy log next to the job: the manifest as JSON and the printable text."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    base = log_dir / manifest.session.session_id
    paths = [base.with_suffix(".json"), base.with_suffix(".log")]
    paths[0].write_bytes(manifest.to_json())
    paths[1].write_text(manifest.copy_log_text(), encoding="utf-8", errors="surrogateescape")
    return paths
