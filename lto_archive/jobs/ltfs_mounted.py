"""Jobs over a mounted LTFS volume: write, list, verify and restore through the file system.

The LTFS software (ltfs_tools.LtfsTools.mount) presents the cartridge as a
folder. Writing copies the sources into it in source order, hashing each file
in the same pass, stores the hashes in the index as `user.ltfs.hash.*`
attributes (LTFS Format 2.4 Annex F.3), puts our manifest, checksum lists and
copy log under `.lto-archive/<session>/` on the volume, and forces an index
sync by setting `user.ltfs.sync` on the volume root. Reading goes file by file
in tape order (`user.ltfs.startblock`), hashes while reading, and judges every
file with the same rules as the TAR backend (jobs.read.compare): statuses
CHANGED, READ_ERROR, UNREADABLE are never called verified, and a file with no
recorded hash at all is unproven (exit 5), never "ok".

Results are the TAR backend's WriteResult and ReadResult, so the CLI, reports
and exit codes are the same for both backends.
"""

from __future__ import annotations

import errno
import getpass
import itertools
import os
import re
import socket
import stat as stat_mod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import (DeviceError, DeviceNotFound, EndOfMedium, LtoArchiveError, MediumError, RestoreConflict,
                      SourceError, UnsafePath, UsageError, WriteProtected)
from ..hashing import ALGORITHMS, DEFAULT_ALGORITHMS, MultiHasher
from ..ltfs_tools import (HASH_XATTR_PREFIX, LTFS_HASH_ALGORITHMS, LTFS_HASH_XATTRS, PARTITION, START_BLOCK, SYNC,
                          SYNC_VALUE, VOLUME_BLOCKSIZE, VOLUME_SERIAL, VOLUME_UUID, OsXattrs, XattrStore)
from ..manifest import (COPY_LOG_MEMBER, LOST, MANIFEST_MEMBER, META_DIR, NOT_WRITTEN, OK, SKIPPED, UNREADABLE,
                        FileRecord, Manifest, SessionInfo, iso, utc_now)
from ..restore_target import RestoreTarget
from ..scan import SourceEntry, scan_sources
from .progress import ProgressCallback, ProgressTracker
from .read import MemberSeen, ReadResult, TapeFileResult, matches_patterns, compare
from .session import (TOOL, WriteOptions, WriteResult, check_copied, close_session, copy_source_file, new_session_id,
                      write_copy_log)

__all__ = ["write_to_mount", "read_mounted", "list_mounted", "verify_mounted", "restore_mounted",
           "LTFS_HASH_XATTRS", "FORMAT", "COPY_BUFFER"]

FORMAT = "ltfs"
COPY_BUFFER = 8 * 1024 * 1024        # bytes per read/hash/write step
DEFAULT_LTFS_BLOCK = 512 * 1024      # LTFS_DEFAULT_BLOCKSIZE, when the volume does not say
_PART_PREFIX = ".lto-archive-"       # partial copies: ".lto-archive-<pid>-<n>.part", renamed when complete
_PART_SUFFIX = ".part"
_counter = itertools.count()
# manifest statuses that never claimed the file reached the volume
_NOT_ON_VOLUME = (LOST, NOT_WRITTEN, UNREADABLE, SKIPPED)


# --- shared checks ---------------------------------------------------------------------------

def _check_volume(mp: Path, store: XattrStore, require_ltfs: bool, writable: bool) -> None:
    """Refuse before touching anything: not a folder, not LTFS, read-only."""
    if not mp.is_dir():
        raise DeviceNotFound(f"{mp} is not a folder: no LTFS volume is mounted there", path=str(mp))
    if require_ltfs and not store.get(mp, VOLUME_UUID):
        raise DeviceNotFound(f"{mp} is not a mounted LTFS volume (it has no user.{VOLUME_UUID} attribute): "
                             f"mount the cartridge with ltfs first", path=str(mp))
    if writable and not os.access(mp, os.W_OK):
        raise WriteProtected(f"the volume at {mp} is read-only (write-protected cartridge, full, or mounted "
                             f"read-only): nothing was written", path=str(mp))


_PARTIAL_RE = re.compile(re.escape(_PART_PREFIX) + r"\d+-\d+" + re.escape(_PART_SUFFIX))


def _is_partial(name: str) -> bool:
    return _PARTIAL_RE.fullmatch(name) is not None


