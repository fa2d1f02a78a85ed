"""Ingest check: verify a card or delivery against the ASC MHL history it carries.

This is what the receiving lab does before it issues the OK to format (CST
RT-030 2.3.4): every file is read once and hashed with a format its history
recorded for it (the fastest one), compared with the newest recorded hash, and
reported `verified` or `failed`; files the history records but that are not
there are `missing`, files it does not know are `new`. Nested histories (a day
folder holding several cards, each with its own `ascmhl/`) are each used for
their own files.

Optionally the result is recorded as a new generation in each history
("in-place", or "transfer" after a copy), hashed in the same pass with the
formats asked for, as the reference tool's `ascmhl create` does: that is also
how `mhl create` starts a history for a folder that has none.
"""

from __future__ import annotations

import os
import stat as stat_mod
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..progress import ProgressCallback, ProgressTracker
from .errors import MhlIncomplete, MhlVerificationFailed, NoMhlHistory
from .hashes import VERIFY_PREFERENCE, MhlHasher, check_formats, directory_hashes
from .ignore import DEFAULT_IGNORE, IgnoreSpec
from .model import FAILED, IN_PLACE, PROCESSES, VERIFIED, CreatorInfo, History
from .reader import find_histories, read_history
from .writer import ObservedFile, WrittenGeneration, build_generation, storable, write_generation

MISSING = "missing"
NEW = "new"
DEFAULT_RECORD_FORMATS: tuple[str, ...] = ("xxh128",)
CHUNK = 8 * 1024 * 1024


