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


def _depth(hroot: str) -> int:
    return 0 if hroot == "." else hroot.count("/") + 1


def _inside(hroot: str, rel: str) -> bool:
    """Whether `rel` lies below the history root `hroot` (everything lies below ".")."""
    return hroot == "." or rel.startswith(hroot + "/")


@dataclass
class _Histories:
    """The histories of the checked folder: each with its root relative to that folder and
    the ignore rules of its newest generation (plus the defaults)."""

    root: Path
    items: list[History]
    roots: list[str]
    specs: list[IgnoreSpec]

    @classmethod
    def of(cls, root: Path, items: list[History]) -> _Histories:
        roots = [_rel(root, h.root) for h in items if h.root is not None]
        specs = [IgnoreSpec(list(h.latest_ignore() or DEFAULT_IGNORE) + list(DEFAULT_IGNORE)) for h in items]
        return cls(root, items, roots, specs)

    def nearest(self, rel: str) -> int | None:
        """The index of the deepest history whose root holds `rel` (or is it)."""
        best, depth = None, -1
        for i, hr in enumerate(self.roots):
            if (rel == hr or _inside(hr, rel)) and _depth(hr) > depth:
                best, depth = i, _depth(hr)
        return best

    def rel_in(self, i: int, rel: str) -> str:
        """`rel` (relative to the checked folder) relative to history i's root."""
        hr = self.roots[i]
        return rel if hr == "." else rel[len(hr) + 1:]

    def ignored(self, rel: str, is_dir: bool) -> bool:
        i = self.nearest(rel)
        if i is None:
            return _DEFAULT_SPEC.match_entry(rel, is_dir)
        return self.specs[i].match_entry(self.rel_in(i, rel), is_dir)

    def owner(self, f: _Found) -> tuple[int | None, str]:
        """The nearest history that knows the file (falling back to enclosing ones)."""
        i: int | None = f.history
        while i is not None:
            hr = self.rel_in(i, f.rel)
            if self.items[i].known(hr):
                return i, hr
            up = [j for j, r in enumerate(self.roots) if j != i and _inside(r, self.roots[i])]
            i = max(up, key=lambda j: _depth(self.roots[j])) if up else None
        return None, f.rel


_DEFAULT_SPEC = IgnoreSpec()


@dataclass
class _Hashing:
    """What the hashing pass found, per file and per history (by index) to record into."""

    checks: dict[str, FileCheck] = field(default_factory=dict)
    hashed: dict[str, dict[str, str]] = field(default_factory=dict)        # rel -> format -> digest
    observed: dict[int, list[ObservedFile]] = field(default_factory=dict)
    unhashed: dict[int, list[str]] = field(default_factory=dict)           # could not be read


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
    hs = _open_histories(root, record, require_history, report)
    if hs is None:
        return report
    found, folders = _walk(hs, report)
    tracker = ProgressTracker("verify", progress, bytes_total=sum(f.size for f in found), files_total=len(found))
    result = _Hashing()
    for f in found:
        _check_file(f, hs, record, record_formats, result, tracker, chunk_size, report)
    tracker.finish()
    _add_missing(hs, {f.rel for f in found}, result.checks)
    report.files = [result.checks[k] for k in sorted(result.checks, key=lambda p: p.split("/"))]
    _check_directory_hashes(hs, found, folders, result.hashed, report)
    if record is not None:
        _record_generations(hs, record, creator or CreatorInfo.create(), folders, result, report)
    report.seconds = time.monotonic() - started
    return report


def _open_histories(root: Path, record: str | None, require_history: bool,
                    report: VerifyReport) -> _Histories | None:
    """Read every history in `root` (plus a new one for `root` itself when recording needs
    it) into the report; None when there is nothing to check or record."""
    roots = find_histories(root)
    if not roots:
        if require_history:
            raise NoMhlHistory(f"{root} carries no ASC MHL history (no ascmhl/ folder with a chain)", path=str(root))
        if record is None:
            return None
    histories: list[History] = [read_history(r) for r in roots]
    if record is not None and (not roots or (roots[0] != root and not require_history)):
        histories.insert(0, History(root=root))     # the folder's own, new history
    hs = _Histories.of(root, histories)
    for h, r in zip(histories, hs.roots):
        notes = [f"{r}: {n}" if r != "." else n for n in h.notes]
        report.histories.append(HistoryInfo(r, len(h.generations), h.formats(), notes))
        report.notes.extend(notes)
    return hs


