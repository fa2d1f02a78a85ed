"""The catalog records a span set: its cartridges in order, and which part of a split file each holds."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lto_archive.catalog import Catalog
from lto_archive.jobs.catalog_import import import_tape
from lto_archive.catalog.record import record_read
from lto_archive.jobs.write import WriteOptions
from lto_archive.span.catalog import record_span_write, set_cartridges, span_sets
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from lto_archive.tape import VirtualTape
from tests.span.helpers import MiB, RS, cartridge_folder, make_card, make_library

SIZES = {"a.mov": 3_000_000, "b.mov": 4_000_000, "big.mov": 11_000_000, "c.mov": 100_000}


def _parts(cat: Catalog) -> list[tuple]:
    return cat.conn.execute(
        "SELECT d.label, c.part_number, c.part_offset, c.part_length, f.size FROM copies c "
        "JOIN files f ON f.id = c.file_id JOIN destinations d ON d.id = c.destination_id "
        "WHERE f.path = 'card/CLIPS/big.mov' ORDER BY c.part_number").fetchall()


def test_the_catalog_lists_the_set(tmp_path: Path) -> None:
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS))
    result.raise_for_status()
    with Catalog.open(tmp_path / "cat.sqlite") as cat:
        assert record_span_write(cat, result) == result.barcodes
        sets = span_sets(cat)
        assert len(sets) == 1 and sets[0]["set_id"] == result.set_id and sets[0]["complete"]
        assert [v["cartridge"] for v in sets[0]["volumes"]] == ["LTA001L9", "LTA002L9", "LTA003L9"]
        assert set_cartridges(cat, result.set_id[:8]) == result.barcodes
        parts = _parts(cat)
        assert [p[0] for p in parts] == result.barcodes and [p[1] for p in parts] == [1, 2, 3]
        assert sum(p[3] for p in parts) == 11_000_000 and {p[4] for p in parts} == {11_000_000}
        md5 = hashlib.md5((card / "CLIPS/big.mov").read_bytes()).hexdigest()
        files = cat.conn.execute("SELECT f.id FROM files f JOIN file_hashes h ON h.file_id = f.id "
                                 "WHERE f.path = 'card/CLIPS/big.mov' AND h.algorithm = 'md5' AND h.hex = ?",
                                 (md5,)).fetchall()
        assert len(files) == 1                     # one file, three parts: the whole file's checksum
        # a verify of the set is recorded against each cartridge's copies
        v = read_span(LibraryLoader(lib, result.barcodes), "verify")
        for t, medium in zip(v.tape_files, v.media):
            record_read(cat, type(v)("verify", [t]), medium)
        ok = cat.conn.execute("SELECT count(*) FROM verifications WHERE result = 'ok'").fetchone()[0]
        assert ok == 6          # 3 whole files + each cartridge's part of big.mov (the last with the whole)
        proven = cat.conn.execute("SELECT c.part_number FROM verifications v JOIN copies c ON c.id = v.copy_id "
                                  "WHERE c.part_number IS NOT NULL AND v.result = 'ok' ORDER BY 1").fetchall()
        assert [p for (p,) in proven] == [1, 2, 3]

    # the same set, rebuilt from the cartridges alone
    with Catalog.open(tmp_path / "rebuilt.sqlite") as cat:
        for barcode in reversed(result.barcodes):        # any order
            dev = VirtualTape(cartridge_folder(lib, barcode))
            try:
                import_tape(cat, dev)
            finally:
                dev.close()
        sets = span_sets(cat)
        assert [v["cartridge"] for v in sets[0]["volumes"]] == result.barcodes and sets[0]["complete"]
        assert _parts(cat) == _parts(Catalog.open(tmp_path / "cat.sqlite"))
        unproven = cat.conn.execute("SELECT count(*) FROM copies WHERE status = 'unproven'").fetchone()[0]
        assert unproven == 0                       # the volumes are not mistaken for foreign tape files


def test_restore_from_catalog_does_not_take_a_part_for_the_file(tmp_path: Path) -> None:
    from lto_archive.catalog.search import restore_plan
    from lto_archive.jobs.catalog_restore import load_instruction_lines
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS))
    with Catalog.open(tmp_path / "cat.sqlite") as cat:
        record_span_write(cat, result)
        plan = restore_plan(cat, ["card/CLIPS"])
        assert plan.split == ["card/CLIPS/big.mov"] and plan.not_on_tape == ["card/CLIPS/big.mov"]
        files = sorted(e.path for c in plan for e in c.entries)
        assert files == ["card/CLIPS/a.mov", "card/CLIPS/b.mov", "card/CLIPS/c.mov"]
        assert any("span restore" in line and "big.mov" in line for line in load_instruction_lines(plan))
