"""Safe extraction of archive members into a destination folder.

    target = RestoreTarget(Path("/Volumes/RESTORE"), overwrite=False)
    with target.open_file("A001/clip.mov", mode=0o644, mtime_ns=m.mtime_ns) as f:
        for chunk in reader.iter_data(m):
            f.write(chunk)
        f.commit()                 # only now does "A001/clip.mov" exist
    target.make_dir("A001", 0o755, mtime_ns=...)
    target.make_symlink("A001/latest", "clip.mov")
    target.make_hardlink("A001/copy.mov", "A001/clip.mov")
    target.finish()                # directory modes and mtimes, last

What it guarantees
------------------
- Nothing is created, changed or removed outside `dest`. Every path is walked
  one component at a time from a descriptor of `dest` opened once, with
  `openat(O_DIRECTORY | O_NOFOLLOW)`; files are created with
  `O_CREAT | O_EXCL | O_NOFOLLOW`, and links, renames and unlinks are made
  relative to the parent's descriptor (`*at` calls). So a symbolic link inside
  dest - from the archive, left from an earlier restore, or planted while we
  run - is never followed by a write; only `dest` itself may be a symlink (the
  user chose it).
- Member names are refused (UnsafePath, naming the member) when absolute,
  empty, containing NUL or a '..' component, or when a parent component is a
  symlink. Symlink members are refused when their target is absolute, has a
  '..' after a name ("a/../b" cannot be judged without following 'a'), or
  climbs above dest. Hard links are refused when their target is unsafe by the
  same rules, or was not restored earlier by this RestoreTarget.
- A file appears under its real name only when complete: data goes to a
  temporary name (".lto-restore.<pid>.<n>.part") in the same folder;
  `hold()` closes it there until its bytes are proven, `commit()` renames it
  into place, `abort()` (also leaving the `with` block) removes it. A killed
  process can leave such a file, never a half or unproven one under the real name.
- Without `overwrite`, an existing entry is a RestoreConflict and is left
  untouched; the final placement uses renameat2(RENAME_NOREPLACE), else link()+unlink()
  (or, without hard links, a check just before rename()), so a file that appears
  meanwhile is not clobbered. With `overwrite`, files and symlinks are
  replaced atomically by rename(). A directory is never replaced by anything,
  and a non-directory in the way of a parent is a RestoreConflict.
- Existing directories are merged into. Directories we create get their mode
  and mtime in `finish()` (deepest first), so writing into read-only
  directories works and their mtimes survive; existing directories keep
  theirs unless `overwrite`. Ownership is not restored; mode bits are limited
  to 0o777 (no setuid/setgid/sticky from an archive).

Not guaranteed: a local user who can write inside dest and moves a directory
out of dest while we hold its descriptor could get our writes outside.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from pathlib import Path
from typing import Iterable, Sequence

from .errors import DeviceError, RestoreConflict, UnsafePath, UsageError
from .restore_file import MODE_MASK as _MODE_MASK, RestoreFile, creation_mode, current_umask
from .restore_walk import DirWalk, rename_noreplace, split_member_path

__all__ = ["RestoreTarget", "RestoreFile", "split_member_path", "open_dest"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NOT_NAMES = ("", ".", "..")     # a last component that is not a name in its folder
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_counter = itertools.count()


def _ns(mtime: float | None, mtime_ns: int | None) -> int | None:
    if mtime_ns is not None:
        return int(mtime_ns)
    if mtime is not None:
        whole = int(mtime)   # split first: a float has too few digits for ns since 1970
        return whole * 1_000_000_000 + round((mtime - whole) * 1_000_000_000)
    return None


def open_dest(dest: Path) -> int:
    """A descriptor of the restore folder, created if missing; a path under a file, or a folder we may not
    write, is said plainly (UsageError / DeviceError), before anything is restored."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        return os.open(dest, _DIR_FLAGS)
    except (NotADirectoryError, FileExistsError):
        above = next((p for p in (dest, *dest.parents) if p.exists() and not p.is_dir()), dest)
        raise UsageError(f"cannot restore into {str(dest)!r}: {str(above)!r} is a file, not a folder",
                         path=str(dest), existing=str(above)) from None
    except OSError as exc:
        raise DeviceError(f"cannot restore into {str(dest)!r}: {exc.strerror}", path=str(dest),
                          errno=exc.errno) from None


