"""`write --span --copy-to`: one read feeds the set of cartridges and a shuttle drive, which gets every file
whole; the set counts as ONE copy of a split file for the BAF certificate (its parts are not copies each)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from lto_archive.baf.check import COVERED, TOO_FEW, check_card
from lto_archive.catalog.store import Catalog
from lto_archive.errors import NoNextCartridge
from lto_archive.jobs.write import WriteOptions
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from tests.span.helpers import MiB, RS, make_card, make_library
from tests.span.test_span_read import SIZES
from tests.tape_helpers import tree_snapshot

BIG = "card/CLIPS/big.mov"


def _cli(*args: object, code: int = 0) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(cli, [str(a) for a in args] + ["--json"])
    assert res.exit_code == code, res.output
    return json.loads(res.stdout)


def _write(tmp_path: Path, *extra: object) -> tuple[Path, Path, dict]:  # type: ignore[type-arg]
    card = make_card(tmp_path, SIZES)
    cat = tmp_path / "catalog.sqlite"
    lib = tmp_path / "lib"
    _cli("vlib", "create", lib, "--drives", "1", "--slots", "4", "--cartridges", "4", "--capacity", "8M")
    doc = _cli("write", card, "--device", f"vlib:{lib}", "--span", "--barcodes", "LTA*", "--block-size", "64K",
               "--catalog", cat, "--no-progress", "--verify", *extra)
    return card, cat, doc


@pytest.mark.parametrize("fmt", ["tar", "cpio", "axf"])
def test_set_plus_shuttle_drive_is_two_copies_of_every_file(tmp_path: Path, fmt: str) -> None:
    shuttle = tmp_path / "shuttle"
    card, cat, doc = _write(tmp_path, "--copy-to", shuttle, "--format", fmt)
    assert doc["status"] == "ok" and doc["verify"]["status"] == "ok"
    barcodes = [c["barcode"] for c in doc["cartridges"]]         # AXF needs more room at each volume's end
    assert barcodes == ["LTA001L9", "LTA002L9", "LTA003L9"] + (["LTA004L9"] if fmt == "axf" else [])
    holding = [c["barcode"] for c in doc["cartridges"] if c["parts"]]
    assert [p["number"] for c in doc["cartridges"] for p in c["parts"]] == list(range(1, len(holding) + 1))
    assert len(holding) >= 2
    (folder,) = doc["folders"]
    assert folder["status"] == "ok" and folder["verified"] == len(SIZES)
    # besides the footage: the job's manifest, checksum lists, copy log, and the card's ASC MHL history
    assert folder["written"] == len([p for p in shuttle.rglob("*") if p.is_file()])
    # the shuttle drive holds every file whole, byte for byte, and the job's manifest of whole files
    assert tree_snapshot(shuttle / "card", skip_top=("ascmhl",)) == tree_snapshot(card)
    (manifest_path,) = shuttle.glob(".lto-archive/*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    big = next(f for f in manifest["files"] if f["path"] == BIG)
    assert big.get("part") is None and big["size"] == SIZES["big.mov"]
    last_part = [p for c in doc["cartridges"] for p in c["parts"]][-1]
    assert last_part["offset"] + last_part["length"] == SIZES["big.mov"]
    assert manifest["session"]["span"]["set_id"] == doc["set_id"]
    again = _cli("verify", "--folder", shuttle, "--catalog", cat)     # read back later, on its own
    assert again["status"] == "ok"

    with Catalog.open(cat) as catalog:
        two = check_card(catalog, card, 2)
        assert two.covered, [f.reasons for f in two.missing]
        split = next(f for f in two.files if f.path == BIG)
        assert sorted(c.kind for c in split.copies) == ["folder", "tape"]
        tape = next(c for c in split.copies if c.kind == "tape")
        assert tape.destination == "+".join(holding) and tape.split_over == len(holding)
        three = check_card(catalog, card, 3)
        assert not three.covered and {f.state for f in three.files} == {TOO_FEW}


def test_a_set_alone_is_one_copy_of_a_split_file(tmp_path: Path) -> None:
    """Without the shuttle drive: three cartridges hold the parts of big.mov, but that is ONE copy."""
    card, cat, doc = _write(tmp_path)
    assert doc["status"] == "ok"
    with Catalog.open(cat) as catalog:
        two = check_card(catalog, card, 2)
        split = next(f for f in two.files if f.path == BIG)
        assert split.state == TOO_FEW and len(split.copies) == 1, split.reasons
        one = check_card(catalog, card, 1)
        assert one.covered and next(f for f in one.files if f.path == BIG).state == COVERED
    # a cartridge of the set missing from the catalog: the split file has no whole copy
    db = sqlite3.connect(cat)
    db.execute("DELETE FROM copies WHERE part_number = 2")
    db.commit()
    db.close()
    with Catalog.open(cat) as catalog:
        one = check_card(catalog, card, 1)
        split = next(f for f in one.files if f.path == BIG)
        assert split.state != COVERED
        assert any("missing from the catalog" in r for r in split.reasons), split.reasons
        assert all(f.state == COVERED for f in one.files if f.path != BIG)


def test_a_set_that_stops_leaves_no_partial_file_in_the_folder(tmp_path: Path) -> None:
    """Two cartridges for a job that needs three: the file being written when the set ran out is not in
    the folder (no partial file, no temporary), every file finished before is, and is proven."""
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=2, capacity=8 * MiB)
    shuttle = tmp_path / "shuttle"
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS), folders=[shuttle])
    assert isinstance(result.error, NoNextCartridge)
    (folder,) = result.folders
    whole_on_tape = {f.path for f in result.files if f.status == "ok" and not (f.part and not f.part["last"])}
    footage = {p for p in folder.written if not p.startswith(".lto-archive/")}
    assert footage == whole_on_tape and set(folder.verified) == whole_on_tape
    on_disk = {str(p.relative_to(shuttle)) for p in shuttle.rglob("*") if p.is_file()
               and not str(p.relative_to(shuttle)).startswith(".lto-archive")}
    assert on_disk == whole_on_tape and BIG not in on_disk
    for path in on_disk:
        assert (shuttle / path).read_bytes() == (tmp_path / path).read_bytes()
