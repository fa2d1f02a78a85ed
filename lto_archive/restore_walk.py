"""The restore folder's directories walked from one cached descriptor, so restoring is linear in depth.

RestoreTarget needs the directory of every member it restores. Opening each one from the restore
folder, a component at a time, costs O(depth) system calls per member: O(depth^2) for a deep tree
(20,000 levels: minutes). A DirWalk keeps the descriptor of the last directory it reached and moves
from there: down with the caller's safe step (openat with O_NOFOLLOW, creating what is missing), up
with openat("..") checked against the (device, inode) seen on the way down. A directory moved away
meanwhile fails that check and the walk starts again from the restore folder, never leaving it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from collections.abc import Callable

from .errors import UnsafePath

__all__ = ["DirWalk", "split_member_path", "rename_noreplace"]

_RENAME_NOREPLACE = 1
_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
try:        # Linux (glibc >= 2.28, musl): renameat2; elsewhere a restore places files by link + unlink
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    _renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    _renameat2.restype = ctypes.c_int
except (OSError, AttributeError):
    _renameat2 = None
#: errors that say this system or file system has no RENAME_NOREPLACE (the caller links and unlinks instead)
_NO_NOREPLACE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM)


def rename_noreplace(src: str, dst: str, dir_fd: int) -> bool:
    """Rename `src` to `dst` in the folder `dir_fd`, never replacing `dst` (renameat2 with RENAME_NOREPLACE:
    one atomic call where link + unlink took two). True when done; False when the system or file system
    cannot do it (nothing changed: link + unlink instead); FileExistsError when `dst` exists (left as it is)."""
    if _renameat2 is None:
        return False
    if _renameat2(dir_fd, src.encode(_FS_ENCODING, _FS_ERRORS), dir_fd, dst.encode(_FS_ENCODING, _FS_ERRORS),
                  _RENAME_NOREPLACE) == 0:       # (os.fsencode's bytes, without its Python-level checks)
        return True
    err = ctypes.get_errno()
    if err in _NO_NOREPLACE:
        return False
    raise OSError(err, os.strerror(err), dst) if err != errno.EEXIST else FileExistsError(err, os.strerror(err), dst)

_UP_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


class DirWalk:
    """A cursor over the directories under `root_fd` (which the caller keeps open)."""

    def __init__(self, root_fd: int) -> None:
        self.root = root_fd
        self.fd = os.dup(root_fd)
        self.parts: tuple[str, ...] = ()
        self.key = ""                       # "/".join(self.parts), compared as one string (memcmp speed)
        st = os.fstat(root_fd)
        self.ids: list[tuple[int, int]] = [(st.st_dev, st.st_ino)]

    def open(self, parts: tuple[str, ...], key: str, step: Callable[[int, int], int], *, borrow: bool = False) -> int:
        """A new descriptor of the directory `parts` (`key`: "/".join(parts)). `step(fd, i)` opens
        `parts[i]` under `fd` and returns its descriptor, or raises (the walk then stays at the deepest
        directory reached). `borrow`: the walk's own descriptor, not a copy: use it at once, never close
        it (it is valid until the next `open`; a restored file's few *at calls save a dup and a close)."""
        k = self._common(parts, key)
        while len(self.parts) > k:
            if not self._up():
                self._reset()
                break
        try:
            for i in range(len(self.parts), len(parts)):
                nfd = step(self.fd, i)
                st = os.fstat(nfd)
                os.close(self.fd)
                self.fd = nfd
                self.ids.append((st.st_dev, st.st_ino))
                self.parts = parts[:i + 1]
        except BaseException:
            self.key = "/".join(self.parts)
            raise
        self.key = key
        return self.fd if borrow else os.dup(self.fd)

    def _common(self, parts: tuple[str, ...], key: str) -> int:
        """How many leading components the walk's directory shares with `parts`."""
        cur = self.key
        if key.startswith(cur) and (not cur or key[len(cur):len(cur) + 1] in ("", "/")):
            return len(self.parts)                 # below (or at) where the walk is: the usual case
        if cur.startswith(key) and (not key or cur[len(key)] == "/"):
            return len(parts)                      # above it (finish() going back up)
        return self._common_parts(parts)

    def _common_parts(self, parts: tuple[str, ...]) -> int:
        cur = self.parts
        n = min(len(cur), len(parts))
        if cur[:n] == parts[:n]:
            return n
        lo, hi = 0, n - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if cur[:mid] == parts[:mid]:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _up(self) -> bool:
        nfd = os.open("..", _UP_FLAGS, dir_fd=self.fd)
        st = os.fstat(nfd)
        if (st.st_dev, st.st_ino) != self.ids[-2]:
            os.close(nfd)
            return False
        os.close(self.fd)
        self.fd = nfd
        self.ids.pop()
        self.parts = self.parts[:-1]
        self.key = self.key.rpartition("/")[0]
        return True

    def _reset(self) -> None:
        os.close(self.fd)
        self.fd = os.dup(self.root)
        self.parts = ()
        self.key = ""
        del self.ids[1:]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def split_member_path(relpath: str, *, what: str = "member") -> tuple[str, ...]:
    """The components of an archive path, '.' and empty ones dropped; raises
    UnsafePath for absolute paths, '..', NUL and empty names."""
    if not isinstance(relpath, str):
        relpath = os.fsdecode(relpath)
    if relpath == "":
        raise UnsafePath(f"refusing to restore a {what} with an empty name", path=relpath, reason="empty")
    if "\0" in relpath:
        raise UnsafePath(f"refusing to restore {what} {relpath!r}: the name contains a NUL byte",
                         path=relpath, reason="nul")
    if relpath.startswith("/"):
        raise UnsafePath(f"refusing to restore {what} {relpath!r}: it is an absolute path",
                         path=relpath, reason="absolute")
    parts = tuple(p for p in relpath.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafePath(f"refusing to restore {what} {relpath!r}: it contains a '..' component",
                         path=relpath, reason="dotdot")
    return parts
