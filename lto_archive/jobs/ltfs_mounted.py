"""Writing to a mounted LTFS volume through the file system (reading it: jobs/ltfs_mount_read.py).

The LTFS software (ltfs_tools.LtfsTools.mount) presents the cartridge as a
folder. Writing copies the sources into it in source order, hashing each file
in the same pass, stores the hashes in the index as `user.ltfs.hash.*`
attributes (LTFS Format 2.4 Annex F.3), puts our manifest, checksum lists and
copy log under `.lto-archive/<session>/` on the volume, and forces an index
sync by setting `user.ltfs.sync` on the volume root. The session's lifecycle
(session id, records, close, copy log) is jobs/session.py's, as for a tape.

Results are the TAR backend's WriteResult (and ReadResult, from the read
functions this module re-exports), so the CLI, reports and exit codes are the
same for both backends.
"""

from __future__ import annotations

import errno
import getpass
import itertools
import os
import socket
import stat as stat_mod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DeviceError, EndOfMedium, MediumError, SourceError, UsageError, WriteProtected
from ..hashing import MultiHasher
from ..tape.blocks import records_cost
from ..ltfs_tools import (LTFS_HASH_XATTRS, PARTITION, START_BLOCK, SYNC, SYNC_VALUE, VOLUME_BLOCKSIZE, VOLUME_SERIAL,
                          VOLUME_UUID, OsXattrs, XattrStore)
from ..manifest import (COPY_LOG_MEMBER, LOST, MANIFEST_MEMBER, META_DIR, NOT_WRITTEN, OK, SKIPPED, UNREADABLE,
                        FileRecord, Manifest, SessionInfo, iso, utc_now)
from ..scan import SourceEntry, scan_sources
from . import session_evidence
from .engine import WriteJob, close_job_session, run
from .journal import COMMIT_EVERY_BYTES, NOT_ON_TAPE, open_journal
from .ltfs_mount_read import (COPY_BUFFER, NOT_ON_VOLUME, PART_PREFIX, PART_SUFFIX, MountedFile, check_volume,
                              list_mounted, read_mounted, restore_mounted, tape_order, verify_mounted)
from ..progress import ProgressCallback, ProgressTracker
from .session import (TOOL, WriteOptions, WriteResult, check_copied, copy_source_file, new_record, new_session_id,
                      keep_copy_log)
from .targets import LtfsMount

__all__ = ["LtfsMount", "write_to_mount", "read_mounted", "list_mounted", "verify_mounted", "restore_mounted",
           "tape_order", "MountedFile", "LTFS_HASH_XATTRS", "FORMAT", "COPY_BUFFER"]

FORMAT = "ltfs"
DEFAULT_LTFS_BLOCK = 512 * 1024      # LTFS_DEFAULT_BLOCKSIZE, when the volume does not say
_counter = itertools.count()


# --- shared checks ---------------------------------------------------------------------------

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
    """Room kept for our records (twice: they are packed again in the session's paperwork) and LTFS's indexes:
    each index grows with the file count, and a job makes four (two syncs here, two at unmount)."""
    records = 64 * 1024 + entries * (700 + 160 * algorithms)
    return 4 * (64 * 1024 + entries * (1024 + 160 * algorithms)) + 2 * records + 8 * blocksize


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
    _refuse_before_writing(mp, store, entries, require_ltfs, overwrite)
    bs_text = _root_attr(store, mp, VOLUME_BLOCKSIZE)
    blocksize = int(bs_text) if bs_text and bs_text.isdigit() else 0
    started = utc_now()
    session = SessionInfo(
        session_id=new_session_id(), tool=TOOL, format=FORMAT, algorithms=list(opts.algorithms),
        record_size=blocksize, operator=opts.operator or getpass.getuser(), host=socket.gethostname(),
        sources=[str(Path(s).resolve()) for s in sources], device=opts.device_name or str(mp.resolve()),
        barcode=_root_attr(store, mp, VOLUME_SERIAL) or None, generation="", tape_file=None,
        partition=None, start_block=None, started=iso(started), production=opts.production,
        queue_job=opts.queue_job)
    files_total = sum(1 for e in entries if e.kind == "file")
    tracker = ProgressTracker("write", progress, sum(e.size for e in entries if e.kind == "file"), files_total)
    return run(_WriteJob(mp, store, opts, tracker, overwrite, blocksize or DEFAULT_LTFS_BLOCK, entries,
                         Manifest(session, []), started))


def _refuse_before_writing(mp: Path, store: XattrStore, entries: list[SourceEntry], require_ltfs: bool,
                           overwrite: bool) -> None:
    """A source named like our records, a mount point that is no writable LTFS volume, members
    already on it (unless `overwrite`): refused before anything is written."""
    for e in entries:
        if e.name.split("/", 1)[0] == META_DIR:
            raise SourceError(f"a source named {META_DIR} would mix with lto-archive's own records on the "
                              f"volume: rename it", path=str(e.path))
    check_volume(mp, store, require_ltfs, writable=True)
    clash = _conflicts(mp, entries, overwrite)
    if clash:
        more = f" and {len(clash) - 10} more" if len(clash) > 10 else ""
        raise UsageError(f"{len(clash)} member(s) already on the volume, nothing written (pass overwrite to "
                         f"replace files): {'; '.join(clash[:10])}{more}", files=clash)


