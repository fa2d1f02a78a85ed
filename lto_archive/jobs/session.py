"""The write session's lifecycle, shared by every write path (tape file, LTFS volume, LTFS mount, span set).

One session: options (`WriteOptions`) -> a `SessionInfo` (`new_session_info`, `new_session_id`)
-> each source taken safely (`new_record`, `copy_source_file`, `check_copied`) and placed on tape
(`placer`) -> after a device failure, the files lost (`mark_lost` for tape files, `mark_unindexed`
for LTFS volumes) -> `close_session` (times, counts, status) -> `write_copy_log` next to the job.
The result is a `WriteResult` whichever target took the session. `metadata_reserve` is the room a
session keeps at its end for its manifest, checksum lists and copy log.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from datetime import datetime

from ..errors import DeviceError, Interrupted, JobIncomplete, LtoArchiveError, UsageError
from ..formats.registry import write_format_names
from ..formats.ltfs.session import DEFAULT_INDEX_EVERY_BYTES
from ..fsutil import atomic_write
from ..interrupts import interrupted_message
from ..hashing import DEFAULT_ALGORITHMS, MultiHasher, parse_algorithms
from ..problems import summarise
from ..manifest import (CHANGED, LOST, NOT_WRITTEN, OK, READ_ERROR, SKIPPED, UNREADABLE, FileRecord, Manifest,
                        SessionInfo, iso, utc_now)
from ..scan import SourceEntry, scan_sources
from ..streaming import DEFAULT_RECORD_SIZE, RecordStream, check_record_size
from ..tape import check_medium_writable
from ..tape.device import TapeDevice, WriteFlags
from ..version import __version__
from . import mhl_job
from .folder_dest import FolderDestination, FolderResult, FolderFile, feeding, mirror_entry, open_copies, probe_folder
from ..progress import CountingReader, ProgressCallback, ProgressTracker

TOOL = f"lto-archive {__version__}"


def formats() -> tuple[str, ...]:
    """Every format `write --format` takes: the tape-file formats, and the volume layouts (LTFS)."""
    return write_format_names()


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
    verify: bool = True                  # read every destination back after writing (False: --no-verify)
    index_every_bytes: int | None = DEFAULT_INDEX_EVERY_BYTES   # LTFS: a data-partition index at least this often...
    index_every_seconds: float | None = 600.0  # ...and this often, so a crash loses at most that much
    production: str = ""                 # write --production: in the copy log when given
    queue_job: int | None = None         # the queued job this write is (api/queue.py): the catalog knows it by it
    paperwork: bool = True               # the session's paperwork .7z on tape (jobs/session_evidence.py)
    paperwork_password: str | None = field(default=None, repr=False)   # ...AES-256 encrypted with it
    custody_anchor: dict[str, Any] | None = None   # the catalog chain's head at the start {seq, sha256} (docs/custody.md)

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
    interrupted: int | None = None   # the signal that stopped the job at a file boundary (SIGINT, SIGTERM)
    log_error: str = ""              # the copy log could not be written next to the job (keep_copy_log)
    custody_record: dict[str, Any] | None = None   # its on-tape custody record's head (session_evidence.record_head)

    @property
    def files(self) -> list[FileRecord]:
        return [f for f in self.manifest.files if f.kind == "file"]

    @property
    def problems(self) -> list[FileRecord]:
        return [f for f in self.manifest.files if f.kind == "file" and f.status != OK]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        if self.interrupted is not None:
            return "interrupted"
        if any(d.get("status") not in ("ok", "written", None) for d in self.destinations):
            return "incomplete"
        return "incomplete" if self.problems or self.log_error else "ok"

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
        for k, rec in enumerate(m.files):
            if own is not None:
                rec.block = own.get(rec.path)
            elif rec.block is not None and first.get("start_block") is not None and dest.get("start_block") is not None:
                if rec.header_offset is not None:
                    rec.header_offset += lead          # a whole number of records: rec.offset stays
                rec.block = rec.block - first["start_block"] + dest["start_block"] + lead // m.session.record_size
            if rec.tape_file is not None:
                rec.tape_file = dest.get("tape_file")
            m.files[k] = rec       # (records on disk: a change is kept by writing it back)
        return dataclasses.replace(self, manifest=m)

    def raise_for_status(self) -> None:
        """Raise the device error, or JobIncomplete naming every file not copied cleanly."""
        if self.error is not None:
            raise self.error
        if self.interrupted is not None:
            raise Interrupted(interrupted_message(self.interrupted, self.files), self.interrupted)
        bad = [d for d in self.destinations if d.get("status") not in ("ok", "written", None)]
        if bad and not self.problems:
            raise JobIncomplete("not every destination holds a proven copy: " + "; ".join(
                f"{d['destination']}: {d['status']}" + (f" ({d['error']})" if d.get("error") else "")
                + (f", {len(d['failed'])} file(s) failed" if d.get("failed") else "") for d in bad),
                destinations=[d["destination"] for d in bad])
        if self.problems:
            why = summarise((f.path, f"{f.status}{': ' + f.message if f.message else ''}") for f in self.problems)
            raise JobIncomplete(f"{len(self.problems)} file(s) not copied cleanly: {why}",
                                files=[f.path for f in self.problems])
        if self.log_error:
            raise JobIncomplete(self.log_error)


def new_session_id() -> str:
    """A session's id: its start time (UTC) and 8 random hex digits."""
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def metadata_reserve(entries: int, algorithms: int, record_size: int) -> int:
    """Room kept for the manifest, checksum lists and copy log at the end."""
    return 64 * 1024 + entries * (700 + 160 * algorithms) + 2 * record_size


