"""ASC MHL in the write job: the card's history travels with every copy, and is checked on ingest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lto_archive.errors import JobIncomplete
from lto_archive.jobs.read import restore_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.mhl import CreatorInfo, create_generation, read_history
from lto_archive.tape import create_vtape

from .conftest import Ascmhl


def _card(root: Path) -> dict[str, bytes]:
    files = {"CLIP/A001C001.mov": os.urandom(300_000), "CLIP/A001C002.mov": os.urandom(123_457),
             "Sound/BWF é.wav": os.urandom(50_000)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _opts() -> WriteOptions:
    return WriteOptions(algorithms=("xxh128",), record_size=65536)


def test_card_history_goes_to_tape_and_folder_with_a_transfer_generation(tmp_path: Path) -> None:
    card = tmp_path / "A001"
    _card(card)
    create_generation(card, ["md5"], creator=CreatorInfo.create("camera assistant"))   # arrives with md5 only
    tape = create_vtape(tmp_path / "t", "LTO-9", capacity=128 << 20)
    r = write_archive([card], tape, _opts(), folders=[tmp_path / "shuttle"])
    r.raise_for_status()
    assert "md5" in r.manifest.session.algorithms          # hashed with a format the history has, to verify it
    for root in (tmp_path / "shuttle" / "A001", None):
        if root is None:
            restore_tape(tape, tmp_path / "out").raise_for_status()
            root = tmp_path / "out" / "A001"
        h = read_history(root)                              # C4 chain checked
        assert [g.sequence_nr for g in h.generations] == [1, 2]
        new = h.generations[-1]
        assert new.process == "transfer"
        assert {e.action for f in new.files for e in f.hashes if e.format == "md5"} == {"verified"}
        assert {f.path for f in new.files} == {"CLIP/A001C001.mov", "CLIP/A001C002.mov", "Sound/BWF é.wav"}
    # the card's own ascmhl/ files were not also copied as plain members
    paths = [f.path for f in r.manifest.files]
    assert not any("/ascmhl/" in p for p in paths)


def test_card_altered_after_its_history_is_never_verified(tmp_path: Path) -> None:
    card = tmp_path / "A001"
    files = _card(card)
    create_generation(card, ["xxh128"])
    with open(card / "CLIP" / "A001C002.mov", "r+b") as f:     # one bit of rot, same size
        f.seek(1000)
        f.write(bytes([files["CLIP/A001C002.mov"][1000] ^ 1]))
    tape = create_vtape(tmp_path / "t", "LTO-9", capacity=128 << 20)
    r = write_archive([card], tape, _opts())
    bad = {f.path: f for f in r.problems}
    assert set(bad) == {"A001/CLIP/A001C002.mov"}
    assert bad["A001/CLIP/A001C002.mov"].status == "changed" and "ASC MHL" in bad["A001/CLIP/A001C002.mov"].message
    with pytest.raises(JobIncomplete):
        r.raise_for_status()


def test_card_without_history_gets_one_in_folders_and_in_the_tape_metadata(tmp_path: Path) -> None:
    card = tmp_path / "A002"
    _card(card)
    tape = create_vtape(tmp_path / "t", "LTO-9", capacity=128 << 20)
    r = write_archive([card], tape, _opts(), folders=[tmp_path / "shuttle"])
    r.raise_for_status()
    h = read_history(tmp_path / "shuttle" / "A002")
    assert [g.process for g in h.generations] == ["transfer"]
    restore_tape(tape, tmp_path / "out").raise_for_status()
    assert not (tmp_path / "out" / "A002" / "ascmhl").exists()          # the card restores as it was
    meta = list((tmp_path / "out" / ".lto-archive").rglob("ascmhl_chain.xml"))
    assert len(meta) == 1 and meta[0].parent.name == "ascmhl" and meta[0].parent.parent.name == "A002"
    assert read_history(meta[0].parent.parent).generations[0].process == "transfer"


@pytest.mark.interop
def test_reference_tool_verifies_the_history_in_a_job_folder_destination(tmp_path: Path, ascmhl: Ascmhl) -> None:
    card = tmp_path / "A001"
    _card(card)
    tape = create_vtape(tmp_path / "t", "LTO-9", capacity=128 << 20)
    write_archive([card], tape, _opts(), folders=[tmp_path / "shuttle"]).raise_for_status()
    res = ascmhl("create", "-v", tmp_path / "shuttle" / "A001")
    assert res.returncode == 0, res.stdout + res.stderr
    verified = [ln for ln in res.stdout.splitlines() if ln.strip().startswith("verified")]
    assert len(verified) == 3
