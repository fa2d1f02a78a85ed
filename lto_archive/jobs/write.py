"""The write job: sources -> one archive session (one tape file) on every tape, a copy in every folder.

The lifecycle is jobs/session.py's: plan (scan, cards, format preflight, folder room) -> stream (one
RecordStream to every drive, folders fed from the same buffers) -> commit point (the archive's end
and a filemark on each tape) -> close (manifest, checksum lists, copy log as the last members) ->
read back (every destination on its own) -> record (the copy log next to the job). A format that
is a volume layout (LTFS) appends its session through jobs/ltfs_write.py instead.
"""

from __future__ import annotations

import time
from array import array
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from ..errors import DeviceError, EndOfMedium, LtoArchiveError, UsageError
from ..formats.registry import FormatWriter, get_format, write_format
from ..manifest import (COPY_LOG_MEMBER, MANIFEST_MEMBER, META_DIR, NOT_WRITTEN, OK, SESSION_MEMBER, FileRecord,
                        Manifest, utc_now)
from ..record_file import SpooledRecords
from ..scan import SourceEntry
from ..streaming import RecordStream
from ..tape.device import TapeDevice
from . import mhl_job, session_evidence
from .folder_dest import FolderDestination, close_folders, job_files, verify_folders
from .append import append_point
from .engine import WriteJob, run
from .journal import JobJournal
from .spool import SessionFiles, add_member
from .room import MetadataBudget, padded_cost, stream_charge
from ..progress import ProgressCallback
from .session import (TOOL, Copied, JobPlan, WriteOptions, WriteResult, add_entry, check_copied, close_session,
                      copy_source_file, end_of, formats, keep_copy_log, mark_lost, mark_not_read_back, metadata_reserve, new_record,
                      new_session_info, placer, plan_job, prepare_medium, session_document, stop_reason, tape_devices,
                      not_reached, say_full, settled, write_copy_log)
from .targets import LtfsMount

__all__ = ["TOOL", "Copied", "LtfsMount", "WriteOptions", "WriteResult", "check_copied", "copy_source_file", "formats",
           "new_session_info", "prepare_medium", "write_archive", "write_copy_log"]