def new_session_info(opts: WriteOptions, sources: list[str | Path], device: TapeDevice, medium: Any,
                     tape_file: int | None, partition: int | None, block: int | None, started: Any) -> SessionInfo:
    return SessionInfo(
        session_id=new_session_id(), tool=TOOL, format=opts.format, algorithms=list(opts.algorithms),
        record_size=opts.record_size, operator=opts.operator or getpass.getuser(), host=socket.gethostname(),
        sources=[str(Path(s).resolve()) for s in sources], device=opts.device_name or device.name,
        barcode=medium.barcode, generation=medium.generation.name, tape_file=tape_file,
        partition=partition, start_block=block, started=iso(started), production=opts.production,
        queue_job=opts.queue_job)


def prepare_medium(device: TapeDevice, allow_old: bool) -> None:
    """Refuse before writing anything: write-protected, or a generation we must not write."""
    check_medium_writable(device.medium(), allow_old=allow_old)


def session_document(session: SessionInfo, session_id: str | None = None, **extra: Any) -> bytes:
    """`.lto-archive/session.json`, the first member of a tape file: who wrote what, how."""
    doc = {"format": "lto-archive-session", "version": 1, "session_id": session_id or session.session_id,
           "algorithms": session.algorithms, "record_size": session.record_size, "tool": TOOL,
           "started": session.started, "operator": session.operator, "host": session.host,
           "sources": session.sources, **extra}
    return json.dumps(doc, indent=1).encode()


def new_record(entry: SourceEntry) -> FileRecord:
    """A source entry's record in the manifest, before anything is written."""
    mode, mtime = entry.mode_mtime()
    return FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(mtime),
                      mode=mode & 0o7777, source=entry.source)


def settled(rec: FileRecord) -> bool:
    """A record the job will not change any more in its normal course (its hashes are in, or it has none to
    wait for): record_file.SpooledRecords may put it on disk."""
    return rec.kind != "file" or bool(rec.hashes) or rec.status in (UNREADABLE, SKIPPED, NOT_WRITTEN)


def placer(rec: FileRecord, pos, rs: int):  # type: ignore[no-untyped-def]
    """A function that records a member's position in its tape file on `rec`: given the header
    offset, or what a tape-file writer's `add_*` returned (an offset, or a placement that has one)."""
    def place(where: Any) -> None:
        header_offset = where if isinstance(where, int) else where.header_offset
        rec.tape_file, rec.partition = pos.file_number, pos.partition
        rec.header_offset = header_offset
        rec.block = pos.block + header_offset // rs
        rec.offset = header_offset % rs
    return place


