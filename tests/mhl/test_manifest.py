"""A write job's Manifest -> the ASC MHL generation of the source card and of a destination."""

from __future__ import annotations

import shutil
from pathlib import Path

from lto_archive.hashing import MultiHasher
from lto_archive.manifest import CHANGED, FileRecord, Manifest, SessionInfo, iso
from lto_archive.mhl import (create_generation, generation_from_manifest, history_files, read_history, verify_tree,
                             write_generation)


def _manifest(card: Path, algorithms: list[str], broken: str | None = None) -> Manifest:
    top = card.name
    session = SessionInfo(session_id="20240501T100000Z-abcd1234", tool="lto-archive 0.1.0", format="tar",
                          algorithms=algorithms, record_size=524288, operator="Jane DIT", host="cart-1",
                          sources=[str(card)], device="vtape:/tapes/ABC123", barcode="ABC123L9", generation="LTO-9",
                          tape_file=0, partition=0, start_block=0, started="2024-05-01T10:00:00.000000Z")
    records = [FileRecord(path=top, kind="dir", mtime=iso(card.stat().st_mtime))]
    for p in sorted(card.rglob("*")):
        rel = f"{top}/{p.relative_to(card).as_posix()}"
        st = p.stat()
        if p.is_dir():
            records.append(FileRecord(path=rel, kind="dir", mtime=iso(st.st_mtime)))
            continue
        h = MultiHasher(algorithms)
        h.update(p.read_bytes())
        status = CHANGED if broken and rel.endswith(broken) else "ok"
        records.append(FileRecord(path=rel, size=st.st_size, mtime=iso(st.st_mtime), hashes=h.hexdigests(),
                                  status=status))
    records.append(FileRecord(path="OTHER_CARD/x.mov", size=1, hashes={a: "0" for a in algorithms}))
    return Manifest(session, records)


def _card(root: Path) -> Path:
    (root / "CLIPS").mkdir(parents=True)
    (root / "CLIPS" / "A001C001.mov").write_bytes(b"a" * 1000)
    (root / "CLIPS" / "A001C002.mov").write_bytes(b"b" * 10)
    (root / "empty").mkdir()
    (root / ".DS_Store").write_bytes(b"finder")
    return root


def test_destination_folder_gets_a_transfer_generation(tmp_path: Path) -> None:
    card = _card(tmp_path / "A001_C007")
    build = generation_from_manifest(_manifest(card, ["xxh128", "md5", "sha256"]), "A001_C007")
    g = build.generation
    assert g.process == "transfer" and build.count("original") == 2
    assert [f.path for f in g.files] == ["CLIPS/A001C001.mov", "CLIPS/A001C002.mov"]      # no .DS_Store, no OTHER_CARD
    assert {e.format for f in g.files for e in f.hashes} == {"xxh128", "md5"}               # sha256 is not ASC MHL
    c = g.creator
    assert c.authors[0].name == "Jane DIT" and c.host_name == "cart-1" and c.tool == "lto-archive"
    assert "vtape:/tapes/ABC123 ABC123L9" in (c.comment or "") and c.creation_date == "2024-05-01T10:00:00+00:00"
    assert g.root_hash and {d.path for d in g.directories} == {"CLIPS", "empty"}
    # the destination is a copy of the card: the generation goes there and proves it
    dest = tmp_path / "RAID" / "A001_C007"
    shutil.copytree(card, dest)
    write_generation(dest, g)
    r = verify_tree(dest)
    assert r.status == "verified" and r.directories_checked == 3 and not r.directory_mismatches


def test_card_that_arrived_with_a_history(tmp_path: Path) -> None:
    card = _card(tmp_path / "A001_C007")
    create_generation(card, ["xxh64"])                       # the camera or first offload wrote one
    prior = read_history(card)
    build = generation_from_manifest(_manifest(card, ["xxh64", "md5"]), "A001_C007", prior=prior)
    assert build.count("verified") == 2
    assert {e.action for f in build.generation.files for e in f.hashes} == {"verified"}
    write_generation(card, build.generation)                 # the source card's own history
    h = read_history(card)
    assert [g.process for g in h.generations] == ["in-place", "transfer"]
    # the tape's copy of the history: both generations, the chain
    files = history_files("A001_C007", build.generation, prior)
    assert len(files) == 3 and "ascmhl/ascmhl_chain.xml" in files


def test_damaged_copy_against_the_history(tmp_path: Path) -> None:
    card = _card(tmp_path / "A001_C007")
    create_generation(card, ["md5"])
    prior = read_history(card)
    (card / "CLIPS" / "A001C002.mov").write_bytes(b"c" * 10)
    build = generation_from_manifest(_manifest(card, ["md5"]), "A001_C007", prior=prior)
    assert build.outcomes == {"CLIPS/A001C001.mov": "verified", "CLIPS/A001C002.mov": "failed"}
    assert build.mismatches["CLIPS/A001C002.mov"]["md5"][0] != build.mismatches["CLIPS/A001C002.mov"]["md5"][1]


def test_files_not_copied_cleanly_are_left_out(tmp_path: Path) -> None:
    card = _card(tmp_path / "A001_C007")
    build = generation_from_manifest(_manifest(card, ["md5"], broken="A001C002.mov"), "A001_C007")
    g = build.generation
    assert [f.path for f in g.files] == ["CLIPS/A001C001.mov"]
    # its folder and the root cannot have a directory hash that a reader would reproduce
    assert g.root_hash == [] and {d.path for d in g.directories} == {"empty"}


def test_formats_to_hash_adds_one_the_history_has(tmp_path: Path) -> None:
    from lto_archive.mhl import formats_to_hash
    card = _card(tmp_path / "A")
    assert formats_to_hash(["xxh128"], None) == ("xxh128",)
    create_generation(card, ["md5", "xxh64"])
    h = read_history(card)
    assert formats_to_hash(["xxh128"], h) == ("xxh128", "xxh64")     # the fastest the history recorded
    assert formats_to_hash(["md5", "xxh128"], h) == ("md5", "xxh128")
