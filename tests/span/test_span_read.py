"""Reading a span set back: restore and verify over the library and over one drive, damage, running out."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lto_archive.errors import EndOfMedium, NoNextCartridge
from lto_archive.jobs.read import load_copy_log, verify_tape
from lto_archive.jobs.write import WriteOptions
from lto_archive.span.read import DriveLoader, LibraryLoader, read_span
from lto_archive.span.supply import CommandSupply, LibrarySupply
from lto_archive.span.write import write_span
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.vtape import Faults
from tests.span.helpers import MiB, RS, cartridge_folder, make_card, make_library
from tests.tape_helpers import record_path, tape_file_blocks, tree_snapshot

SIZES = {"a.mov": 3_000_000, "b.mov": 4_000_000, "big.mov": 11_000_000, "c.mov": 100_000}


def _written(tmp_path: Path, cartridges: int = 3):
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=cartridges, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS, log_dir=tmp_path / "logs"))
    return card, lib, result


def test_restore_and_verify_a_set_from_the_library(tmp_path: Path) -> None:
    card, lib, result = _written(tmp_path)
    result.raise_for_status()
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    r.raise_for_status()
    assert r.complete and r.set_id == result.set_id and r.barcodes == result.barcodes
    assert tree_snapshot(out / "card") == tree_snapshot(card)
    assert sorted(p for t in r.tape_files for p in t.verified) == sorted(f"card/CLIPS/{n}" for n in SIZES)
    v = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert v.status == "ok" and v.complete


def test_a_damaged_part_fails_the_file(tmp_path: Path) -> None:
    card, lib, result = _written(tmp_path)
    middle = cartridge_folder(lib, result.barcodes[1])
    rec = record_path(middle, tape_file_blocks(middle, 0)[5])
    raw = bytearray(rec.read_bytes())
    raw[100] ^= 0xFF
    rec.write_bytes(bytes(raw))
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    assert r.status == "failed"
    reasons = {f["reason"] for f in r.failed if f["path"] == "card/CLIPS/big.mov"}
    assert any("part 2: checksum mismatch" in x for x in reasons)
    assert any("joined file" in x for x in reasons)
    for name in ("a.mov", "b.mov", "c.mov"):      # the rest still restores and verifies
        assert (out / "card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes()


def test_out_of_cartridges(tmp_path: Path) -> None:
    """Two cartridges for a job that needs three: a clear error; everything committed verifies and restores."""
    card, lib, result = _written(tmp_path, cartridges=2)
    assert isinstance(result.error, NoNextCartridge)
    assert "LTA002L9" in result.error.message and "LTA*" in result.error.message
    assert result.status == "failed"
    with pytest.raises(NoNextCartridge):
        result.raise_for_status()
    written = {f.path: f for f in result.files}
    assert written["card/CLIPS/c.mov"].status == "not-written"
    assert "only part of this file" in written["card/CLIPS/big.mov"].message
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    assert not r.complete
    assert {f["path"] for f in r.failed} == {"card/CLIPS/big.mov"}
    for name in ("a.mov", "b.mov"):
        assert (out / "card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes()
    assert not (out / "card/CLIPS/big.mov").exists()


def _drive_script(tmp_path: Path, carts: list[Path]) -> str:
    """A --next-tape-command for one 'drive' (a symlink): point it at cartridge LTO_ARCHIVE_SEQUENCE."""
    script = tmp_path / "next-tape.sh"
    names = " ".join(str(c) for c in carts)
    script.write_text(f"""#!/bin/sh
set -e
echo "$LTO_ARCHIVE_DRIVE $LTO_ARCHIVE_SET $LTO_ARCHIVE_SEQUENCE $LTO_ARCHIVE_FULL_BARCODE" >> {tmp_path}/calls
set -- {names}
shift $(($LTO_ARCHIVE_SEQUENCE - 1)) || exit 3
[ -n "$1" ] || exit 3
ln -sfn "$1" {tmp_path}/drive
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_one_drive_with_next_tape_command(tmp_path: Path) -> None:
    card = make_card(tmp_path, SIZES)
    carts = [tmp_path / f"cart{i}" for i in (1, 2, 3)]
    for i, c in enumerate(carts, 1):
        create_vtape(c, "LTO-9", capacity=8 * MiB, barcode=f"ONE00{i}L9").close()
    os.symlink(carts[0], tmp_path / "drive")
    spec = f"vtape:{tmp_path / 'drive'}"
    command = _drive_script(tmp_path, carts)
    result = write_span([card], CommandSupply(spec, command), WriteOptions(record_size=RS))
    result.raise_for_status()
    assert result.barcodes == ["ONE001L9", "ONE002L9", "ONE003L9"]
    calls = (tmp_path / "calls").read_text().split("\n")
    assert calls[0] == f"{spec} {result.set_id} 2 ONE001L9"
    assert calls[1] == f"{spec} {result.set_id} 3 ONE002L9"

    os.remove(tmp_path / "drive")
    os.symlink(carts[0], tmp_path / "drive")
    out = tmp_path / "restore"
    r = read_span(DriveLoader(spec, command=command), "restore", dest=out)
    r.raise_for_status()
    assert tree_snapshot(out / "card") == tree_snapshot(card)


