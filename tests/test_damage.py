"""Issue 14, item 5: damage is never success. Real bytes of a virtual cartridge are damaged (a flipped
byte in the manifest or the session record, a zeroed record, a truncated tape file) and every reader
says so: exit 6 (CorruptArchive) naming what is damaged, never "result: ok", never a traceback, and
nothing on the cartridge or in the restore folder that was there before is changed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from .bad_input_helpers import make_card, new_tape, run, snapshot, tape_objects, write_cli

FORMATS = ["tar", "cpio", "cpio-crc", "axf"]


def records(tape: Path) -> list[Path]:
    """The data records of partition 0, in tape order."""
    names = [n for n in os.listdir(tape) if n.startswith("0_") and n.endswith("_R")]
    return [tape / n for n in sorted(names, key=lambda n: int(n.split("_")[1]))]


def flip_first(tape: Path, needle: bytes, delta: int = 0) -> Path:
    """Flip one bit of the byte at `delta` from the first occurrence of `needle` on the tape."""
    for rec in records(tape):
        data = bytearray(rec.read_bytes())
        at = data.find(needle)
        if at >= 0:
            data[at + delta] ^= 0x01
            rec.write_bytes(bytes(data))
            return rec
    raise AssertionError(f"{needle!r} is not on the tape")


def flip_last(tape: Path, needle: bytes) -> Path:
    """Flip one bit of the first byte of the last occurrence of `needle` on the tape."""
    for rec in reversed(records(tape)):
        data = bytearray(rec.read_bytes())
        at = data.rfind(needle)
        if at >= 0:
            data[at] ^= 0x01
            rec.write_bytes(bytes(data))
            return rec
    raise AssertionError(f"{needle!r} is not on the tape")


def written(tmp_path: Path, fmt: str) -> tuple[Path, Path]:
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", fmt, "--no-catalog"), check=0)
    return card, tape


def assert_damage(cp, *names: str) -> None:  # type: ignore[no-untyped-def]
    out = cp.stdout + cp.stderr
    assert cp.returncode == 6, (cp.returncode, out)
    assert "Traceback" not in out and "result: ok" not in out, out
    for name in names:
        assert name in out, (name, out)


def read_all(tape: Path, tmp_path: Path, *names: str) -> None:
    """verify and restore both say the damage; the cartridge is not changed; files already in the
    restore folder are not touched."""
    before = tape_objects(tape)
    assert_damage(run("verify", "--device", f"vtape:{tape}"), *names)
    dest = tmp_path / "dest"
    (dest / "card").mkdir(parents=True)
    (dest / "card" / "a.bin").write_bytes(b"already here")
    cp = run("restore", "--device", f"vtape:{tape}", dest)
    assert_damage(cp, *names)
    assert (dest / "card" / "a.bin").read_bytes() == b"already here"
    doc = json.loads(run("verify", "--device", f"vtape:{tape}", "--json").stdout)
    assert doc["exit_code"] == 6 and doc["error"] == "CorruptArchive", doc
    assert tape_objects(tape) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_unparsable_manifest_is_damage_not_absence(tmp_path: Path, fmt: str) -> None:
    _card, tape = written(tmp_path, fmt)
    # `"` becomes `#` in the manifest, the last member (the paperwork and custody record before it name files
    # too): the manifest is no JSON any more
    flip_last(tape, b'"files"')
    read_all(tape, tmp_path, ".lto-archive/manifest.json", "damaged")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unparsable_session_record_is_damage_not_a_traceback(tmp_path: Path, fmt: str) -> None:
    _card, tape = written(tmp_path, fmt)
    flip_first(tape, b'"algorithms"')     # the session record is the first member holding it
    read_all(tape, tmp_path, ".lto-archive/session.json", "damaged")


@pytest.mark.parametrize("fmt,says", [("tar", "zero blocks"), ("cpio", "found zeros")])
def test_zeroed_record_before_the_manifest_is_damage_not_the_end(tmp_path: Path, fmt: str, says: str) -> None:
    """A zeroed record where a member header belongs reads as TAR's end-of-archive (two zero blocks) or a
    cpio stream that stops. The reader goes on past it as GNU tar does: the region is named with its byte
    offset, the files it cost fail by name (exit 3), the file after it and the manifest are still read, and
    the cartridge is not changed. Never "ok"."""
    card = make_card(tmp_path / "src", sizes={"a.bin": 16 * 1024, "b.bin": 40 * 1024, "c.bin": 40 * 1024})
    tape = new_tape(tmp_path / "tape")
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", fmt, "--no-catalog", "--block-size", "4K"),
              check=0)
    target = next(r for r in records(tape) if b"card/b.bin" in r.read_bytes())
    target.write_bytes(bytes(len(target.read_bytes())))
    before = tape_objects(tape)
    for cp in (run("verify", "--device", f"vtape:{tape}"), run("restore", "--device", f"vtape:{tape}", tmp_path / "d")):
        out = cp.stdout + cp.stderr
        assert cp.returncode == 3, (cp.returncode, out)
        assert "Traceback" not in out and "result: ok" not in out, out
        assert "damaged region(s) read past: at byte" in out and says in out, out
        assert "card/b.bin: missing from the tape file" in out and "FAILED     card/a.bin" in out, out
        assert re.search(r"\b1 file (restored and )?verified", out), out       # c.bin, after the damage
    assert (tmp_path / "d" / "card" / "c.bin").read_bytes() == (card / "c.bin").read_bytes()
    assert not (tmp_path / "d" / "card" / "b.bin").exists()
    assert tape_objects(tape) == before


@pytest.mark.parametrize("fmt", ["tar", "cpio", "axf"])
def test_truncated_tape_file_is_damage(tmp_path: Path, fmt: str) -> None:
    """The tape file ends (end of data) before its manifest: damage, not a short archive."""
    _card, tape = written(tmp_path, fmt)
    recs = records(tape)
    cut = next(i for i, r in enumerate(recs) if b'"files"' in r.read_bytes())
    for name in os.listdir(tape):
        if name.startswith("0_") and int(name.split("_")[1]) >= int(recs[cut].name.split("_")[1]):
            (tape / name).unlink()
    (tape / recs[cut].name.replace("_R", "_E")).write_bytes(b"")
    read_all(tape, tmp_path, "tape file 0")


def test_zeroed_manifest_record_reads_as_the_end_but_is_damage(tmp_path: Path) -> None:
    """TAR: the records from the manifest's header on zeroed read as a clean end-of-archive. Inside an
    lto-archive tape file that is damage; the job's copy log (--manifest) still proves the files before it."""
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--no-catalog",), check=0)
    recs = records(tape)
    first = next(i for i, r in enumerate(recs) if b"manifest.json" in r.read_bytes())
    for r in recs[first:]:
        r.write_bytes(bytes(len(r.read_bytes())))
    read_all(tape, tmp_path, "tape file 0", "damaged")
    log = sorted((tmp_path / "logs").glob("*.json"))[0]
    cp = run("verify", "--device", f"vtape:{tape}", "--manifest", log)
    assert_damage(cp, "tape file 0")
    assert "3 files verified (against the copy log)" in cp.stdout, cp.stdout
    assert snapshot(card)


