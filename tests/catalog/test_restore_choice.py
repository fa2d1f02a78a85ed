"""Which cartridges a restore from the catalog asks for: the fewest, and those already loaded first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lto_archive.catalog import Catalog
from lto_archive.catalog.search import restore_plan
from lto_archive.jobs.catalog_restore import load_instruction_lines, loaded_labels, plan_restore

from ..bad_input_helpers import run
from .conftest import make_file, tar_tape, write_and_record

#: six clips on three cartridges; the tape holding most (LTX) is not part of the fewest set (LTY + LTZ):
#: a greedy choice would ask for all three
HOLDS = {"LTX001L9": [1, 2, 3, 4], "LTY001L9": [1, 2, 5], "LTZ001L9": [3, 4, 6]}
ALL = [f"C{n}/C{n}_clip.mov" for n in range(1, 7)]


@pytest.fixture
def shelf(tmp_path: Path):  # type: ignore[no-untyped-def]
    cards = {}
    for n in range(1, 7):
        cards[n] = tmp_path / "media" / f"C{n}"
        make_file(cards[n] / f"C{n}_clip.mov", os.urandom(5000 + n), "2025-05-0%dT10:00:00" % n)
    cat = Catalog.open(tmp_path / "cat.sqlite")
    tapes = {}
    for barcode, ns in HOLDS.items():
        tapes[barcode] = tar_tape(tmp_path / barcode, barcode)
        write_and_record(cat, tapes[barcode], [cards[n] for n in ns], "tar")
    yield tmp_path, cat, tapes
    cat.close()
    for t in tapes.values():
        t.close()


def files_on(plan) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {c.barcode: [e.path for e in c.entries] for c in plan}


def test_the_fewest_cartridges_not_the_greedy_choice(shelf) -> None:  # type: ignore[no-untyped-def]
    _, cat, _ = shelf
    plan = restore_plan(cat, ALL)
    assert files_on(plan) == {"LTY001L9": [ALL[0], ALL[1], ALL[4]], "LTZ001L9": [ALL[2], ALL[3], ALL[5]]}
    assert plan.loaded == []
    # what one cartridge can give comes from one
    assert files_on(restore_plan(cat, [ALL[0], ALL[3]])) == {"LTX001L9": [ALL[0], ALL[3]]}


def test_a_loaded_cartridge_is_used_before_asking_for_another(shelf) -> None:  # type: ignore[no-untyped-def]
    _, cat, tapes = shelf
    # LTZ is in the drive: it gives 3, 4, 6; only LTY is fetched for 1, 2, 5
    plan = plan_restore(cat, ALL, loaded=loaded_labels([tapes["LTZ001L9"]]))
    assert [c.barcode for c in plan] == ["LTZ001L9", "LTY001L9"] and plan.loaded == ["LTZ001L9"]
    lines = load_instruction_lines(plan)
    assert lines[0].startswith("1. already loaded: LTZ001L9: 3 file(s)") and lines[1].startswith("2. load LTY001L9")
    # LTX is in the drive: four files from it, then the fewest others for 5 and 6
    plan = plan_restore(cat, ALL, loaded=["LTX001L9"])
    assert files_on(plan) == {"LTX001L9": ALL[:4], "LTY001L9": [ALL[4]], "LTZ001L9": [ALL[5]]}
    # a loaded cartridge holding nothing wanted is left out; one file on two tapes comes from the loaded one
    plan = plan_restore(cat, [ALL[2]], loaded=["LTY001L9", "LTZ001L9"])
    assert files_on(plan) == {"LTZ001L9": [ALL[2]]} and plan.loaded == ["LTZ001L9"]


def test_restore_from_catalog_reads_the_loaded_cartridge(shelf) -> None:  # type: ignore[no-untyped-def]
    tmp, cat, tapes = shelf
    for t in tapes.values():
        t.close()
    # without --device: the fewest cartridges; with LTX in the drive, C1 comes from it, not from LTY
    doc = json.loads(run("catalog", "plan", ALL[0], "--catalog", cat.path, "--json", check=0).stdout)
    assert [c["barcode"] for c in doc["cartridges"]] == ["LTX001L9"]
    doc = json.loads(run("catalog", "plan", ALL[0], "--loaded", "LTY001L9", "--catalog", cat.path, "--json",
                         check=0).stdout)
    assert [(c["barcode"], c["loaded"]) for c in doc["cartridges"]] == [("LTY001L9", True)]
    out = tmp / "out"
    cp = run("restore", "--from-catalog", "--catalog", cat.path, "--device", f"vtape:{tmp / 'LTY001L9'}", out,
             ALL[0], ALL[4], "--json", check=0)
    doc = json.loads(cp.stdout)
    assert doc["cartridges"] == ["LTY001L9"] and doc["restored"] == 2 and doc["verified"] == 2
    assert (out / ALL[0]).read_bytes() == (tmp / "media" / ALL[0]).read_bytes()
    # a file the loaded cartridge lacks: the one cartridge to fetch is named
    cp = run("restore", "--from-catalog", "--catalog", cat.path, "--device", f"vtape:{tmp / 'LTY001L9'}",
             tmp / "out2", ALL[0], ALL[5])
    assert cp.returncode == 4 and "LTZ001L9 is needed" in cp.stderr
