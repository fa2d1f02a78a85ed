"""The job journal: the copy log growing as the job goes, so a crash loses at most the files in flight.

One append-only JSON-lines file per job next to its copy log (`<log dir>/<session id>.journal.jsonl`).
The first line is the header: the session (as the copy log's head), the format and the cartridges
(barcode, LTFS volume UUID). Every later line is one entry the devices hold: the file's record as the
copy log has it (path, size, hashes, status, tape file / partition / block / offset) and, on LTFS,
its start block and length on every volume (`blocks`, `length`). A line is written and fsynced once
every live device has taken the entry's last record (`commit`): the bytes have left the job for the
drive. Commit points come at most every COMMIT_EVERY_BYTES the drives take, so a file that size or
larger is journaled as soon as it is on the drives, and many small ones share one fsync. A record a drive had not yet written to tape when the power went is unproven, not wrong:
`ltfs recover` and `verify --manifest` read the bytes back and prove them against the hashes.

Reading (`read_journal`) never fails on a torn last line (a crash mid-append): it is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchiveError, UsageError
from ..formats.ltfs.recover import JournaledFile, iso_to_ns
from ..manifest import (MANIFEST_FORMAT, NOT_WRITTEN, SKIPPED, UNREADABLE, FileRecord, Manifest, ManifestDamaged,
                        SessionInfo, load_json)

JOURNAL_FORMAT = "lto-archive-journal"
JOURNAL_SUFFIX = ".journal.jsonl"
# a commit point at most this often (bytes the drives took): a file of this size or more is journaled as
# soon as the drives have it; many small ones are fsynced together, not one fsync each
COMMIT_EVERY_BYTES = 32 << 20
NOT_ON_TAPE = (UNREADABLE, SKIPPED, NOT_WRITTEN)


def open_journal(log_dir: Path | None, session: SessionInfo, cartridges: Sequence[dict[str, Any]]) -> "Journal | None":
    """A job's journal in its log folder (None: the job keeps no log); a folder that cannot take it is the
    user's to fix (UsageError), before a byte of the session is written."""
    if log_dir is None:
        return None
    try:
        return Journal(journal_path(log_dir, session.session_id), session, cartridges)
    except OSError as exc:
        raise UsageError(f"cannot write the job journal in the log folder {log_dir}: {exc.strerror} "
                         "(give a writable --log-dir)", path=str(log_dir)) from None


def journal_path(log_dir: Path, session_id: str) -> Path:
    """Where a job's journal lives: beside its copy log (jobs.session.write_copy_log)."""
    return Path(log_dir) / f"{session_id}{JOURNAL_SUFFIX}"


@dataclass
class _Pending:
    rec: FileRecord
    end_slot: int                 # the stream's record slots [.., end_slot) hold it
    extra: dict[str, Any]