def test_axf_file_footer_proves_damage_when_the_manifest_is_gone(tmp_path: Path) -> None:
    """The manifest cannot be parsed and a byte of a file is flipped: the file's own AXF footer checksum
    names it FAILED (exit 3 comes first), and the damaged manifest is said too."""
    card = make_card(tmp_path / "src", sizes={"a.bin": 40000, "b.bin": 3000})
    tape = new_tape(tmp_path / "tape")
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", "axf", "--no-catalog"), check=0)
    flip_first(tape, (card / "a.bin").read_bytes()[20000:20032])
    flip_last(tape, b'"files"')                # the manifest: the last member that names files
    for cmd in (["verify"], ["restore", str(tmp_path / "dest")]):
        cp = run(*cmd, "--device", f"vtape:{tape}")
        out = cp.stdout + cp.stderr
        assert cp.returncode == 3 and "card/a.bin" in cp.stderr and "does not match its file footer" in out, out
        assert ".lto-archive/manifest.json is damaged" in out and "result: ok" not in out, out
        assert "card/b.bin" not in cp.stderr


def newest_index_record(tape: Path, part: int) -> Path:
    names = [n for n in os.listdir(tape) if n.startswith(f"{part}_") and n.endswith("_R")]
    for n in sorted(names, key=lambda n: -int(n.split("_")[1])):
        if b"<ltfsindex" in (tape / n).read_bytes():
            return tape / n
    raise AssertionError(f"no index on partition {part}")


def test_ltfs_newest_index_unusable_is_damage_unless_rolled_back(tmp_path: Path) -> None:
    """Both partitions' newest index are damaged (one flipped bit each): ls, verify and restore fail (exit 6)
    naming them, where they used to fall back to an older generation and say "ok"; --rollback reads the older
    generation on purpose and says so loudly."""
    tape = new_tape(tmp_path / "tape")
    run("format", "--device", f"vtape:{tape}", check=0)
    first = make_card(tmp_path / "src1", name="day1", seed=1)
    second = make_card(tmp_path / "src2", name="day2", seed=2)
    for card in (first, second):
        write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", "ltfs", "--no-catalog"), check=0)
    for part in (0, 1):
        flip_first_in(newest_index_record(tape, part), b"<file>", 1)
    before = tape_objects(tape)
    for cmd in (["verify"], ["ls"], ["restore", str(tmp_path / "dest")]):
        cp = run(*cmd, "--device", f"vtape:{tape}")
        assert_damage(cp, "newest LTFS index cannot be used", "--rollback")
    assert not (tmp_path / "dest").exists() or not any((tmp_path / "dest").rglob("*.bin"))
    cp = run("verify", "--device", f"vtape:{tape}", "--rollback", check=0)
    assert "WARNING: ROLLBACK" in cp.stderr and "result: ok" in cp.stdout, (cp.stdout, cp.stderr)
    cp = run("ls", "--device", f"vtape:{tape}", "--rollback", check=0)
    assert "day1/a.bin" in cp.stdout and "day2/a.bin" not in cp.stdout, cp.stdout
    assert tape_objects(tape) == before


def flip_first_in(rec: Path, needle: bytes, delta: int) -> None:
    data = bytearray(rec.read_bytes())
    at = data.find(needle)
    assert at >= 0, (rec, needle)
    data[at + delta] ^= 0x01
    rec.write_bytes(bytes(data))


def test_a_damaged_copy_log_given_with_manifest_is_named(tmp_path: Path) -> None:
    _card, tape = written(tmp_path, "tar")
    log = sorted((tmp_path / "logs").glob("*.json"))[0]
    log.write_bytes(log.read_bytes()[: len(log.read_bytes()) // 2])      # a copy log cut in half
    cp = run("verify", "--device", f"vtape:{tape}", "--manifest", log)
    assert_damage(cp, str(log), "cannot be parsed")
