"""Folder destinations (a shuttle drive, a RAID) fed from the same read as the tapes.

The write job reads each source file once; its bytes reach every folder
through the hash thread (`Tee.update` hashes, then writes each folder's copy),
so a slow folder holds the others back only within the stream's buffer pool.
Files are created through RestoreTarget: nothing outside the folder, never an
overwrite, a temporary name until the copy is complete. A folder that fails
(disk full, unplugged) is dropped and reported; the other destinations go on.
Afterwards every copy is read back and compared with the hashes of the pass.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..progress import DestinationProgress
from ..errors import LtoArchiveError, RestoreConflict, UnsafePath, UsageError
from ..hashing import MultiHasher
from ..manifest import iso, utc_now
from ..paperwork import session_files
from ..restore_target import RestoreTarget

FILL_WARNING = 0.80       # RT-030 3.1.3: do not fill a disk past 80 %


@dataclass
class FolderResult:
    """What happened at one folder destination, file by file."""

    root: Path
    status: str = "ok"                 # ok | failed | incomplete
    error: str = ""
    notes: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)     # path -> why (write or verify)
    verified: list[str] = field(default_factory=list)
    verified_at: str | None = None     # when the read-back ended (ISO UTC); None: not read back

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "folder", "destination": str(self.root), "status": self.status, "error": self.error,
                "notes": self.notes, "written": len(self.written), "verified": len(self.verified),
                "failed": [{"path": p, "reason": r} for p, r in self.failed.items()]}


class FolderDestination:
    """One folder the job copies into; thread-safe for the producer and the hash thread."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.result = FolderResult(self.root)
        self._lock = threading.Lock()
        self._target: RestoreTarget | None = None
        self.bytes_written = 0           # file bytes copied so far (the progress line of this destination)
        self.started = time.monotonic()
        self.closed = False

    # --- before anything is written ------------------------------------------------
    def check_space(self, total_bytes: int) -> None:
        """Refuse a folder that cannot be written, or a copy that would fill its disk; warn past 80 %
        (RT-030 3.1.3)."""
        try:
            probe_folder(self.root)
            st = os.statvfs(self.root)
        except OSError as exc:
            raise UsageError(f"the folder {self.root} cannot be written: {exc.strerror} (give a writable --copy-to "
                             f"folder); nothing was written", destination=str(self.root)) from None
        size = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        if total_bytes >= free:
            raise UsageError(f"{self.root}: the copy needs {total_bytes / 1e9:.2f} GB but only {free / 1e9:.2f} GB "
                             f"are free: it would fill the disk completely; use another drive",
                             destination=str(self.root))
        used_after = size - free + total_bytes
        if size and used_after / size > FILL_WARNING:
            self.result.notes.append(
                f"{self.root}: the disk will be {100 * used_after / size:.0f} % full after this copy "
                f"(CST RT-030 advises not to fill a disk past 80 %)")

    def open(self) -> None:
        self._target = RestoreTarget(self.root, overwrite=False)
        self.started = time.monotonic()

    def progress(self) -> DestinationProgress:
        """This folder's line in a job's progress: its bytes, rate and state (no buffer of its own)."""
        state = "failed" if not self.alive else "done" if self.closed else "writing"
        return DestinationProgress(str(self.root), "folder", self.bytes_written, time.monotonic() - self.started,
                                   None, state)

    @property
    def alive(self) -> bool:
        return self.result.status != "failed"

    def fail(self, exc: BaseException, path: str | None = None) -> None:
        """The folder failed (disk full, unplugged), while copying `path` if given: it is dropped."""
        with self._lock:
            if self.result.status != "failed":
                self.result.status = "failed"
                why = disk_error_text(exc)
                at = f" while copying {path}" if path else ""
                self.result.error = f"{self.root}: {why}{at}: this destination was dropped; the others went on"
                if path:
                    self.result.failed[path] = why

    # --- writing -----------------------------------------------------------------------
    def _guard(self, path: str, action: Any) -> Any:
        if not self.alive or self._target is None:
            return None
        try:
            with self._lock:
                return action(self._target)
        except (UnsafePath, RestoreConflict) as exc:
            self.result.failed[path] = exc.message
        except (OSError, LtoArchiveError) as exc:     # the disk refused (RestoreFile says DeviceError)
            self.fail(exc, path)
        return None

    def make_dir(self, path: str, mode: int, mtime_ns: int | None) -> None:
        self._guard(path, lambda t: t.make_dir(path, mode, mtime_ns=mtime_ns))

    def make_symlink(self, path: str, target: str, mtime_ns: int | None) -> None:
        self._guard(path, lambda t: t.make_symlink(path, target, mtime_ns=mtime_ns))

    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        if self._guard(path, lambda t: t.write_file(path, [data], mode)) is not None:
            self.result.written.append(path)

    def open_file(self, path: str, mode: int, mtime_ns: int | None) -> "FolderFile | None":
        handle = self._guard(path, lambda t: t.open_file(path, mode, mtime_ns=mtime_ns))
        return FolderFile(self, path, handle) if handle is not None else None

    def close(self) -> None:
        self.closed = True
        if self._target is not None:
            try:
                with self._lock:
                    self._target.finish()
                    self._target.close()
            except (OSError, LtoArchiveError) as exc:
                self.fail(exc)
            self._target = None

    # --- proving ------------------------------------------------------------------------
    def verify(self, expected: dict[str, dict[str, str]], algorithms: tuple[str, ...]) -> None:
        """Read every copied file back and compare with the hashes computed while it was read."""
        for path in self.result.written:
            want = expected.get(path)
            if want is None:
                continue        # our own metadata files: not footage
            why = read_back(self.root / path, want, algorithms)
            if why:
                self.result.failed[path] = why
            else:
                self.result.verified.append(path)
        self.result.verified_at = iso(utc_now())
        if self.result.status == "ok" and self.result.failed:
            self.result.status = "incomplete"


