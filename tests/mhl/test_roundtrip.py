"""Generations and chains: write -> read gives the same, C4 IDs in the chain catch any change."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import CorruptArchive, ExitCode, UnstorableName
from lto_archive.mhl import (CHAIN_FILE, ChainEntry, CreatorInfo, DirectoryHash, DirectoryHashEntry,
                             FileHash, Generation, HashEntry, MhlHistoryError, MhlUnstorableName, NoMhlHistory,
                             ObservedFile, Reference, build_generation, c4_id, chain_xml, generation_xml,
                             history_files, parse_chain, parse_generation, read_history, write_generation)
from lto_archive.mhl.hashes import MHL_FORMATS, MhlHasher
from lto_archive.mhl.model import xml_datetime

WHEN = datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)


def _creator(**kw: object) -> CreatorInfo:
    return CreatorInfo.create("Jane DIT", role="DIT", email="jane@example.org", phone="+33 1 23",
                              host="cart-1", location="Stage 3", comment="card A001 & <friends>", when=WHEN,
                              **kw)  # type: ignore[arg-type]


def _full_generation() -> Generation:
    d = "2024-05-01T10:00:00.123456+00:00"
    return Generation(
        creator=_creator(), process="transfer",
        files=[FileHash("Clips/A001C001.mov", [HashEntry("md5", "b1946ac92492d2347c6235b4d2611184", "original", d),
                                              HashEntry("xxh128", "6bba86c7e069f56d5a10b435f1c8e49c", "original", d)],
                        6, "2024-04-30T08:00:00+00:00"),
               FileHash("Clips/renamed.mov", [HashEntry("xxh64", "7680e5f98f4a80fd", "verified", d)], 0,
                        None, "2024-04-30T07:00:00+00:00", "Clips/old name.mov"),
               FileHash("a&b <c> \"d\" 'e'.txt", [HashEntry("c4", c4_id(b"x"), "failed", None)], 1)],
        directories=[DirectoryHash("Clips", [DirectoryHashEntry("md5", "22d574e581674fd3e544a8fe71a9426c",
                                                                "7f95802783659b8be76d018a6916424e", None, d)],
                                   "2024-04-30T08:00:00+00:00")],
        root_hash=[DirectoryHashEntry("xxh128", "fb266165eeaea3de3a87df8d8f3d4006", "fd54f3de70df665028ce8666b40d1625",
                                      None, d)],
        ignore=[".DS_Store", "ascmhl", "ascmhl/", "*.tmp"],
        references=[Reference("B/ascmhl/0002_B_2024-05-01_100000Z.mhl", c4_id(b"ref"))])


def test_generation_round_trip() -> None:
    gen = _full_generation()
    data = generation_xml(gen)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">')
    back = parse_generation(data)
    assert back == gen
    assert generation_xml(back) == data
    # hash formats in the schema's order, directory records after their contents
    text = data.decode()
    assert text.index("<md5 action") < text.index("<xxh128 action")
    assert text.index("Clips/A001C001.mov") < text.index("<path lastmodificationdate=\"2024-04-30T08:00:00+00:00\">Clips</path>")
    assert '<author role="DIT" email="jane@example.org" phone="+33 1 23">Jane DIT</author>' in text
    assert "<comment>card A001 &amp; &lt;friends&gt;</comment>" in text


def test_creator_info_defaults() -> None:
    c = CreatorInfo.create()
    assert c.tool == "lto-archive" and c.tool_version and c.host_name and not c.authors
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", c.creation_date)
    assert xml_datetime("2024-05-01T10:00:00.5Z") == "2024-05-01T10:00:00+00:00"
    assert xml_datetime("2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00+00:00"
    assert xml_datetime(0.0) == "1970-01-01T00:00:00+00:00"


def test_chain_round_trip() -> None:
    entries = [ChainEntry(1, "0001_A001_2024-05-01_100000Z.mhl", c4_id(b"1")),
               ChainEntry(2, "0002_A001_2024-05-02_100000Z.mhl", c4_id(b"2"))]
    data = chain_xml(entries)
    assert b'<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0">' in data
    assert parse_chain(data) == entries


xml_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00\ufffe\uffff",
                          min_codepoint=0x20) | st.sampled_from(["\t", "\n", "\r", " ", "&", "<", ">", '"', "'"])
name = st.text(xml_chars, min_size=1, max_size=20)


def _hash_of(fmt: str, data: bytes) -> str:
    h = MhlHasher([fmt])
    h.update(data)
    return h.hexdigests()[fmt]


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(name, min_size=1, max_size=3).map("/".join), min_size=1, max_size=6, unique=True),
       st.lists(st.sampled_from(MHL_FORMATS), min_size=1, max_size=6, unique=True),
       st.sampled_from(["in-place", "transfer", "flatten"]), st.binary(max_size=10))
def test_round_trip_any_names_and_formats(paths: list[str], formats: list[str], process: str, seed: bytes) -> None:
    in_schema_order = sorted(formats, key=MHL_FORMATS.index)      # how the XML lists them
    files = [FileHash(p, [HashEntry(f, _hash_of(f, seed + p.encode()), "original", "2024-05-01T10:00:00+00:00")
                          for f in in_schema_order], len(p)) for p in paths]
    gen = Generation(CreatorInfo.create("Zoë  ", host=" host\t", when=WHEN), process, files,
                     ignore=[".DS_Store", "ascmhl", "ascmhl/"])
    back = parse_generation(generation_xml(gen))
    assert sorted(back.files, key=lambda f: f.path) == sorted(files, key=lambda f: f.path)
    assert back.creator == gen.creator and back.process == process


@pytest.mark.parametrize("bad", ["bad\x01name", "bad\udcffname", "bad\ufffe"])
def test_names_xml_cannot_hold_are_refused_not_renamed(bad: str) -> None:
    gen = Generation(_creator(), "in-place", [FileHash(bad, [HashEntry("md5", "0" * 32, "original")], 1)])
    with pytest.raises(MhlUnstorableName) as exc:
        generation_xml(gen)
    assert isinstance(exc.value, UnstorableName) and exc.value.exit_code == ExitCode.USAGE


def _observed(root: Path, formats: tuple[str, ...] = ("xxh128", "md5")) -> list[ObservedFile]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "ascmhl"]
        for n in filenames:
            p = Path(dirpath, n)
            h = MhlHasher(formats)
            h.update(p.read_bytes())
            out.append(ObservedFile(p.relative_to(root).as_posix(), p.stat().st_size, h.hexdigests(),
                                    p.stat().st_mtime))
    return out


@pytest.fixture
def card(tmp_path: Path) -> Path:
    root = tmp_path / "A001_C007"
    (root / "CLIPS").mkdir(parents=True)
    (root / "CLIPS" / "A001C001.mov").write_bytes(b"frame" * 100)
    (root / "CLIPS" / "A001C002 é.mov").write_bytes(b"other")
    (root / "Sidecar.txt").write_text("notes")
    return root


def test_write_generation_then_read_history(card: Path) -> None:
    b1 = build_generation(_observed(card), process="in-place", creator=_creator())
    w1 = write_generation(card, b1.generation, when=WHEN)
    assert w1.path.name == "0001_A001_C007_2024-05-01_100000Z.mhl"
    assert b1.count("original") == 3
    h = read_history(card)
    assert [g.file_name for g in h.generations] == [w1.path.name]
    assert h.generations[0] == b1.generation
    assert h.chain == [ChainEntry(1, w1.path.name, c4_id(w1.path.read_bytes()))]

    b2 = build_generation(_observed(card, ("xxh64", "md5")), process="transfer", creator=_creator(), prior=h)
    assert set(b2.outcomes.values()) == {"verified"}
    w2 = write_generation(card, b2.generation)
    assert w2.sequence_nr == 2 and w2.path.name.startswith("0002_A001_C007_")
    h2 = read_history(card)
    assert [e.sequence_nr for e in h2.chain] == [1, 2]
    assert {e.action for f in h2.generations[1].files for e in f.hashes} == {"verified"}
    assert h2.expected("Sidecar.txt").keys() == {"md5", "xxh128", "xxh64"}
    assert h2.notes == []


def test_damaged_file_is_recorded_failed(card: Path) -> None:
    write_generation(card, build_generation(_observed(card), process="in-place", creator=_creator()).generation)
    (card / "Sidecar.txt").write_text("notez")
    b = build_generation(_observed(card, ("md5", "sha1")), process="in-place", creator=_creator(),
                         prior=read_history(card))
    assert b.outcomes["Sidecar.txt"] == "failed" and b.count("verified") == 2
    rec = b.generation.file("Sidecar.txt")
    assert rec is not None and [(e.format, e.action) for e in rec.hashes] == [("md5", "failed")]  # no sha1: unproven


def test_unverifiable_when_no_shared_format(card: Path) -> None:
    write_generation(card, build_generation(_observed(card, ("md5",)), process="in-place", creator=_creator()).generation)
    b = build_generation(_observed(card, ("xxh3",)), process="in-place", creator=_creator(), prior=read_history(card))
    assert set(b.outcomes.values()) == {"unverifiable"} and b.generation.files == []


def _tamper(p: Path) -> None:
    data = bytearray(p.read_bytes())
    i = data.index(b"<hostname>") + len(b"<hostname>")
    data[i] = ord("X") if data[i] != ord("X") else ord("Y")
    p.write_bytes(bytes(data))


def test_chain_detects_a_modified_generation(card: Path) -> None:
    w = write_generation(card, build_generation(_observed(card), process="in-place", creator=_creator()).generation)
    _tamper(w.path)
    with pytest.raises(MhlHistoryError, match="was modified") as exc:
        read_history(card)
    assert isinstance(exc.value, CorruptArchive) and exc.value.exit_code == ExitCode.ARCHIVE
    # and nothing is ever appended to a history that cannot be trusted
    with pytest.raises(MhlHistoryError):
        write_generation(card, build_generation(_observed(card), process="in-place", creator=_creator()).generation)


def test_chain_detects_a_missing_generation_and_a_missing_chain(card: Path) -> None:
    w = write_generation(card, build_generation(_observed(card), process="in-place", creator=_creator()).generation)
    data = w.path.read_bytes()
    w.path.unlink()
    with pytest.raises(MhlHistoryError, match="missing"):
        read_history(card)
    w.path.write_bytes(data)
    read_history(card)
    (card / "ascmhl" / CHAIN_FILE).unlink()
    with pytest.raises(MhlHistoryError, match="no ascmhl_chain.xml"):
        read_history(card)


def test_manifest_outside_the_chain_is_not_used(card: Path) -> None:
    w = write_generation(card, build_generation(_observed(card), process="in-place", creator=_creator()).generation)
    (card / "ascmhl" / "0002_A001_C007_2024-05-01_100000Z.mhl").write_bytes(w.path.read_bytes())
    h = read_history(card)
    assert len(h.generations) == 1 and "not in ascmhl_chain.xml" in h.notes[0]
    assert h.next_sequence_nr() == 3           # never reuse a number a file already has


@pytest.mark.parametrize("chain", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0"/>',
    b"<notachain/>",
    b"<ascmhldirectory><hashlist sequencenr='1'><path>../../etc/passwd</path><c4>c4x</c4></hashlist></ascmhldirectory>",
    b"<ascmhldirectory><hashlist sequencenr='x'><path>a.mhl</path><c4>c4x</c4></hashlist></ascmhldirectory>",
    b"<ascmhldirectory><hashlist",
])
def test_hostile_or_broken_chain(card: Path, chain: bytes) -> None:
    (card / "ascmhl").mkdir()
    (card / "ascmhl" / CHAIN_FILE).write_bytes(chain)
    with pytest.raises(MhlHistoryError):
        read_history(card)


@pytest.mark.parametrize("doc", [b"<hashlist version='1.0'/>", b"<other version='2.0'/>",
                                 b"<hashlist version='2.0'><processinfo><process>copy</process></processinfo></hashlist>",
                                 b"<hashlist version='2.0'><creatorinfo/></hashlist>"])
def test_not_an_asc_mhl_manifest(doc: bytes) -> None:
    with pytest.raises(MhlHistoryError):
        parse_generation(doc)


def test_no_history(tmp_path: Path) -> None:
    with pytest.raises(NoMhlHistory):
        read_history(tmp_path)
    assert read_history(tmp_path, missing_ok=True).generations == []


def test_history_files_for_a_tape(card: Path) -> None:
    w = write_generation(card, build_generation(_observed(card), process="in-place", creator=_creator()).generation)
    prior = read_history(card)
    gen = build_generation(_observed(card), process="transfer", creator=_creator(), prior=prior).generation
    files = history_files("A001_C007", gen, prior, when=WHEN)
    assert list(files) == [f"ascmhl/{w.path.name}", "ascmhl/0002_A001_C007_2024-05-01_100000Z.mhl",
                           "ascmhl/ascmhl_chain.xml"]
    assert files[f"ascmhl/{w.path.name}"] == w.path.read_bytes()
    # laid out in a folder, they are a valid history with both generations
    out = card.parent / "restored" / "A001_C007"
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    h = read_history(out)
    assert [g.process for g in h.generations] == ["in-place", "transfer"]
    assert h.generations[1] == gen
    # without a prior history: one generation, sequence 1
    alone = list(history_files("X", gen, when=WHEN))
    assert alone == ["ascmhl/0001_X_2024-05-01_100000Z.mhl", "ascmhl/ascmhl_chain.xml"]
