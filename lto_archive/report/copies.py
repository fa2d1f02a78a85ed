"""Where each clip's copies are, from the catalog: the tapes (barcodes) and folders holding it, verified or not.

A clip's files are looked up as the write job names them: `write /media/A001R1AB`
archives `A001R1AB/x.mov`, which is exactly the clip file's path in the report.
A catalogued file is taken as the clip's file when its path and size match and,
when the file can be examined on the card, its modification time too (the
report hashes nothing: the OK-to-format certificate, `lto-archive baf`, proves
the bytes). A destination holds the clip when it holds every file of it; one
that holds only some is listed with how many.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..manifest import OK, iso
from .model import ClipReport, Report

if TYPE_CHECKING:
    from ..catalog.store import Catalog

_COPIES_SQL = (
    "SELECT d.label, d.kind, d.barcode, d.folder, d.volume_id, d.location, j.format, c.status, "
    "(SELECT v.result FROM verifications v WHERE v.copy_id = c.id ORDER BY v.at DESC, v.id DESC LIMIT 1), "
    "(SELECT max(v.at) FROM verifications v WHERE v.copy_id = c.id AND v.result = 'ok') "
    "FROM copies c JOIN destinations d ON d.id = c.destination_id JOIN jobs j ON j.id = c.job_id "
    "WHERE c.file_id = ?")


@dataclass
class ClipCopy:
    """One destination holding (some of) a clip's files."""

    destination: str              # the catalog's label: barcode, 'ltfs:<uuid>', or the folder
    kind: str                     # tape, folder
    barcode: str | None
    folder: str | None
    volume_id: str | None         # a folder's filesystem volume
    location: str                 # shelf location (free text)
    formats: list[str]
    files: int                    # how many of the clip's files it holds
    of: int                       # the clip's files
    verified: int                 # of those, how many whose last read-back was ok
    failed: int                   # ... whose last read-back failed
    last_verified: str | None     # the latest read-back that proved one of them

    @property
    def complete(self) -> bool:
        return self.files == self.of

    @property
    def proven(self) -> bool:
        """Every file of the clip is on it, and each one's last read-back was ok."""
        return self.complete and self.verified == self.of

    def text(self) -> str:
        """'LTA001L9 verified 2026-11-23', '/media/SHUTTLE01 NOT verified', 'LTA002L9 2 of 3 files, ...'."""
        name = self.destination
        part = "" if self.complete else f" {self.files} of {self.of} files,"
        if self.failed:
            state = f" FAILED its last check ({self.failed} file(s))"
        elif self.verified == self.files:
            state = f" verified {(self.last_verified or '')[:10]}"
        elif self.verified:
            state = f" {self.verified} of {self.files} verified"
        else:
            state = " NOT verified"
        return f"{name}{part}{state}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete, "proven": self.proven}


def _on_disk(clip: ClipReport, rel: str) -> Path:
    return Path(clip.source).resolve().parent / rel


def clip_copies(catalog: "Catalog", clip: ClipReport) -> tuple[list[ClipCopy], list[str]]:
    """The destinations holding the clip's files (complete ones first), and notes on files not found."""
    per: dict[str, dict[str, Any]] = {}
    missing: dict[str, list[str]] = {}
    files = clip.files
    for f in files:
        try:
            mtime: str | None = iso(os.stat(_on_disk(clip, f.path)).st_mtime)
        except OSError:
            mtime = None
        rows = catalog.conn.execute("SELECT id, mtime FROM files WHERE path = ? AND size = ? ORDER BY id",
                                    (f.path, f.size)).fetchall()
        ids = [fid for fid, m in rows if mtime is None or m == mtime]
        if not ids:
            why = ("catalogued with another modification time (not the same file?)" if rows
                   else "not in the catalog (no copy recorded)")
            missing.setdefault(why, []).append(f.path)
            continue
        seen: dict[str, tuple[bool, bool, str | None]] = {}      # per destination: (ok, failed, verified at)
        for fid in ids:
            for (label, kind, barcode, folder, vol, location, fmt, status, last, ok_at) in catalog.conn.execute(
                    _COPIES_SQL, (fid,)):
                d = per.setdefault(label, {"kind": kind, "barcode": barcode, "folder": folder, "volume_id": vol,
                                           "location": location or "", "formats": set(), "files": set(),
                                           "verified": set(), "failed": set(), "at": None})
                d["formats"].add(fmt)
                d["files"].add(f.path)
                good = status == OK and last == "ok"
                prev = seen.get(label)
                if prev is None or good:
                    seen[label] = (good, last == "failed" and not good, ok_at if good else None)
        for label, (good, bad, at) in seen.items():
            d = per[label]
            if good:
                d["verified"].add(f.path)
                d["at"] = max(d["at"] or "", at or "") or None
            elif bad:
                d["failed"].add(f.path)
    out = [ClipCopy(label, d["kind"], d["barcode"], d["folder"], d["volume_id"], d["location"],
                    sorted(x for x in d["formats"] if x), len(d["files"]), len(files), len(d["verified"]),
                    len(d["failed"]), d["at"]) for label, d in per.items()]
    out.sort(key=lambda c: (not c.complete, c.kind != "tape", c.destination))
    notes = [f"{paths[0]}: {why}" if len(paths) == 1 else
             f"{len(paths)} of {len(files)} files {why}, e.g. {paths[0]}" for why, paths in missing.items()]
    return out, notes


def add_copies(report: Report, catalog: "Catalog") -> None:
    """Fill every clip's `copies` (and its notes) from the catalog."""
    for clip in report.clips:
        clip.copies, notes = clip_copies(catalog, clip)
        clip.notes.extend(notes)


__all__ = ["ClipCopy", "clip_copies", "add_copies"]
