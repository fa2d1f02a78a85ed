"""Restoring what the AXF scanner (scan.py) proves, through RestoreTarget.

A file is written under a temporary name while it is read and renamed into place
only once its checksums match (`commit`); folders and links are made at once;
the segments of a file that spans volumes are restored as PATH.axf-segment-OFFSET
and joined into PATH once the last one is proven. What cannot be restored
(an unsafe path, a file already there) is listed in the report's `refused`.
"""

from __future__ import annotations

import os

from ...errors import LtoArchiveError, RestoreConflict, UnsafePath
from ...hashing import ALGORITHMS, MultiHasher
from ...manifest import META_DIR
from ...restore_target import RestoreFile, RestoreTarget
from .scan_report import FAILED, ScannedFile, ScanReport

__all__ = ["ScanRestorer"]


class ScanRestorer:
    """Writes the files, folders and links scan_volume finds into `target`; refusals go to `report`."""

    def __init__(self, target: RestoreTarget, report: ScanReport) -> None:
        self.target = target
        self.report = report
        self.sequence = 1          # the volume's number in its collection (volume header; >1: a span set's)

    def open(self, f: ScannedFile) -> RestoreFile | None:
        """A temporary file to restore `f` into, committed once it is proven (None: refused)."""
        try:
            return self.target.open_file(self.dest_path(f), f.mode & 0o777, mtime_ns=f.mtime_ns)
        except (UnsafePath, RestoreConflict) as exc:
            self.refuse(f, exc)
            return None

    def dest_path(self, f: ScannedFile) -> str:
        """Each session's .lto-archive files go to .lto-archive/tape-file-N/, as `restore` does (volume S
        of a collection: .lto-archive/volume-S/tape-file-N/, so that a span set's cartridges scanned into
        one folder keep theirs); a segment of a spanned file to PATH.axf-segment-OFFSET (joined once
        the last is proven)."""
        if f.segment_size is not None:
            return f"{f.path}.axf-segment-{f.segment_offset:015d}"
        if f.path.startswith(META_DIR + "/"):
            volume = f"volume-{self.sequence}/" if self.sequence > 1 else ""
            return f"{META_DIR}/{volume}tape-file-{f.tape_file}/{f.path[len(META_DIR) + 1:]}"
        return f.path

    def refuse(self, f: ScannedFile, exc: LtoArchiveError) -> None:
        reason = "unsafe" if isinstance(exc, UnsafePath) else "exists"
        if not any(r["path"] == f.path and r["tape_file"] == f.tape_file for r in self.report.refused):
            self.report.refused.append({"path": f.path, "tape_file": f.tape_file, "reason": reason,
                                        "message": exc.message})

    def restore_other(self, f: ScannedFile) -> None:
        """A folder or symbolic link: made at once (nothing to prove)."""
        try:
            if f.kind == "dir":
                self.target.make_dir(f.path, f.mode & 0o777, mtime_ns=f.mtime_ns)
            elif f.kind == "symlink":
                self.target.make_symlink(f.path, f.linkname, mtime_ns=f.mtime_ns)
            f.restored = True
        except (UnsafePath, RestoreConflict) as exc:
            self.refuse(f, exc)

    def commit(self, f: ScannedFile, out: RestoreFile, whole: dict[str, str]) -> None:
        """`f` is proven: its temporary file takes its place. After the last segment of a spanned
        file, the segments are joined, proven by `whole` (the whole file's checksums)."""
        try:
            out.commit()
            f.restored = True
        except (UnsafePath, RestoreConflict) as exc:
            self.refuse(f, exc)
            return
        if f.segment_size is not None and not f.continues:
            self.join(f, whole)

    def join(self, f: ScannedFile, whole: dict[str, str]) -> None:
        """The last segment of a spanned file is restored: join PATH.axf-segment-* (restored from
        this and earlier volumes, in segment_offset order) into PATH, proven by the whole file's
        checksums from the last segment's footer; the segments are removed once it is in place."""
        target = self.target
        known = {a: h for a, h in whole.items() if a in ALGORITHMS}
        folder = target.dest / f.path
        stem = folder.name + ".axf-segment-"
        names = os.listdir(folder.parent) if folder.parent.is_dir() else []
        pieces = sorted((int(n[len(stem):]), folder.parent / n) for n in names
                        if n.startswith(stem) and n[len(stem):].isdigit())
        at = 0
        for offset, p in pieces:
            if offset != at:
                break
            at += p.stat().st_size
        if at != f.size or not known:
            why = "no whole-file checksum in its footer" if not known else \
                f"the segments restored so far hold {at} of its {f.size} bytes (scan the earlier cartridges " \
                f"of the set into the same folder first)"
            self.report.notes.append(f"{f.path}: its segments are not joined: {why}")
            return
        hasher = MultiHasher(list(known))
        try:
            out = target.open_file(f.path, f.mode & 0o777, mtime_ns=f.mtime_ns)
        except (UnsafePath, RestoreConflict) as exc:
            self.refuse(f, exc)
            return
        for _, p in pieces:
            with open(p, "rb") as src:
                while chunk := src.read(1 << 20):
                    hasher.update(chunk)
                    out.write(chunk)
        got = hasher.hexdigests()
        bad = [a for a, h in known.items() if got.get(a) != h]
        if bad:
            out.abort()
            f.status, f.reason = FAILED, (f"its segments are proven, but the joined file's {bad[0]} does not "
                                          f"match the whole file's checksum")
            return
        out.commit()
        for _, p in pieces:
            p.unlink()
        f.joined = True
