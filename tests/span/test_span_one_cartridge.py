"""`verify`/`restore --device` of one cartridge of a span set: its files and parts are proven against its own
manifest (the tape file after the volume); a part is never restored alone."""

from __future__ import annotations

from pathlib import Path

from lto_archive.jobs.read import restore_tape, verify_tape
from lto_archive.tape import VirtualTape
from tests.span.helpers import cartridge_folder
from tests.span.test_span_read import _written


def test_each_cartridge_verifies_alone(tmp_path: Path) -> None:
    card, lib, result = _written(tmp_path)
    result.raise_for_status()
    verified = []
    for barcode in result.barcodes:
        dev = VirtualTape(cartridge_folder(lib, barcode))
        try:
            r = verify_tape(dev)
        finally:
            dev.close()
        assert r.status == "ok", r.to_dict()
        assert [t.tape_file for t in r.tape_files] == [0]          # the metadata archive goes with its volume
        verified.append(sorted(r.tape_files[0].verified))
    assert verified == [["card/CLIPS/a.mov", "card/CLIPS/b.mov", "card/CLIPS/big.mov"],
                        ["card/CLIPS/big.mov"], ["card/CLIPS/big.mov", "card/CLIPS/c.mov"]]


def test_one_cartridge_restores_its_whole_files_not_the_part(tmp_path: Path) -> None:
    card, lib, result = _written(tmp_path)
    dev = VirtualTape(cartridge_folder(lib, result.barcodes[0]))
    try:
        r = restore_tape(dev, tmp_path / "out")
    finally:
        dev.close()
    assert r.status == "incomplete"
    assert [u["path"] for u in r.unproven] == ["card/CLIPS/big.mov"] and "span restore" in r.unproven[0]["reason"]
    for name in ("a.mov", "b.mov"):
        assert (tmp_path / "out/card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes()
    assert not (tmp_path / "out/card/CLIPS/big.mov").exists()