def _walk(hs: _Histories, report: VerifyReport) -> tuple[list[_Found], dict[str, float]]:
    """The files to check and the folders holding them (with their mtimes), sorted, ignored
    folders pruned; walked first so that progress knows the total."""
    found: list[_Found] = []
    folders: dict[str, float] = {}
    stack = [hs.root]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            report.notes.append(f"cannot list {_display(_rel(hs.root, here))}: {exc.strerror}")
            continue
        subdirs = []
        for e in entries:
            p = Path(e.path)
            rel = _rel(hs.root, p)
            try:
                st = os.stat(p)          # follows symlinks, as the reference tool does
            except OSError as exc:
                i = hs.nearest(rel)
                if i is None or not hs.specs[i].match_entry(hs.rel_in(i, rel), False):
                    report.notes.append(f"{_display(rel)}: cannot stat ({exc.strerror})")
                continue
            is_dir = stat_mod.S_ISDIR(st.st_mode)
            if hs.ignored(rel, is_dir):
                continue
            if is_dir:
                if e.is_symlink():
                    report.notes.append(f"{_display(rel)}: symbolic link to a folder, not followed")
                    continue
                folders[rel] = st.st_mtime
                subdirs.append(p)
            elif stat_mod.S_ISREG(st.st_mode):
                i = hs.nearest(rel)
                found.append(_Found(rel, p, st.st_size, st.st_mtime, i, hs.rel_in(i, rel) if i is not None else rel))
            else:
                report.notes.append(f"{_display(rel)}: not a regular file, skipped")
        stack.extend(reversed(subdirs))
    return found, folders


def _hash_file(path: Path, fmts: list[str], tracker: ProgressTracker, chunk_size: int,
               report: VerifyReport) -> dict[str, str]:
    """One read of the file, hashed in every format of `fmts` (OSError when it cannot be read)."""
    hasher = MhlHasher(fmts)
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(chunk_size)
        mv = memoryview(buf)
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            hasher.update(mv[:n])
            tracker.add_bytes(n)
            report.bytes_hashed += n
    return hasher.hexdigests()


def _check_file(f: _Found, hs: _Histories, record: str | None, record_formats: tuple[str, ...] | None,
                result: _Hashing, tracker: ProgressTracker, chunk_size: int, report: VerifyReport) -> None:
    """Decide the file's formats (the fastest one its history verifies with, plus those to
    record), hash it in one pass and compare; note it for recording."""
    oi, orel = hs.owner(f)
    expected = hs.items[oi].expected(orel) if oi is not None else {}
    vfmt = next((x for x in VERIFY_PREFERENCE if x in expected), None)
    fmts: list[str] = [vfmt] if vfmt else []
    rec_i = f.history if record is not None else None
    if rec_i is not None:
        want = record_formats or tuple(hs.items[rec_i].generations[-1].formats()
                                       if hs.items[rec_i].generations else DEFAULT_RECORD_FORMATS)
        fmts += [x for x in want if x not in fmts]
    check = FileCheck(f.rel, NEW if oi is None else VERIFIED, vfmt, expected.get(vfmt) if vfmt else None,
                      None, f.size)
    if oi is not None and vfmt is None:
        check.status, check.reason = FAILED, "its history holds no hash in a format this tool can compute"
    result.checks[f.rel] = check
    if not fmts:
        return
    tracker.file_started(f.rel)
    try:
        digests = _hash_file(f.path, fmts, tracker, chunk_size, report)
    except OSError as exc:
        check.status, check.reason = FAILED, f"cannot read: {exc.strerror or exc}"
        if rec_i is not None:
            result.unhashed.setdefault(rec_i, []).append(f.hrel)
        tracker.file_done()
        return
    tracker.file_done()
    result.hashed[f.rel] = digests
    if vfmt is not None and check.status == VERIFIED:
        check.actual = digests[vfmt]
        if digests[vfmt].lower() != (check.expected or "").lower():
            check.status = FAILED
            recorded = hs.items[oi].size(orel) if oi is not None else None
            check.reason = (f"hash mismatch ({vfmt})" if recorded in (None, f.size)
                            else f"hash mismatch ({vfmt}); size {f.size}, recorded {recorded}")
    if rec_i is not None and storable(f.hrel):
        result.observed.setdefault(rec_i, []).append(ObservedFile(f.hrel, f.size, digests, f.mtime))
    elif rec_i is not None:
        report.notes.append(f"{_display(f.rel)}: name cannot be written into ASC MHL XML; not recorded")