class Journal:
    """An open job journal. `offer` each placed entry, `commit` at each commit point."""

    def __init__(self, path: Path, session: SessionInfo, cartridges: Sequence[dict[str, Any]]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.pending: list[_Pending] = []
        self.written = 0
        header = {"format": JOURNAL_FORMAT, "version": 1, "session": asdict(session),
                  "cartridges": [dict(c) for c in cartridges]}
        self._append([header])

    def offer(self, rec: FileRecord, end_slot: int, **extra: Any) -> None:
        """An entry placed on the stream, whose records end before slot `end_slot`."""
        self.pending.append(_Pending(rec, end_slot, extra))

    def commit(self, written_slots: int | None) -> int:
        """Journal, in order, every offered entry whose records the devices took (`written_slots`:
        the fewest shared record slots any live device has written; None: all of them) and whose
        hashes are known; fsynced. How many entries were journaled (none once it is closed)."""
        if self._fd < 0:
            return 0
        done = 0
        for p in self.pending:
            ready = written_slots is None or p.end_slot <= written_slots
            if not ready or (p.rec.kind == "file" and not p.rec.hashes and p.rec.status not in NOT_ON_TAPE):
                break
            done += 1
        if done:
            batch, self.pending = self.pending[:done], self.pending[done:]
            # a file that never reached the tape (unreadable, skipped) is not journaled, nor waited for
            self._append([{"file": dict(vars(p.rec)), **p.extra} for p in batch if p.rec.status not in NOT_ON_TAPE])
        return done

    def _append(self, docs: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode("utf-8", "surrogateescape")
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fsync(self._fd)
        self.written += len(docs)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class JobJournal:
    """A write job's journal over its RecordStream: `placed(rec)` after each entry, `commit()` at each
    commit point, `close()`; does nothing when the job keeps no log (`log_dir` None)."""

    def __init__(self, stream: Any, journal: Journal | None) -> None:
        self.stream, self.journal = stream, journal
        self.committed_slots = 0      # what the drives had taken at the last commit point

    @classmethod
    def open(cls, log_dir: Path | None, session: SessionInfo, stream: Any) -> "JobJournal":
        """Before a byte of the session is written: a log folder that cannot take it stops the job here."""
        try:
            return cls(stream, open_journal(log_dir, session, [
                {"barcode": d.get("barcode"), "volume_uuid": d.get("volume_uuid"), "device": d.get("device"),
                 "tape_file": d.get("tape_file"), "start_block": d.get("start_block")}
                for d in session.destinations if d.get("kind") == "tape"]))
        except UsageError:
            stream.abort()
            raise

    def placed(self, rec: FileRecord, **extra: Any) -> None:
        """An entry is on the stream (up to the stream's offset now): journal what the devices took."""
        if self.journal is not None:
            self.journal.offer(rec, -(-self.stream.offset // self.stream.record_size), **extra)
            self.commit()

    def commit(self, everything: bool = False, force: bool = False) -> None:
        """A commit point: every entry the devices have taken, once they took COMMIT_EVERY_BYTES more
        (`force`: whatever they took, e.g. after a device failure; `everything`: after the filemark or
        the index, all of them)."""
        if self.journal is None:
            return
        if everything:
            self.journal.commit(None)
            return
        written = written_slots(self.stream.status)
        due = force or (written - self.committed_slots) * self.stream.record_size >= COMMIT_EVERY_BYTES
        if due:
            self.stream.flush_hashes()      # a file whose bytes the drives took has its final hashes now
        if due and self.journal.commit(written):
            self.committed_slots = written

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


def written_slots(status: Sequence[Any]) -> int:
    """The shared record slots every live device of a RecordStream has written (its `status`)."""
    live = [s.records_written for s in status if s.error is None]
    return min(live) if live else 0


@dataclass
class JournalContents:
    """A journal as read back: its header and its entries (a torn last line left out)."""

    header: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    torn: bool = False

    @property
    def volume_uuids(self) -> list[str | None]:
        """The LTFS volumes the job wrote: the header's (one per drive), then those its entries name (the
        later cartridges of a span set)."""
        out = [c.get("volume_uuid") for c in self.header.get("cartridges", [])]
        for e in self.entries:
            own = e.get("volume_uuid")
            if own is not None and own not in out:
                out.append(own)
        return out

    def records(self) -> list[FileRecord]:
        known = FileRecord.__dataclass_fields__
        return [FileRecord(**{k: v for k, v in e["file"].items() if k in known}) for e in self.entries]

    def on_volume(self, volume_uuid: str) -> list[JournaledFile]:
        """The entries as they lie on this LTFS volume (its own start blocks), for `ltfs recover`: an entry
        that names its volume (a span set's) is on that one, the others on every volume of the header."""
        header = [c.get("volume_uuid") for c in self.header.get("cartridges", [])]
        out = []
        for e in self.entries:
            own = e.get("volume_uuid")
            if (own is not None and own != volume_uuid) or (own is None and volume_uuid not in header):
                continue
            i = 0 if own is not None else header.index(volume_uuid)
            f, blocks = e["file"], e.get("blocks") or []
            start = blocks[i] if i < len(blocks) and isinstance(blocks[i], int) else None
            hashes = f.get("hashes") if isinstance(f.get("hashes"), dict) else {}
            path = e.get("member") or f["path"]      # a part of a split file: its own name on the volume
            out.append(JournaledFile(str(path), str(f.get("kind", "file")), int(e.get("length") or 0), start,
                                     {str(k): str(v) for k, v in hashes.items()}, iso_to_ns(str(f.get("mtime", ""))),
                                     str(f.get("linkname") or "")))
        return out

    def manifest(self) -> Manifest:
        """The journal as a copy log: what `verify --manifest` and `catalog import` take; every value checked
        as a manifest's are (a damaged journal is ManifestDamaged, never a crash further on)."""
        s_known, f_known = SessionInfo.__dataclass_fields__, FileRecord.__dataclass_fields__
        return Manifest.from_dict({
            "format": MANIFEST_FORMAT,
            "session": {k: v for k, v in self.header["session"].items() if k in s_known},
            "files": [{k: v for k, v in e["file"].items() if k in f_known} for e in self.entries]})


def is_journal(raw: bytes) -> bool:
    """The bytes start like a job journal (its header line)."""
    first = raw.split(b"\n", 1)[0]
    try:
        doc = load_json(first, "journal header")
    except ManifestDamaged:
        return False
    return isinstance(doc, dict) and doc.get("format") == JOURNAL_FORMAT


def parse_journal(raw: bytes, name: str = "journal") -> JournalContents:
    """A journal's bytes read: a line that does not parse is torn (the crash came mid-append) and
    ends the journal; a missing or foreign header is damage (ArchiveError)."""
    lines = raw.split(b"\n")
    try:
        header = load_json(lines[0], f"{name} header")
    except ManifestDamaged:
        header = None
    if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT or \
            not isinstance(header.get("session"), dict):
        raise ArchiveError(f"{name} is not an lto-archive job journal (its first line is not a journal header)",
                           path=name)
    out = JournalContents(header)
    for line in lines[1:]:
        if not line.strip():
            continue
        try:
            doc = load_json(line, f"{name} entry")
        except ManifestDamaged:
            out.torn = True
            break
        if not isinstance(doc, dict) or not isinstance(doc.get("file"), dict) or "path" not in doc["file"]:
            out.torn = True
            break
        out.entries.append(doc)
    return out


def read_journal(path: str | Path) -> JournalContents:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ArchiveError(f"cannot read the journal {path}: {exc.strerror}", path=str(path)) from None
    return parse_journal(raw, str(path))


def find_journals(log_dir: str | Path, volume_uuid: str) -> list[Path]:
    """The journals in a log folder that name this LTFS volume, oldest first (by name: the session id
    starts with its time)."""
    found = []
    for p in sorted(Path(log_dir).glob(f"*{JOURNAL_SUFFIX}")):
        try:
            with p.open("rb") as f:
                first = f.readline()
        except OSError:
            continue
        if not is_journal(first):
            continue
        head = json.loads(first)
        if any(c.get("volume_uuid") == volume_uuid for c in head.get("cartridges", [])) or (
                (head["session"] or {}).get("span") and _names_volume(p, volume_uuid)):
            found.append(p)
    return found


def _names_volume(path: Path, volume_uuid: str) -> bool:
    """A span job's journal: one of its entries lies on this volume (a later cartridge of the set)."""
    try:
        return volume_uuid in read_journal(path).volume_uuids
    except ArchiveError:
        return False


def load_copy_log(path: Path) -> Manifest:
    """A copy log JSON written next to a job (or a manifest restored from tape), or a job's journal;
    damaged: CorruptArchive naming it."""
    raw = Path(path).read_bytes()
    return parse_journal(raw, str(path)).manifest() if is_journal(raw) else Manifest.parse(raw, str(path))


__all__ = ["load_copy_log", "Journal", "JobJournal", "open_journal", "NOT_ON_TAPE", "JournalContents", "JOURNAL_FORMAT", "JOURNAL_SUFFIX", "COMMIT_EVERY_BYTES", "journal_path", "read_journal",
           "parse_journal", "is_journal", "find_journals", "written_slots"]
