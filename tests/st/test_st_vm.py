"""lto-archive on a real st device (inside tapevm): interop with GNU tar, cpio and mt, bad input.

Each test starts by writing a small GNU tar archive at the beginning of the cartridge, which
discards whatever earlier tests left (the emulated drive cannot erase), so tape file 0 is that
archive and our own writes land in tape files 1, 2, ...
Inputs are made under pytest's tmp_path, which inside the VM is memory, not the 9p share that
GNU tar misreads.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lto_archive.errors import DeviceError, NoMedium, UsageError
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.devices import open_device
from lto_archive.tape.st import StTape

from ..bad_input_helpers import MiB, card_files, copy_log, make_card, restored_files, run, statuses
from ..conftest import require_tool
from .conftest import mt

pytestmark = pytest.mark.tapevm


def path_of(spec: str) -> str:
    return spec.removeprefix("st:").split("?")[0]


def sh(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, (cmd, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def start_tape(dev: str, tmp: Path) -> Path:
    """Tape file 0: a small GNU tar archive at the beginning (discards the rest of the cartridge)."""
    tar = require_tool("tar")
    first = make_card(tmp / "first", name="first", sizes={"x.bin": 3000}, seed=99)
    mt(dev, "rewind")
    sh([tar, "-b", "1024", "-cf", path_of(dev), "-C", str(first.parent), "first"])
    return first


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_tapes_written_by_gnu_tar_and_cpio_are_listed_and_restored(nst: str, tmp_path: Path) -> None:
    tar, cpio = require_tool("tar"), require_tool("cpio")
    card = make_card(tmp_path / "src", sizes={"A001.mov": 3 * MiB + 17, "sub/A002.wav": 400_000, "x.txt": 5})
    want = card_files(card)
    mt(nst, "rewind")
    sh([tar, "-b", "1024", "-cf", path_of(nst), "-C", str(card.parent), "card"])       # tape file 0
    names = "\n".join(["card", "card/sub"] + sorted(want)) + "\n"
    proc = subprocess.run([cpio, "-o", "-H", "newc", "--block-size=1024", "-O", path_of(nst)],
                          input=names, cwd=card.parent, capture_output=True, text=True)  # tape file 1
    assert proc.returncode == 0, proc.stderr

    cp = run("ls", "--device", nst, "--json")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    listed = [{m["path"] for m in t["members"] if m["kind"] == "file"} for t in doc["tape_files"]]
    assert listed == [set(want), set(want)]
    for n in (0, 1):
        dest = tmp_path / f"restore{n}"
        cp = run("restore", "--device", nst, "--tape-file", str(n), dest, "--no-progress", "--no-catalog")
        assert cp.returncode == 5 and "no evidence: unproven" in cp.stdout, (cp.stdout, cp.stderr)  # foreign: no proof
        assert restored_files(dest) == want
        again = run("restore", "--device", nst, "--tape-file", str(n), tmp_path / f"accepted{n}", "--no-progress",
                    "--no-catalog", "--accept-unproven")
        assert again.returncode == 0, (again.stdout, again.stderr)


def test_our_tar_and_cpio_are_read_by_gnu_tar_and_cpio(nst: str, tmp_path: Path) -> None:
    tar, cpio = require_tool("tar"), require_tool("cpio")
    start_tape(nst, tmp_path)
    card = make_card(tmp_path / "src", sizes={"A001.mov": 5 * MiB + 3, "sub/A002.wav": 700_000, "e.txt": 1})
    want = card_files(card)
    for fmt in ("tar", "cpio"):
        cp = run("write", card, "--device", nst, "--format", fmt, "--log-dir", tmp_path / f"logs-{fmt}",
                 "--no-progress", "--no-catalog")
        assert cp.returncode == 0, (cp.stdout, cp.stderr)

    out = tmp_path / "gnutar"
    out.mkdir()
    mt(nst, "rewind")
    mt(nst, "fsf", "1")
    sh([tar, "-x", "-b", "1024", "-f", path_of(nst)], cwd=out)
    assert {k: v for k, v in files_under(out).items() if not k.startswith(".lto-archive")} == want

    out = tmp_path / "cpio"
    out.mkdir()
    mt(nst, "rewind")
    mt(nst, "fsf", "2")
    sh([cpio, "-idm", "--block-size=1024", "--no-absolute-filenames", "-I", path_of(nst)], cwd=out)
    assert {k: v for k, v in files_under(out).items() if not k.startswith(".lto-archive")} == want

    cp = run("verify", "--device", nst, "--tape-file", "1", "--tape-file", "2", "--json", "--no-catalog")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    assert [t["verified"] for t in doc["tape_files"]] == [len(want), len(want)]
    for n in (1, 2):
        dest = tmp_path / f"restore{n}"
        cp = run("restore", "--device", nst, "--tape-file", str(n), dest, "--no-progress", "--no-catalog")
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
        assert restored_files(dest) == want


def test_position_and_locate_on_the_driver_count(nst: str, tmp_path: Path) -> None:
    """Addresses count records and filemarks alike, across separate opens of the device."""
    start_tape(nst, tmp_path)
    with open_device(nst) as dev:
        dev.seek_eod()
        start = dev.position()
        assert start.file_number == 1 and start.eod
        for i in range(3):
            dev.write_record(f"rec{i}".encode() * 100)
        dev.write_filemarks(1)
        dev.write_record(b"last" * 100)
        dev.write_filemarks(1)
    with open_device(nst) as dev:     # a new open knows nothing: it counts again
        dev.locate(0, start.block + 4)
        pos = dev.position()
        assert (pos.block, pos.file_number, pos.eod) == (start.block + 4, 2, False)
        assert dev.read_record() == b"last" * 100
        dev.locate(0, start.block + 1)
        assert dev.read_record() == b"rec1" * 100
        dev.space_records(-2)
        assert dev.position().block == start.block
        dev.space_filemarks(2)
        assert dev.position().eod and dev.position().block == start.block + 6


def test_busy_rewinding_and_missing_devices_are_clear_errors(nst: str, tmp_path: Path) -> None:
    first = StTape(path_of(nst))
    try:
        with pytest.raises(DeviceError, match="busy"):
            open_device(nst)
        cp = run("ls", "--device", nst)
        assert cp.returncode == 4 and "busy" in cp.stderr, (cp.stdout, cp.stderr)
    finally:
        first.close()
    rewinding = path_of(nst).replace("/nst", "/st")
    with pytest.raises(UsageError, match="/dev/nst"):
        open_device(rewinding)
    cp = run("ls", "--device", "/dev/nst97")
    assert cp.returncode == 4 and "no tape device" in cp.stderr


def test_no_medium_is_a_clear_error_and_loses_nothing(nst: str, tmp_path: Path) -> None:
    """An unloaded drive refuses every job with NoMedium; the cartridge keeps what it had.

    (The emulated drive reloads its cartridge at the next open after `mt offline`, so the empty
    drive is tested here on one open device; tests/st/test_empty_drive.py runs the command on a
    drive that really is empty, in a VM with a changer.)
    """
    start_tape(nst, tmp_path)
    card = make_card(tmp_path / "src")
    want = card_files(card)
    cp = run("write", card, "--device", nst, "--log-dir", tmp_path / "logs", "--no-progress", "--no-catalog")
    assert cp.returncode == 0, cp.stderr
    dev = open_device(nst)
    try:
        dev.unload()
        with pytest.raises(NoMedium, match="no cartridge"):
            write_archive([card], [dev], WriteOptions(log_dir=tmp_path / "logs2"))
        with pytest.raises(NoMedium):
            dev.read_record()
        dev.load()
        assert dev.position().block == 0
    finally:
        dev.close()
    dest = tmp_path / "dest"
    cp = run("restore", "--device", nst, "--tape-file", "1", dest, "--no-progress", "--no-catalog")
    assert cp.returncode == 0, cp.stderr
    assert restored_files(dest) == want


def _small_cartridge_mb() -> int:
    mb = int(os.environ.get("LTO_ARCHIVE_TEST_TAPE_MB", "0"))
    if not 0 < mb <= 100:
        pytest.skip("needs a small cartridge: LTO_ARCHIVE_TEST_TAPE_MB=40 (tapevm --tape-size 40)")
    return mb


def test_early_warning_closes_the_archive_at_a_file_boundary(nst: str, tmp_path: Path) -> None:
    mb = _small_cartridge_mb()
    start_tape(nst, tmp_path)
    # the write job reads ahead of the drive by up to 32 MiB (16 chunks of 2 MiB): give it more than that
    # past the early warning, or every file is queued before the drive reports it
    n = (mb + 56) // 4
    card = make_card(tmp_path / "src", sizes={f"f{i:02d}.bin": 4 * MiB for i in range(n)})
    want = card_files(card)
    cp = run("write", card, "--device", nst, "--log-dir", tmp_path / "logs", "--no-progress", "--no-catalog")
    assert cp.returncode == 5, (cp.stdout, cp.stderr)
    _, log = copy_log(tmp_path / "logs")
    st = statuses(log)
    written = sorted(p for p, s in st.items() if s == "ok")
    skipped = sorted(p for p, s in st.items() if s == "not-written")
    assert written and skipped and len(written) + len(skipped) == n
    assert "early-warning" in cp.stderr + cp.stdout
    cp = run("verify", "--device", nst, "--tape-file", "1", "--json", "--no-catalog")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert json.loads(cp.stdout)["tape_files"][0]["verified"] == len(written)
    dest = tmp_path / "dest"
    cp = run("restore", "--device", nst, "--tape-file", "1", dest, "--no-progress", "--no-catalog")
    assert cp.returncode == 0, cp.stderr
    assert restored_files(dest) == {p: want[p] for p in written}


def test_end_of_medium_inside_a_file_names_it_and_keeps_the_rest(nst: str, tmp_path: Path) -> None:
    mb = _small_cartridge_mb()
    start_tape(nst, tmp_path)
    sizes = {"f0.bin": 6 * MiB, "f1.bin": 6 * MiB, "f2.bin": (mb + 20) * MiB, "f3.bin": 2 * MiB}
    card = make_card(tmp_path / "src", sizes=sizes)
    want = card_files(card)
    cp = run("write", card, "--device", f"st:{path_of(nst)}?ew_room=4M", "--log-dir", tmp_path / "logs",
             "--no-progress", "--no-catalog")
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    assert "full" in cp.stderr and "card/f2.bin" in cp.stderr
    log_path, log = copy_log(tmp_path / "logs")
    st = statuses(log)
    assert (st["card/f0.bin"], st["card/f1.bin"], st["card/f2.bin"]) == ("ok", "ok", "lost")
    # f3: "not-written", or not in the log at all when the job stopped before reaching it
    assert st.get("card/f3.bin", "not-written") == "not-written"
    # every file committed before the end verifies and restores against the copy log
    cp = run("verify", "--device", nst, "--tape-file", "1", "--manifest", log_path, "--json", "--no-catalog")
    doc = json.loads(cp.stdout)
    t = doc["result"]["tape_files"][0] if "result" in doc else doc["tape_files"][0]
    assert t["verified"] == 2 and not t["failed"], doc
    dest = tmp_path / "dest"
    run("restore", "--device", nst, "--tape-file", "1", dest, "--manifest", log_path, "--no-progress",
        "--no-catalog")
    got = restored_files(dest)
    assert got["card/f0.bin"] == want["card/f0.bin"] and got["card/f1.bin"] == want["card/f1.bin"]
    assert "card/f2.bin" not in got and "card/f3.bin" not in got
