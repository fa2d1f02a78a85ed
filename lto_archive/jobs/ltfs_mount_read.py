"""Reading a mounted LTFS volume: list, verify and restore through the file system.

Reading goes file by file in tape order (`user.ltfs.startblock`), hashes while
reading, and judges every file with the same rules as the TAR backend
(jobs.read.compare): statuses CHANGED, READ_ERROR, UNREADABLE are never called
verified, and a file with no recorded hash at all is unproven (exit 5), never
"ok". The result is the TAR backend's ReadResult. Writing: jobs/ltfs_mounted.py.
"""

from __future__ import annotations

import os
import re
import stat as stat_mod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DeviceNotFound, LtoArchiveError, RestoreConflict, UnsafePath, UsageError, WriteProtected
from ..hashing import ALGORITHMS, DEFAULT_ALGORITHMS, MultiHasher
from ..ltfs_tools import (HASH_XATTR_PREFIX, LTFS_HASH_ALGORITHMS, PARTITION, START_BLOCK, VOLUME_UUID, OsXattrs,
                          XattrStore)
from ..manifest import LOST, MANIFEST_MEMBER, META_DIR, NOT_WRITTEN, SKIPPED, UNREADABLE, FileRecord, Manifest
from ..restore_target import RestoreTarget
from ..progress import ProgressCallback, ProgressTracker
from .read import MemberSeen, ReadResult, TapeFileResult, compare, matches_patterns, settle

__all__ = ["read_mounted", "list_mounted", "verify_mounted", "restore_mounted", "tape_order", "MountedFile",
           "check_volume", "is_partial", "COPY_BUFFER", "PART_PREFIX", "PART_SUFFIX", "NOT_ON_VOLUME"]

COPY_BUFFER = 8 * 1024 * 1024        # bytes per read/hash/write step
PART_PREFIX = ".lto-archive-"        # partial copies: ".lto-archive-<pid>-<n>.part", renamed when complete
PART_SUFFIX = ".part"
# manifest statuses that never claimed the file reached the volume
NOT_ON_VOLUME = (LOST, NOT_WRITTEN, UNREADABLE, SKIPPED)


def check_volume(mp: Path, store: XattrStore, require_ltfs: bool, writable: bool) -> None:
    """Refuse before touching anything: not a folder, not LTFS, read-only."""
    if not mp.is_dir():
        raise DeviceNotFound(f"{mp} is not a folder: no LTFS volume is mounted there", path=str(mp))
    if require_ltfs and not store.get(mp, VOLUME_UUID):
        raise DeviceNotFound(f"{mp} is not a mounted LTFS volume (it has no user.{VOLUME_UUID} attribute): "
                             f"mount the cartridge with ltfs first", path=str(mp))
    if writable and not os.access(mp, os.W_OK):
        raise WriteProtected(f"the volume at {mp} is read-only (write-protected cartridge, full, or mounted "
                             f"read-only): nothing was written", path=str(mp))


_PARTIAL_RE = re.compile(re.escape(PART_PREFIX) + r"\d+-\d+" + re.escape(PART_SUFFIX))


def is_partial(name: str) -> bool:
    return _PARTIAL_RE.fullmatch(name) is not None


@dataclass
class MountedFile:
    path: str            # relative, "/"-separated
    kind: str            # "file", "dir", "symlink"
    st: os.stat_result
    block: int | None = None
    partition: str = ""
    linkname: str = ""


def _walk(mp: Path) -> tuple[list[MountedFile], list[str]]:
    """Everything on the volume (no special files), and our metadata files under .lto-archive/."""
    found: list[MountedFile] = []
    meta: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        with os.scandir(mp / rel_dir if rel_dir else mp) as it:
            children = sorted(it, key=lambda e: e.name)
        for e in children:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            if rel == META_DIR and e.is_dir(follow_symlinks=False):
                meta.extend(_meta_files(mp, rel))
                continue
            if is_partial(e.name):
                continue   # an interrupted copy: never complete, never listed
            st = e.stat(follow_symlinks=False)
            if stat_mod.S_ISLNK(st.st_mode):
                found.append(MountedFile(rel, "symlink", st, linkname=os.readlink(e.path)))
            elif stat_mod.S_ISDIR(st.st_mode):
                found.append(MountedFile(rel, "dir", st))
                stack.append(rel)
            elif stat_mod.S_ISREG(st.st_mode):
                found.append(MountedFile(rel, "file", st))
    return found, sorted(meta)