def write_archive(sources: list[str | Path], device: TapeDevice | LtfsMount | Sequence[TapeDevice | LtfsMount],
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
    each destination is read back and proven on its own. A mounted LTFS
    volume (`LtfsMount`) is a target of its own: written through the file system.
    """
    opts = options or WriteOptions()
    targets = [device] if isinstance(device, (TapeDevice, LtfsMount)) else list(device)
    mounts = [t for t in targets if isinstance(t, LtfsMount)]
    if mounts:
        if len(targets) + len(folders) > 1:
            raise UsageError("a mounted LTFS volume (ltfs-mount:) is written on its own, without other destinations")
        return mounts[0].write(sources, opts, progress)
    devices = tape_devices(cast("list[TapeDevice]", targets))   # no mount among them (above)
    fmt = write_format(opts.format)
    if fmt.is_volume:
        from .ltfs_write import write_ltfs     # (the LTFS format's modules: only for an LTFS job)
        return write_ltfs(sources, devices, opts, progress, folders=list(folders))
    for dev in devices:
        prepare_medium(dev, opts.allow_old_generation)
    return run(_TapeFileJob(sources, devices, opts, plan_job(sources, opts, fmt, folders), progress))


NO_ROOM = "no room left on this cartridge: not written"


class _TapeFileJob(WriteJob[WriteResult]):
    """One session written as one tape file to every device (write_archive)."""

    interruptible = True
    lists_files = True      # the format lists every file in its closing structure (AXF); known once the writer is

    def __init__(self, sources: list[str | Path], devices: list[TapeDevice], opts: WriteOptions, plan: JobPlan,
                 progress: ProgressCallback | None) -> None:
        self.sources, self.devices, self.opts, self.plan, self.progress = sources, devices, opts, plan, progress
        self.fmt = get_format(opts.format)       # a tape-file format (write_archive sends volume layouts on)
        self.pending: deque[SourceEntry] = deque(plan.entries)
        self.error: LtoArchiveError | None = None
        self.stopped: str | None = None   # why the remaining files were not taken
        self.ends = array("q")   # per record, in order: the tape-file offset just past its member (-1: none)
        self.interrupted: int | None = None   # the signal that stopped the job at a file boundary

    def start(self) -> None:
        """Every tape at its end of data (the last, data partition); the session; the folders; the stream."""
        opts, devices = self.opts, self.devices
        device = devices[0]
        medium = device.medium()
        self.starts = []
        self.append_notes: list[str] = []
        self.custody_record: dict[str, Any] | None = None    # the on-tape custody record (for the catalog)
        for dev in devices:
            start, note = append_point(dev)     # the last (data) partition's end, a crashed tape file closed
            self.starts.append(start)
            if note:
                self.append_notes.append(note)
        pos = self.pos = self.starts[0]
        self.remaining = min(dev.medium().remaining for dev in devices)
        self.started = utc_now()
        session = self.session = new_session_info(opts, self.sources, device, medium, pos.file_number,
                                                  pos.partition, pos.block, self.started)
        # the records go to disk once settled (record_file.py): 16 bytes a file in memory, not ~1 KB
        self.records = SpooledRecords(settled)
        self.manifest = Manifest(session, cast("list[FileRecord]", self.records))
        self.tracker = self.plan.tracker(self.progress)
        self.reserve = metadata_reserve(len(self.plan.entries), len(opts.algorithms), opts.record_size)
        self.meta_budget = MetadataBudget(session, self.plan.entries, NO_ROOM, len(self.plan.cards), medium.capacity,
                                          paperwork=opts.paperwork)
        if self.room_left(4096, charged=0) < 0:
            raise EndOfMedium(f"no room left on this cartridge for a new session: its metadata alone needs more "
                              f"than the {self.remaining} bytes left; nothing was written")
        session.destinations = [{"kind": "tape", "device": getattr(d, "name", ""), "barcode": d.medium().barcode,
                                 "tape_file": p.file_number, "partition": p.partition, "start_block": p.block}
                                for d, p in zip(devices, self.starts)] + [{"kind": "folder", "destination": str(f.root)}
                                                                          for f in self.plan.dests]
        for d in self.plan.dests:
            d.open()
        chunk_kw = {"chunk_size": opts.chunk_size} if opts.chunk_size else {}
        self.stream = RecordStream(devices, opts.record_size, **chunk_kw)
        # each destination's line: every tape's bytes, rate and buffer, and every folder copy's (a shuttle drive)
        self.tracker.sampler = lambda: self.stream.destination_progress() + tuple(d.progress() for d in self.plan.dests)
        self.journal = JobJournal.open(opts.log_dir, session, self.stream)   # the copy log as the job goes
        self.writer: FormatWriter = self.fmt.writer(self.stream, session=session)
        self.lists_files = hasattr(self.writer, "plan")
        if self.lists_files:
            self.writer.plan(self.plan.entries)      # formats that list the files up front (AXF object header)
        self.plan.entries = []    # the pending queue holds them: each is dropped once taken (10^6 entries)

    def begin(self) -> None:
        self.writer.add_bytes(SESSION_MEMBER, session_document(self.session), time.time_ns())

    def add_next(self) -> None:
        entry = self.pending.popleft()
        rec = new_record(entry)
        self.records.append(rec)
        rs = self.opts.record_size
        if self.stopped is None:
            need = self.fmt.member_overhead(entry.name, entry.size, rs) + entry.size
            self.stopped = stop_reason(self.stream, self.room_left(need) >= 0, "archive", NO_ROOM)
        if self.stopped:
            rec.status, rec.message = NOT_WRITTEN, self.stopped
            self.ends.append(-1)
            return
        add_entry(self.writer, self.stream, entry, rec, self.opts, self.tracker, placer(rec, self.pos, rs),
                  self.plan.dests)
        self.meta_budget.written(entry, rec)
        self.ends.append(self.stream.offset)
        self.journal.placed(rec)
        self.records.settle()

    def room_left(self, need: int, charged: int | None = None) -> int:
        """Bytes left once `need` more bytes of members, the metadata members, the archive's end and
        its filemark are written (every record is padded to the record size); negative: no room.
        A format that lists every file in its closing structure (AXF) keeps the larger reserve."""
        rs = self.opts.record_size
        meta = self.meta_budget.cost(rs, padded=True)
        if charged is None:
            charged = stream_charge(self.stream, padded=True)
        if self.lists_files:    # (before the writer: the larger)
            meta = max(meta, padded_cost(self.reserve, rs))
        return self.remaining - charged - padded_cost(need, rs) - meta

    def fail(self, exc: DeviceError) -> None:
        """Only members whose last byte reached a written record stay good."""
        stream = self.stream
        stream.abort()
        self.error = exc
        taken = max((s.records_written for s in stream.status), default=0)
        self.journal.commit(force=True)
        if self.journal.journal is not None:   # no drive is live now: journal what the failed one took
            self.journal.journal.commit(taken)
        mark_lost(self.records, self.ends, taken * self.opts.record_size, exc)

    def commit(self) -> None:
        """The tape describes itself (manifest, checksum lists, copy log as the last members), then the
        commit point: the archive's end and a filemark on every tape."""
        stream, writer, manifest = self.stream, self.writer, self.manifest
        stream.flush_hashes()
        self.records.settle(everything=True)
        mhl_job.finish(self.plan.cards, manifest)     # ingest check against the cards' histories, new generations
        self.close_session()
        now = time.time_ns()
        # each metadata member written as soon as it is made, so only one of them is held at a time
        for card in self.plan.cards:
            for name, data in card.tape_members().items():
                writer.add_bytes(name, data, now)
        # streamed: each made once, chunk by chunk, into a spool file, then onto the tape (add_member) and into
        # the paperwork, from the same spool
        with SessionFiles(manifest) as files:
            for name, make in files.checksums.items():
                add_member(writer, f"{META_DIR}/{name}", make, now)
            add_member(writer, COPY_LOG_MEMBER, files.copy_log, now)
            for dest, lead in zip(self.session.destinations, getattr(writer, "leads", ())):
                if lead:
                    dest["lead"] = lead    # AXF: where the shared object bytes start in this tape's tape file
            evidence = session_evidence.evidence_files(manifest, self.plan.cards, self.opts, self.append_notes,
                                                       files=files)
            for name, data in evidence.items():
                writer.add_bytes(name, data, now)        # paperwork.7z, custody.jsonl: the tape's own evidence
            self.custody_record = session_evidence.record_head(evidence)
            add_member(writer, MANIFEST_MEMBER, files.manifest, now)
        writer.close()
        stream.close()
        for st in stream.live_devices:
            try:
                st.device.write_filemarks(1)   # the commit point: the archive is complete on this tape
            except DeviceError as exc:
                st.error = exc
        stream.check()
        self.journal.commit(everything=True)

    def close_session(self) -> None:
        """The session's times, counts and status (interrupted: stopped by a signal at a file boundary)."""
        close_session(self.session, self.records, self.started, self.tracker, failed=self.error is not None)
        if self.interrupted is not None and self.error is None:
            self.session.status = "interrupted"

    def finish(self) -> WriteResult:
        """Close the session, the folders; read every destination back; the copy log next to the job."""
        self.tracker.finish()
        self.journal.close()
        self.close_session()
        dests = self.plan.dests
        close_folders(dests, job_files(self.manifest, self.plan.cards) if dests else {})
        result = WriteResult(self.manifest, self.error, interrupted=self.interrupted,
                             custody_record=self.custody_record)
        result.notes.extend(self.append_notes + self.plan.notes())
        result.destinations = _destination_results(self.stream, self.starts, dests, self.error)
        if self.error is None:
            _name_dropped_files(result.destinations, self.stream, self.records, self.ends, self.opts.record_size)
        result.folders = [d.result for d in dests]
        if self.opts.verify:          # the default; --no-verify: no destination is read back, and none says ok
            _verify_destinations(result, self.stream, dests, self.opts)
        else:
            mark_not_read_back(result.destinations)
        if self.stopped is not None:      # no room, or the early-warning zone: the cartridge is full
            say_full(result.destinations[:len(self.stream.status)], self.records)
        keep_copy_log(result, self.manifest, self.opts.log_dir)
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
                    "verified": None, "failed": [], "flow": st.flow(stream.pool, stream.chunk_size)})
    for d in dests:
        out.append(d.result.to_dict())
    return out


