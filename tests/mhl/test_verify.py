"""Ingest check of a card or delivery against its ASC MHL history, and the `mhl` commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import ExitCode
from lto_archive.mhl import (CreatorInfo, MhlHistoryError, MhlIncomplete, MhlVerificationFailed, NoMhlHistory,
                             create_generation, read_history, verify_tree)
from lto_archive_cli.main import cli


def _card(root: Path) -> Path:
    (root / "CLIPS" / "sub").mkdir(parents=True)
    (root / "CLIPS" / "A001C001.mov").write_bytes(os.urandom(3000))
    (root / "CLIPS" / "A001C002 é.mov").write_bytes(b"second clip")
    (root / "CLIPS" / "sub" / "deep.wav").write_bytes(b"")
    (root / "Sidecar.txt").write_text("notes")
    (root / "empty").mkdir()
    return root


@pytest.fixture
def card(tmp_path: Path) -> Path:
    root = _card(tmp_path / "A001_C007")
    create_generation(root, ["xxh64", "md5"], creator=CreatorInfo.create("Camera DIT"))
    return root


def test_clean_card_verifies(card: Path) -> None:
    seen = []
    r = verify_tree(card, progress=seen.append)
    assert r.status == "verified" and r.counts == {"verified": 4, "failed": 0, "missing": 0, "new": 0}
    assert {f.format for f in r.files} == {"xxh64"}            # the fastest format the history has
    assert r.bytes_hashed == 3000 + 11 + 5 and r.written == []
    assert r.directories_checked == 4 and r.directory_mismatches == []   # CLIPS, CLIPS/sub, empty and the root
    assert seen and seen[-1].files_done == 4
    r.raise_for_status()
    assert len(read_history(card).generations) == 1              # a check writes nothing


def test_damaged_file_fails(card: Path) -> None:
    data = bytearray((card / "CLIPS" / "A001C001.mov").read_bytes())
    data[1234] ^= 1
    (card / "CLIPS" / "A001C001.mov").write_bytes(bytes(data))
    r = verify_tree(card)
    assert r.status == "failed" and r.counts["failed"] == 1
    bad = r.with_status("failed")[0]
    assert bad.path == "CLIPS/A001C001.mov" and bad.expected != bad.actual and bad.format == "xxh64"
    assert {m["path"] for m in r.directory_mismatches} == {"CLIPS", "."}
    with pytest.raises(MhlVerificationFailed) as exc:
        r.raise_for_status()
    assert exc.value.exit_code == ExitCode.VERIFY_FAILED and exc.value.data["files"] == ["CLIPS/A001C001.mov"]


def test_truncated_file_names_its_size(card: Path) -> None:
    (card / "Sidecar.txt").write_text("note")
    f = verify_tree(card).with_status("failed")[0]
    assert "size 4, recorded 5" in f.reason


def test_missing_and_new_files(card: Path) -> None:
    (card / "CLIPS" / "sub" / "deep.wav").unlink()
    (card / "CLIPS" / "A001C003.mov").write_bytes(b"not in the history")
    (card / ".DS_Store").write_bytes(b"finder")                  # ignored, as the reference tool does
    (card / "CLIPS" / ".DS_Store").write_bytes(b"finder")
    r = verify_tree(card)
    assert r.status == "incomplete"
    assert [(f.path, f.status) for f in r.files if f.status != "verified"] == [
        ("CLIPS/A001C003.mov", "new"), ("CLIPS/sub/deep.wav", "missing")]
    with pytest.raises(MhlIncomplete) as exc:
        r.raise_for_status()
    assert exc.value.exit_code == ExitCode.INCOMPLETE
    assert exc.value.data["missing"] == ["CLIPS/sub/deep.wav"] and exc.value.data["new"] == ["CLIPS/A001C003.mov"]


def test_failed_wins_over_missing(card: Path) -> None:
    (card / "Sidecar.txt").write_text("NOTES")
    (card / "CLIPS" / "sub" / "deep.wav").unlink()
    with pytest.raises(MhlVerificationFailed):
        verify_tree(card).raise_for_status()


def test_unreadable_file_fails(card: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    os.chmod(card / "Sidecar.txt", 0)
    f = verify_tree(card).with_status("failed")[0]
    assert f.path == "Sidecar.txt" and "cannot read" in f.reason


def test_record_a_transfer_generation(card: Path) -> None:
    (card / "CLIPS" / "A001C003.mov").write_bytes(b"added later")
    r = verify_tree(card, record="transfer", formats=["xxh128"], creator=CreatorInfo.create("Lab"))
    assert r.status == "incomplete" and len(r.written) == 1 and r.written[0].sequence_nr == 2
    h = read_history(card)
    g = h.generations[-1]
    assert g.process == "transfer" and g.creator.authors[0].name == "Lab"
    actions = {f.path: {e.format: e.action for e in f.hashes} for f in g.files}
    assert actions["CLIPS/A001C001.mov"] == {"xxh64": "verified", "xxh128": "verified"}
    assert actions["CLIPS/A001C003.mov"] == {"xxh128": "original"}
    assert g.root_hash and {d.path for d in g.directories} == {"CLIPS", "CLIPS/sub", "empty"}
    # now it is known: the next check is clean and may use the new format
    assert verify_tree(card).status == "verified"


def test_record_keeps_the_failure_on_record(card: Path) -> None:
    (card / "Sidecar.txt").write_text("NOTES")
    r = verify_tree(card, record="in-place")
    assert r.status == "failed" and r.written
    g = read_history(card).generations[-1]
    rec = g.file("Sidecar.txt")
    assert rec is not None and {e.action for e in rec.hashes} == {"failed"}
    assert verify_tree(card).status == "failed"                # a failed record never becomes the reference


def test_create_starts_a_history_and_new_files_are_fine(tmp_path: Path) -> None:
    root = _card(tmp_path / "B002")
    r = create_generation(root, ["md5"])
    assert r.status == "verified" and r.counts["new"] == 4 and [h.generations for h in r.histories] == [0]
    r.raise_for_status()
    (root / "more.txt").write_text("x")
    r2 = create_generation(root, ["md5"])
    assert r2.counts == {"verified": 4, "failed": 0, "missing": 0, "new": 1} and r2.status == "verified"
    assert [g.sequence_nr for g in read_history(root).generations] == [1, 2]


def test_no_history(tmp_path: Path) -> None:
    with pytest.raises(NoMhlHistory) as exc:
        verify_tree(_card(tmp_path / "C"))
    assert exc.value.exit_code == ExitCode.USAGE


def test_broken_history_is_refused(card: Path) -> None:
    mhl = next((card / "ascmhl").glob("*.mhl"))
    mhl.write_bytes(mhl.read_bytes().replace(b"Camera DIT", b"Camera DJT"))
    with pytest.raises(MhlHistoryError):
        verify_tree(card)


def test_nested_histories_of_a_delivery(tmp_path: Path) -> None:
    day = tmp_path / "DAY_01"
    a = _card(day / "A001")
    b = _card(day / "B001")
    create_generation(a, ["md5"])
    create_generation(b, ["xxh3"])
    (day / "report.pdf").write_bytes(b"%PDF")
    r = verify_tree(day)
    assert [h.root for h in r.histories] == ["A001", "B001"]
    assert r.counts == {"verified": 8, "failed": 0, "missing": 0, "new": 1}
    assert {f.format for f in r.files if f.path.startswith("B001/")} == {"xxh3"}
    (b / "Sidecar.txt").write_text("changed")
    (a / "CLIPS" / "A001C001.mov").unlink()
    r = verify_tree(day)
    assert [(f.path, f.status) for f in r.files if f.status != "verified"] == [
        ("A001/CLIPS/A001C001.mov", "missing"), ("B001/Sidecar.txt", "failed"), ("report.pdf", "new")]


names = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\\ufffe\uffff"),
                min_size=1, max_size=16).filter(lambda n: n not in (".", "..", "ascmhl", ".DS_Store")
                                                and len(n.encode()) < 200)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(names, min_size=1, max_size=5, unique_by=lambda n: n), st.sampled_from(["md5", "sha1", "xxh64",
                                                                                         "xxh3", "xxh128", "c4"]))
def test_any_names_any_format(tmp_path_factory: pytest.TempPathFactory, file_names: list[str], fmt: str) -> None:
    root = tmp_path_factory.mktemp("card") / "CARD"
    (root / "sub dir").mkdir(parents=True)
    for i, n in enumerate(file_names):
        (root / ("sub dir" if i % 2 else ".") / n).write_bytes(n.encode() * 3)
    create_generation(root, [fmt])
    r = verify_tree(root)
    assert r.status == "verified", r.to_dict()
    assert r.counts["verified"] == len(file_names) and r.directory_mismatches == []
    victim = root / ("sub dir" if (len(file_names) - 1) % 2 else ".") / file_names[-1]
    victim.write_bytes(b"changed")
    assert verify_tree(root).status == "failed"


# --- the commands --------------------------------------------------------------------

def _run(*args: str) -> tuple[int, str]:
    # the CLI decides between JSON and text errors from sys.argv, as when run for real
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["lto-archive", *args])
        res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output


def test_cli_create_and_verify(tmp_path: Path) -> None:
    root = _card(tmp_path / "D001")
    code, out = _run("mhl", "create", str(root), "--hash", "xxh128,md5", "--operator", "Jane DIT")
    assert code == 0, out
    assert "wrote generation 1" in out and "status: verified" in out
    assert read_history(root).generations[0].creator.authors[0].name == "Jane DIT"
    code, out = _run("mhl", "verify", str(root), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "verified" and doc["counts"]["verified"] == 4
    (root / "Sidecar.txt").write_text("changed")
    code, out = _run("mhl", "verify", str(root), "--json")
    doc = json.loads(out)
    assert code == 3 and doc["error"] == "MhlVerificationFailed" and doc["result"]["counts"]["failed"] == 1
    (root / "Sidecar.txt").write_text("notes")
    (root / "new.bin").write_bytes(b"1")
    code, out = _run("mhl", "verify", str(root))
    assert code == 5 and "NEW       new.bin" in out
    code, out = _run("mhl", "verify", str(root), "--record", "in-place", "--hash", "sha1")
    assert code == 5 and "wrote generation 2" in out
    code, out = _run("mhl", "create", str(root), "--hash", "sha256")
    assert code == 2
    code, out = _run("mhl", "verify", str(tmp_path))      # a delivery holding the card: its nested history
    assert code == 0 and "history: D001 (2 generations)" in out
    (tmp_path / "plain").mkdir()
    code, out = _run("mhl", "verify", str(tmp_path / "plain"))
    assert code == 2 and "no ASC MHL history" in out
    mhl = next((root / "ascmhl").glob("0001_*.mhl"))
    mhl.write_bytes(mhl.read_bytes() + b" ")
    code, out = _run("mhl", "verify", str(root))
    assert code == 6