def _add_missing(hs: _Histories, found_rels: set[str], checks: dict[str, FileCheck]) -> None:
    """Files a history records that are not there (and not ignored now)."""
    missing: set[str] = set()
    for i, h in enumerate(hs.items):
        for p in h.recorded_paths():
            rel = _join(hs.roots[i], p)
            if rel not in found_rels and not hs.specs[i].match(p):
                missing.add(rel)
    for rel in sorted(missing):
        n = hs.nearest(rel)
        size = hs.items[n].size(hs.rel_in(n, rel)) if n is not None else None
        checks[rel] = FileCheck(rel, MISSING, size=size)


def _check_directory_hashes(hs: _Histories, found: list[_Found], folders: dict[str, float],
                            hashed: dict[str, dict[str, str]], report: VerifyReport) -> None:
    """Informational: compare the recorded directory hashes where every file below a folder
    was hashed in one format."""
    for i, h in enumerate(hs.items):
        recorded = h.expected_directories()
        if not recorded:
            continue
        hr = hs.roots[i]
        sub = {hs.rel_in(i, f.rel): hashed.get(f.rel, {}) for f in found
               if f.history is not None and _inside(hr, f.rel)}
        common = [x for x in VERIFY_PREFERENCE if sub and all(x in d for d in sub.values())]
        if not common:
            continue
        fmt = common[0]
        subfolders = [hs.rel_in(i, d) for d in folders if _inside(hr, d)]
        ours = directory_hashes({p: {fmt: d[fmt]} for p, d in sub.items()}, subfolders, [fmt])
        for d, pairs in recorded.items():
            if fmt not in pairs:
                continue
            report.directories_checked += 1
            mine = ours.get(d, {}).get(fmt)
            if mine != pairs[fmt]:
                report.directory_mismatches.append({
                    "path": _join(hr, d) if d != "." else hr, "format": fmt,
                    "expected": list(pairs[fmt]), "actual": list(mine) if mine else None})


def _record_generations(hs: _Histories, record: str, creator: CreatorInfo, folders: dict[str, float],
                        result: _Hashing, report: VerifyReport) -> None:
    """Append a generation with what was seen to each history (a new history gets its first)."""
    for i, h in enumerate(hs.items):
        files = result.observed.get(i, [])
        hr = hs.roots[i]
        if not files and h.generations:
            continue
        nested = any(j != i and _inside(hr, r) for j, r in enumerate(hs.roots))
        sub_folders = {hs.rel_in(i, d): t for d, t in folders.items() if _inside(hr, d) and hs.nearest(d) == i}
        build = build_generation(files, process=record, creator=creator, prior=h if h.generations else None,
                                 folders=sub_folders, incomplete=result.unhashed.get(i, ()),
                                 with_directory_hashes=not nested,
                                 ignore=h.latest_ignore() or None)
        report.written.append(write_generation(h.root or hs.root, build.generation))
        if nested:
            report.notes.append(f"{hr}: holds nested histories; its new generation has no directory hashes")


def create_generation(folder: str | os.PathLike[str], formats: Iterable[str] = DEFAULT_RECORD_FORMATS, *,
                      creator: CreatorInfo | None = None, process: str = IN_PLACE,
                      progress: ProgressCallback | None = None) -> VerifyReport:
    """`ascmhl create` for a folder: hash every file, verify those the history knows, record all
    of them (new ones as original) in a new generation. Missing or failed files are reported
    (raise_for_status), new files are not a problem here."""
    return verify_tree(folder, record=process, formats=formats, creator=creator, require_history=False,
                       new_files_ok=True, progress=progress)
