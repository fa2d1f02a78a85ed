"""No tracebacks, ever (issue 14, item 7): what a damaged LTFS index, a hostile restore path or a full
restore disk does through the command line. Each case: our exit code, a one-line message naming what
is wrong, no traceback, and nothing already written (the tape, files already in the restore folder)
damaged."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lto_archive.errors import ExitCode
from lto_archive_cli.main import cli

from .bad_input_helpers import snapshot, tape_objects


def invoke(*args: object) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert result.exit_code != ExitCode.INTERNAL, (out, result.exception)
    return result


def ltfs_volume(tmp: Path, files: dict[str, bytes] | None = None) -> tuple[Path, str]:
    """A 2-partition cartridge with one LTFS session holding `files` (paths under card/)."""
    cart = tmp / "tape"
    dev = f"vtape:{cart}"
    assert invoke("vtape", "create", cart, "--capacity", "64M", "--partitions", "2").exit_code == 0
    assert invoke("format", "--device", dev, "--block-size", "64K").exit_code == 0
    for rel, data in (files or {"A/x.mov": b"x" * 1000, "y.mov": b"y" * 100}).items():
        p = tmp / "src" / "card" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    res = invoke("write", tmp / "src" / "card", "--device", dev, "--format", "ltfs", "--log-dir", tmp / "logs",
                 "--no-progress")
    assert res.exit_code == 0, res.stdout
    return cart, dev


def tamper_indexes(cart: Path, pattern: bytes, repl: bytes, *, first_too: bool = True) -> None:
    """Edit every index on the cartridge: `pattern` -> `repl` in those that list x.mov; the first
    generation (format's, no files) gets an impossible creation date (`first_too`), so no generation
    is readable."""
    edited = 0
    for rec in sorted(cart.glob("*_R")):
        b = rec.read_bytes()
        if b"<ltfsindex" not in b[:512]:
            continue
        if b"<name>x.mov</name>" in b:
            new = re.sub(pattern, repl, b, count=1, flags=re.S)
            assert new != b
            edited += 1
        elif first_too:
            new = re.sub(rb"<creationtime>\d{4}-\d\d-\d\d", b"<creationtime>2026-13-01", b, count=1)
        rec.write_bytes(new)
    assert edited >= 2     # the data partition's and the index partition's copies


def check_refused(tmp: Path, cart: Path, dev: str, *needles: str) -> None:
    """ls, verify and restore: exit 6 naming the damage; the tape and the restore folder untouched."""
    dest = tmp / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_bytes(b"already here")
    before, dest_before = tape_objects(cart), snapshot(dest)
    for cmd in (("ls",), ("verify",), ("restore", dest)):
        res = invoke(*cmd, "--device", dev)
        assert res.exit_code == ExitCode.ARCHIVE, (cmd, res.stdout, res.stderr)
        line = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
        assert len(line) == 1 and all(n in line[0] for n in needles), res.stderr
        assert "b/" in line[0]    # the position of the index on tape
    assert tape_objects(cart) == before and snapshot(dest) == dest_before


X = rb"(<name>x\.mov</name>.*?"


@pytest.mark.parametrize("pattern, repl, needles", [
    (X + rb"<modifytime>)\d{4}-\d\d-\d\d", rb"\g<1>2026-02-30", ("modifytime of 'x.mov'", "does not exist")),
    (X + rb"<modifytime>\d{4}-\d\d-\d\dT)\d\d", rb"\g<1>25", ("modifytime of 'x.mov'", "time of day")),
    (X + rb"<value>)", b"\\g<1>\xff", ("not valid UTF-8",)),
    (rb"<name>x\.mov</name>", b"<name>x\xc3.mov</name>", ("bad file name", "UTF-8")),
])
def test_impossible_date_or_bad_utf8_in_the_index_is_damage(tmp_path: Path, pattern: bytes, repl: bytes,
                                                            needles: tuple[str, ...]) -> None:
    cart, dev = ltfs_volume(tmp_path)
    tamper_indexes(cart, pattern, repl)
    check_refused(tmp_path, cart, dev, *needles, "index generation")


@pytest.mark.parametrize("field, value", [
    ("bytecount", 2 ** 64), ("bytecount", 10 ** 15), ("fileoffset", 10 ** 15), ("startblock", 2 ** 64),
    ("byteoffset", 10 ** 15), ("length", 10 ** 15),
])
def test_a_size_no_cartridge_can_hold_is_damage_not_an_allocation(tmp_path: Path, field: str, value: int) -> None:
    cart, dev = ltfs_volume(tmp_path)
    tamper_indexes(cart, X + b"<" + field.encode() + rb">)\d+", rb"\g<1>" + str(value).encode())
    check_refused(tmp_path, cart, dev, field, str(value), "more than any cartridge holds")


def test_a_name_longer_than_the_file_system_allows_is_refused_the_rest_restored(tmp_path: Path) -> None:
    cart, dev = ltfs_volume(tmp_path)
    long = "x" * 300 + ".mov"
    tamper_indexes(cart, rb"<name>x\.mov</name>", f"<name>{long}</name>".encode(), first_too=False)
    res = invoke("ls", "--device", dev)
    assert res.exit_code == 0 and f"card/A/{long}" in res.stdout
    res = invoke("restore", "--device", dev, tmp_path / "dest", "--no-progress", "--json")
    assert res.exit_code in (ExitCode.ARCHIVE, ExitCode.INCOMPLETE), res.stdout
    assert f"the name '{'x' * 40}'... is 304 bytes, more than the restore folder's file system allows" in res.stdout
    assert (tmp_path / "dest" / "card" / "y.mov").read_bytes() == b"y" * 100
    assert sorted(os.listdir(tmp_path / "dest" / "card" / "A")) == []


def test_a_restore_path_under_a_file_is_refused_the_rest_restored(tmp_path: Path) -> None:
    cart, dev = ltfs_volume(tmp_path)
    dest = tmp_path / "dest"
    (dest / "card").mkdir(parents=True)
    (dest / "card" / "A").write_bytes(b"a file where a folder would go")
    before = snapshot(dest)
    res = invoke("restore", "--device", dev, dest, "--no-progress", "--json")
    assert res.exit_code in (ExitCode.ARCHIVE, ExitCode.INCOMPLETE), res.stdout
    assert "'card/A/x.mov': 'card/A' exists and is not a directory" in res.stdout
    assert (dest / "card" / "A").read_bytes() == before["card/A"]
    assert (dest / "card" / "y.mov").read_bytes() == b"y" * 100
    for target in (dest / "card" / "A" / "sub", dest / "card" / "A" / "sub" / "deeper"):
        res = invoke("restore", "--device", dev, target, "--no-progress")
        assert res.exit_code == ExitCode.USAGE, res.stderr
        assert f"{str(dest / 'card' / 'A')!r} is a file, not a folder" in res.stderr
        assert snapshot(dest)["card/A"] == before["card/A"]


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MiB tmpfs (needs root; skipped otherwise): a restore disk that fills."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_a_full_restore_disk_names_the_file_and_leaves_no_partial_copy(tmp_path: Path, small_disk: Path) -> None:
    cart, dev = ltfs_volume(tmp_path, {"A/big.mov": bytes(range(256)) * 8192, "a.mov": b"a" * 1000})
    (small_disk / "keep.txt").write_bytes(b"already here")
    res = invoke("restore", "--device", dev, small_disk, "--no-progress")
    assert res.exit_code == ExitCode.DEVICE, res.stderr
    err = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(err) == 1 and "'card/A/big.mov': the restore disk is full" in err[0], res.stderr
    assert "partial copy was removed" in err[0]
    left = [str(p.relative_to(small_disk)) for p in small_disk.rglob("*") if p.is_file()]
    assert not [p for p in left if ".part" in p or p.endswith("big.mov")], left
    assert (small_disk / "keep.txt").read_bytes() == b"already here"


def test_a_hole_in_a_sparse_file_is_read_as_bounded_chunks_of_zeros() -> None:
    from lto_archive.jobs.ltfs_read import zeros
    chunks = list(zeros((5 << 20) // 2))
    assert [len(c) for c in chunks] == [1 << 20, 1 << 20, 1 << 19] and not any(bytes(chunks[0]))
    assert list(zeros(0)) == [] and [bytes(c) for c in zeros(3)] == [b"\0\0\0"]
