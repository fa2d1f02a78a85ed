"""RestoreTarget: safe extraction, conflicts, overwrite, atomic placement, metadata."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from lto_archive.errors import RestoreConflict, UnsafePath
from lto_archive.formats.tar_reader import TarReader
from lto_archive.restore_target import RestoreTarget, split_member_path

MT = 1_600_000_000_123_456_789


def snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Everything under root (not following links), except `skip`."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip is not None and Path(dirpath) == skip.parent and skip.name in dirnames:
            dirnames.remove(skip.name)
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            st = os.lstat(p)
            out[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns,
                                             os.readlink(p) if p.is_symlink() else None)
    return out


@pytest.fixture
def world(tmp_path):
    """(dest, sentinel, check): dest is empty; check() asserts nothing outside dest changed."""
    dest = tmp_path / "dest"
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "file").write_bytes(b"precious")
    (sentinel / "sub").mkdir()
    before = snapshot(tmp_path, skip=dest)
    tmp_before = set(os.listdir("/tmp"))

    def check():
        assert snapshot(tmp_path, skip=dest) == before
        assert not Path("/etc/x").exists()
        assert not (set(os.listdir("/tmp")) - tmp_before) & {"x", "evil", "through"}
    return dest, sentinel, check


def temp_files(dest: Path) -> list[str]:
    return [str(p) for p in dest.rglob(".lto-restore.*")]


# --- hostile names ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/../../x", "a/../b", "..", "", "a\0b", "./../sentinel/file"])
def test_hostile_file_names_are_refused(world, name):
    dest, _, check = world
    t = RestoreTarget(dest)
    with pytest.raises(UnsafePath) as ei:
        t.open_file(name, 0o644)
    assert repr(name) in str(ei.value) or name == ""
    t.finish()
    check()
    assert os.listdir(dest) == []


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/../../x"])
def test_hostile_dir_and_link_names_are_refused(world, name):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        with pytest.raises(UnsafePath):
            t.make_dir(name)
        with pytest.raises(UnsafePath):
            t.make_symlink(name, "target")
        with pytest.raises(UnsafePath):
            t.make_hardlink(name, "target")
    check()
    assert os.listdir(dest) == []


def test_symlink_to_tmp_then_a_file_through_it(world, tmp_path):
    dest, sentinel, check = world
    t = RestoreTarget(dest)
    with pytest.raises(UnsafePath, match=r"symlink 'evil' -> '/tmp': the target is an absolute path"):
        t.make_symlink("evil", "/tmp")
    assert not os.path.lexists(dest / "evil")
    # a symlink that got into dest anyway (left from before, or planted) is never written through
    os.symlink(str(sentinel), dest / "planted")
    os.symlink("/tmp", dest / "tmplink")
    for bad in ("planted/x", "planted/sub/x", "tmplink/through"):
        with pytest.raises(UnsafePath, match=r"its parent '(planted|tmplink)' is a symbolic link"):
            t.open_file(bad)
    with pytest.raises(UnsafePath):
        t.make_dir("planted/newdir")
    with pytest.raises(UnsafePath):
        t.make_symlink("planted/l", "x")
    t.write_file("real", [b"data"])
    with pytest.raises(UnsafePath):
        t.make_hardlink("planted/h", "real")
    t.finish()
    check()


@pytest.mark.parametrize("link,target", [
    ("a/evil", "../../sentinel"),        # climbs out
    ("evil", ".."),
    ("a/b/evil", "../../../x"),
    ("a/evil", "b/../../.."),            # '..' after a name
    ("evil", "x/../y"),                   # cannot be judged without following x
    ("evil", ""),
])
def test_symlink_targets_escaping_dest_are_refused(world, link, target):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        with pytest.raises(UnsafePath) as ei:
            t.make_symlink(link, target)
        assert repr(link) in str(ei.value)
    check()
    assert not os.path.lexists(dest / link)


def test_safe_relative_symlinks_are_made(world):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        t.make_symlink("a/b/up", "../../top.mov", mtime_ns=MT)
        t.make_symlink("same", "./clip.mov")
        t.make_symlink("down", "A001/C001/clip.mov")
    assert os.readlink(dest / "a/b/up") == "../../top.mov"
    assert os.lstat(dest / "a/b/up").st_mtime_ns == MT
    assert os.readlink(dest / "down") == "A001/C001/clip.mov"
    check()


@pytest.mark.parametrize("target", ["/etc/passwd", "../sentinel/file", "a/../../sentinel/file", "never/restored"])
def test_hostile_hardlinks_are_refused(world, target):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        with pytest.raises(UnsafePath) as ei:
            t.make_hardlink("h", target)
        assert "'h'" in str(ei.value)
    check()
    assert not os.path.lexists(dest / "h")


def test_hardlink_to_a_file_not_restored_by_us_is_refused(world):
    dest, _, check = world
    dest.mkdir()
    (dest / "preexisting").write_bytes(b"not from the archive")
    with RestoreTarget(dest) as t:
        with pytest.raises(UnsafePath, match="was not restored before it"):
            t.make_hardlink("h", "preexisting")
        t.write_file("ours", [b"1"])
        t.make_hardlink("dir/h", "./ours")
    assert os.stat(dest / "dir/h").st_ino == os.stat(dest / "ours").st_ino
    check()


def test_split_member_path():
    assert split_member_path("./a//b/./c/") == ("a", "b", "c")
    assert split_member_path(".") == ()
    with pytest.raises(UnsafePath, match="absolute"):
        split_member_path("//x")


# --- conflicts and overwrite -----------------------------------------------------------

def test_existing_file_without_overwrite_is_a_conflict(world):
    dest, _, check = world
    (dest / "A001").mkdir(parents=True)
    (dest / "A001/clip.mov").write_bytes(b"original bytes")
    with RestoreTarget(dest) as t:
        with pytest.raises(RestoreConflict, match=r"'A001/clip.mov' already exists"):
            t.open_file("A001/clip.mov")
        with pytest.raises(RestoreConflict):
            t.make_symlink("A001/clip.mov", "x")
        with pytest.raises(RestoreConflict):
            t.make_dir("A001/clip.mov")
        t.write_file("other", [b"o"])
        with pytest.raises(RestoreConflict):
            t.make_hardlink("A001/clip.mov", "other")
        t.make_dir("A001")                     # existing directories are merged into
    assert (dest / "A001/clip.mov").read_bytes() == b"original bytes"
    assert temp_files(dest) == []
    check()


def test_conflict_appearing_while_writing_is_not_clobbered(world):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        f = t.open_file("late.mov")
        f.write(b"ours")
        (dest / "late.mov").write_bytes(b"someone else's")
        with pytest.raises(RestoreConflict):
            f.commit()
    assert (dest / "late.mov").read_bytes() == b"someone else's"
    assert temp_files(dest) == []
    check()


def test_overwrite_replaces_files_and_links_atomically(world):
    dest, sentinel, check = world
    dest.mkdir()
    (dest / "clip.mov").write_bytes(b"old")
    os.symlink(str(sentinel / "file"), dest / "was_link")     # must be replaced, not followed
    os.symlink("/tmp", dest / "link2")
    (dest / "adir").mkdir()
    with RestoreTarget(dest, overwrite=True) as t:
        t.write_file("clip.mov", [b"new ", b"bytes"], mtime_ns=MT)
        t.write_file("was_link", [b"plain file now"])
        t.make_symlink("link2", "clip.mov")
        t.make_hardlink("hl", "clip.mov")
        t.make_hardlink("hl", "clip.mov")                     # again: same file, no leftovers
        with pytest.raises(RestoreConflict, match="a directory of that name exists"):
            t.open_file("adir")
    assert (dest / "clip.mov").read_bytes() == b"new bytes"
    assert not (dest / "was_link").is_symlink() and (dest / "was_link").read_bytes() == b"plain file now"
    assert os.readlink(dest / "link2") == "clip.mov"
    assert (sentinel / "file").read_bytes() == b"precious"
    assert temp_files(dest) == []
    check()


def test_failed_member_keeps_the_previous_version(world):
    dest, _, check = world
    dest.mkdir()
    (dest / "clip.mov").write_bytes(b"previous")
    t = RestoreTarget(dest, overwrite=True)
    with pytest.raises(RuntimeError):
        with t.open_file("clip.mov") as f:
            f.write(b"half of the new")
            raise RuntimeError("tape read error")
    assert (dest / "clip.mov").read_bytes() == b"previous"
    assert temp_files(dest) == []
    t.finish()
    check()


# --- temp files, abort, metadata ---------------------------------------------------------

def test_nothing_under_the_real_name_before_commit_and_abort_cleans_up(world):
    dest, _, check = world
    t = RestoreTarget(dest)
    f = t.open_file("A001/clip.mov", 0o644)
    f.write(memoryview(b"x" * 100_000))
    assert not (dest / "A001/clip.mov").exists()
    assert len(temp_files(dest)) == 1
    f.abort()
    f.abort()
    assert temp_files(dest) == [] and not (dest / "A001/clip.mov").exists()
    with t.open_file("never_committed") as g:
        g.write(b"partial")
    assert temp_files(dest) == [] and not (dest / "never_committed").exists()
    h = t.open_file("left_open")
    h.write(b"x")
    t.finish()                                   # aborts what was never committed
    assert temp_files(dest) == [] and not (dest / "left_open").exists()
    check()


def test_mode_and_mtime_are_set(world):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        t.make_dir("ro", 0o555, mtime_ns=MT)
        t.make_dir("ro/inner", 0o750, mtime=1_500_000_000.5)
        t.write_file("ro/inner/f.mov", [b"abc"], mode=0o640, mtime_ns=MT)
        t.write_file("ro/x", [b""], mode=0o600, mtime=1234567890.25)
        t.write_file("setuid", [b""], mode=0o4755)
    st = os.stat(dest / "ro/inner/f.mov")
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_mtime_ns == MT
    st = os.stat(dest / "ro/x")
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_mtime_ns == 1_234_567_890_250_000_000
    assert stat.S_IMODE(os.stat(dest / "ro").st_mode) == 0o555
    assert os.stat(dest / "ro").st_mtime_ns == MT                    # set after its content
    assert stat.S_IMODE(os.stat(dest / "ro/inner").st_mode) == 0o750
    assert os.stat(dest / "ro/inner").st_mtime_ns == 1_500_000_000_500_000_000
    assert stat.S_IMODE(os.stat(dest / "setuid").st_mode) == 0o755   # no setuid from an archive
    os.chmod(dest / "ro", 0o755)
    check()


def test_parent_that_is_a_file_is_a_conflict(world):
    dest, _, check = world
    with RestoreTarget(dest) as t:
        t.write_file("f", [b"1"])
        with pytest.raises(RestoreConflict, match="'f' exists and is not a directory"):
            t.open_file("f/child")
    check()


# --- with the tar reader ---------------------------------------------------------------------

def _hostile_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        def add(name, kind=tarfile.REGTYPE, data=b"", linkname=""):
            ti = tarfile.TarInfo(name)
            ti.type, ti.size, ti.linkname, ti.mtime = kind, len(data), linkname, 1_700_000_000
            tf.addfile(ti, io.BytesIO(data))
        add("good/ok.txt", data=b"fine")
        add("../escape.txt", data=b"evil")
        add("/etc/x", data=b"evil")
        add("good/tmp", tarfile.SYMTYPE, linkname="/tmp")
        add("good/tmp/through", data=b"evil")
        add("good/up", tarfile.SYMTYPE, linkname="../../sentinel")
        add("good/pw", tarfile.LNKTYPE, linkname="/etc/passwd")
        add("good/hl", tarfile.LNKTYPE, linkname="good/ok.txt")
    return buf.getvalue()


def test_restoring_a_hostile_tar(world):
    dest, _, check = world
    refused = []
    r = TarReader(io.BytesIO(_hostile_tar()))
    with RestoreTarget(dest) as t:
        for m in r:
            try:
                if m.kind == "file":
                    t.write_file(m.path, r.iter_data(m), m.mode, mtime_ns=m.mtime_ns)
                elif m.kind == "symlink":
                    t.make_symlink(m.path, m.linkname)
                elif m.kind == "hardlink":
                    t.make_hardlink(m.path, m.linkname)
            except UnsafePath as e:
                refused.append(e.data["path"])
    assert refused == ["../escape.txt", "/etc/x", "good/tmp", "good/up", "good/pw"]
    assert (dest / "good/ok.txt").read_bytes() == b"fine"
    assert (dest / "good/tmp/through").read_bytes() == b"evil"    # a plain folder inside dest
    assert os.stat(dest / "good/hl").st_ino == os.stat(dest / "good/ok.txt").st_ino
    check()


def test_a_full_disk_is_a_device_error_naming_the_file_and_the_partial_copy_is_gone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno as _errno

    from lto_archive.errors import DeviceError
    real_write = os.write
    written = [0]

    def write(fd: int, data) -> int:  # type: ignore[no-untyped-def]
        if written[0] >= 4096:
            raise OSError(_errno.ENOSPC, "No space left on device")
        written[0] += len(data)
        return real_write(fd, data)

    t = RestoreTarget(tmp_path / "d")
    t.write_file("keep.bin", [b"k" * 10])
    monkeypatch.setattr(os, "write", write)
    with pytest.raises(DeviceError, match="'A/big.bin': the restore disk is full") as exc:
        t.write_file("A/big.bin", [b"x" * 4096, b"x" * 4096])
    monkeypatch.undo()
    t.finish()
    assert exc.value.exit_code == 4 and exc.value.data["path"] == "A/big.bin"
    assert os.listdir(tmp_path / "d" / "A") == [] and (tmp_path / "d" / "keep.bin").read_bytes() == b"k" * 10


def test_a_name_component_the_file_system_cannot_hold_is_refused(tmp_path: Path) -> None:
    t = RestoreTarget(tmp_path / "d")
    with pytest.raises(UnsafePath, match="is 256 bytes, more than") as exc:
        t.write_file("A/" + "é" * 128, [b"x"])
    assert exc.value.data["reason"] == "name_too_long"
    t.write_file("A/" + "é" * 127, [b"x"])
    t.finish()
    assert os.listdir(tmp_path / "d" / "A") == ["é" * 127]


def test_restoring_a_deep_tree_is_linear_in_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 nested folders (an LTFS index allows it): each level costs a bounded number of system
    calls. Opening every member's folder from the restore folder would cost depth^2/2 = 2*10^8 opens."""
    import subprocess

    from lto_archive.formats.ltfs.index import Directory, File, Index, times_now
    depth = 20_000
    t = times_now(0)
    ix = Index("t", "u", 1, t[0], ("b", 5), None, Directory("", 1, t))
    d = ix.root
    for _ in range(depth):
        d = d.children.setdefault("d", Directory("d", ix.next_uid(), t))
    d.children["f"] = File("f", ix.next_uid(), t, 1)
    calls = {"open": 0, "mkdir": 0, "stat": 0}
    real = {name: getattr(os, name) for name in calls}

    def counted(name):  # type: ignore[no-untyped-def]
        def call(*a, **k):  # type: ignore[no-untyped-def]
            calls[name] += 1
            return real[name](*a, **k)
        return call
    dest = tmp_path / "d"
    try:
        for name in calls:
            monkeypatch.setattr(os, name, counted(name))
        with RestoreTarget(dest) as target:
            for path, node in ix.walk():
                if isinstance(node, Directory):
                    target.make_dir(path, 0o750, mtime_ns=10**18)
                else:
                    target.write_file(path, [b"x"])
        monkeypatch.undo()
        assert calls["mkdir"] == depth + 1         # and the restore folder itself
        assert calls["open"] <= 4 * depth and calls["stat"] <= 2 * depth, calls
        fd = os.open(dest, os.O_RDONLY)           # the bottom is there, with its metadata
        for _ in range(depth):
            nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        assert os.stat("f", dir_fd=fd).st_size == 1 and stat.S_IMODE(os.fstat(fd).st_mode) == 0o750
        assert os.fstat(fd).st_mtime_ns == 10**18
        os.close(fd)
    finally:
        monkeypatch.undo()
        subprocess.run(["rm", "-rf", str(dest)], check=True)