class _WriteJob(WriteJob[WriteResult]):
    """One session copied onto a mounted LTFS volume; LTFS's index sync is its commit point. A signal stops
    it at a file boundary (a file appears under its name only when complete): the volume is synced with
    every complete file and our records. The journal takes each file once LTFS has it (closed)."""

    interruptible = True
    journal = None

    def __init__(self, mp: Path, store: XattrStore, opts: WriteOptions, tracker: ProgressTracker,
                 overwrite: bool, blocksize: int, entries: list[SourceEntry], manifest: Manifest, started: Any) -> None:
        self.mp, self.store, self.opts, self.tracker = mp, store, opts, tracker
        self.pending = list(entries)
        self.manifest, self.records, self.started = manifest, manifest.files, started
        self.error: DeviceError | None = None
        self.stopped: str | None = None
        self.dirs: list[tuple[Path, os.stat_result]] = []
        n_entries = len(entries)
        self.overwrite = overwrite
        self.blocksize = blocksize
        self.buf = bytearray(opts.chunk_size or COPY_BUFFER)
        free = _free_bytes(mp)
        reserve = metadata_reserve(n_entries, len(opts.algorithms), blocksize)
        self.budget = None if free is None else free - reserve
        self.used = 0
        self.evidence_notes: list[str] = []
        self.custody_record: dict[str, Any] | None = None    # the volume's custody record (for the catalog)

    def start(self) -> None:
        """The job journal in the log folder (a folder that cannot take it: nothing is written)."""
        s = self.manifest.session
        self.journal = open_journal(self.opts.log_dir, s, [
            {"barcode": s.barcode, "volume_uuid": _root_attr(self.store, self.mp, VOLUME_UUID), "device": s.device,
             "tape_file": None, "start_block": None}])
        self.unjournaled = 0      # bytes LTFS took since the last commit point of the journal

    def journaled(self, rec: FileRecord) -> None:
        """An entry is on the volume (LTFS took it): journal it, fsynced at most every COMMIT_EVERY_BYTES."""
        if self.journal is None:
            return
        if rec.status not in NOT_ON_TAPE:
            self.journal.offer(rec, 0)
            self.unjournaled += rec.size if rec.kind == "file" else 0
        if self.unjournaled >= COMMIT_EVERY_BYTES:
            self.journal.commit(None)
            self.unjournaled = 0

    def room_for(self, size: int) -> bool:
        need = records_cost(size, self.blocksize)   # each file starts a new record; its last one is short
        if self.budget is not None and self.used + need > self.budget:
            return False
        self.used += need
        return True

    def add_next(self) -> None:
        """The next entry onto the volume; after the volume failed, the rest are not written."""
        entry = self.pending.pop(0)
        rec = new_record(entry)
        self.records.append(rec)
        if self.error is not None:
            rec.status, rec.message = NOT_WRITTEN, "the volume failed before this file"
            return
        if self.stopped:
            rec.status, rec.message = NOT_WRITTEN, self.stopped
            return
        if entry.kind == "file" and not self.room_for(entry.size):
            self.stopped = "no room left on this volume: not written"
            rec.status, rec.message = NOT_WRITTEN, self.stopped
            return
        try:
            self.add(entry, rec, self.dirs)
            self.journaled(rec)
        except _VolumeFailed as exc:
            error = self.error = exc.error
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

    def commit(self) -> None:
        """The volume describes itself: index with the files' positions, then our records, then the
        index again (also after a failure part-way: what is there is described)."""
        _finish_dirs(self.dirs)
        try:
            if self.error is None:
                self.sync("after copying the files")
                self.record_positions(self.records)
            self.close_session()
            self.write_metadata(self.manifest)
            self.sync("after writing the manifest")
        except _VolumeFailed as exc:
            raise exc.error from None

    def fail(self, exc: DeviceError) -> None:
        """The volume failed while it was being described: the first failure is the job's."""
        self.error = self.error or exc

    def close_session(self) -> None:
        close_job_session(self.manifest.session, self.records, self.started, self.tracker,
                          failed=self.error is not None, interrupted=self.interrupted)

    def abandon(self) -> None:
        """A second signal: the file being copied is dropped (never under its name); what LTFS took is journaled."""
        self.close_journal()

    def close_journal(self) -> None:
        if self.journal is not None:
            self.journal.commit(None)
            self.journal.close()

    def finish(self) -> WriteResult:
        self.tracker.finish()
        self.close_journal()
        self.close_session()
        result = WriteResult(self.manifest, self.error, notes=list(self.evidence_notes),
                             custody_record=self.custody_record)
        keep_copy_log(result, self.manifest, self.opts.log_dir)
        return result

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
        tmp = dest.with_name(f"{PART_PREFIX}{os.getpid()}-{next(_counter)}{PART_SUFFIX}")

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
            if rec.kind != "file" or rec.status in NOT_ON_VOLUME:
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
        evidence = session_evidence.evidence_files(manifest, [], self.opts, self.evidence_notes)
        files.update((name.rsplit("/", 1)[-1], data) for name, data in evidence.items())  # paperwork, custody
        self.custody_record = session_evidence.record_head(evidence)
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