def add_entry(writer: Any, stream: RecordStream, entry: SourceEntry, rec: FileRecord,
              opts: WriteOptions, tracker: ProgressTracker, place: Callable[[Any], None],
              dests: Sequence[FolderDestination] = (), *, zero_filled: bool = True,
              on_hashes: Callable[[Any, dict[str, str]], None] | None = None) -> None:
    """One source entry through a FormatWriter (and into every folder): `place(what add_* returned)`
    says where it went; a file's hashes reach `rec` (and `on_hashes(its placement, hashes)`, e.g. an
    LTFS index) once the hash thread has them. `zero_filled`: what the format keeps of a source that
    fails part-way (TAR: its full size, the rest zeros; LTFS: the part that was read)."""
    dests = list(dests)
    if entry.kind == "dir":
        place(writer.add_directory(entry.name, entry.st))
        mirror_entry(dests, entry.name, entry.st)
        return
    if entry.kind == "symlink":
        rec.linkname = os.readlink(entry.source)
        place(writer.add_symlink(entry.name, rec.linkname, entry.st))
        mirror_entry(dests, entry.name, entry.st, rec.linkname)
        return
    if entry.kind == "special":
        rec.status, rec.message = SKIPPED, "not a regular file, folder or link"
        return
    copies: list[FolderFile] = []

    def write_member(raw, before, hasher):  # type: ignore[no-untyped-def]
        if not dests:             # no folder: the hasher itself takes the bytes
            return writer.add_file(entry.name, raw, before, hasher)
        copies.extend(open_copies(dests, entry.name, before))
        return writer.add_file(entry.name, raw, before, feeding(hasher, copies))

    placement = copy_source_file(entry, rec, opts, tracker, write_member)
    if placement is None:
        return
    place(placement.extra)

    def record_hashes() -> None:
        rec.hashes.update(placement.hasher.hexdigests())
        if on_hashes is not None:
            on_hashes(placement.extra, rec.hashes)

    stream.call_after_hashing(record_hashes)
    check_copied(entry, rec, placement.copied, placement.size, placement.read_error, placement.before,
                 zero_filled=zero_filled)
    if copies:
        stream.call_after_hashing(finishing(copies, rec.status == OK))


def finishing(copies: list[FolderFile], good: bool) -> Callable[[], None]:
    """A task for the hash thread: close a file's folder copies, kept only when the file is good."""
    def finish() -> None:
        for c in copies:
            c.finish(good)
    return finish


