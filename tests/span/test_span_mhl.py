"""A card's ASC MHL history travels with a span set: checked on ingest (a split file by its whole-file hash),
its new generation on the set's last cartridge."""

from __future__ import annotations

import os
from pathlib import Path

from lto_archive.jobs.write import WriteOptions
from lto_archive.mhl import create_generation, read_history
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from tests.span.helpers import MiB, make_library, volume_bytes
from tests.tape_helpers import run


def _card(root: Path) -> Path:
    card = root / "A001"
    for rel, size in {"CLIP/A001C001.mov": 3_000_000, "CLIP/A001C002.mov": 11_000_000}.items():
        (card / rel).parent.mkdir(parents=True, exist_ok=True)
        (card / rel).write_bytes(os.urandom(size))
    create_generation(card, ["md5"])
    return card


def test_card_history_with_a_span_set(tmp_path: Path) -> None:
    card = _card(tmp_path)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(algorithms=("xxh128",), record_size=65536))
    result.raise_for_status()
    assert len(result.volumes) >= 2 and "md5" in result.volumes[0].manifest.session.algorithms
    assert {f.path for f in result.files} == {"A001/CLIP/A001C001.mov", "A001/CLIP/A001C002.mov"}   # no ascmhl/
    out = tmp_path / "out"
    read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out).raise_for_status()
    # the new generation is in the last cartridge's metadata archive, at the card's root
    raw = volume_bytes(lib, result.barcodes[-1], 1)
    meta = tmp_path / "meta"
    meta.mkdir()
    (tmp_path / "meta.tar").write_bytes(raw)
    run(["tar", "-xf", str(tmp_path / "meta.tar")], cwd=meta)
    history = read_history(meta / "A001")      # C4 chain checked
    assert [g.sequence_nr for g in history.generations] == [1, 2]
    new = history.generations[-1]
    assert new.process == "transfer"
    assert {f.path for f in new.files} == {"CLIP/A001C001.mov", "CLIP/A001C002.mov"}
    assert {e.action for f in new.files for e in f.hashes if e.format == "md5"} == {"verified"}


def test_a_split_file_that_contradicts_the_history_is_changed(tmp_path: Path) -> None:
    card = _card(tmp_path)
    with open(card / "CLIP" / "A001C002.mov", "r+b") as f:     # one bit of rot in the file that will be split
        f.seek(9_000_000)
        b = f.read(1)
        f.seek(9_000_000)
        f.write(bytes([b[0] ^ 1]))
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(algorithms=("md5",), record_size=65536))
    bad = {f.path: f for f in result.files}["A001/CLIP/A001C002.mov"]
    assert bad.status == "changed" and "ASC MHL history" in bad.message
    assert result.status == "incomplete"
