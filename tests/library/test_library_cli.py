"""The library commands end to end, through the real `lto-archive` command:
`vlib create`, `library status|load|unload|transfer`, and `--barcode` on the device commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

import lto_archive

from ..bad_input_helpers import card_files, make_card, restored_files, run, tape_objects


def test_vlib_create_and_status(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    cp = run("vlib", "create", lib, "--drives", "2", "--slots", "8", "--generation", "LTO-9", "--capacity", "100M",
             check=0)
    assert "LTA001L9 .. LTA008L9" in cp.stdout
    out = run("library", "status", "--library", f"vlib:{lib}", check=0).stdout.splitlines()
    assert out[0] == f"library vlib:{lib}: 2 drive(s), 8 slot(s), 8 cartridge(s)"
    assert out[1].split() == ["drive", "0", "empty"] and out[3].split() == ["slot", "1", "LTA001L9"]
    doc = json.loads(run("library", "status", "--library", f"vlib:{lib}", "--json", check=0).stdout)
    assert [s["barcode"] for s in doc["slots"]] == [f"LTA00{i}L9" for i in range(1, 9)]
    assert [d["full"] for d in doc["drives"]] == [False, False]


def test_load_unload_transfer_commands(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "3", "--import-export", "1", "--capacity", "8M", check=0)
    spec = f"vlib:{lib}"
    cp = run("library", "load", "--library", spec, "LTA002L9", check=0)
    assert cp.stdout.startswith(f"loaded LTA002L9 into drive 0 (vtape:{lib}/drives/0/LTA002L9)")
    cp = run("library", "load", "--library", spec, "LTA003L9", check=4)
    assert "every drive" in cp.stderr and "drive 0: LTA002L9" in cp.stderr and "Traceback" not in cp.stderr
    cp = run("library", "load", "--library", spec, "--slot", "1", check=4)
    assert "cannot load slot 1: every drive" in cp.stderr
    cp = run("library", "load", "--library", spec, "--slot", "1", "--drive", "0", check=4)
    assert "drive 0 already holds LTA002L9" in cp.stderr
    cp = run("library", "unload", "--library", spec, "--slot", "4", check=0)  # into the import/export slot
    assert cp.stdout.strip() == "unloaded LTA002L9 from drive 0 into slot 4"
    cp = run("library", "unload", "--library", spec, check=2)
    assert "none is full" in cp.stderr
    doc = json.loads(run("library", "transfer", "--library", spec, "4", "2", "--json", check=0).stdout)
    assert doc == {"library": spec, "barcode": "LTA002L9", "from_slot": 4, "to_slot": 2}
    cp = run("library", "transfer", "--library", spec, "4", "1", "--json", check=4)
    assert json.loads(cp.stdout)["error"] == "EmptySlot"
    cp = run("library", "load", "--library", spec, "ZZZ999L9", check=4)
    assert "no cartridge with barcode ZZZ999L9" in cp.stderr
    cp = run("library", "status", "--library", "floppy:/x", check=2)
    assert "unknown library" in cp.stderr


def test_write_and_restore_by_barcode_byte_exact(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "2", "--slots", "4", "--capacity", "64M", check=0)
    card = make_card(tmp_path / "src", sizes={"A001C001.mov": 700_000, "sub/A001C002.mov": 300_000, "x.txt": 5})
    cp = run("write", card, "--device", f"vlib:{lib}", "--barcode", "LTA002L9", "--block-size", "64K",
             "--log-dir", tmp_path / "logs", "--no-progress", check=0)
    assert "LTA002L9" in cp.stdout
    status = json.loads(run("library", "status", "--library", f"vlib:{lib}", "--json", check=0).stdout)
    assert status["drives"][0]["barcode"] == "LTA002L9"
    assert tape_objects(lib / "drives/0/LTA002L9")     # the bytes are on that cartridge...
    assert all(not (lib / f"slots/{n}/LTA00{n}L9/0_1_R").exists() for n in (1, 3, 4))   # ...and no other
    run("library", "unload", "--library", f"vlib:{lib}", check=0)
    run("library", "load", "--library", f"vlib:{lib}", "LTA001L9", check=0)      # a different one in drive 0
    # --library + --barcode without --device: loads LTA002L9 into the free drive 1 and reads it there
    run("verify", "--library", f"vlib:{lib}", "--barcode", "LTA002L9", "--no-progress", check=0)
    dest = tmp_path / "restored"
    run("restore", dest, "--device", f"vlib:{lib}", "--barcode", "LTA002L9", "--no-progress", check=0)
    assert restored_files(dest) == card_files(card)
    doc = json.loads(run("info", "--library", f"vlib:{lib}", "--barcode", "LTA002L9", "--json", check=0).stdout)
    assert doc["barcode"] == "LTA002L9"
    listing = run("ls", "--device", f"vlib:{lib}", "--barcode", "LTA002L9", check=0).stdout
    assert "card/A001C001.mov" in listing
    # --device vlib: without --barcode: the first loaded drive (drive 0, LTA001L9, blank)
    doc = json.loads(run("info", "--device", f"vlib:{lib}", "--json", check=0).stdout)
    assert doc["barcode"] == "LTA001L9"


def test_barcode_errors_leave_tapes_alone(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "2", "--capacity", "8M", check=0)
    card = make_card(tmp_path / "src")
    run("write", card, "--device", f"vlib:{lib}", "--barcode", "LTA001L9", "--log-dir", tmp_path / "logs",
        "--no-progress", check=0)
    before = tape_objects(lib / "drives/0/LTA001L9")
    with lto_archive.open_device(f"vtape:{lib}/drives/0/LTA001L9"):    # a running job has LTA001L9 open
        cp = run("write", card, "--device", f"vlib:{lib}", "--barcode", "LTA002L9", "--log-dir", tmp_path / "logs",
                 "--no-progress", check=4)          # the only drive holds LTA001L9, in use: never moved
    assert "every drive" in cp.stderr and f"lto-archive library unload --library vlib:{lib} --drive 0" in cp.stderr
    cp = run("write", card, "--device", f"vlib:{lib}", "--barcode", "NOPE01L9", "--log-dir", tmp_path / "logs",
             "--no-progress", check=4)
    assert "no cartridge with barcode NOPE01L9" in cp.stderr
    cp = run("write", card, "--device", f"vtape:{lib}/drives/0/LTA001L9", "--barcode", "LTA001L9",
             "--log-dir", tmp_path / "logs", "--no-progress", check=2)
    assert "--barcode selects a cartridge in a library" in cp.stderr
    assert tape_objects(lib / "drives/0/LTA001L9") == before
    run("library", "unload", "--library", f"vlib:{lib}", check=0)
    cp = run("ls", "--device", f"vlib:{lib}", check=2)
    assert "no drive of" in cp.stderr and "--barcode" in cp.stderr


def test_format_by_barcode_in_a_vlib(tmp_path: Path) -> None:
    """format's own --barcode is the volume label; with a vlib it also picks the cartridge."""
    lib = tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "2", "--capacity", "32M", "--partitions", "2", check=0)
    doc = json.loads(run("format", "--device", f"vlib:{lib}", "--barcode", "LTA002L9", "--block-size", "16K",
                         "--json", check=0).stdout)
    assert doc["serial"] == "LTA002"
    assert doc["returned_to_slot"] == 2         # loaded for the command, put back afterwards (issue 16)
    assert (lib / "slots/2/LTA002L9/1_0_R").exists() or (lib / "slots/2/LTA002L9/1_1_R").exists()
    assert not any(n.endswith("_R") for n in os.listdir(lib / "slots/1/LTA001L9"))