class SourceFile:
    """A source file open for reading, as every format's writer reads it: `readinto` and `fileno` on its
    descriptor (no io.FileIO, whose own fstat and set-up cost a small file ~2 us more)."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def readinto(self, buf: Any) -> int:
        return os.readv(self.fd, (buf,))

    def fileno(self) -> int:
        return self.fd


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
        fd = os.open(entry.source, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        rec.status, rec.message = UNREADABLE, f"cannot open: {exc.strerror}"
        tracker.file_done()
        return None
    try:
        before = os.fstat(fd)
        rec.size = before.st_size
        rec.mtime = iso(before.st_mtime)
        tracker.file_started(entry.name)
        hasher = MultiHasher(opts.algorithms)
        out = write_member(CountingReader(SourceFile(fd), tracker), before, hasher)
    finally:
        os.close(fd)
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
        after = os.stat(entry.source, follow_symlinks=False)
    except OSError:
        after = None
    if (copied != size or after is None or after.st_size != before.st_size
            or after.st_mtime_ns != before.st_mtime_ns):
        rec.status = CHANGED
        rec.message = ("changed while it was read (size or modification time differ): "
                       "copy it again once it is stable")


def mark_lost(records: Sequence[FileRecord], ends: dict[int, int] | Sequence[int], on_tape: int,
              exc: DeviceError) -> None:
    """After a device failure: only members whose last byte reached a written record stay good.

    `ends` maps id(record) to the tape-file offset just past the member, or is a sequence of those
    offsets aligned with `records` (-1, or past its end: none; `array('q')`, 8 bytes a file);
    `on_tape` is how many bytes of the tape file the device took.
    """
    first_lost: FileRecord | None = None
    last = len(records) - 1
    for i, rec in enumerate(records):
        end = end_of(ends, i, rec)
        if end is not None and end <= on_tape:
            continue
        if rec.status in (UNREADABLE, SKIPPED, NOT_WRITTEN):
            continue
        # a file is lost when some of it went out: it has an end, or it is the one being written
        if first_lost is None and rec.kind == "file" and (end is not None or i == last):
            first_lost = rec
            rec.status, rec.message = LOST, f"the device failed while writing this file: {exc.message}"
        else:
            rec.status, rec.message = NOT_WRITTEN, "the device failed before this file"
        if not isinstance(records, list):
            records[i] = rec       # type: ignore[index]   # records on disk (record_file.py): kept so
    if first_lost is not None:
        exc.message = f"{exc.message} (while writing {first_lost.path}; every file before it is complete on tape)"
        exc.args = (exc.message,)
        exc.data.setdefault("file", first_lost.path)


def end_of(ends: dict[int, int] | Sequence[int], i: int, rec: FileRecord) -> int | None:
    """Where record `i` (`rec`) ends in its tape file, from either form of `ends` (see mark_lost)."""
    if isinstance(ends, dict):
        return ends.get(id(rec))
    end = ends[i] if i < len(ends) else -1
    return end if end >= 0 else None


def mark_unindexed(records: Sequence[FileRecord], covered: int, exc: DeviceError) -> None:
    """After a device failure only what an index on tape describes is on the volume."""
    first = None
    for i in range(covered, len(records)):
        rec = records[i]
        if rec.status in (UNREADABLE, SKIPPED, NOT_WRITTEN) or rec.kind != "file":
            continue
        if first is None:
            first = rec
        rec.status = LOST
        rec.message = ("the device failed before an index described this file: it is not on the volume "
                       f"({exc.message})")
        records[i] = rec       # type: ignore[index]   # (records on disk, record_file.py: kept by writing it back)
    lost = (f"files from {first.path} on are not in the volume's index; every file before it is"
            if first is not None else "every file is in an index on the data partition, but the volume was not closed")
    exc.message = f"{exc.message} ({lost}; run 'lto-archive ltfs recover' before writing again)"
    exc.args = (exc.message,)


def close_session(session: SessionInfo, records: Sequence[FileRecord], started: datetime, tracker: ProgressTracker,
                   failed: bool = False) -> None:
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
    """The copy log next to the job: the manifest as JSON and the printable text. A log folder that
    fails now (full, gone) is JobIncomplete naming it: the session is on tape already (use
    `keep_copy_log` to say it in the job's result instead)."""
    log_dir = Path(log_dir)
    base = log_dir / manifest.session.session_id
    paths = [base.with_suffix(".json"), base.with_suffix(".log")]
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(paths[0], manifest.json_chunks())
        atomic_write(paths[1], manifest.copy_log_chunks())
    except OSError as exc:
        raise JobIncomplete(f"the copy log of session {manifest.session.session_id} could not be written in the "
                            f"log folder {log_dir}: {exc.strerror}; the session is on tape (its copy-log member "
                            f"holds the same)", log_dir=str(log_dir), errno=exc.errno) from None
    return paths


def say_full(tapes: list[dict[str, Any]], records: Sequence[FileRecord]) -> None:
    """The cartridge filled up (no room, or the early-warning zone): each tape's line says so, never a bare
    "ok" under files not written (tape-file and LTFS jobs alike)."""
    left = sum(1 for r in records if r.kind == "file" and r.status == NOT_WRITTEN)
    for info in tapes:
        if info["status"] in ("ok", "written"):
            proven = "proven" if info["status"] == "ok" else "written"
            info["status"] = "full"
            info["error"] = (f"the cartridge is full: what is on it is {proven}; {left} file(s) did not fit and "
                             f"were not written (write them to another cartridge, or use --span to go on "
                             f"across cartridges)")


def not_reached(records: Sequence[FileRecord], seen: set[str], error: LtoArchiveError) -> list[dict[str, str]]:
    """The files written well that a read-back stopped by `error` did not reach: not proven, each named."""
    return [{"path": r.path, "reason": f"not proven: the read-back stopped before it ({error.message})"}
            for r in records if r.status == OK and r.kind == "file" and r.path not in seen]


def keep_copy_log(result: "WriteResult", manifest: Manifest, log_dir: Path | None) -> None:
    """The copy log next to the job; a log folder that fails at this point is said in the result (its
    status is then not ok), never raised, so what the job did still reaches the catalog."""
    if log_dir is None:
        return
    try:
        result.log_paths = write_copy_log(manifest, log_dir)
    except JobIncomplete as exc:
        result.log_error = exc.message


def check_log_dir(log_dir: Path | None) -> None:
    """Before anything is written: the log folder exists (or is made) and takes a file."""
    if log_dir is None:
        return
    try:
        probe_folder(Path(log_dir))
    except OSError as exc:
        raise UsageError(f"cannot write the job journal in the log folder {log_dir}: {exc.strerror} (give a "
                         f"writable --log-dir); nothing was written", path=str(log_dir)) from None


@dataclass
class JobPlan:
    """A write job before anything is written: what it takes, the cards' histories, the folders."""

    entries: list[SourceEntry]
    cards: list[Any]                     # jobs.mhl_job.CardHistory, one per source card
    dests: list[FolderDestination]
    total_bytes: int

    @property
    def files(self) -> int:
        return sum(1 for e in self.entries if e.kind == "file")

    def tracker(self, progress: ProgressCallback | None) -> ProgressTracker:
        return ProgressTracker("write", progress, self.total_bytes, self.files)

    def notes(self) -> list[str]:
        return [n for card in self.cards for n in card.notes]


def plan_job(sources: list[str | Path], opts: WriteOptions, fmt: Any, folders: Sequence[str | Path] = ()) -> JobPlan:
    """Scan the sources, read the cards' histories (widening `opts.algorithms` to what they need),
    let the format refuse what it cannot hold, and check the folders have room: every precondition
    raises here, before anything is written."""
    check_log_dir(opts.log_dir)
    entries = scan_sources(list(sources))
    cards, entries, algorithms = mhl_job.prepare(list(sources), entries, tuple(opts.algorithms))
    opts.algorithms = algorithms   # what the cards' ASC MHL histories need to be verified, too
    if fmt.preflight is not None:
        fmt.preflight(entries)      # refuse what the format cannot hold, before anything is written
    total = sum(e.size for e in entries if e.kind == "file")
    dests = [FolderDestination(f) for f in folders]
    for d in dests:
        d.check_space(total)
    return JobPlan(entries, cards, dests, total)


NOT_READ_BACK = "written"    # a destination written without fault that nothing read back: never "ok"


def mark_not_read_back(destinations: list[dict[str, Any]]) -> None:
    """Destinations written without fault but not read back (asked not to, or a device that keeps nothing)
    say so: status "written", never "ok"."""
    for d in destinations:
        if d.get("status") == "ok":
            d.update(status=NOT_READ_BACK, verified=False)


def tape_devices(device: TapeDevice | Sequence[TapeDevice]) -> list[TapeDevice]:
    """One device or several, as a list; a job needs at least one."""
    devices = [device] if isinstance(device, TapeDevice) else list(device)
    if not devices:
        raise UsageError("a write job needs at least one tape device")
    return devices


_WARNINGS = int(WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING)


def early_warning(stream: RecordStream) -> bool:
    """The drive reported (programmable) early warning: the cartridge is near its end (asked once per
    file: plain int arithmetic, not the enum's)."""
    return bool(int(stream.flags) & _WARNINGS)


def stop_reason(stream: RecordStream, fits: bool, what: str,
                no_room: str = "no room left on this cartridge: not written") -> str | None:
    """Why the job takes no more members: the next does not fit, or the drive warned of the end.

    The room check comes first: it depends only on what the job handed the drive, while the early
    warning depends on how far the drive's writer thread has got, so a member that does not fit is
    always said to be "no room", whatever the timing."""
    if not fits:
        return no_room
    if early_warning(stream):
        return f"the cartridge reached its early-warning zone: closed the {what}, not written"
    return None