def _volume_error(exc: OSError, what: str) -> DeviceError:
    msg = f"{what}: {exc.strerror or exc}"
    if exc.errno == errno.ENOSPC:
        return EndOfMedium(f"the LTFS volume is full ({msg})", errno=exc.errno)
    if exc.errno == errno.EROFS:
        return WriteProtected(f"the LTFS volume became read-only ({msg})", errno=exc.errno)
    if exc.errno == errno.EIO:
        return MediumError(f"the drive reported an I/O error ({msg})", errno=exc.errno)
    return DeviceError(f"the LTFS volume failed ({msg})", errno=exc.errno)


class _VolumeFailed(Exception):
    """An OSError on the volume side (not the source): stops the job."""

    def __init__(self, error: DeviceError, data_complete: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.data_complete = data_complete   # the file's bytes are all there, only its attributes failed


# --- write -----------------------------------------------------------------------------------

def _conflicts(mp: Path, entries: list[SourceEntry], overwrite: bool) -> list[str]:
    """Members that would replace something on the volume; never a folder, never through a link."""
    out = []
    for e in entries:
        if e.kind == "special":
            continue
        try:
            st = os.lstat(mp / e.name)
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            out.append(f"{e.name} (a parent on the volume is not a folder)")
            continue
        on_vol_dir = stat_mod.S_ISDIR(st.st_mode)
        if e.kind == "dir":
            if not on_vol_dir:
                out.append(f"{e.name} (a file or link of that name is on the volume)")
        elif on_vol_dir:
            out.append(f"{e.name} (a folder of that name is on the volume)")
        elif not overwrite:
            out.append(e.name)
    return out


def _free_bytes(mp: Path) -> int | None:
    try:
        st = os.statvfs(mp)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def metadata_reserve(entries: int, algorithms: int, blocksize: int) -> int:
    """Room kept for our records and LTFS's indexes: each index grows with the file count,
    and a job makes four (two syncs here, two at unmount)."""
    return 4 * (64 * 1024 + entries * (1024 + 160 * algorithms)) + 8 * blocksize


def _root_attr(store: XattrStore, mp: Path, name: str) -> str | None:
    try:
        return store.get(mp, name)
    except OSError:
        return None


@dataclass
class _Copy:
    """What copy_source_file expects back from a format's writer."""

    copied: int
    size: int
    read_error: OSError | None


def _source_reader(reader, entry: SourceEntry):  # type: ignore[no-untyped-def]
    """The opened source as the copy reads it (tests wrap it to inject read errors)."""
    return reader


def _write_all(fd: int, data: memoryview) -> None:
    done = 0
    while done < len(data):
        done += os.write(fd, data[done:])


def write_to_mount(sources: list[str | Path], mountpoint: Path, options: WriteOptions | None = None,
                   progress: ProgressCallback | None = None, *, overwrite: bool = False,
                   require_ltfs: bool = True, xattrs: XattrStore | None = None) -> WriteResult:
    """Copy the sources onto a mounted LTFS volume and return what happened to every file.

    Each source becomes a top-level folder (or file) on the volume, as in the
    TAR archive. Refused before anything is written: sources that cannot be
    scanned, a mount point that is not a mounted LTFS volume (unless
    `require_ltfs=False`, for tests on a plain folder) or is read-only, and
    any file that already exists on the volume unless `overwrite`. `xattrs`:
    how extended attributes are read and written (default: the OS).
    Per-file problems and a volume failing part-way are reported in the
    result; `raise_for_status()` turns them into an exception.
    """
    opts = options or WriteOptions()
    store: XattrStore = xattrs if xattrs is not None else OsXattrs()
    mp = Path(mountpoint)
    entries = scan_sources(list(sources))
    for e in entries:
        if e.name.split("/", 1)[0] == META_DIR:
            raise SourceError(f"a source named {META_DIR} would mix with lto-archive's own records on the "
                              f"volume: rename it", path=str(e.path))
    _check_volume(mp, store, require_ltfs, writable=True)
    clash = _conflicts(mp, entries, overwrite)
    if clash:
        more = f" and {len(clash) - 10} more" if len(clash) > 10 else ""
        raise UsageError(f"{len(clash)} member(s) already on the volume, nothing written (pass overwrite to "
                         f"replace files): {'; '.join(clash[:10])}{more}", files=clash)

    bs_text = _root_attr(store, mp, VOLUME_BLOCKSIZE)
    blocksize = int(bs_text) if bs_text and bs_text.isdigit() else 0
    started = utc_now()
    session = SessionInfo(
        session_id=new_session_id(), tool=TOOL, format=FORMAT, algorithms=list(opts.algorithms),
        record_size=blocksize, operator=opts.operator or getpass.getuser(), host=socket.gethostname(),
        sources=[str(Path(s).resolve()) for s in sources], device=opts.device_name or str(mp.resolve()),
        barcode=_root_attr(store, mp, VOLUME_SERIAL) or None, generation="", tape_file=None,
        partition=None, start_block=None, started=iso(started))
    records: list[FileRecord] = []
    manifest = Manifest(session, records)
    files_total = sum(1 for e in entries if e.kind == "file")
    tracker = ProgressTracker("write", progress, sum(e.size for e in entries if e.kind == "file"), files_total)
    job = _WriteJob(mp, store, opts, tracker, overwrite, blocksize or DEFAULT_LTFS_BLOCK, len(entries))

    error: DeviceError | None = None
    stopped: str | None = None
    dirs: list[tuple[Path, os.stat_result]] = []
    for entry in entries:
        rec = FileRecord(path=entry.name, kind=entry.kind, size=entry.size, mtime=iso(entry.st.st_mtime),
                         mode=entry.st.st_mode & 0o7777, source=str(entry.path))
        records.append(rec)
        if error is not None:
            rec.status, rec.message = NOT_WRITTEN, "the volume failed before this file"
            continue
        if stopped:
            rec.status, rec.message = NOT_WRITTEN, stopped
            continue
        if entry.kind == "file" and not job.room_for(entry.size):
            stopped = "no room left on this volume: not written"
            rec.status, rec.message = NOT_WRITTEN, stopped
            continue
        try:
            job.add(entry, rec, dirs)
        except _VolumeFailed as exc:
            error = exc.error
            if exc.data_complete:
                rec.message = f"on the volume, but its hash attributes are not: {error.message}"
            elif entry.kind == "file":
                rec.status, rec.message = LOST, f"the volume failed while writing this file: {error.message}"
                error.message = (f"{error.message} (while writing {rec.path}; every file before it is "
                                 f"complete on the volume)")
                error.args = (error.message,)
                error.data.setdefault("file", rec.path)
            else:
                rec.status, rec.message = NOT_WRITTEN, f"the volume failed here: {error.message}"

    _finish_dirs(dirs)
    # the volume describes itself: index with the files' positions, then our records, then the index again
    try:
        if error is None:
            job.sync("after copying the files")
            job.record_positions(records)
        close_session(session, records, started, tracker, failed=error is not None)
        job.write_metadata(manifest)
        job.sync("after writing the manifest")
    except _VolumeFailed as exc:
        error = error or exc.error
    tracker.finish()
    close_session(session, records, started, tracker, failed=error is not None)
    result = WriteResult(manifest, error)
    if opts.log_dir is not None:
        result.log_paths = write_copy_log(manifest, opts.log_dir)
    return result


class _WriteJob:
    def __init__(self, mp: Path, store: XattrStore, opts: WriteOptions, tracker: ProgressTracker,
                 overwrite: bool, blocksize: int, n_entries: int) -> None:
        self.mp, self.store, self.opts, self.tracker = mp, store, opts, tracker
        self.overwrite = overwrite
        self.blocksize = blocksize
        self.buf = bytearray(opts.chunk_size or COPY_BUFFER)
        free = _free_bytes(mp)
        reserve = metadata_reserve(n_entries, len(opts.algorithms), blocksize)
        self.budget = None if free is None else free - reserve
        self.used = 0

    def room_for(self, size: int) -> bool:
        need = -(-size // self.blocksize) * self.blocksize   # each file starts on a new block
        if self.budget is not None and self.used + need > self.budget:
            return False
        self.used += need
        return True

    # --- members ------------------------------------------------------------------------
    def add(self, entry: SourceEntry, rec: FileRecord, dirs: list[tuple[Path, os.stat_result]]) -> None:
        dest = self.mp / entry.name
        if entry.kind == "dir":
            try:
                os.makedirs(dest, exist_ok=True)
            except OSError as exc:
                raise _VolumeFailed(_volume_error(exc, f"creating folder {entry.name}")) from exc
            dirs.append((dest, entry.st))
        elif entry.kind == "symlink":
            try:
                rec.linkname = os.readlink(entry.path)
            except OSError as exc:
                rec.status, rec.message = UNREADABLE, f"cannot read the link: {exc.strerror}"
                return
            self._symlink(dest, rec.linkname, entry)
        elif entry.kind == "special":
            rec.status, rec.message = SKIPPED, "not a regular file, folder or link"
        else:
            self._copy_file(entry, rec, dest)

    def _symlink(self, dest: Path, target: str, entry: SourceEntry) -> None:
        try:
            if self.overwrite and os.path.lexists(dest):
                os.unlink(dest)
            os.symlink(target, dest)
        except OSError as exc:
            raise _VolumeFailed(_volume_error(exc, f"creating link {entry.name}")) from exc
        try:
            os.utime(dest, ns=(entry.st.st_atime_ns, entry.st.st_mtime_ns), follow_symlinks=False)
        except (OSError, NotImplementedError):
            pass

    def _copy_file(self, entry: SourceEntry, rec: FileRecord, dest: Path) -> None:
        """The TAR job's source handling (jobs.write.copy_source_file / check_copied), into the volume."""
        tmp = dest.with_name(f"{_PART_PREFIX}{os.getpid()}-{next(_counter)}{_PART_SUFFIX}")

        def write_member(reader, before: os.stat_result, hasher: MultiHasher) -> _Copy:  # type: ignore[no-untyped-def]
            return self._copy_data(_source_reader(reader, entry), tmp, before.st_size, hasher, entry.name)

        done = copy_source_file(entry, rec, self.opts, self.tracker, write_member)
        if done is None:
            return   # unreadable: nothing on the volume
        rec.hashes = done.hasher.hexdigests()
        check_copied(entry, rec, done.copied, done.size, done.read_error, done.before, zero_filled=False)
        self._place(tmp, dest, done.before, rec, entry.name)
        if rec.status != OK:
            rec.size = done.copied   # what the volume holds (read-error, changed: never verified)
            return
        # only a clean copy gets hash attributes: nothing on the volume vouches for a doubtful one
        for algo, digest in rec.hashes.items():
            try:
                self.store.set(dest, LTFS_HASH_XATTRS[algo], digest)
            except OSError as exc:
                raise _VolumeFailed(_volume_error(exc, f"storing user.{LTFS_HASH_XATTRS[algo]} on {entry.name}"),
                                    data_complete=True) from exc

    def _copy_data(self, raw, tmp: Path, size: int, hasher: MultiHasher,  # type: ignore[no-untyped-def]
                   name: str) -> "_Copy":
        """Exactly `size` bytes (fewer if the source ends early), hashed as they pass."""
        try:
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                          | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise _VolumeFailed(_volume_error(exc, f"creating {name}")) from exc
        buf = memoryview(self.buf)
        copied = 0
        read_error: OSError | None = None
        try:
            while copied < size:
                try:
                    n = raw.readinto(buf[:min(len(buf), size - copied)])   # counts progress
                except OSError as exc:
                    read_error = exc
                    break
                if not n:
                    break
                chunk = buf[:n]
                hasher.update(chunk)
                try:
                    _write_all(out, chunk)
                except OSError as exc:
                    raise _VolumeFailed(_volume_error(exc, f"writing {name}")) from exc
                copied += n
            fd, out = out, -1
            try:
                os.close(fd)   # LTFS reports deferred write errors here
            except OSError as exc:
                raise _VolumeFailed(_volume_error(exc, f"closing {name}")) from exc
        except BaseException:
            if out >= 0:
                os.close(out)
            _unlink_quiet(tmp)
            raise
        return _Copy(copied, size, read_error)

    def _place(self, tmp: Path, dest: Path, before: os.stat_result, rec: FileRecord, name: str) -> None:
        """Mode and times, then the real name: a file appears under it only when complete."""
        try:
            os.chmod(tmp, rec.mode & 0o777)
        except OSError:
            pass   # LTFS keeps only a read-only flag; the manifest has the real mode
        try:
            os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
            if not self.overwrite and os.path.lexists(dest):
                raise FileExistsError(errno.EEXIST, "appeared on the volume while copying", str(dest))
            os.replace(tmp, dest)
        except OSError as exc:
            _unlink_quiet(tmp)
            raise _VolumeFailed(_volume_error(exc, f"placing {name}")) from exc

    # --- the end ------------------------------------------------------------------------
    def sync(self, when: str) -> None:
        """Setting user.ltfs.sync on the root makes LTFS flush data and write an index now."""
        try:
            self.store.set(self.mp, SYNC, SYNC_VALUE)
        except OSError as exc:
            raise _VolumeFailed(_volume_error(exc, f"index sync {when} failed; the files are not yet in the "
                                              f"index: do not eject, unmount to write it")) from exc

    def record_positions(self, records: list[FileRecord]) -> None:
        """Partition and first block of every copied file, from LTFS's attributes (best effort)."""
        for rec in records:
            if rec.kind != "file" or rec.status in _NOT_ON_VOLUME:
                continue
            path = self.mp / rec.path
            try:
                block, part = self.store.get(path, START_BLOCK), self.store.get(path, PARTITION)
            except OSError:
                continue
            if block is not None and block.strip().isdigit():
                rec.block = int(block)
            if part and len(part.strip()) == 1 and part.strip().isalpha():
                rec.partition = ord(part.strip().lower()) - ord("a")   # mkltfs: a = SCSI 0, b = SCSI 1

    def write_metadata(self, manifest: Manifest) -> None:
        folder = self.mp / META_DIR / manifest.session.session_id
        files = dict(manifest.checksum_lists())
        files[Path(COPY_LOG_MEMBER).name] = manifest.copy_log_text().encode("utf-8", "surrogateescape")
        files[Path(MANIFEST_MEMBER).name] = manifest.to_json()     # last: its presence marks a finished job
        try:
            os.makedirs(folder, exist_ok=True)
            for name, data in files.items():
                with open(folder / name, "xb") as f:
                    f.write(data)
        except OSError as exc:
            raise _VolumeFailed(_volume_error(exc, f"writing {META_DIR}/{manifest.session.session_id}")) from exc


def _unlink_quiet(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _finish_dirs(dirs: list[tuple[Path, os.stat_result]]) -> None:
    """Folder times and modes last, deepest first (writing into a folder changes its time).

    Folders stay writable for us (a later job may add to them); the manifest
    holds the exact mode for a restore.
    """
    for dest, st in sorted(dirs, key=lambda d: len(d[0].parts), reverse=True):
        try:
            os.chmod(dest, (st.st_mode & 0o777) | 0o700)
        except OSError:
            pass
        try:
            os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
        except OSError:
            pass


# --- read: list, verify, restore ------------------------------------------------------------------

@dataclass
class _Found:
    path: str            # relative, "/"-separated
    kind: str            # "file", "dir", "symlink"
    st: os.stat_result
    block: int | None = None
    partition: str = ""
    linkname: str = ""


def _walk(mp: Path) -> tuple[list[_Found], list[str]]:
    """Everything on the volume (no special files), and our metadata files under .lto-archive/."""
    found: list[_Found] = []
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
            if _is_partial(e.name):
                continue   # an interrupted copy: never complete, never listed
            st = e.stat(follow_symlinks=False)
            if stat_mod.S_ISLNK(st.st_mode):
                found.append(_Found(rel, "symlink", st, linkname=os.readlink(e.path)))
            elif stat_mod.S_ISDIR(st.st_mode):
                found.append(_Found(rel, "dir", st))
                stack.append(rel)
            elif stat_mod.S_ISREG(st.st_mode):
                found.append(_Found(rel, "file", st))
    return found, sorted(meta)


def _meta_files(mp: Path, rel_dir: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(mp / rel_dir):
        base = Path(dirpath).relative_to(mp).as_posix()
        out.extend(f"{base}/{n}" for n in filenames if os.path.isfile(os.path.join(dirpath, n))
                   and not os.path.islink(os.path.join(dirpath, n)))
    return out


def _path_key(path: str) -> list[str]:
    return path.split("/")


def tape_order(files: list[_Found]) -> list[_Found]:
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
    _check_volume(mp, store, require_ltfs, writable=False)
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
    finally:
        if target is not None:
            target.finish()
            target.close()
    tracker.finish()
    if phase != "list":
        res.unproven.extend(bad_manifests)
        _judge(res, merged, pats, reader)
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

    def member(self, f: _Found, seen: MemberSeen, restore: bool) -> None:
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

    def _file(self, f: _Found, seen: MemberSeen, rec: FileRecord | None, mode: int,
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
                out.commit()
                self.res.restored.append(f.path)
        finally:
            if out is not None and not out.closed:
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
        covered = rec is not None and rec.kind == "file" and rec.status not in _NOT_ON_VOLUME
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