def _meta_files(mp: Path, rel_dir: str) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(mp / rel_dir):
        base = Path(dirpath).relative_to(mp).as_posix()
        out.extend(f"{base}/{n}" for n in filenames if os.path.isfile(os.path.join(dirpath, n))
                   and not os.path.islink(os.path.join(dirpath, n)))
    return out


def _path_key(path: str) -> list[str]:
    return path.split("/")


def tape_order(files: list[MountedFile]) -> list[MountedFile]:
    """By partition and start block (one pass along the tape); files LTFS gives no block last, by path."""
    placed = sorted((f for f in files if f.block is not None), key=lambda f: (f.partition, f.block, _path_key(f.path)))
    rest = sorted((f for f in files if f.block is None), key=lambda f: _path_key(f.path))
    return placed + rest


def _load_manifests(mp: Path) -> tuple[list[tuple[str, Manifest]], list[dict[str, Any]]]:
    """Every .lto-archive/*/manifest.json on the volume, oldest first, and those that cannot be read."""
    folder = mp / META_DIR
    good: list[tuple[str, Manifest]] = []
    bad: list[dict[str, Any]] = []
    if not folder.is_dir() or folder.is_symlink():
        return good, bad
    for sub in sorted(folder.iterdir()):
        path = sub / Path(MANIFEST_MEMBER).name
        if sub.is_symlink() or not sub.is_dir() or not path.is_file():
            continue
        rel = f"{META_DIR}/{sub.name}/{path.name}"
        try:
            good.append((rel, Manifest.from_json(path.read_bytes())))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            bad.append({"path": rel, "reason": f"cannot read this lto-archive manifest: {exc}"})
    good.sort(key=lambda m: (m[1].session.started, m[1].session.session_id))
    return good, bad


def _merged(manifests: list[tuple[str, Manifest]], extra: Manifest | None) -> Manifest | None:
    """One manifest for the whole volume: for each path, the newest session's record."""
    chain = ([extra] if extra is not None else []) + [m for _, m in manifests]
    if not chain:
        return None
    records: dict[str, FileRecord] = {}
    for m in chain:
        for rec in m.files:
            records[rec.path] = rec
    return Manifest(chain[-1].session, list(records.values()))


