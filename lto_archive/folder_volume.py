"""Which disk a folder is on: the identity of its filesystem volume, as Linux gives it.

Two folder copies count as two copies only when they are on two disks: two
folders of one shuttle drive die with it. The catalog records, for every
folder destination, the volume it is on, found in this order:

1. `fs-uuid:<UUID>`: the filesystem UUID, from /dev/disk/by-uuid (the link
   whose block device is the one the folder's filesystem lives on). Stable
   for the life of the filesystem, whatever the mount point or the machine.
2. `fsid:<hex>`: `statvfs().f_fsid` when not zero. ext4, XFS and btrfs derive
   it from their UUID (stable); tmpfs and some network filesystems from the
   device number (stable while mounted).
3. `device:<major>:<minor>`: the device number, unique among the filesystems
   mounted now, but not across reboots or replugging.

`path_in_volume` is the folder's path inside its filesystem (from
/proc/self/mountinfo), so a shuttle drive mounted elsewhere later is still
recognised as the same destination.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BY_UUID = Path("/dev/disk/by-uuid")
MOUNTINFO = Path("/proc/self/mountinfo")
STABLE_KINDS = ("fs-uuid", "fsid")      # identities that survive a remount


@dataclass(frozen=True)
class FolderVolume:
    """The filesystem volume a folder is on."""

    volume_id: str               # 'fs-uuid:...', 'fsid:...' or 'device:M:m'
    mount_point: str | None      # where that filesystem is mounted now
    path_in_volume: str | None   # the folder inside the filesystem ('/DAY1'), None when unknown

    @property
    def stable(self) -> bool:
        """The identity survives unmounting and mounting again (not a bare device number)."""
        return self.volume_id.split(":", 1)[0] in STABLE_KINDS


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mount_of(path: Path, dev: int, mountinfo: Path = MOUNTINFO) -> tuple[str, str] | None:
    """(mount point, root of the mount inside its filesystem) of the mount holding `path`."""
    try:
        lines = mountinfo.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return None
    want = f"{os.major(dev)}:{os.minor(dev)}"
    best: tuple[str, str] | None = None
    text = str(path)
    for line in lines:
        f = line.split()
        if len(f) < 5 or f[2] != want:
            continue
        root, point = _unescape(f[3]), _unescape(f[4])
        inside = text == point or text.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(best[0])):
            best = (point, root)
    return best


def _uuid_of(dev: int, by_uuid: Path = BY_UUID) -> str | None:
    try:
        links = list(by_uuid.iterdir())
    except OSError:
        return None
    for link in sorted(links):
        try:
            if os.stat(link).st_rdev == dev:
                return link.name
        except OSError:
            continue
    return None


def folder_volume(folder: str | os.PathLike[str]) -> FolderVolume:
    """The volume `folder` (an existing folder) is on; OSError when it cannot be examined."""
    path = Path(folder).resolve()
    st = os.stat(path)
    uuid = _uuid_of(st.st_dev)
    if uuid:
        vid = f"fs-uuid:{uuid.lower()}"
    else:
        fsid = getattr(os.statvfs(path), "f_fsid", 0)
        vid = f"fsid:{fsid:016x}" if fsid else f"device:{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    mount = _mount_of(path, st.st_dev)
    if mount is None:
        return FolderVolume(vid, None, None)
    point, root = mount
    rest = str(path)[len(point.rstrip("/")):]
    inside = "/" + "/".join(p for p in (root.strip("/"), rest.strip("/")) if p)
    return FolderVolume(vid, point, inside)


__all__ = ["FolderVolume", "folder_volume", "STABLE_KINDS"]
