"""A file being restored (RestoreTarget.open_file): written under a temporary name, held until proven, then
moved into place (`commit`) or dropped (`abort`). See restore_target.py for what a restore guarantees.

A file is created under its temporary name with its final mode when the process's umask leaves that
mode whole (`creation_mode`), so sealing it needs no `fchmod`; otherwise it is created 0o600 and given
its mode by `fchmod` before it is closed, as before. Either way its mode is exactly the member's
(0o777 bits at most) before it takes its real name.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from .errors import DeviceError, RestoreConflict, UnsafePath

__all__ = ["RestoreFile", "MODE_MASK", "current_umask", "creation_mode"]

MODE_MASK = 0o777


def current_umask() -> int | None:
    """This process's umask, read without changing it (Linux: /proc/self/status); None when unknown."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def creation_mode(mode: int, umask: int | None) -> int:
    """The mode to create a file with so that it has `mode` (MODE_MASK bits) without an fchmod; 0 when the
    umask would take bits from it (create it 0o600, then fchmod)."""
    mode &= MODE_MASK
    return mode if umask is not None and not mode & umask and mode & 0o200 else 0


class RestoreFile:
    """A file being restored: write(), then commit() or abort()."""

    def __init__(self, target: Any, relpath: str, name: str, tmp: str, fd: int, mode: int, mtime_ns: int | None,
                 parts: tuple[str, ...], *, chmod: bool = True) -> None:
        self._target = target
        self.relpath = relpath
        self._name = name
        self._tmp = tmp
        self._fd = fd
        self._mode = mode
        self._mtime_ns = mtime_ns
        self._parts = parts
        self.bytes_written = 0
        self.committed = False
        self.closed = False
        self.held = False
        self._chmod = chmod          # created 0o600: its mode is set when sealed

    def write(self, data) -> int:
        """Write all of `data` (bytes, bytearray, memoryview)."""
        if self.closed:
            raise ValueError(f"{self.relpath!r} is already committed or aborted")
        fd = self._fd
        n = len(data)
        try:
            done = os.write(fd, data)
            if done < n:
                with memoryview(data) as mv:
                    mv = mv.cast("B")
                    while done < n:
                        done += os.write(fd, mv[done:])
        except OSError as exc:
            self.abort()
            raise self.write_error(exc) from None
        self.bytes_written += n
        return n

    def write_error(self, exc: OSError) -> DeviceError:
        """The restore disk refused our bytes (full, quota, I/O error): said naming the file, whose
        partial copy is already removed."""
        why = "the restore disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "the restore disk failed"
        return DeviceError(f"cannot restore {self.relpath!r}: {why} ({exc.strerror}); its partial copy was "
                           f"removed, files restored before it are complete", path=self.relpath,
                           errno=exc.errno)

    def fileno(self) -> int:
        return self._fd

    def hold(self) -> None:
        """Complete but not yet proven: mode and mtime set and the file closed, kept under its temporary name
        (no descriptor held) until commit() (proven) or abort() / commit(suffix=".damaged") (disproven)."""
        if self.closed or self._fd < 0:
            raise ValueError(f"{self.relpath!r} is already committed, aborted or held")
        try:
            self._seal()
        except OSError as exc:
            self.abort()
            raise self.write_error(exc) from None
        self.held = True

    def _seal(self) -> None:
        if self._chmod:
            os.fchmod(self._fd, self._mode & MODE_MASK)
        if self._mtime_ns is not None:
            os.utime(self._fd, ns=(self._mtime_ns, self._mtime_ns))
        if self._target.fsync:
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1

    def _parent(self) -> int:
        """The folder's descriptor, walked to again by name (O_NOFOLLOW) and borrowed from the walk:
        used at once, never closed here."""
        return self._target._open_dir(self._parts[:-1], self.relpath, create=False, borrow=True)

    def commit(self, suffix: str = "") -> None:
        """Set mode and mtime, then move the file under its real name (with `suffix`: beside it, under
        NAME+suffix, e.g. bytes kept as "NAME.damaged")."""
        if self.closed:
            raise ValueError(f"{self.relpath!r} is already committed or aborted")
        t = self._target
        try:
            if self._fd >= 0:
                self._seal()
            t._place(self._parent(), self._tmp, self._name + suffix, self.relpath + suffix,
                     replace=not suffix and t.replaces(self._parts))
        except OSError as exc:
            self.abort()
            raise self.write_error(exc) from None
        except BaseException:
            self.abort()
            raise
        self.committed = True
        self.closed = True
        t._open_files.discard(self)
        if not suffix:
            t._restored.add(self._parts)

    def abort(self) -> None:
        """Drop the partial file; the real name is left as it was."""
        if self.closed:
            return
        self.closed = True
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._target._open_files.discard(self)
        try:
            pfd = self._parent()
        except (OSError, UnsafePath, RestoreConflict):
            return       # its folder is gone: so is the temporary file
        self._target._unlink_quiet(self._tmp, pfd)

    def __enter__(self) -> "RestoreFile":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if not self.committed and (exc_type is not None or not self.held):   # held: judged later
            self.abort()
