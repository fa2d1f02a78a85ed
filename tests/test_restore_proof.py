"""Issue 14, item 5: a restore never leaves a wrong file under its real name. Each restored file waits under a
temporary name in its folder until its tape file has been compared; a file that fails is dropped (or kept
as NAME.damaged with --keep-damaged, said in the summary), an existing file is left untouched, and the
restore exits 3. Real bytes on a virtual cartridge are damaged as tests/test_damage.py does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import lto_archive
from lto_archive.errors import VerificationFailed
from lto_archive.progress import Progress

from .bad_input_helpers import make_card, new_tape, run, snapshot, write_cli

SIZES = {"a.bin": 40000, "b.bin": 3000, "c.bin": 20000}


def damaged_tape(tmp_path: Path, fmt: str) -> tuple[Path, Path]:
    """A cartridge whose card/a.bin has one flipped bit in its data (its manifest or index is intact)."""
    card = make_card(tmp_path / "src", sizes=SIZES)
    tape = new_tape(tmp_path / "tape")
    extra: tuple[str, ...] = ("--format", fmt, "--no-catalog")
    if fmt == "ltfs":
        run("format", "--device", f"vtape:{tape}", check=0)
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=extra, check=0)
    flip_first(tape, (card / "a.bin").read_bytes()[20000:20032])
    return card, tape


def flip_first(tape: Path, needle: bytes) -> None:
    """Flip one bit of the first byte of `needle`, in whichever record of either partition holds it."""
    for name in sorted(n for n in os.listdir(tape) if n.endswith("_R")):
        data = bytearray((tape / name).read_bytes())
        at = data.find(needle)
        if at >= 0:
            data[at] ^= 0x01
            (tape / name).write_bytes(bytes(data))
            return
    raise AssertionError(f"{needle!r} is not on the tape")


def leftovers(dest: Path) -> list[str]:
    return [str(p) for p in dest.rglob("*") if p.name.endswith(".part")]


@pytest.mark.parametrize("fmt", ["tar", "cpio", "cpio-crc", "axf", "ltfs"])
def test_a_file_that_fails_never_gets_its_real_name(tmp_path: Path, fmt: str) -> None:
    card, tape = damaged_tape(tmp_path, fmt)
    dest = tmp_path / "dest"
    cp = run("restore", "--device", f"vtape:{tape}", dest)
    out = cp.stdout + cp.stderr
    assert cp.returncode == 3 and "card/a.bin" in cp.stderr and "result: ok" not in out, out
    assert "not restored" in out, out
    assert not (dest / "card" / "a.bin").exists()
    assert not (dest / "card" / "a.bin.damaged").exists()
    for name in ("b.bin", "c.bin"):       # the files that are proven are in place
        assert (dest / "card" / name).read_bytes() == (card / name).read_bytes()
    assert leftovers(dest) == []


@pytest.mark.parametrize("fmt", ["tar", "ltfs"])
def test_keep_damaged_keeps_the_bytes_beside_the_real_name(tmp_path: Path, fmt: str) -> None:
    card, tape = damaged_tape(tmp_path, fmt)
    dest = tmp_path / "dest"
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--keep-damaged")
    out = cp.stdout + cp.stderr
    assert cp.returncode == 3, out
    assert "kept as card/a.bin.damaged" in out, out
    assert not (dest / "card" / "a.bin").exists()
    kept = (dest / "card" / "a.bin.damaged").read_bytes()
    good = (card / "a.bin").read_bytes()
    assert len(kept) == len(good) and kept != good
    assert sum(x != y for x, y in zip(kept, good)) == 1      # the bytes as read: one byte differs


@pytest.mark.parametrize("fmt", ["tar", "ltfs"])
def test_overwrite_leaves_the_existing_file_untouched_when_the_tape_copy_fails(tmp_path: Path, fmt: str) -> None:
    card, tape = damaged_tape(tmp_path, fmt)
    dest = tmp_path / "dest"
    (dest / "card").mkdir(parents=True)
    (dest / "card" / "a.bin").write_bytes(b"the user's own file")
    (dest / "card" / "b.bin").write_bytes(b"replaced: it is proven")
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--overwrite")
    assert cp.returncode == 3, cp.stdout + cp.stderr
    assert (dest / "card" / "a.bin").read_bytes() == b"the user's own file"
    assert (dest / "card" / "b.bin").read_bytes() == (card / "b.bin").read_bytes()
    assert leftovers(dest) == []


def test_api_restore_reports_the_failure_and_the_kept_copy(tmp_path: Path) -> None:
    _card, tape = damaged_tape(tmp_path, "cpio")
    result = lto_archive.restore(f"vtape:{tape}", tmp_path / "dest", keep_damaged=True, record=False)
    failed = result.to_dict()["tape_files"][0]["failed"]
    assert [f["path"] for f in failed] == ["card/a.bin"] and failed[0]["kept_as"] == "card/a.bin.damaged"
    with pytest.raises(VerificationFailed):
        result.raise_for_status()


@pytest.mark.parametrize("fmt", ["tar", "ltfs"])
def test_an_interrupted_restore_leaves_no_unproven_file_under_its_real_name(tmp_path: Path, fmt: str) -> None:
    """Ctrl-C during the restore, after the damaged card/a.bin was read and before its tape file was judged:
    files not yet proven are removed with their temporary names; nothing under a real name is anything but
    the file as it was written."""
    card, tape = damaged_tape(tmp_path, fmt)
    dest = tmp_path / "dest"

    def progress(event: Progress) -> None:
        if event.path == "card/c.bin":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lto_archive.restore(f"vtape:{tape}", dest, progress=progress, record=False)
    assert leftovers(dest) == []
    got = {k: v for k, v in snapshot(dest).items() if not os.path.isdir(dest / k)}
    assert "card/a.bin" not in got
    for rel, data in got.items():
        assert data == (card.parent / rel).read_bytes(), rel


@pytest.mark.parametrize("fmt", ["tar", "axf", "ltfs"])
def test_a_catalog_restore_never_places_a_file_that_fails(tmp_path: Path, fmt: str) -> None:
    """restore --from-catalog knows each file's hashes before it reads it: a file that fails them is dropped."""
    card = make_card(tmp_path / "src", sizes=SIZES)
    tape = new_tape(tmp_path / "tape")
    if fmt == "ltfs":
        run("format", "--device", f"vtape:{tape}", check=0)
    cat = tmp_path / "catalog.sqlite"
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", fmt, "--catalog", cat), check=0)
    flip_first(tape, (card / "a.bin").read_bytes()[20000:20032])
    dest = tmp_path / "dest"
    cp = run("restore", "--from-catalog", "--catalog", cat, "--device", f"vtape:{tape}", dest, "card/*")
    assert cp.returncode == 3 and "card/a.bin" in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    assert not (dest / "card" / "a.bin").exists()
    assert (dest / "card" / "b.bin").read_bytes() == (card / "b.bin").read_bytes()
    assert leftovers(dest) == []
    assert "proven by: catalog " in cp.stdout, cp.stdout