def test_next_tape_command_fails(tmp_path: Path) -> None:
    card = make_card(tmp_path, SIZES)
    cart = tmp_path / "cart1"
    create_vtape(cart, "LTO-9", capacity=8 * MiB, barcode="ONE001L9").close()
    result = write_span([card], CommandSupply(f"vtape:{cart}", "exit 7"), WriteOptions(record_size=RS))
    assert isinstance(result.error, NoNextCartridge)
    assert "exited 7" in result.error.message and "ONE001L9" in result.error.message
    assert [v.manifest.session.span["sequence"] for v in result.volumes] == [1]
    r = read_span(DriveLoader(f"vtape:{cart}", command="exit 1"), "verify")
    assert sorted(p for t in r.tape_files for p in t.verified) == ["card/CLIPS/a.mov", "card/CLIPS/b.mov"]


def test_end_of_medium_inside_a_file(tmp_path: Path) -> None:
    """The drive hits the end of the medium without early warning inside a file: the error names the file and
    the cartridge; the files before it verify against the copy log, the earlier cartridges against their own."""
    card = make_card(tmp_path, {"a.mov": 3_000_000, "b.mov": 3_000_000})
    cart = tmp_path / "cart"
    dev = create_vtape(cart, "LTO-9", capacity=64 * MiB, barcode="EOM001L9")
    dev.close()
    vt = VirtualTape(cart)
    vt.faults = Faults(end_of_medium_at=4 * MiB)
    vt.save_settings()
    vt.close()
    result = write_span([card], CommandSupply(f"vtape:{cart}", "exit 1"),
                        WriteOptions(record_size=RS, log_dir=tmp_path / "logs"))
    assert isinstance(result.error, EndOfMedium)
    assert "card/CLIPS/b.mov" in result.error.message and "EOM001L9" in result.error.message
    files = {f.path: f.status for f in result.volumes[0].files}
    assert files["card/CLIPS/a.mov"] == "ok" and files["card/CLIPS/b.mov"] == "lost"
    log = load_copy_log(next((tmp_path / "logs").glob("*.json")))
    vt = VirtualTape(cart)
    vt.faults = Faults()
    r = verify_tape(vt, tape_files=[0], manifest=log)
    vt.close()
    assert r.tape_files[0].verified == ["card/CLIPS/a.mov"]


def test_the_operator_is_asked_and_a_wrong_cartridge_is_refused(tmp_path: Path) -> None:
    """One drive, no command: the operator is asked; loading the full cartridge again is refused and asked
    again; 'q' stops the job cleanly. Reading back, a cartridge that is not the volume asked for is refused."""
    from lto_archive.span.supply import PromptSupply
    card = make_card(tmp_path, SIZES)
    carts = [tmp_path / f"cart{i}" for i in (1, 2)]
    for i, c in enumerate(carts, 1):
        create_vtape(c, "LTO-9", capacity=8 * MiB, barcode=f"OPR00{i}L9").close()
    drive = tmp_path / "drive"
    os.symlink(carts[0], drive)
    asked: list[str] = []
    answers = iter(["same", "next", "q"])

    def ask(message: str) -> bool:
        asked.append(message)
        answer = next(answers)
        if answer == "next":
            os.remove(drive)
            os.symlink(carts[1], drive)
        return answer != "q"

    result = write_span([card], PromptSupply(f"vtape:{drive}", ask), WriteOptions(record_size=RS))
    assert "Load the next cartridge" in asked[0] and "OPR001L9 is full" in asked[0]
    assert "OPR001L9 already holds a volume of this set" in asked[1]
    assert isinstance(result.error, NoNextCartridge) and "stopped by the operator" in result.error.message
    assert result.barcodes == ["OPR001L9", "OPR002L9"]

    os.remove(drive)
    os.symlink(carts[1], drive)      # volume 2 loaded where volume 1 is wanted
    r = read_span(DriveLoader(f"vtape:{drive}", command="exit 1"), "verify")
    assert r.errors and "holds no volume 1" in r.errors[0].message