def exists_conflict(relpath: str) -> RestoreConflict:
    """A member whose name is already taken in the restore folder (never replaced without --overwrite)."""
    return RestoreConflict(f"{relpath!r} already exists in the restore folder (--overwrite replaces it)", path=relpath)


class RestoreTarget:
    """Restore members into `dest` without ever writing outside it.

    `dest` is created if missing. `overwrite`: replace existing files and symlinks (atomically) instead of
    raising RestoreConflict; `replace_own`: only those this restore placed (a newer session's copy of a path).
    `fsync`: flush each file before it is renamed into place.
    """

    def __init__(self, dest: Path | str, overwrite: bool = False, *, fsync: bool = False,
                 replace_own: bool = False) -> None:
        self.dest, self.overwrite, self.replace_own = Path(dest), overwrite, replace_own
        self.fsync = fsync
        self._root = open_dest(self.dest)
        self._walk = DirWalk(self._root)
        self._last_split: tuple[str, tuple[str, ...]] = ("", ())
        self._last_dir: tuple[str, tuple[str, ...], str] = ("", (), "")   # the last member's folder: text, parts, key
        try:
            self.name_max = os.fpathconf(self._root, "PC_NAME_MAX")
        except (OSError, ValueError):
            self.name_max = 255
        self._restored: set[tuple[str, ...]] = set()
        self._dirs: dict[tuple[str, ...], tuple[int, int | None]] = {}
        self._fresh: set[tuple[str, ...]] = set()     # directories this restore created: no name was there
        self._open_files: set[RestoreFile] = set()
        self._closed = False
        self._umask = current_umask()

    # --- walking ------------------------------------------------------------
    def _split(self, relpath: str) -> tuple[str, ...]:
        """split_member_path, and each component no longer than the restore folder's file system allows."""
        last_rel, last_parts = self._last_split
        head, _, name = relpath.rpartition("/")
        if head and head == self._last_dir[0] and name not in _NOT_NAMES and "\0" not in name:
            # a sibling of the member before (its folder's text as then, already split and checked)
            parts = self._last_dir[1] + (name,)
            if len(name) * 4 > self.name_max:
                self._check_names(relpath, (name,))
            self._last_split = (self._last_dir[2] + "/" + name, parts)
            return parts
        if last_rel and head == last_rel and "\0" not in relpath:
            new = (relpath[len(head) + 1:],)     # a member of the folder named just before: one more part
            parts = last_parts + new if new[0] not in ("", ".", "..") else split_member_path(relpath)
            if len(parts) != len(last_parts) + 1:
                new = parts
        else:
            parts = split_member_path(relpath)
            new = parts
        self._check_names(relpath, new)
        norm = last_rel + "/" + new[0] if new is not parts else "/".join(parts)
        self._last_split = (norm, parts)
        if head and name not in _NOT_NAMES and len(parts) > 1:     # (its folder is not the restore folder)
            self._last_dir = (head, parts[:-1], norm.rpartition("/")[0])
        return parts

    def _check_names(self, relpath: str, comps: Iterable[str]) -> None:
        for comp in comps:
            # at most 4 bytes a character: only a long name is encoded to be measured
            if len(comp) * 4 > self.name_max and (size := len(os.fsencode(comp))) > self.name_max:
                raise UnsafePath(f"refusing to restore {relpath!r}: the name {comp[:40]!r}... is {size} bytes, "
                                 f"more than the restore folder's file system allows ({self.name_max})",
                                 path=relpath, reason="name_too_long")

    def _open_dir(self, parts: Iterable[str], relpath: str, *, create: bool, key: str | None = None,
                  borrow: bool = False) -> int:
        """A new descriptor of the directory `parts` under dest, each component
        opened with O_NOFOLLOW; missing ones are created when `create`. Walked from
        the last directory reached (restore_walk.DirWalk): linear in depth."""
        parts = tuple(parts)
        if key is None:
            key = "/".join(parts)
        if borrow and key == self._walk.key:
            return self._walk.fd        # where the walk is already (what `DirWalk.open` gives, sooner)

        def step(fd: int, i: int) -> int:
            comp = parts[i]
            try:
                return os.open(comp, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(comp, 0o755, dir_fd=fd)
                    self._fresh.add(parts[:i + 1])
                except FileExistsError:
                    pass
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
            return self._open_existing_dir(comp, fd, parts[:i + 1], relpath)
        return self._walk.open(parts, key, step, borrow=borrow)

    def _open_parent(self, parts: tuple[str, ...], relpath: str, *, borrow: bool = False) -> int:
        """The directory of the member `parts` (just split by _split), created as needed."""
        norm, last = self._last_split
        key = norm.rpartition("/")[0] if last is parts else None
        return self._open_dir(parts[:-1], relpath, create=True, key=key, borrow=borrow)

    def _open_existing_dir(self, comp: str, fd: int, walked: Sequence[str], relpath: str) -> int:
        try:
            return os.open(comp, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise
        where = "/".join(walked)
        st = os.stat(comp, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(
                f"refusing to restore {relpath!r}: its parent {where!r} is a symbolic link "
                f"(writing through it could leave the restore folder)",
                path=relpath, reason="symlink_parent", parent=where)
        raise RestoreConflict(
            f"cannot restore {relpath!r}: {where!r} exists and is not a directory",
            path=relpath, existing=where)

    @staticmethod
    def _lstat(name: str, pfd: int) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def replaces(self, parts: tuple[str, ...]) -> bool:     # overwrite, or `replace_own` and placed by us
        return self.overwrite or (self.replace_own and parts in self._restored)

    def _check_existing(self, st: os.stat_result | None, relpath: str, parts: tuple[str, ...] = ()) -> None:
        if st is None:
            return
        if stat.S_ISDIR(st.st_mode):
            raise RestoreConflict(
                f"cannot restore {relpath!r}: a directory of that name exists", path=relpath)
        if not self.replaces(parts):
            raise exists_conflict(relpath)

    def _tmp_name(self) -> str:
        return f".lto-restore.{os.getpid()}.{next(_counter)}.part"

    def _place(self, pfd: int, tmp: str, name: str, relpath: str, replace: bool = False) -> None:
        """Move `tmp` to `name` (both in pfd), honouring `overwrite` (or `replace`: a copy this restore placed)."""
        if self.overwrite or replace:
            try:
                os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
            except (IsADirectoryError, FileExistsError, OSError) as e:
                if isinstance(e, (IsADirectoryError, FileExistsError)) or e.errno in (errno.ENOTEMPTY, errno.EISDIR):
                    self._unlink_quiet(tmp, pfd)
                    raise RestoreConflict(
                        f"cannot restore {relpath!r}: a directory of that name exists", path=relpath) from None
                raise
            # rename() is a no-op when both names are links to one file
            self._unlink_quiet(tmp, pfd)
            return
        try:
            if rename_noreplace(tmp, name, pfd):     # one call, never clobbering (else link + unlink)
                return
            os.link(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd, follow_symlinks=False)
        except FileExistsError:
            self._unlink_quiet(tmp, pfd)
            raise exists_conflict(relpath) from None
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV, errno.ENOSYS):
                raise
            # no hard links here (FAT, exFAT, some network shares): check, then rename
            if self._lstat(name, pfd) is not None:
                self._unlink_quiet(tmp, pfd)
                raise exists_conflict(relpath) from None
            os.rename(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
            return
        os.unlink(tmp, dir_fd=pfd)

    @staticmethod
    def _unlink_quiet(name: str, pfd: int) -> None:
        try:
            os.unlink(name, dir_fd=pfd)
        except FileNotFoundError:
            pass

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("this RestoreTarget is closed")

    # --- members ------------------------------------------------------------------
    def open_file(self, relpath: str, mode: int = 0o644, mtime: float | None = None, *,
                  mtime_ns: int | None = None) -> RestoreFile:
        """A writable handle for a regular file. Nothing appears under `relpath` until `commit()`. Raises
        UnsafePath / RestoreConflict before any data (in a folder this restore made, at `commit`)."""
        self._check_open()
        parts = self._split(relpath)
        if not parts:
            raise UnsafePath(f"refusing to restore {relpath!r} as a file: it names the restore folder itself",
                             path=relpath, reason="root")
        pfd = self._open_parent(parts, relpath, borrow=True)     # the walk's own: used here, not kept
        name = parts[-1]
        if parts[:-1] not in self._fresh or parts in self._fresh or parts in self._restored:
            self._check_existing(self._lstat(name, pfd), relpath, parts)   # (a folder we made held nothing)
        tmp = self._tmp_name()
        create = creation_mode(mode, self._umask)     # its mode at once when the umask leaves it whole
        fd = os.open(tmp, _CREATE, create or 0o600, dir_fd=pfd)
        h = RestoreFile(self, relpath, name, tmp, fd, mode, _ns(mtime, mtime_ns), parts, chmod=not create)
        self._open_files.add(h)
        return h

    def write_file(self, relpath: str, chunks: Iterable, mode: int = 0o644, mtime: float | None = None, *,
                   mtime_ns: int | None = None) -> int:
        """Restore a whole file from an iterable of chunks (commit on success,
        abort on any error). Returns the number of bytes written."""
        with self.open_file(relpath, mode, mtime, mtime_ns=mtime_ns) as f:
            for c in chunks:
                f.write(c)
            f.commit()
            return f.bytes_written

    def make_dir(self, relpath: str, mode: int = 0o755, mtime: float | None = None, *,
                 mtime_ns: int | None = None) -> None:
        """Create (or merge into) a directory; its mode and mtime are set by finish()."""
        self._check_open()
        parts = self._split(relpath)
        if not parts:
            return   # "./": the restore folder itself keeps its own mode and mtime
        pfd = self._open_parent(parts, relpath)
        try:
            name = parts[-1]
            st = self._lstat(name, pfd)
            created = False
            if st is not None and not stat.S_ISDIR(st.st_mode):
                if not self.overwrite:
                    raise RestoreConflict(
                        f"cannot restore directory {relpath!r}: a file or link of that name exists "
                        f"(--overwrite replaces it)", path=relpath)
                os.unlink(name, dir_fd=pfd)
                st = None
            if st is None:
                try:
                    os.mkdir(name, 0o700 | (mode & _MODE_MASK), dir_fd=pfd)
                    created = True
                    self._fresh.add(parts)
                except FileExistsError:
                    pass
            # make sure what is there now is a real directory (not a planted symlink)
            os.close(self._open_existing_dir(name, pfd, parts, relpath))
        finally:
            os.close(pfd)
        if created or self.overwrite:
            self._dirs[parts] = (mode & _MODE_MASK, _ns(mtime, mtime_ns))

    def _check_link_target(self, relpath: str, parts: tuple[str, ...], target: str) -> None:
        def refuse(why: str, reason: str) -> UnsafePath:
            return UnsafePath(f"refusing to restore symlink {relpath!r} -> {target!r}: {why}",
                              path=relpath, target=target, reason=reason)
        if not isinstance(target, str) or target == "":
            raise refuse("the target is empty", "empty_target")
        if "\0" in target:
            raise refuse("the target contains a NUL byte", "nul")
        if len(os.fsencode(target)) >= 4096:
            raise refuse("the target is longer than a file system allows (4096 bytes)", "target_too_long")
        if target.startswith("/"):
            raise refuse("the target is an absolute path", "absolute_target")
        comps = [c for c in target.split("/") if c not in ("", ".")]
        ups = 0
        seen_name = False
        for c in comps:
            if c == "..":
                if seen_name:
                    raise refuse("the target has '..' after a name, which could leave the restore folder "
                                 "through another link", "dotdot_after_name")
                ups += 1
            else:
                seen_name = True
        if ups > len(parts) - 1:
            raise refuse("the target points outside the restore folder", "escapes")

    def make_symlink(self, relpath: str, target: str, mtime: float | None = None, *,
                     mtime_ns: int | None = None) -> None:
        """Create a symbolic link whose target stays inside dest (see module doc)."""
        self._check_open()
        parts = self._split(relpath)
        if not parts:
            raise UnsafePath(f"refusing to restore {relpath!r} as a symlink: it names the restore folder itself",
                             path=relpath, reason="root")
        self._check_link_target(relpath, parts, target)
        pfd = self._open_parent(parts, relpath)
        try:
            name = parts[-1]
            self._check_existing(self._lstat(name, pfd), relpath, parts)
            if self.replaces(parts):
                tmp = self._tmp_name()
                os.symlink(target, tmp, dir_fd=pfd)
                self._set_link_time(tmp, pfd, _ns(mtime, mtime_ns))
                try:
                    self._place(pfd, tmp, name, relpath, replace=True)
                except BaseException:
                    self._unlink_quiet(tmp, pfd)
                    raise
            else:
                try:
                    os.symlink(target, name, dir_fd=pfd)
                except FileExistsError:
                    raise exists_conflict(relpath) from None
                self._set_link_time(name, pfd, _ns(mtime, mtime_ns))
        finally:
            os.close(pfd)
        self._restored.add(parts)

    @staticmethod
    def _set_link_time(name: str, pfd: int, ns: int | None) -> None:
        if ns is None:
            return
        try:
            os.utime(name, ns=(ns, ns), dir_fd=pfd, follow_symlinks=False)
        except (NotImplementedError, OSError):
            pass   # some platforms cannot set a link's own time; never follow it instead

    def make_hardlink(self, relpath: str, target_relpath: str) -> None:
        """Hard-link `relpath` to the already restored member `target_relpath`."""
        self._check_open()
        parts = self._split(relpath)
        if not parts:
            raise UnsafePath(f"refusing to restore {relpath!r} as a hard link: it names the restore folder",
                             path=relpath, reason="root")
        try:
            tparts = split_member_path(target_relpath, what="hard link target")
        except UnsafePath as e:
            raise UnsafePath(f"refusing to restore hard link {relpath!r} -> {target_relpath!r}: "
                             f"{e.message.split(': ', 1)[-1]}", path=relpath, target=target_relpath,
                             reason=e.data.get("reason")) from None
        if tparts not in self._restored:
            raise UnsafePath(
                f"refusing to restore hard link {relpath!r} -> {target_relpath!r}: the target was not "
                f"restored before it by this restore", path=relpath, target=target_relpath,
                reason="target_not_restored")
        tpfd = self._open_dir(tparts[:-1], target_relpath, create=False)
        try:
            pfd = self._open_parent(parts, relpath)
            try:
                name = parts[-1]
                self._check_existing(self._lstat(name, pfd), relpath)
                if self.overwrite:
                    tmp = self._tmp_name()
                    os.link(tparts[-1], tmp, src_dir_fd=tpfd, dst_dir_fd=pfd, follow_symlinks=False)
                    try:
                        self._place(pfd, tmp, name, relpath)
                    except BaseException:
                        self._unlink_quiet(tmp, pfd)
                        raise
                else:
                    try:
                        os.link(tparts[-1], name, src_dir_fd=tpfd, dst_dir_fd=pfd, follow_symlinks=False)
                    except FileExistsError:
                        raise exists_conflict(relpath) from None
            finally:
                os.close(pfd)
        finally:
            os.close(tpfd)
        self._restored.add(parts)

    # --- the end ----------------------------------------------------------------
    def finish(self) -> None:
        """Abort files never committed, then set directory modes and mtimes,
        deepest first, and close. Safe to call twice."""
        if self._closed:
            return
        try:
            for h in list(self._open_files):
                h.abort()
            # children before parents: the reverse of the order they came in (a parent comes before
            # its children), so the walk moves one level at a time
            for parts in reversed(self._dirs):
                mode, ns = self._dirs[parts]
                try:
                    rel = "/".join(parts)
                    fd = self._open_dir(parts, rel, create=False, key=rel)
                except (FileNotFoundError, PermissionError, UnsafePath, RestoreConflict):
                    continue
                try:
                    os.fchmod(fd, mode)
                    if ns is not None:
                        os.utime(fd, ns=(ns, ns))
                finally:
                    os.close(fd)
        finally:
            self.close()

    def close(self) -> None:
        """Release the folder without setting directory metadata (open files are aborted)."""
        if self._closed:
            return
        for h in list(self._open_files):
            h.abort()
        self._closed = True
        self._walk.close()
        os.close(self._root)

    def __enter__(self) -> "RestoreTarget":
        return self

    def __exit__(self, exc_type, *exc: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.close()
