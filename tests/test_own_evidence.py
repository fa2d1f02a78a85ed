"""Issue 14, item 5: each file's own evidence counts when the manifest is gone or damaged (an AXF-style file
footer, a cpio crc, the LTFS index's ltfs.hash xattrs, a copy log or journal); verify and restore say what
proved each file, and a file with no evidence at all is "no evidence: unproven", never ok (exit 5) unless
the user accepts that with --accept-unproven. Real bytes on a virtual cartridge, damaged in its files."""

from __future__ import annotations

from pathlib import Path

import lto_archive

from .bad_input_helpers import make_card, new_tape, run, write_cli, write_raw_tape_file
from .formats.test_tar_bad_fields import FILES, archive
from .test_damage import flip_first, flip_last
from .test_restore_proof import flip_first as flip_anywhere


def written(tmp_path: Path, fmt: str, sizes: dict[str, int] | None = None) -> tuple[Path, Path]:
    card = make_card(tmp_path / "src", sizes=sizes or {"a.bin": 40000, "b.bin": 3000})
    tape = new_tape(tmp_path / "tape")
    if fmt == "ltfs":
        run("format", "--device", f"vtape:{tape}", check=0)
    write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", fmt, "--no-catalog"), check=0)
    return card, tape


def test_axf_footers_prove_the_files_when_the_manifest_is_damaged(tmp_path: Path) -> None:
    _card, tape = written(tmp_path, "axf")
    flip_last(tape, b'"files"')      # the manifest (the last member naming files)
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 6 and ".lto-archive/manifest.json is damaged" in cp.stdout + cp.stderr
    assert "2 files verified (against the files' own checksums)" in cp.stdout, cp.stdout
    assert "proven by: axf file footer" in cp.stdout, cp.stdout
    proven = lto_archive.verify(f"vtape:{tape}", record=False).to_dict()["tape_files"][0]["proven_by"]
    assert sorted(proven) == ["card/a.bin", "card/b.bin"] and all(v.startswith("axf file footer") for v in proven.values())


def test_cpio_crc_names_the_damaged_file_when_the_manifest_is_damaged(tmp_path: Path) -> None:
    """A flipped data byte and an unparsable manifest: the crc fails that file by name (exit 3, not just a
    damaged tape file), proves the other, and it is never restored under its real name."""
    card, tape = written(tmp_path, "cpio-crc")
    flip_first(tape, (card / "a.bin").read_bytes()[20000:20032])
    flip_last(tape, b'"files"')      # the manifest (the last member naming files)
    for cmd in (["verify"], ["restore", str(tmp_path / "dest")]):
        cp = run(*cmd, "--device", f"vtape:{tape}")
        out = cp.stdout + cp.stderr
        assert cp.returncode == 3 and "FAILED     card/a.bin" in out and "(cpio crc)" in out, out
        assert "proven by: cpio crc (1)" in cp.stdout, out
    assert not (tmp_path / "dest" / "card" / "a.bin").exists()
    assert (tmp_path / "dest" / "card" / "b.bin").read_bytes() == (card / "b.bin").read_bytes()


def test_a_manifest_proves_and_says_so(tmp_path: Path) -> None:
    _card, tape = written(tmp_path, "tar")
    cp = run("verify", "--device", f"vtape:{tape}", check=0)
    assert "proven by: manifest " in cp.stdout, cp.stdout
    log = sorted((tmp_path / "logs").glob("*.json"))[0]
    cp = run("verify", "--device", f"vtape:{tape}", "--manifest", log, check=0)
    assert "proven by: manifest " in cp.stdout, cp.stdout      # the tape's own manifest is read first


def test_ltfs_xattrs_prove_each_file(tmp_path: Path) -> None:
    card, tape = written(tmp_path, "ltfs")
    cp = run("verify", "--device", f"vtape:{tape}", check=0)
    assert "proven by: ltfs.hash xattrs" in cp.stdout, cp.stdout
    flip_anywhere(tape, (card / "a.bin").read_bytes()[20000:20032])
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 3 and "card/a.bin" in cp.stdout + cp.stderr


def test_no_evidence_is_unproven_never_ok_unless_accepted(tmp_path: Path) -> None:
    """A foreign TAR (no manifest, no checksum of its own): restored, but each file is "no evidence:
    unproven" and the exit is 5; --accept-unproven accepts that, said in a note, exit 0."""
    tape = new_tape(tmp_path / "tape")
    write_raw_tape_file(tape, archive())       # written by Python's tarfile: no manifest
    for cmd in (["verify"], ["restore", str(tmp_path / "d1")]):
        cp = run(*cmd, "--device", f"vtape:{tape}")
        out = cp.stdout + cp.stderr
        assert cp.returncode == 5 and "result: ok" not in out, out
        for name, _data in FILES:
            assert f"unproven   {name}: no evidence: unproven" in out, out
    assert all((tmp_path / "d1" / name).read_bytes() == data for name, data in FILES)
    for cmd in (["verify"], ["restore", str(tmp_path / "d2")]):
        cp = run(*cmd, "--device", f"vtape:{tape}", "--accept-unproven", check=0)
        assert "result: ok" in cp.stdout and "accepted as read, not proven" in cp.stderr, cp.stdout + cp.stderr
