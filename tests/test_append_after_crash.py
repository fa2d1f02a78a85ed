"""Appending after a crash: a writer killed part-way (kill -9) leaves its tape file unterminated;
the next job closes it with a filemark and says so, and never writes into it.

The kill is seeded, not timed: the child process wraps VirtualTape.write_record and kills itself
(SIGKILL) when the writer thread is about to write record N of the job, so exactly records
0..N-1 of the interrupted tape file are on the cartridge.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lto_archive.jobs.append import append_point
from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape, create_vtape
from tests.tape_helpers import cartridge_objects, dump_tape_file, run, tape_file_bytes

REPO = Path(__file__).resolve().parents[1]
KiB = 1024
RS = 16 * KiB
FORMATS = ["tar", "cpio", "cpio-crc", "axf"]

CHILD = r"""
import os, signal, sys
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape
cart, src, fmt, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
original = VirtualTape.write_record
calls = [0]
def write_record(self, data):
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)     # record kill_at never reaches the tape
    calls[0] += 1
    return original(self, data)
VirtualTape.write_record = write_record
original_fm = VirtualTape.write_filemarks
def write_filemarks(self, *a, **k):
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)     # every record is out: killed before the commit point
    return original_fm(self, *a, **k)
VirtualTape.write_filemarks = write_filemarks
write_archive([src], VirtualTape(cart), WriteOptions(format=fmt, record_size=16384, chunk_size=32768))
print("not killed", flush=True)
"""


def _card(root: Path, name: str, seed: int, files: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    out = {}
    for i in range(files):
        data = rng.randbytes(20_000 + rng.randrange(60_000))
        p = root / name / "CLIP" / f"{name}C{i:03d}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[f"{name}/CLIP/{name}C{i:03d}.mov"] = data
    return out


def _killed_job(tmp_path: Path, fmt: str, seed: int, kill_at: int | None = None
                ) -> tuple[Path, Path, dict[str, bytes], int]:
    """A cartridge whose one tape file was cut by kill -9 at a seeded record; the card it held."""
    cart = tmp_path / "tape"
    create_vtape(cart, "LTO-9", capacity=2 * 1024**3, barcode="CRS001L9").close()
    old = _card(tmp_path / "src", "A001", seed, 12)
    if kill_at is None:
        kill_at = random.Random(seed).randrange(8, 40)     # the whole job is ~60 records: cut inside the files
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(cart), str(tmp_path / "src" / "A001"), fmt, str(kill_at)],
                          env=env, cwd=str(REPO), capture_output=True)
    if kill_at >= 10**6:
        assert proc.returncode == 0, proc.stderr.decode()
        return cart, tmp_path / "src" / "A001", old, kill_at
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    objs = cartridge_objects(cart)
    assert [k for _, k in objs] == ["R"] * kill_at, "the killed job left records and no filemark"
    return cart, tmp_path / "src" / "A001", old, kill_at


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_after_kill_closes_the_open_tape_file(tmp_path: Path, fmt: str) -> None:
    cart, _old_src, old, kill_at = _killed_job(tmp_path, fmt, seed=FORMATS.index(fmt) + 14)
    new = _card(tmp_path / "src", "B002", 99, 5)
    with VirtualTape(cart) as vt:
        result = write_archive([tmp_path / "src" / "B002"], vt, WriteOptions(format=fmt, record_size=RS, verify=True))
    assert result.status == "ok", (result.problems, result.destinations)
    assert result.manifest.session.tape_file == 1
    assert result.notes[0] == ("tape file 0 on CRS001L9 was not closed (a job was interrupted or the power "
                               "failed); closed it with a filemark before appending")
    kinds = [k for _, k in cartridge_objects(cart)]
    assert kinds[kill_at] == "F" and kinds[:kill_at] == ["R"] * kill_at and kinds[-1] == "F"
    assert kinds.count("F") == 2

    with VirtualTape(cart) as vt:
        listed = list_tape(vt)
        verified = verify_tape(vt)
        restored = restore_tape(vt, tmp_path / "out")
    # the old job: a prefix of its files, each whole; the one the kill cut is not claimed
    old_seen = [m for m in listed.tape_files[0].members if m.path in old]
    assert old_seen and len(old_seen) < len(old)
    assert [m.path for m in old_seen] == sorted(old)[:len(old_seen)]
    # the new job: every file, listed, proven and restored
    assert [m.path for m in listed.tape_files[1].members if m.path in new] == sorted(new)
    assert sorted(verified.tape_files[1].verified) == sorted(new)
    assert verified.tape_files[1].error is None and not verified.tape_files[1].failed
    got = {str(p.relative_to(tmp_path / "out")): p.read_bytes() for p in (tmp_path / "out").rglob("*.mov")}
    for path, data in new.items():
        assert got[path] == data
    for path, data in got.items():
        if path in old:
            assert data == old[path], f"{path} restored from the interrupted tape file differs"
    assert set(got) - set(new) <= {m.path for m in old_seen}
    assert restored.tape_files[1].error is None


@pytest.mark.parametrize("fmt", ["tar", "cpio", "cpio-crc"])
def test_outside_tools_read_the_new_tape_file(tmp_path: Path, fmt: str) -> None:
    cart, _src, _old, _kill_at = _killed_job(tmp_path, fmt, seed=7)
    new = _card(tmp_path / "src", "B002", 5, 3)
    with VirtualTape(cart) as vt:
        write_archive([tmp_path / "src" / "B002"], vt, WriteOptions(format=fmt, record_size=RS))
    archive = dump_tape_file(cart, 1, tmp_path / "tape-file-1")
    if fmt == "tar":
        listed = run(["tar", "-tf", str(archive)]).stdout.decode().splitlines()
    else:
        with open(archive, "rb") as f:
            proc = subprocess.run(["cpio", "-t"], stdin=f, capture_output=True, check=True)
        listed = proc.stdout.decode().splitlines()
    assert [p for p in listed if p.endswith(".mov")] == sorted(new)
    assert listed[0] == ".lto-archive/session.json"     # the new job's own tape file, from its start


def test_a_closed_tape_is_left_alone(tmp_path: Path) -> None:
    cart = tmp_path / "tape"
    create_vtape(cart, "LTO-9", capacity=1024**3, barcode="CRS002L9").close()
    with VirtualTape(cart) as vt:
        assert append_point(vt) == (vt.position(), None)      # a blank tape: nothing to close
        vt.write_record(b"x" * 100)
        vt.write_filemarks(1)
        pos, note = append_point(vt)
        assert note is None and pos.block == 2 and pos.file_number == 1
        vt.write_record(b"y" * 100)                             # a tape file left open
        pos, note = append_point(vt)
        assert note is not None and note.startswith("tape file 1 on CRS002L9 was not closed")
        assert pos.block == 4 and pos.file_number == 2 and pos.eod
    assert tape_file_bytes(cart, 1) == b"y" * 100


def test_a_span_set_closes_the_open_tape_file_of_its_cartridge(tmp_path: Path) -> None:
    from lto_archive.span.supply import LibrarySupply
    from lto_archive.span.write import write_span
    from tests.span.helpers import cartridge_folder, make_library

    lib = make_library(tmp_path / "lib", cartridges=1, capacity=64 * 1024**2)
    folders = [p for p in lib.path.glob("*/*/*") if p.is_dir()]
    assert len(folders) == 1
    with VirtualTape(folders[0]) as vt:
        vt.write_record(b"a killed job's first record" * 100)    # a tape file left open
    card = _card(tmp_path / "src", "C003", 3, 3)
    result = write_span([tmp_path / "src" / "C003"], LibrarySupply(lib, "*"), WriteOptions(record_size=RS))
    result.raise_for_status()
    assert any(n.startswith("tape file 0 on ") and "was not closed" in n for n in result.notes), result.notes
    cart = cartridge_folder(lib, result.barcodes[0])
    assert [k for _, k in cartridge_objects(cart)][:2] == ["R", "F"]
    with VirtualTape(cart) as vt:
        verified = verify_tape(vt, tape_files=[1])
    assert sorted(verified.tape_files[0].verified) == sorted(card)


def test_a_device_that_keeps_nothing_takes_job_after_job(tmp_path: Path) -> None:
    from lto_archive.tape import NullTape
    _card(tmp_path / "src", "D004", 4, 2)
    dev = NullTape()
    for n in range(2):
        result = write_archive([tmp_path / "src" / "D004"], dev, WriteOptions(record_size=RS, verify=False))
        assert result.status == "ok" and result.manifest.session.tape_file == n and not result.notes


def test_killed_at_the_commit_point_the_archive_is_whole(tmp_path: Path) -> None:
    """Every record out, killed before the filemark: the next job adds it; the old session verifies whole."""
    probe = tmp_path / "probe"
    cart, _src, old, _ = _killed_job(probe, "tar", seed=21, kill_at=10**6)   # not killed: count the records
    records = [k for _, k in cartridge_objects(cart)].count("R")
    cart, _src, old, _ = _killed_job(tmp_path, "tar", seed=21, kill_at=records)
    _card(tmp_path / "src", "B002", 8, 2)
    with VirtualTape(cart) as vt:
        result = write_archive([tmp_path / "src" / "B002"], vt, WriteOptions(record_size=RS))
        assert result.notes and result.manifest.session.tape_file == 1
        verified = verify_tape(vt)
    assert verified.status == "ok"
    assert sorted(p for p in verified.tape_files[0].verified) == sorted(old)