def _name_dropped_files(destinations: list[dict[str, Any]], stream: RecordStream, records: Sequence[FileRecord],
                        ends: array[int], record_size: int) -> None:
    """A tape dropped part-way while the others went on: its error names the file it was writing, and says
    that the files before it reached that tape."""
    for info, st in zip(destinations, stream.status):
        if st.error is None or info["status"] != "failed":
            continue
        on_tape = st.records_written * record_size
        first = next((r for i, r in enumerate(records) if r.kind == "file" and (end_of(ends, i, r) or 0) > on_tape),
                     None)
        if first is not None:
            info["error"] += (f" (dropped while writing {first.path}: the files before it reached this tape, "
                              f"the job went on on the others)")


def _verify_destinations(result: WriteResult, stream: RecordStream, dests: list[FolderDestination],
                         opts: WriteOptions) -> None:
    """Read every destination back on its own: per destination, per file, what is proven."""
    from .read import ReadResult, TapeFileResult, verify_tape
    for i, (info, st) in enumerate(zip(result.destinations, stream.status)):
        if info["status"] == "failed" or info["tape_file"] is None:
            continue
        if not st.device.keeps_data:      # the null target: nothing to read back, and never "ok" for it
            mark_not_read_back([info])
            result.notes.append(f"{info['destination']} keeps nothing: written, not read back")
            continue
        try:
            r = verify_tape(st.device, tape_files=[info["tape_file"]])
        except LtoArchiveError as exc:       # the read-back stopped (a read error): none of the files is proven
            info.update(status="failed", error=exc.message, failed=not_reached(result.files, set(), exc))
            result.readbacks[i] = ReadResult("verify", [TapeFileResult(
                info["tape_file"], manifest=result.for_destination(i).manifest, manifest_source="tape", error=exc,
                unproven=[{"path": f["path"], "reason": f["reason"]} for f in info["failed"]])])
            continue
        result.readbacks[i] = r
        t = r.tape_files[0]
        info["verified"] = len(t.verified)
        info["failed"] = [{"path": f["path"], "reason": f["reason"]} for f in t.failed]
        if t.error is not None:
            info["failed"] += not_reached(result.files, set(t.verified) | {f["path"] for f in t.failed}, t.error)
        if t.failed or t.error is not None:
            info["status"] = "failed"
            info["error"] = t.error.message if t.error is not None else f"{len(t.failed)} file(s) failed read-back"
    if dests:
        expected = {r.path: r.hashes for r in result.files if r.status == OK and r.hashes}
        result.destinations[len(stream.status):] = verify_folders(dests, expected, tuple(opts.algorithms))
