"""Fuzz: the ASC MHL reader (mhl/reader.py, the model it fills), on a history our writer made for a
card, then mutated: a generation, the chain, and a whole history whose chain was re-signed to
trust the mutated generation (so verify reads it). Only LtoArchiveError comes out."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import example, given

from lto_archive.errors import LtoArchiveError
from lto_archive.mhl import CreatorInfo
from lto_archive.mhl.errors import MhlHistoryError
from lto_archive.mhl.hashes import c4_id
from lto_archive.mhl.model import CHAIN_FILE, HISTORY_FOLDER
from lto_archive.mhl.reader import parse_chain, parse_generation, read_history
from lto_archive.mhl.verify import create_generation, verify_tree
from tests.fuzz.common import FUZZ
from tests.fuzz.mutate_bytes import mutated_bytes

BASE = Path(tempfile.mkdtemp(prefix="fuzz-mhl-"))


def _card() -> Path:
    card = BASE / "A001"
    (card / "CLIPS" / "SUB").mkdir(parents=True)
    for i, data in enumerate([b"", b"a", b"hello world" * 100]):
        (card / "CLIPS" / f"c{i}.mov").write_bytes(data)
    (card / "CLIPS" / "SUB" / "x é.wav").write_bytes(b"wave")
    create_generation(card, ["xxh64", "md5"], creator=CreatorInfo.create("Camera DIT"))
    (card / "CLIPS" / "new.mov").write_bytes(b"new")
    create_generation(card, ["xxh64", "md5"], creator=CreatorInfo.create("Camera DIT"))
    return card


CARD = _card()
FOLDER = CARD / HISTORY_FOLDER
GEN_NAMES = sorted(p.name for p in FOLDER.iterdir() if p.name != CHAIN_FILE)
GEN = (FOLDER / GEN_NAMES[-1]).read_bytes()
CHAIN = (FOLDER / CHAIN_FILE).read_bytes()


def test_the_history_reads_and_verifies() -> None:
    assert len(read_history(CARD).generations) == 2
    parse_generation(GEN)
    assert len(parse_chain(CHAIN)) == 2
    verify_tree(CARD).raise_for_status()


@FUZZ
@given(mutated_bytes(GEN))
@example(GEN.replace(b'size="', b'size="9' + b"9" * 5000, 1))
@example(GEN.replace(b"<hashlist", b"<!DOCTYPE x [<!ENTITY a 'b'>]><hashlist", 1))
@example(re.sub(rb"<path[^>]*>[^<]*</path>", b"<path/>", GEN, count=1))
@example(GEN.replace(b'encoding="UTF-8"', b'encoding="UTF-7"'))
@example(GEN.replace(b'encoding="UTF-8"', b'encoding="TTF-8"'))
def test_generation(raw: bytes) -> None:
    try:
        gen = parse_generation(raw)
    except MhlHistoryError:
        return
    for f in gen.files:
        assert isinstance(f.path, str) and (f.size is None or isinstance(f.size, int))


@FUZZ
@given(mutated_bytes(CHAIN))
@example(CHAIN.replace(b'sequencenr="1"', b'sequencenr="x"'))
@example(CHAIN.replace(b'encoding="UTF-8"', b'encoding="TTF-8"'))    # LookupError (5000-example run)
def test_chain(raw: bytes) -> None:
    try:
        parse_chain(raw)
    except MhlHistoryError:
        pass


@FUZZ
@given(mutated_bytes(GEN))
def test_history_verified_with_a_re_signed_mutated_generation(raw: bytes) -> None:
    """The chain made to trust the mutated generation: read_history and verify_tree see it whole."""
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(tmp) / "A001"
        shutil.copytree(CARD, card, symlinks=True)
        before = sorted(str(p.relative_to(card)) for p in card.rglob("*") if HISTORY_FOLDER not in p.parts)
        folder = card / HISTORY_FOLDER
        (folder / GEN_NAMES[-1]).write_bytes(raw)
        chain = CHAIN.replace(c4_id(GEN).encode(), c4_id(raw).encode())
        (folder / CHAIN_FILE).write_bytes(chain)
        try:
            report = verify_tree(card)
        except LtoArchiveError:
            report = None
        if report is not None:
            for f in report.files:
                if f.status == "ok" and f.path.endswith(".mov"):
                    assert (card / f.path).is_file()
        after = sorted(str(p.relative_to(card)) for p in card.rglob("*") if HISTORY_FOLDER not in p.parts)
        assert after == before, "verify changed the card"