def _display(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class FileCheck:
    """One file's result; `path` is relative to the checked folder."""

    path: str
    status: str                    # verified, failed, missing, new
    format: str | None = None      # the format it was verified with
    expected: str | None = None
    actual: str | None = None
    size: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": _display(self.path), "status": self.status}
        for k in ("format", "expected", "actual", "size"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass
class HistoryInfo:
    root: str                      # relative to the checked folder ("." for itself)
    generations: int
    formats: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    root: Path
    histories: list[HistoryInfo] = field(default_factory=list)
    files: list[FileCheck] = field(default_factory=list)
    directories_checked: int = 0
    directory_mismatches: list[dict[str, Any]] = field(default_factory=list)
    written: list[WrittenGeneration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes_hashed: int = 0
    seconds: float = 0.0
    new_files_ok: bool = False     # `mhl create`: files new to the history are simply recorded

    def with_status(self, status: str) -> list[FileCheck]:
        return [f for f in self.files if f.status == status]

    @property
    def counts(self) -> dict[str, int]:
        out = {VERIFIED: 0, FAILED: 0, MISSING: 0, NEW: 0}
        for f in self.files:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    @property
    def status(self) -> str:
        c = self.counts
        if c[FAILED]:
            return "failed"
        if c[MISSING] or (c[NEW] and not self.new_files_ok):
            return "incomplete"
        return "verified"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "root": str(self.root),
            "counts": self.counts,
            "histories": [vars(h) for h in self.histories],
            "files": [f.to_dict() for f in self.files],
            "directories": {"checked": self.directories_checked, "mismatches": self.directory_mismatches},
            "generations_written": [w.to_dict() for w in self.written],
            "notes": self.notes,
            "bytes_hashed": self.bytes_hashed,
            "seconds": round(self.seconds, 3),
        }

    def raise_for_status(self) -> None:
        """Mismatches first (exit 3), then missing or unknown files (exit 5)."""
        failed = self.with_status(FAILED)
        if failed:
            names = "; ".join(f"{_display(f.path)}: {f.reason or 'hash mismatch'}" for f in failed[:20])
            more = f" and {len(failed) - 20} more" if len(failed) > 20 else ""
            raise MhlVerificationFailed(f"{len(failed)} file(s) FAILED verification against the ASC MHL history: "
                                        f"{names}{more}", files=[_display(f.path) for f in failed])
        missing = self.with_status(MISSING)
        new = [] if self.new_files_ok else self.with_status(NEW)
        if missing or new:
            parts = []
            if missing:
                parts.append(f"{len(missing)} file(s) recorded in the ASC MHL history are missing: "
                             + "; ".join(_display(f.path) for f in missing[:20]))
            if new:
                parts.append(f"{len(new)} file(s) are not in the ASC MHL history: "
                             + "; ".join(_display(f.path) for f in new[:20]))
            raise MhlIncomplete(". ".join(parts), missing=[_display(f.path) for f in missing],
                                new=[_display(f.path) for f in new])


@dataclass
class _Found:
    rel: str                 # relative to the checked folder
    path: Path
    size: int
    mtime: float
    history: int | None      # index of the nearest history, None when none covers it
    hrel: str                # relative to that history's root


def _rel(root: Path, p: Path) -> str:
    r = p.relative_to(root).as_posix()
    return "." if r in ("", ".") else r


def _join(base: str, rel: str) -> str:
    return rel if base == "." else f"{base}/{rel}"


def verify_tree(root: str | os.PathLike[str], *, record: str | None = None, formats: Iterable[str] | None = None,
                creator: CreatorInfo | None = None, require_history: bool = True, new_files_ok: bool = False,
                progress: ProgressCallback | None = None, chunk_size: int = CHUNK) -> VerifyReport:
    """Check the folder `root` against every ASC MHL history in it (see the module doc).

    record: None (only check), "in-place" or "transfer": append a generation with the
    result to each history (a folder without any gets a new one). formats: what that
    generation records (default: the newest generation's formats, or xxh128).
    Raises NoMhlHistory when there is no history and `require_history`, MhlHistoryError
    when one is broken; otherwise returns the report (see raise_for_status).
    """
    started = time.monotonic()
    root = Path(root)
    if not root.is_dir():
        raise NoMhlHistory(f"{root} is not a folder", path=str(root))
    if record is not None and record not in PROCESSES:
        raise ValueError(f"record must be one of {', '.join(PROCESSES)}")
    record_formats = check_formats(formats) if formats is not None else None
    report = VerifyReport(root=root, new_files_ok=new_files_ok)

    roots = find_histories(root)
    if not roots:
        if require_history:
            raise NoMhlHistory(f"{root} carries no ASC MHL history (no ascmhl/ folder with a chain)", path=str(root))
        if record is None:
            return report
        roots = []
    histories: list[History] = [read_history(r) for r in roots]
    if record is not None and (not roots or (roots[0] != root and not require_history)):
        histories.insert(0, History(root=root))     # the folder's own, new history
    hroots = [_rel(root, h.root) for h in histories if h.root is not None]
    specs = [IgnoreSpec(list(h.latest_ignore() or DEFAULT_IGNORE) + list(DEFAULT_IGNORE)) for h in histories]
    for h, r in zip(histories, hroots):
        notes = [f"{r}: {n}" if r != "." else n for n in h.notes]
        report.histories.append(HistoryInfo(r, len(h.generations), h.formats(), notes))
        report.notes.extend(notes)

    def nearest(rel: str) -> int | None:
        best, depth = None, -1
        for i, hr in enumerate(hroots):
            if hr == "." or rel == hr or rel.startswith(hr + "/"):
                d = 0 if hr == "." else hr.count("/") + 1
                if d > depth:
                    best, depth = i, d
        return best

    def hist_rel(i: int, rel: str) -> str:
        hr = hroots[i]
        return rel if hr == "." else rel[len(hr) + 1:]

    # 1. walk (sorted, pruning ignored folders), so that progress knows the total
    found: list[_Found] = []
    folders: dict[str, float] = {}
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            report.notes.append(f"cannot list {_display(_rel(root, here))}: {exc.strerror}")
            continue
        subdirs = []
        for e in entries:
            p = Path(e.path)
            rel = _rel(root, p)
            try:
                st = os.stat(p)          # follows symlinks, as the reference tool does
            except OSError as exc:
                i = nearest(rel)
                if i is not None and specs[i].match_entry(hist_rel(i, rel), False):
                    continue
                report.notes.append(f"{_display(rel)}: cannot stat ({exc.strerror})")
                continue
            is_dir = stat_mod.S_ISDIR(st.st_mode)
            i = nearest(rel)
            spec = specs[i] if i is not None else IgnoreSpec()
            if spec.match_entry(hist_rel(i, rel) if i is not None else rel, is_dir):
                continue
            if is_dir:
                if e.is_symlink():
                    report.notes.append(f"{_display(rel)}: symbolic link to a folder, not followed")
                    continue
                folders[rel] = st.st_mtime
                subdirs.append(p)
            elif stat_mod.S_ISREG(st.st_mode):
                found.append(_Found(rel, p, st.st_size, st.st_mtime, i, hist_rel(i, rel) if i is not None else rel))
            else:
                report.notes.append(f"{_display(rel)}: not a regular file, skipped")
        stack.extend(reversed(subdirs))

    # 2. decide each file's formats; hash everything in one pass per file
    tracker = ProgressTracker("verify", progress, bytes_total=sum(f.size for f in found), files_total=len(found))
    observed: dict[int, list[ObservedFile]] = {}
    unhashed: dict[int, list[str]] = {}
    hashed: dict[str, dict[str, str]] = {}
    checks: dict[str, FileCheck] = {}
    found_rels = {f.rel for f in found}

    def owner(f: _Found) -> tuple[int | None, str]:
        """The nearest history that knows the file (falling back to enclosing ones)."""
        if f.history is None:
            return None, f.rel
        i: int | None = f.history
        while i is not None:
            hr = hist_rel(i, f.rel)
            if histories[i].known(hr):
                return i, hr
            parent_rel = hroots[i]
            up = [j for j, r in enumerate(hroots) if j != i and (r == "." or parent_rel.startswith(r + "/"))]
            i = max(up, key=lambda j: 0 if hroots[j] == "." else hroots[j].count("/") + 1) if up else None
        return None, f.rel

    for f in found:
        oi, orel = owner(f)
        expected = histories[oi].expected(orel) if oi is not None else {}
        vfmt = next((x for x in VERIFY_PREFERENCE if x in expected), None)
        fmts: list[str] = [vfmt] if vfmt else []
        rec_i = f.history
        if record is not None and rec_i is not None:
            want = record_formats or tuple(histories[rec_i].generations[-1].formats()
                                           if histories[rec_i].generations else DEFAULT_RECORD_FORMATS)
            fmts += [x for x in want if x not in fmts]
        check = FileCheck(f.rel, NEW if oi is None else VERIFIED, vfmt, expected.get(vfmt) if vfmt else None,
                          None, f.size)
        if oi is not None and vfmt is None:
            check.status, check.reason = FAILED, "its history holds no hash in a format this tool can compute"
        checks[f.rel] = check
        if not fmts:
            continue
        tracker.file_started(f.rel)
        hasher = MhlHasher(fmts)
        try:
            with open(f.path, "rb", buffering=0) as fh:
                buf = bytearray(chunk_size)
                mv = memoryview(buf)
                while True:
                    n = fh.readinto(buf)
                    if not n:
                        break
                    hasher.update(mv[:n])
                    tracker.add_bytes(n)
                    report.bytes_hashed += n
        except OSError as exc:
            check.status, check.reason = FAILED, f"cannot read: {exc.strerror or exc}"
            if rec_i is not None:
                unhashed.setdefault(rec_i, []).append(f.hrel)
            tracker.file_done()
            continue
        tracker.file_done()
        digests = hasher.hexdigests()
        hashed[f.rel] = digests
        if vfmt is not None and check.status == VERIFIED:
            check.actual = digests[vfmt]
            if digests[vfmt].lower() != (check.expected or "").lower():
                check.status = FAILED
                recorded = histories[oi].size(orel) if oi is not None else None
                check.reason = (f"hash mismatch ({vfmt})" if recorded in (None, f.size)
                                else f"hash mismatch ({vfmt}); size {f.size}, recorded {recorded}")
        if record is not None and rec_i is not None and storable(f.hrel):
            observed.setdefault(rec_i, []).append(ObservedFile(f.hrel, f.size, digests, f.mtime))
        elif record is not None and rec_i is not None:
            report.notes.append(f"{_display(f.rel)}: name cannot be written into ASC MHL XML; not recorded")
    tracker.finish()

    # 3. missing: recorded, not found (and not ignored now)
    missing: set[str] = set()
    for i, h in enumerate(histories):
        for p in h.recorded_paths():
            rel = _join(hroots[i], p)
            if rel in found_rels or rel in missing:
                continue
            if specs[i].match(p):
                continue
            missing.add(rel)
    for rel in sorted(missing):
        i = nearest(rel)
        hr = hist_rel(i, rel) if i is not None else rel
        checks[rel] = FileCheck(rel, MISSING, size=histories[i].size(hr) if i is not None else None)
    report.files = [checks[k] for k in sorted(checks, key=lambda p: p.split("/"))]

    # 4. directory hashes (informational): where every file below a folder was hashed in one format
    for i, h in enumerate(histories):
        recorded = h.expected_directories()
        if not recorded:
            continue
        sub = {hist_rel(i, f.rel): hashed.get(f.rel, {}) for f in found
               if f.history is not None and (hroots[i] == "." or f.rel.startswith(hroots[i] + "/"))}
        common = [x for x in VERIFY_PREFERENCE if sub and all(x in d for d in sub.values())]
        if not common:
            continue
        fmt = common[0]
        subfolders = [hist_rel(i, d) for d in folders if hroots[i] == "." or d.startswith(hroots[i] + "/")]
        ours = directory_hashes({p: {fmt: d[fmt]} for p, d in sub.items()}, subfolders, [fmt])
        for d, pairs in recorded.items():
            if fmt not in pairs:
                continue
            report.directories_checked += 1
            mine = ours.get(d, {}).get(fmt)
            if mine != pairs[fmt]:
                report.directory_mismatches.append({
                    "path": _join(hroots[i], d) if d != "." else hroots[i], "format": fmt,
                    "expected": list(pairs[fmt]), "actual": list(mine) if mine else None})

    # 5. record a generation per history
    if record is not None:
        made = creator or CreatorInfo.create()
        for i, h in enumerate(histories):
            files = observed.get(i, [])
            hr = hroots[i]
            if not files and h.generations:
                continue
            nested = any(j != i and (hr == "." or r.startswith(hr + "/")) for j, r in enumerate(hroots))
            sub_folders = {hist_rel(i, d): t for d, t in folders.items()
                           if (hr == "." or d.startswith(hr + "/")) and nearest(d) == i}
            build = build_generation(files, process=record, creator=made, prior=h if h.generations else None,
                                     folders=sub_folders, incomplete=unhashed.get(i, ()),
                                     with_directory_hashes=not nested,
                                     ignore=h.latest_ignore() or None)
            report.written.append(write_generation(h.root or root, build.generation))
            if nested:
                report.notes.append(f"{hr}: holds nested histories; its new generation has no directory hashes")
    report.seconds = time.monotonic() - started
    return report


def create_generation(folder: str | os.PathLike[str], formats: Iterable[str] = DEFAULT_RECORD_FORMATS, *,
                      creator: CreatorInfo | None = None, process: str = IN_PLACE,
                      progress: ProgressCallback | None = None) -> VerifyReport:
    """`ascmhl create` for a folder: hash every file, verify those the history knows, record all
    of them (new ones as original) in a new generation. Missing or failed files are reported
    (raise_for_status), new files are not a problem here."""
    return verify_tree(folder, record=process, formats=formats, creator=creator, require_history=False,
                       new_files_ok=True, progress=progress)