_KILLED_RESTORE = """
import os, signal, sys
import lto_archive

def progress(event):
    if event.path == "card/c.bin":
        os.kill(os.getpid(), signal.SIGKILL)     # kill -9, deterministic: when the third file begins

lto_archive.restore("vtape:" + sys.argv[1], sys.argv[2], progress=progress, record=False)
print("FINISHED")
"""


@pytest.mark.parametrize("fmt", ["tar", "ltfs"])
def test_a_killed_restore_leaves_only_temporary_names(tmp_path: Path, fmt: str) -> None:
    """kill -9 after the damaged card/a.bin was read, before its tape file was judged: what is left under a
    real name is only ever the file as written; the unproven bytes stay under a temporary name."""
    import signal
    import subprocess
    import sys
    card, tape = damaged_tape(tmp_path, fmt)
    dest = tmp_path / "dest"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", _KILLED_RESTORE, str(tape), str(dest)], capture_output=True,
                          env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL and b"FINISHED" not in proc.stdout, proc.stderr
    assert leftovers(dest)            # the held files, under their temporary names
    got = {k: v for k, v in snapshot(dest).items() if not os.path.isdir(dest / k) and not k.endswith(".part")}
    assert "card/a.bin" not in got
    for rel, data in got.items():
        assert data == (card.parent / rel).read_bytes(), rel