def test_restore_from_catalog_loads_each_cartridge(tmp_path: Path) -> None:
    """restore --from-catalog --library: the plan names two cartridges, the robot loads each in turn
    (one drive: the first is put away for the second), every file byte-exact."""
    lib = tmp_path / "lib"
    cat = tmp_path / "catalog.sqlite"
    run("vlib", "create", lib, "--drives", "1", "--slots", "3", "--capacity", "32M", check=0)
    day1 = make_card(tmp_path / "d1", name="A001", sizes={"C001.mov": 400_000, "C002.mov": 90_000})
    day2 = make_card(tmp_path / "d2", name="B001", sizes={"C001.mov": 300_000}, seed=2)
    for card, label in ((day1, "LTA002L9"), (day2, "LTA003L9")):
        run("write", card, "--device", f"vlib:{lib}", "--barcode", label, "--catalog", cat, "--block-size", "64K",
            "--log-dir", tmp_path / "logs", "--no-progress", check=0)
        run("library", "unload", "--library", f"vlib:{lib}", check=0)
    run("library", "load", "--library", f"vlib:{lib}", "LTA001L9", check=0)   # something else in the drive
    dest = tmp_path / "restored"
    cp = run("restore", "--from-catalog", "--library", f"vlib:{lib}", "--catalog", cat, dest, "A001/*", "B001/*",
             "--no-progress", "--json", check=0)
    doc = json.loads(cp.stdout)
    assert doc["cartridges"] == ["LTA002L9", "LTA003L9"]
    assert restored_files(dest) == {**card_files(day1), **card_files(day2)}
    st = json.loads(run("library", "status", "--library", f"vlib:{lib}", "--json", check=0).stdout)
    assert st["drives"][0]["barcode"] == "LTA003L9" and sorted(
        s["barcode"] for s in st["slots"] if s["full"]) == ["LTA001L9", "LTA002L9"]