def test_placement_without_renameat2_links_and_unlinks_and_still_never_clobbers(
        world, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where renameat2(RENAME_NOREPLACE) is missing (or the file system refuses it), a file takes its name by
    link + unlink: the same outcome, and a name taken meanwhile is still a conflict, left untouched."""
    import lto_archive.restore_target as rt
    dest, _, check = world
    calls: list[str] = []
    monkeypatch.setattr(rt, "rename_noreplace", lambda src, dst, fd: calls.append(dst) or False)
    with RestoreTarget(dest) as t:
        t.write_file("a/clip.mov", [b"ours"], mtime_ns=MT)
        f = t.open_file("late.mov")
        f.write(b"ours")
        (dest / "late.mov").write_bytes(b"someone else's")
        with pytest.raises(RestoreConflict):
            f.commit()
    assert calls == ["clip.mov", "late.mov"]
    assert (dest / "a/clip.mov").read_bytes() == b"ours" and os.stat(dest / "a/clip.mov").st_nlink == 1
    assert (dest / "late.mov").read_bytes() == b"someone else's"
    assert temp_files(dest) == []
    check()


def test_rename_noreplace_never_replaces(tmp_path: Path) -> None:
    from lto_archive.restore_walk import rename_noreplace
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "b").write_bytes(b"b")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            refused = rename_noreplace("a", "b", fd) is False     # False: no RENAME_NOREPLACE here
        except FileExistsError:
            refused = True
        assert refused
        assert (tmp_path / "b").read_bytes() == b"b" and (tmp_path / "a").read_bytes() == b"a"
        moved = rename_noreplace("a", "c", fd)
        assert moved == (not (tmp_path / "a").exists())
    finally:
        os.close(fd)


def test_a_name_planted_in_a_folder_this_restore_made_is_not_clobbered(world) -> None:
    """In a folder this restore created, a file's name is not looked up before its data (nothing was there);
    one planted there meanwhile is still a conflict when the file takes its name, and is left untouched."""
    dest, _, check = world
    with RestoreTarget(dest) as t:
        t.make_dir("A001", 0o755, mtime_ns=MT)
        t.write_file("A001/first.mov", [b"ours"])
        (dest / "A001/late.mov").write_bytes(b"someone else's")
        f = t.open_file("A001/late.mov")
        f.write(b"ours")
        with pytest.raises(RestoreConflict):
            f.commit()
        with pytest.raises(RestoreConflict):      # a name this restore placed: looked up, refused before data
            t.open_file("A001/first.mov")
        with pytest.raises(RestoreConflict, match="a directory of that name exists"):
            t.open_file("A001")
    assert (dest / "A001/late.mov").read_bytes() == b"someone else's"
    assert (dest / "A001/first.mov").read_bytes() == b"ours"
    assert temp_files(dest) == []
    check()