def probe_folder(root: Path) -> None:
    """Make `root` (and its parents) and write and remove a file in it: OSError when it cannot take one."""
    root.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".lto-archive-probe-", dir=root)
    os.close(fd)
    os.unlink(probe)


def disk_error_text(exc: BaseException) -> str:
    """Why a folder's disk refused: the OS's words (a RestoreFile's DeviceError keeps the errno)."""
    code = getattr(exc, "errno", None) or getattr(exc, "data", {}).get("errno")
    if isinstance(code, int) and code:
        return os.strerror(code)
    return getattr(exc, "message", None) or str(exc)


def read_back(path: Path, want: dict[str, str], algorithms: tuple[str, ...] | None = None) -> str:
    """Read a folder copy and compare it with the expected hashes: '' when it matches, else why not."""
    h = MultiHasher(algorithms or tuple(want))
    try:
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(8 << 20):
                h.update(chunk)
    except FileNotFoundError:
        return "missing from the folder"
    except OSError as exc:
        return f"cannot be read back: {exc.strerror}"
    got = h.hexdigests()
    bad = [a for a in want if a in got and got[a] != want[a].lower()]
    if bad:
        return f"{bad[0]} mismatch: {want[bad[0]]} expected, {got[bad[0]]} read back"
    if not any(a in got for a in want):
        return "no checksum to compare with"
    return ""


class FolderFile:
    """One file being copied into a folder; written on the hash thread."""

    def __init__(self, dest: FolderDestination, path: str, handle: Any) -> None:
        self.dest, self.path, self.handle = dest, path, handle
        self.broken = False

    def write(self, view: memoryview) -> None:
        if self.broken or not self.dest.alive:
            return
        try:
            self.handle.write(view)
            self.dest.bytes_written += len(view)
        except (OSError, LtoArchiveError) as exc:     # the disk refused (RestoreFile says DeviceError)
            self.broken = True
            self.dest.fail(exc, self.path)

    def finish(self, ok: bool) -> None:
        """Commit the copy (or drop it when the source read failed or the folder failed)."""
        try:
            if ok and not self.broken and self.dest.alive:
                with self.dest._lock:
                    self.handle.commit()
                self.dest.result.written.append(self.path)
            else:
                with self.dest._lock:
                    self.handle.abort()
        except (OSError, LtoArchiveError) as exc:
            self.dest.fail(exc, self.path)


class Tee:
    """A hasher that also feeds the folder copies of the file it hashes (runs on the hash thread)."""

    def __init__(self, hasher: MultiHasher, files: list[FolderFile]) -> None:
        self.hasher, self.files = hasher, files

    def update(self, view: memoryview) -> None:
        self.hasher.update(view)
        for f in self.files:
            f.write(view)

    def hexdigests(self) -> dict[str, str]:
        return self.hasher.hexdigests()

    @property
    def algorithms(self) -> tuple[str, ...]:
        """What the hasher computes (the AXF file header names them before the data)."""
        return self.hasher.algorithms


def mirror_entry(dests: list[FolderDestination], name: str, st: os.stat_result, linkname: str | None = None) -> None:
    """A folder or a symbolic link of the source, made in every folder destination."""
    for d in dests:
        if linkname is None:
            d.make_dir(name, st.st_mode & 0o7777, st.st_mtime_ns)
        else:
            d.make_symlink(name, linkname, st.st_mtime_ns)


def open_copies(dests: list[FolderDestination], name: str, st: os.stat_result) -> list[FolderFile]:
    """Open `name` in every live folder destination (skipping those that refuse it)."""
    return [f for f in (d.open_file(name, st.st_mode & 0o7777, st.st_mtime_ns) for d in dests) if f is not None]


def feeding(hasher: MultiHasher, copies: list[FolderFile]) -> MultiHasher | Tee:
    """What a format writer should hash into: the hasher itself, or a Tee that also feeds the copies."""
    return Tee(hasher, copies) if copies else hasher


def job_files(manifest: Any, cards: list[Any]) -> dict[str, bytes]:
    """What a folder copy holds besides the footage: the job's manifest, checksum lists and copy log
    (under `.lto-archive/<session>/`) and each card's ASC MHL history at the card's root."""
    files = session_files(manifest)
    for card in cards:
        files.update(card.folder_files())
    return files


def close_folders(dests: list[FolderDestination], files: dict[str, bytes]) -> None:
    """Write the job's metadata (and the cards' histories) into every folder, then close them."""
    for d in dests:
        for name, data in files.items():
            d.write_bytes(name, data)
        d.close()


def verify_folders(dests: list[FolderDestination], expected: dict[str, dict[str, str]],
                   algorithms: tuple[str, ...]) -> list[dict[str, Any]]:
    """Read every folder copy back; one result per folder."""
    out = []
    for d in dests:
        if d.alive:
            d.verify(expected, algorithms)
        out.append(d.result.to_dict())
    return out


__all__ = ["FolderDestination", "FolderFile", "FolderResult", "Tee", "FILL_WARNING", "mirror_entry", "open_copies",
           "feeding", "job_files", "close_folders", "verify_folders", "read_back", "probe_folder"]