def test_other_device_commands_take_a_barcode(tmp_path: Path) -> None:
    """catalog import, axf scan, ltfs check: the same --library/--barcode selection."""
    lib = tmp_path / "lib"
    cat = tmp_path / "catalog.sqlite"
    run("vlib", "create", lib, "--drives", "1", "--slots", "2", "--capacity", "32M", check=0)
    card = make_card(tmp_path / "src")
    run("write", card, "--library", f"vlib:{lib}", "--barcode", "LTA002L9", "--format", "axf", "--no-catalog",
        "--log-dir", tmp_path / "logs", "--no-progress", check=0)
    run("library", "unload", "--library", f"vlib:{lib}", check=0)
    doc = json.loads(run("catalog", "import", "--library", f"vlib:{lib}", "--barcode", "LTA002L9",
                         "--catalog", cat, "--json", check=0).stdout)
    assert doc["status"] == "ok"
    run("axf", "scan", "--library", f"vlib:{lib}", "--barcode", "LTA002L9", "--restore", tmp_path / "scan",
        check=0)
    assert restored_files(tmp_path / "scan") == card_files(card)
    cp = run("ltfs", "check", "--device", f"vlib:{lib}", check=6)          # the loaded AXF cartridge: not LTFS
    assert "one partition: it is not an LTFS volume" in cp.stderr


def test_export_take_out_insert_import_commands(tmp_path: Path) -> None:
    """A full cartridge leaves through the mail slot and is read on its own; a blank one comes in."""
    lib = tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "3", "--import-export", "1", "--capacity", "16M", check=0)
    spec = f"vlib:{lib}"
    card = make_card(tmp_path / "src", sizes={"A001C001.mov": 400_000, "t.txt": 7})
    run("write", card, "--device", spec, "--barcode", "LTA002L9", "--block-size", "64K",
        "--log-dir", tmp_path / "logs", "--no-progress", check=0)
    cp = run("library", "export", "--library", spec, "LTA002L9", check=0)
    assert cp.stdout.strip() == "exported LTA002L9 from drive 0 to import/export slot 4: take it out there"
    cp = run("library", "export", "--library", spec, "LTA001L9", check=4)
    assert "every import/export slot" in cp.stderr and "full" in cp.stderr
    cp = run("vlib", "remove", lib, "--to", tmp_path / "shelf", check=0)
    out = tmp_path / "shelf" / "LTA002L9"
    assert cp.stdout.strip() == f"took LTA002L9 out of {spec}: it is vtape:{out}"
    run("restore", tmp_path / "back", "--device", f"vtape:{out}", "--no-progress", check=0)
    assert restored_files(tmp_path / "back") == card_files(card)
    cp = run("library", "import", "--library", spec, check=4)
    assert "every import/export slot" in cp.stderr and "empty" in cp.stderr
    doc = json.loads(run("vlib", "insert", lib, "--barcode", "LTA009L9", "--json", check=0).stdout)
    assert doc == {"library": spec, "barcode": "LTA009L9", "ie_slot": 4}
    doc = json.loads(run("library", "import", "--library", spec, "--json", check=0).stdout)
    assert doc == {"library": spec, "barcode": "LTA009L9", "ie_slot": 4, "slot": 2}
    status = json.loads(run("library", "status", "--library", spec, "--json", check=0).stdout)
    assert [s["barcode"] for s in status["slots"]] == ["LTA001L9", "LTA009L9", "LTA003L9", None]
    cp = run("vlib", "insert", lib, "--cartridge", out, check=0)
    assert cp.stdout.startswith("inserted LTA002L9 into import/export slot 4")
    cp = run("vlib", "insert", lib, "--barcode", "X", "--cartridge", out.parent, check=2)
    assert "not both" in cp.stderr
    run("vlib", "create", tmp_path / "bare", "--drives", "1", "--slots", "2", "--capacity", "1M", check=0)
    cp = run("library", "export", "--library", f"vlib:{tmp_path / 'bare'}", "LTA001L9", check=2)
    assert "has no import/export slot" in cp.stderr
