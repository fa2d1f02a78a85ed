"""A card written twice to one cartridge (issue 16): restore takes the newest copy of each path in one pass,
says what it passed over, and --tape-file / --session choose a session; the same from the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lto_archive as lto

from .bad_input_helpers import run
from .test_damage import flip_first

FILES = ("A001/CLIPS/c0.mov", "A001/CLIPS/c1.mov", "A001/sub/c2.mov")


def _want(tag: bytes) -> dict[str, bytes]:
    """Different bytes (and sizes) in the two sessions."""
    return {rel: tag + b"-%d-" % i + bytes(range(256)) * (i + 1) * (2 if tag == b"new" else 1)
            for i, rel in enumerate(FILES)}


def _card(src: Path, tag: bytes) -> None:
    for rel, data in _want(tag).items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def _tape_twice(tmp_path: Path, fmt: str) -> tuple[Path, list[str]]:
    """A cartridge holding the card in tape file 0 (old bytes) and again in tape file 1 (new bytes)."""
    src, tape = tmp_path / "src", tmp_path / "tape"
    lto.create_vtape(tape, capacity="64M", barcode="NEW001L9").close()
    sessions = []
    for tag in (b"old", b"new"):
        _card(src, tag)
        doc = json.loads(run("write", src / "A001", "--device", f"vtape:{tape}", "--format", fmt, "--catalog",
                             tmp_path / "cat.db", "--log-dir", tmp_path / "logs", "--no-progress", "--json",
                             check=0).stdout)
        sessions.append(doc["session"]["session_id"])
    return tape, sessions


def _got(dest: Path) -> dict[str, bytes]:
    return {rel: (dest / rel).read_bytes() for rel in FILES if (dest / rel).exists()}


@pytest.mark.parametrize("fmt", ["tar", "cpio", "axf"])
def test_whole_tape_restore_takes_the_newest_copy_and_says_what_it_passed_over(tmp_path: Path, fmt: str) -> None:
    tape, sessions = _tape_twice(tmp_path, fmt)
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "d", "--no-progress", "--no-catalog")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert _got(tmp_path / "d") == _want(b"new")
    assert ("3 files restored from tape file 1 (a newer session); 3 older copies in tape file 0 passed over "
            "(--tape-file 0 restores them)") in cp.stderr
    assert "3 older copies passed over" in cp.stdout and "result: ok" in cp.stdout
    doc = json.loads(run("restore", "--device", f"vtape:{tape}", tmp_path / "j", "--json", "--no-catalog",
                         check=0).stdout)
    t0, t1 = doc["tape_files"][:2]
    assert sorted(t0["passed_over"]) == sorted(FILES) and t1["passed_over"] == []
    assert doc["status"] == "ok"

    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "old", "--tape-file", "0", "--no-progress",
             "--no-catalog")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert _got(tmp_path / "old") == _want(b"old") and "passed over" not in cp.stderr

    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "s", "--session", sessions[0][:-4], "--no-progress",
             "--no-catalog")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert _got(tmp_path / "s") == _want(b"old")


def test_a_file_that_was_there_before_is_still_refused(tmp_path: Path) -> None:
    tape, _ = _tape_twice(tmp_path, "tar")
    dest = tmp_path / "d"
    (dest / "A001/CLIPS").mkdir(parents=True)
    (dest / FILES[0]).write_bytes(b"mine")
    cp = run("restore", "--device", f"vtape:{tape}", dest, "A001/*", "--no-progress", "--no-catalog")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    assert (dest / FILES[0]).read_bytes() == b"mine"
    assert {p: _got(dest)[p] for p in FILES[1:]} == {p: _want(b"new")[p] for p in FILES[1:]}
    cp = run("restore", "--device", f"vtape:{tape}", dest, "A001/*", "--overwrite", "--no-progress", "--no-catalog")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert _got(dest) == _want(b"new")


def test_session_errors_are_usage_errors(tmp_path: Path) -> None:
    tape, sessions = _tape_twice(tmp_path, "tar")
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "d", "--session", "19990101T", "--no-catalog")
    assert cp.returncode == 2 and "no session '19990101T' on this tape" in cp.stderr, cp.stderr
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "d", "--session", sessions[1], "--tape-file", "0",
             "--no-catalog")
    assert cp.returncode == 2 and "not in the --tape-file given" in cp.stderr, cp.stderr
    ltfs = tmp_path / "ltfs"
    lto.create_vtape(ltfs, capacity="64M", partitions=2).close()
    run("format", "--device", f"vtape:{ltfs}", check=0)
    cp = run("restore", "--device", f"vtape:{ltfs}", tmp_path / "l", "--session", "X", "--no-catalog")
    assert cp.returncode == 2 and "LTFS volume holds one copy of each path" in cp.stderr, cp.stderr


def test_catalog_restore_takes_the_newest_copy_or_the_one_asked_for(tmp_path: Path) -> None:
    tape, sessions = _tape_twice(tmp_path, "tar")
    cat = ("--from-catalog", "--catalog", tmp_path / "cat.db", "--no-progress")
    plan = json.loads(run("restore", tmp_path / "p", "A001", *cat, "--json", check=0).stdout)
    assert plan["files"] == 3 and [c["tape_files"] for c in plan["cartridges"]] == [[1]]
    assert {p["where"] for p in plan["passed_over"]} == {"NEW001L9 tape file 0"}
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "d", "A001", *cat)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert _got(tmp_path / "d") == _want(b"new")
    assert "3 older copies in NEW001L9 tape file 0 passed over" in cp.stderr
    for dest, choice in (("t0", ("--tape-file", "0")), ("s0", ("--session", sessions[0]))):
        cp = run("restore", "--device", f"vtape:{tape}", tmp_path / dest, "A001", *cat, *choice)
        assert cp.returncode == 0, (choice, cp.stdout, cp.stderr)
        assert _got(tmp_path / dest) == _want(b"old"), choice
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "x", "A001", *cat, "--tape-file", "7")
    assert cp.returncode == 2 and "no catalogued copy of these paths is in tape file 7" in cp.stderr, cp.stderr


def test_api_restore_newest_and_session(tmp_path: Path) -> None:
    tape, sessions = _tape_twice(tmp_path, "cpio")
    with lto.open_device(f"vtape:{tape}") as dev:
        r = lto.restore(dev, tmp_path / "a", catalog=False)
        assert r.status == "ok" and any("passed over" in n for n in r.notes)
        r = lto.restore(dev, tmp_path / "b", catalog=False, session=sessions[0])
        assert r.status == "ok"
    assert _got(tmp_path / "a") == _want(b"new") and _got(tmp_path / "b") == _want(b"old")
    with lto.Catalog(tmp_path / "cat.db") as cat:
        r = lto.restore(cat, tmp_path / "c", ["A001"], devices=[f"vtape:{tape}"], tape_files=[0])
        assert r.status == "ok"
    assert _got(tmp_path / "c") == _want(b"old")


def test_a_newer_copy_that_fails_leaves_the_older_proven_one(tmp_path: Path) -> None:
    tape, _ = _tape_twice(tmp_path, "tar")
    flip_first(tape, b"new-0-", 2)       # tape file 1's copy of c0.mov no longer matches its manifest
    cp = run("restore", "--device", f"vtape:{tape}", tmp_path / "d", "--no-progress", "--no-catalog")
    assert cp.returncode == 3, (cp.stdout, cp.stderr)
    got = _got(tmp_path / "d")
    assert got[FILES[0]] == _want(b"old")[FILES[0]]      # the older copy stays: the newer one FAILED
    assert {p: got[p] for p in FILES[1:]} == {p: _want(b"new")[p] for p in FILES[1:]}
    assert "2 older copies in tape file 0 passed over" in cp.stderr and "FAILED" in cp.stdout
