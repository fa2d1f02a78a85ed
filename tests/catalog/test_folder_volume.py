"""Which disk a folder is on (lto_archive/folder_volume.py): real device nodes and mount tables."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lto_archive import folder_volume as fv


def _block_device_of(path: Path) -> Path | None:
    dev = os.stat(path).st_dev
    for entry in Path("/dev").iterdir():
        try:
            st = os.stat(entry)
        except OSError:
            continue
        if stat.S_ISBLK(st.st_mode) and st.st_rdev == dev:
            return entry
    return None


def test_the_filesystem_uuid_comes_from_the_by_uuid_link_to_its_block_device(tmp_path: Path) -> None:
    node = _block_device_of(tmp_path)
    if node is None:
        pytest.skip("the test folder's filesystem is not on a block device here")
    links = tmp_path / "by-uuid"
    links.mkdir()
    (links / "0000-1111").symlink_to("/dev/null")                      # another device
    (links / "5C1E07D2-AAAA-4BBB-8CCC-0123456789AB").symlink_to(node)
    assert fv._uuid_of(os.stat(tmp_path).st_dev, links) == "5C1E07D2-AAAA-4BBB-8CCC-0123456789AB"
    assert fv._uuid_of(os.stat(tmp_path).st_dev, tmp_path / "none") is None


def test_mountinfo_gives_the_mount_and_the_path_inside_the_filesystem(tmp_path: Path) -> None:
    dev = os.makedev(8, 17)
    table = tmp_path / "mountinfo"
    table.write_text(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "80 27 8:17 / /media/SHUTTLE\\04001 rw,nosuid - exfat /dev/sdb1 rw\n"
        "81 27 8:17 /DAY2 /srv/day2 rw - exfat /dev/sdb1 rw\n")        # a bind mount of a folder of it
    assert fv._mount_of(Path("/media/SHUTTLE 01/DAY1"), dev, table) == ("/media/SHUTTLE 01", "/")
    assert fv._mount_of(Path("/srv/day2/A001"), dev, table) == ("/srv/day2", "/DAY2")
    assert fv._mount_of(Path("/elsewhere"), dev, table) is None


def test_a_real_folder(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    v = fv.folder_volume(tmp_path / "a" / "b")
    assert v.volume_id == fv.folder_volume(tmp_path).volume_id
    assert v.volume_id.split(":", 1)[0] in ("fs-uuid", "fsid", "device")
    assert v.mount_point is not None and v.path_in_volume is not None
    real = str((tmp_path / "a" / "b").resolve())
    assert real.endswith(v.path_in_volume.rstrip("/")) or v.path_in_volume == "/"
    with pytest.raises(OSError):
        fv.folder_volume(tmp_path / "missing")


def test_folder_destinations_follow_the_disk(tmp_path: Path) -> None:
    from lto_archive.catalog import Catalog
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        a = fv.FolderVolume("fs-uuid:aaaa", "/media/SHUTTLE01", "/DAY1")
        first = cat.folder_destination("/media/SHUTTLE01/DAY1", a, "tar")
        # the same disk mounted elsewhere later: the same destination
        moved = fv.FolderVolume("fs-uuid:aaaa", "/mnt/usb", "/DAY1")
        assert cat.folder_destination("/mnt/usb/DAY1", moved, "cpio") == first
        # another disk mounted where the first was: another destination, named apart
        b = fv.FolderVolume("fs-uuid:bbbb", "/media/SHUTTLE01", "/DAY1")
        other = cat.folder_destination("/media/SHUTTLE01/DAY1", b, "tar")
        assert other != first
        assert cat.folder_destination("/media/SHUTTLE01/DAY1", b) == other
        # a volume known only by its device number is the path's, whatever number it has after a reboot
        c1 = fv.FolderVolume("device:0:51", "/scratch", "/x")
        third = cat.folder_destination("/scratch/x", c1)
        assert cat.folder_destination("/scratch/x", fv.FolderVolume("device:0:77", "/scratch", "/x")) == third
        rows = {r["label"]: r for r in cat.tapes()}
        assert rows["/media/SHUTTLE01/DAY1"]["volume_id"] == "fs-uuid:aaaa"
        assert rows["/media/SHUTTLE01/DAY1"]["format"] == "cpio,tar"
        assert rows["/media/SHUTTLE01/DAY1 [fs-uuid:bbbb]"]["folder"] == "/media/SHUTTLE01/DAY1 [fs-uuid:bbbb]"
        assert rows["/scratch/x"]["volume_id"] == "device:0:77"
