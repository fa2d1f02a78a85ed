"""Issue 14, item 5: an ASC MHL history that exists but cannot be read is damage (exit 6, naming the file),
never treated as absent: by `mhl verify`, by `mhl create` (which adds a generation to it) and by the write
job (which reads each card's history first and must not write the tape)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lto_archive.mhl import read_history
from lto_archive.mhl.errors import MhlHistoryError
from lto_archive.mhl.model import CHAIN_FILE, HISTORY_FOLDER

from ..bad_input_helpers import make_card, new_tape, run, snapshot, tape_objects, write_cli


def damage_chain(card: Path, how: str) -> Path:
    chain = card / HISTORY_FOLDER / CHAIN_FILE
    if how == "emptied":          # well-formed XML that lists no generation, beside the manifests
        chain.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                         '<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0"></ascmhldirectory>\n')
    elif how == "garbage":
        chain.write_bytes(b"\x00\x13garbage, not XML")
    elif how == "directory":      # the chain's name taken by a folder, and no manifest left
        for p in (card / HISTORY_FOLDER).iterdir():
            p.unlink()
        chain.mkdir()
    return chain


HOWS = ["emptied", "garbage", "directory"]


@pytest.fixture
def card(tmp_path: Path) -> Path:
    card = make_card(tmp_path / "src")
    run("mhl", "create", card, check=0)
    return card


@pytest.mark.parametrize("how", HOWS)
def test_read_history_says_damage_not_absence(card: Path, how: str) -> None:
    chain = damage_chain(card, how)
    for missing_ok in (False, True):
        with pytest.raises(MhlHistoryError, match=str(chain)):
            read_history(card, missing_ok=missing_ok)


@pytest.mark.parametrize("how", HOWS)
def test_mhl_verify_and_create_fail_naming_the_chain(card: Path, how: str) -> None:
    chain = damage_chain(card, how)
    before = snapshot(card) if how != "directory" else None
    for cmd in ("verify", "create"):
        cp = run("mhl", cmd, card)
        out = cp.stdout + cp.stderr
        assert cp.returncode == 6 and str(chain) in out and "Traceback" not in out, (cmd, out)
    if before is not None:
        assert snapshot(card) == before           # no generation was added to a history it cannot read


@pytest.mark.parametrize("how", ["emptied", "directory"])
def test_write_refuses_a_card_whose_history_is_damaged_before_the_tape_moves(tmp_path: Path, card: Path,
                                                                           how: str) -> None:
    chain = damage_chain(card, how)
    tape = new_tape(tmp_path / "tape")
    before = tape_objects(tape)
    cp = write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--no-catalog",))
    out = cp.stdout + cp.stderr
    assert cp.returncode == 6 and str(chain) in out and "Traceback" not in out, out
    assert tape_objects(tape) == before
    shutil.rmtree(card / HISTORY_FOLDER)          # without a history at all, the same card is written
    write_cli(tape, card, log_dir=tmp_path / "logs2", extra=("--no-catalog",), check=0)
