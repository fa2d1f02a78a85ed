"""What a spanning job gives back, and the steps every kind of set shares (TAR/CPIO/AXF and LTFS).

`SpanResult` is one set: a WriteResult per cartridge, in set order. A split file is one record
per part (`FileRecord.part`); `whole_record` turns its last part back into the whole file.
`BothHashers` feeds a part's bytes to the whole file's hasher and the part's own,
`settle_parts` puts a file's status on its last part, `card_histories` writes the cards' ASC MHL
generations from the whole files, and `set_stopped` says where and why a set ended.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import DeviceError, Interrupted, LtoArchiveError, NoNextCartridge
from ..interrupts import interrupted_message
from ..hashing import MultiHasher
from ..jobs import mhl_job
from ..jobs.folder_dest import FolderResult, feeding, open_copies
from ..jobs.session import WriteResult, check_copied, finishing, new_record
from ..manifest import NOT_WRITTEN, OK, FileRecord, Manifest
from ..scan import SourceEntry
from ..tape.device import MediumInfo


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
    interrupted: int | None = None   # the signal that stopped the job at a file boundary (SIGINT, SIGTERM)

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
        return Manifest(session, [whole_record(f) for f in self.files])

    @property
    def problems(self) -> list[FileRecord]:
        return [f for f in self.files if f.status != OK or (f.part and not f.part.get("last"))]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        if self.interrupted is not None:
            return "interrupted"
        return "incomplete" if self.problems or any(f.status != "ok" for f in self.folders) else "ok"

    def raise_for_status(self) -> None:
        if self.error is not None:
            raise self.error
        if self.interrupted is not None:
            raise Interrupted(f"{interrupted_message(self.interrupted, self.files)}; the set ends with "
                              f"{self.barcodes[-1] if self.barcodes else 'its first cartridge'} (set {self.set_id})",
                              self.interrupted)
        if self.volumes:
            WriteResult(Manifest(self.volumes[-1].manifest.session, self.files),
                        destinations=[f.to_dict() for f in self.folders]).raise_for_status()


def whole_record(f: FileRecord) -> FileRecord:
    """A file's record as the whole file: a split file's last part carries the whole file's hashes."""
    rec = copy.copy(f)
    if f.part:
        rec.hashes, rec.part = dict(f.part.get("file_hashes") or {}), None
    return rec


class BothHashers:
    """Hashes a part's bytes into the whole file's hasher and the part's own (on the hash thread)."""

    def __init__(self, whole: Any, part: MultiHasher) -> None:
        self.whole, self.part = whole, part

    def update(self, view: memoryview) -> None:
        self.whole.update(view)
        self.part.update(view)


def card_histories(cards: list[Any], session: Any, files: list[FileRecord]) -> None:
    """The cards' new ASC MHL generations, from every file of the job (a split file by its
    whole-file hashes); a file that contradicts its card's history becomes CHANGED."""
    if not cards:
        return
    whole = [whole_record(f) for f in files]
    mhl_job.finish(cards, Manifest(session, whole))
    for f, rec in zip(files, whole):
        if rec.status != f.status:
            f.status, f.message = rec.status, rec.message


def whole_file_feed(job: Any, name: str, before: os.stat_result, hasher: Any) -> Any:
    """The folders get a split file whole, whatever its parts: its copies are opened (and kept on
    the job, which drops them if it stops inside the file) and fed from the whole file's hashing."""
    job.copies = open_copies(job.dests, name, before)
    return feeding(hasher, job.copies)


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
        job.vol.stream.call_after_hashing(finishing(copies, good))


def set_stopped(result: SpanResult, exc: DeviceError, pending: list[SourceEntry], in_volume: bool) -> None:
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
        rec = new_record(entry)
        rec.status, rec.message = NOT_WRITTEN, f"{why}: not written"
        if last is not None and not any(f.path == rec.path for f in last.manifest.files):
            last.manifest.files.append(rec)
    if started is not None:
        for v in result.volumes:
            for f in v.manifest.files:
                if f.path == started and f.part and f.status == OK:
                    f.message = f"only part of this file is on tape: {why}"
    if last is not None:
        last.error = exc




__all__ = ["SpanResult", "BothHashers", "whole_record", "whole_file_feed", "card_histories", "settle_parts",
           "set_stopped"]