def _stored_hashes(store: XattrStore, path: Path) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The user.ltfs.hash.* values we can check ({algorithm: (attribute, hex)}), and names of those we cannot."""
    known: dict[str, tuple[str, str]] = {}
    for name, algo in LTFS_HASH_ALGORITHMS.items():   # ours first, then other tools' names
        if algo in known:
            continue
        try:
            value = store.get(path, name)
        except OSError:
            value = None
        if value and value.strip():
            known[algo] = (name, value.strip().lower())
    unknown: list[str] = []
    if not known:
        try:
            unknown = sorted(n for n in store.names(path)
                             if n.lower().startswith(HASH_XATTR_PREFIX) and n not in LTFS_HASH_ALGORITHMS)
        except OSError:
            unknown = []
    return known, unknown


def read_mounted(mountpoint: Path, phase: str, patterns: Iterable[str] = (), dest: Path | None = None,
                 overwrite: bool = False, progress: ProgressCallback | None = None, *,
                 xattrs: XattrStore | None = None, require_ltfs: bool = True,
                 manifest: Manifest | None = None) -> ReadResult:
    """`ls`, `verify` and `restore` for a mounted LTFS volume, in one pass in tape order.

    Each file's bytes are hashed as they are read and checked against its
    `user.ltfs.hash.*` attributes and against the newest lto-archive manifest
    on the volume that lists it (`manifest`, e.g. a copy log, stands in for
    paths no manifest on the volume lists). The volume is one TapeFileResult
    (tape_file 0). Restore writes through RestoreTarget (never outside
    `dest`, never overwriting unless `overwrite`) and copies
    `.lto-archive/` along, so `md5sum -c .lto-archive/<session>/checksums.md5`
    works from `dest`.
    """
    if phase not in ("list", "verify", "restore"):
        raise UsageError(f"unknown phase {phase!r}: use list, verify or restore", phase=phase)
    if phase == "restore" and dest is None:
        raise UsageError("restore needs a destination folder")
    store: XattrStore = xattrs if xattrs is not None else OsXattrs()
    mp = Path(mountpoint)
    check_volume(mp, store, require_ltfs, writable=False)
    pats = list(patterns)
    found, meta = _walk(mp)
    manifests, bad_manifests = _load_manifests(mp)
    merged = _merged(manifests, manifest)
    by_path = {r.path: r for r in merged.files} if merged else {}

    for f in found:
        if f.kind == "file":
            try:
                block, part = store.get(mp / f.path, START_BLOCK), store.get(mp / f.path, PARTITION)
            except OSError:
                block, part = None, None
            if block is not None and block.strip().isdigit():
                f.block, f.partition = int(block), (part or "").strip()
    files = tape_order([f for f in found if f.kind == "file"])
    dirs = sorted((f for f in found if f.kind == "dir"), key=lambda f: _path_key(f.path))
    links = sorted((f for f in found if f.kind == "symlink"), key=lambda f: _path_key(f.path))

    res = TapeFileResult(0)
    if manifests:
        res.manifest = manifests[-1][1]
        res.manifest_source = manifests[-1][0] + (f" (+{len(manifests) - 1} older)" if len(manifests) > 1 else "")
    elif manifest is not None:
        res.manifest, res.manifest_source = manifest, "copy log"
    wanted_files = [f for f in files if matches_patterns(f.path, pats)]
    tracker = ProgressTracker(phase, progress, sum(f.st.st_size for f in wanted_files) if phase != "list" else None,
                              len(wanted_files))
    target = RestoreTarget(Path(dest), overwrite=overwrite) if phase == "restore" else None  # type: ignore[arg-type]
    reader = _Reader(mp, store, res, tracker, target, by_path)
    try:
        for f in dirs + files + links:
            seen = MemberSeen(f.path, f.kind, f.st.st_size if f.kind == "file" else 0, f.st.st_mtime, 0,
                              f.block if f.block is not None else -1, 0, linkname=f.linkname)
            res.members.append(seen)
            if phase == "list" or not matches_patterns(f.path, pats):
                continue
            reader.member(f, seen, restore=phase == "restore")
        if target is not None:
            for rel in meta:
                reader.copy_meta(rel)
        if phase != "list":
            res.unproven.extend(bad_manifests)
            _judge(res, merged, pats, reader)
        if target is not None:
            settle(target, res)     # a restored file takes its real name only when it did not fail
    finally:
        if target is not None:
            target.finish()
            target.close()
    tracker.finish()
    return ReadResult(phase, [res])


class _Reader:
    def __init__(self, mp: Path, store: XattrStore, res: TapeFileResult, tracker: ProgressTracker,
                 target: RestoreTarget | None, by_path: dict[str, FileRecord]) -> None:
        self.mp, self.store, self.res, self.tracker, self.target = mp, store, res, tracker, target
        self.by_path = by_path
        self.stored: dict[str, dict[str, tuple[str, str]]] = {}   # path -> {algo: (attribute, hex)}
        self.unknown: dict[str, list[str]] = {}          # path -> hash attributes we cannot check
        self.read_errors: dict[str, str] = {}
        self.buf = bytearray(COPY_BUFFER)

    def _refuse(self, path: str, exc: LtoArchiveError) -> None:
        reason = "unsafe" if isinstance(exc, UnsafePath) else "exists"
        self.res.refused.append({"path": path, "reason": reason, "message": exc.message})

    def member(self, f: MountedFile, seen: MemberSeen, restore: bool) -> None:
        rec = self.by_path.get(f.path)
        mode = (rec.mode if rec is not None and rec.kind == f.kind else f.st.st_mode) & 0o777
        target = self.target if restore else None
        try:
            if f.kind == "dir":
                if target is not None:
                    target.make_dir(f.path, mode, mtime_ns=f.st.st_mtime_ns)
                    self.res.restored.append(f.path)
                return
            if f.kind == "symlink":
                if target is not None:
                    target.make_symlink(f.path, f.linkname, mtime_ns=f.st.st_mtime_ns)
                    self.res.restored.append(f.path)
                return
            self._file(f, seen, rec, mode, target)
        except (UnsafePath, RestoreConflict) as exc:
            self._refuse(f.path, exc)

    def _file(self, f: MountedFile, seen: MemberSeen, rec: FileRecord | None, mode: int,
              target: RestoreTarget | None) -> None:
        path = self.mp / f.path
        stored, unknown = _stored_hashes(self.store, path)
        self.stored[f.path], self.unknown[f.path] = stored, unknown
        algos = list(dict.fromkeys([*stored, *(rec.hashes if rec is not None else {})]))
        hasher = MultiHasher([a for a in algos if a in ALGORITHMS] or DEFAULT_ALGORITHMS)
        self.tracker.file_started(f.path)
        out = target.open_file(f.path, mode, mtime_ns=f.st.st_mtime_ns) if target is not None else None
        done = 0
        try:
            try:
                with open(path, "rb", buffering=0) as src:
                    buf = memoryview(self.buf)
                    while True:
                        n = src.readinto(buf)
                        if not n:
                            break
                        chunk = buf[:n]
                        hasher.update(chunk)
                        if out is not None:
                            out.write(chunk)
                        done += n
                        self.tracker.add_bytes(n)
            except OSError as exc:
                self.read_errors[f.path] = (f"read error after {done} bytes: {exc.strerror or exc} "
                                            f"(the drive could not read this file back)")
                if out is not None:
                    out.abort()
                return
            seen.size = done
            seen.hashes = hasher.hexdigests()
            if out is not None:
                out.hold()          # under its temporary name until `settle` has judged it
                self.res.held[f.path] = out
        finally:
            if out is not None and not out.closed and self.res.held.get(f.path) is not out:
                out.abort()
            self.tracker.file_done()

    def copy_meta(self, rel: str) -> None:
        assert self.target is not None
        path = self.mp / rel
        try:
            data = path.read_bytes()
            st = path.stat()
        except OSError:
            return
        try:
            self.target.write_file(rel, [data], 0o644, mtime_ns=st.st_mtime_ns)
        except (UnsafePath, RestoreConflict) as exc:
            self._refuse(rel, exc)


def _judge(res: TapeFileResult, merged: Manifest | None, pats: list[str], reader: _Reader) -> None:
    """compare() for what the manifests claim, then the volume's own hash attributes, then the rest."""
    if merged is not None:
        compare(res, merged, pats)
    by_path = {r.path: r for r in merged.files} if merged is not None else {}
    refused = {r["path"] for r in res.refused}
    failed = {f["path"]: f for f in res.failed}
    for f in res.failed:
        if f["reason"] == "missing from the tape file":
            f["reason"] = "missing from the volume"

    def fail(path: str, entry: dict[str, Any]) -> None:
        if path in res.verified:
            res.verified.remove(path)
        if path in failed:
            failed[path].update(entry)
        else:
            failed[path] = entry
            res.failed.append(entry)

    for seen in res.members:
        path = seen.path
        if seen.kind != "file" or path in refused or (path not in reader.stored and path not in reader.read_errors):
            continue   # not wanted (patterns), or refused by the restore: never read
        rec = by_path.get(path)
        covered = rec is not None and rec.kind == "file" and rec.status not in NOT_ON_VOLUME
        if path in reader.read_errors:
            fail(path, {"path": path, "reason": reader.read_errors[path]})
            continue
        stored = reader.stored.get(path, {})
        bad = {a: (n, h, seen.hashes.get(a)) for a, (n, h) in stored.items() if seen.hashes.get(a) != h}
        if bad:
            a, (name, want, have) = next(iter(bad.items()))
            fail(path, {"path": path, "reason": f"{a} mismatch (user.{name} on the volume)",
                        "algorithm": a, "expected": want, "actual": have})
            continue
        if path in failed:
            continue
        if covered:
            if path in res.verified and not rec.hashes and not stored:  # type: ignore[union-attr]
                res.verified.remove(path)
                res.unproven.append({"path": path, "reason": "the manifest lists it without a hash"})
            continue
        if stored:
            res.verified.append(path)
        else:
            extra = (f" (only {', '.join('user.' + n for n in reader.unknown.get(path, []))}, which lto-archive "
                     f"cannot compute)") if reader.unknown.get(path) else ""
            res.unproven.append({"path": path, "reason": "no recorded hash: no user.ltfs.hash.* attribute"
                                 f"{extra} and no lto-archive manifest lists it"})


def list_mounted(mountpoint: Path, **kw: Any) -> ReadResult:
    return read_mounted(mountpoint, "list", **kw)


def verify_mounted(mountpoint: Path, **kw: Any) -> ReadResult:
    return read_mounted(mountpoint, "verify", **kw)


def restore_mounted(mountpoint: Path, dest: Path, **kw: Any) -> ReadResult:
    return read_mounted(mountpoint, "restore", dest=dest, **kw)
