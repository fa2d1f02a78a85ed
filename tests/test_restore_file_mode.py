"""A restored file has exactly its member's mode (0o777 bits), whatever the umask: created with it at once
when the umask leaves it whole (no fchmod), else created 0o600 and given it by fchmod before it is sealed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lto_archive import restore_file
from lto_archive.restore_file import creation_mode, current_umask
from lto_archive.restore_target import RestoreTarget

MODES = [0o644, 0o755, 0o600, 0o666, 0o777, 0o444, 0o400, 0o000, 0o4755, 0o640]


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o000, 0o002, 0o777])
def test_restored_modes_are_exact_under_any_umask(tmp_path: Path, umask: None, mask: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    os.umask(mask)
    chmods = []
    real = os.fchmod
    monkeypatch.setattr(os, "fchmod", lambda fd, mode: (chmods.append(mode), real(fd, mode))[1])
    target = RestoreTarget(tmp_path / "dest")
    assert target._umask == (mask if current_umask() is not None else None)
    for i, mode in enumerate(MODES):
        with target.open_file(f"d/f{i}", mode, mtime_ns=1_700_000_000_123_456_789) as out:
            out.write(b"x" * i)
            out.hold()
        out.commit()
    target.finish()
    for i, mode in enumerate(MODES):
        st = os.stat(tmp_path / "dest" / "d" / f"f{i}")
        assert stat.S_IMODE(st.st_mode) == mode & 0o777, (oct(mask), oct(mode))
        assert st.st_mtime_ns == 1_700_000_000_123_456_789 and st.st_size == i
    skipped = sum(1 for m in MODES if creation_mode(m, target._umask))
    assert len(chmods) == len(MODES) - skipped
    if mask == 0o022 and target._umask is not None:
        assert skipped >= 4          # 644, 755, 600, 640 need no fchmod


def test_creation_mode() -> None:
    assert creation_mode(0o644, 0o022) == 0o644
    assert creation_mode(0o100644, 0o022) == 0o644     # only the permission bits
    assert creation_mode(0o666, 0o022) == 0           # the umask would take 0o022: fchmod
    assert creation_mode(0o444, 0o022) == 0           # not writable by its owner: fchmod (as before)
    assert creation_mode(0o644, None) == 0            # umask unknown: fchmod


def test_unknown_umask_falls_back_to_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lto_archive.restore_target.current_umask", lambda: None)
    target = RestoreTarget(tmp_path / "dest")
    target.write_file("f", [b"abc"], 0o640)
    target.finish()
    assert stat.S_IMODE(os.stat(tmp_path / "dest" / "f").st_mode) == 0o640


def test_current_umask_reads_the_process_umask(umask: None) -> None:
    os.umask(0o027)
    got = restore_file.current_umask()
    assert got in (0o027, None)


def test_split_of_siblings_is_split_member_path(tmp_path: Path) -> None:
    """RestoreTarget._split takes a sibling of the member before from its folder's parts: on seeded
    sequences of odd names it still gives what split_member_path gives, and refuses what it refuses."""
    import random

    from lto_archive.errors import UnsafePath
    from lto_archive.restore_walk import split_member_path

    def outcome(fn, rel):
        try:
            return fn(rel)
        except UnsafePath as e:
            return ("refused", e.data.get("reason"))

    rng = random.Random(1515)
    target = RestoreTarget(tmp_path / "dest")
    pieces = ["a", "b", "frames", ".", "..", "", "/", "//", "\0", "x\0", "f1", "f2"]
    for _ in range(20000):
        if rng.random() < 0.6 and target._last_split[0]:
            rel = target._last_split[0].rpartition("/")[0] + rng.choice(["/", "//", "/./", "/../"]) + rng.choice(pieces)
        else:
            rel = "/".join(rng.choice(pieces) for _ in range(rng.randrange(1, 5)))
        assert outcome(target._split, rel) == outcome(split_member_path, rel), rel
    target.close()
