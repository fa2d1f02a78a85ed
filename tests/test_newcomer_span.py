"""What tripped a new user writing sets of cartridges (issue 16): the reasons no cartridge is left, said
once each, and the command suggested working as typed."""

from __future__ import annotations

import shlex

import pytest

from lto_archive.tape.vtape_device import VirtualTape
from tests.newcomer_helpers import make_card, run
from tests.span.helpers import cartridge_folder


@pytest.fixture
def card(tmp_path):
    return make_card(tmp_path, 3)


def protect(lib, barcode: str) -> None:
    from lto_archive.library.vlib import VirtualLibrary
    vt = VirtualTape(cartridge_folder(VirtualLibrary(lib), barcode))
    vt.write_protected = True
    vt.save_settings()
    vt.close()


def test_no_cartridge_left_says_each_reason_once(tmp_path, card, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("vlib", "create", "lib", "--drives", "1", "--slots", "8", "--cartridges", "7", "--capacity", "64M")
    protect(tmp_path / "lib", "LTA007L9")
    result = run("write", "--library", "vlib:lib", "--span", "--format", "ltfs", "--no-catalog",
                 "--log-dir", "logs", str(card), code=4)
    message = result.output.strip().splitlines()[-1]
    assert message.count("is blank") == 1 and message.count("write-protected") <= 2
    assert "6 × is blank (not an LTFS volume) (LTA001L9, LTA002L9, LTA003L9 and 3 more)" in message
    assert "1 × is write-protected (LTA007L9)" in message
    assert "LTA004L9" not in message                        # three names per reason, not six
    assert len(message) < 500, message


def test_the_suggested_format_command_works_as_typed(tmp_path, card, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("vlib", "create", "lib", "--drives", "1", "--slots", "3", "--cartridges", "2", "--capacity", "64M")
    result = run("write", "--library", "vlib:lib", "--span", "--format", "ltfs", "--no-catalog",
                 "--log-dir", "logs", str(card), code=4)
    suggested = result.output.split("format it first: ", 1)[1].split(" (and so", 1)[0].strip()
    assert suggested == "lto-archive format --library vlib:lib --barcode LTA001L9"
    run(*shlex.split(suggested)[1:])                        # as typed, less the program name
    # the set now goes on the cartridge just formatted
    done = run("write", "--library", "vlib:lib", "--span", "--format", "ltfs", "--no-catalog",
               "--log-dir", "logs", str(card))
    assert "LTA001L9" in done.output


def test_a_cartridge_with_tar_data_is_not_offered_for_formatting(tmp_path, card, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("vlib", "create", "lib", "--drives", "1", "--slots", "2", "--cartridges", "1", "--capacity", "64M")
    run("write", "--device", "vlib:lib", "--barcode", "LTA001L9", "--no-catalog", "--log-dir", "logs", str(card))
    result = run("write", "--library", "vlib:lib", "--span", "--format", "ltfs", "--no-catalog",
                 "--log-dir", "logs", str(card), code=4)
    assert "1 × holds data that is not an LTFS volume" in result.output
    assert "lto-archive format" not in result.output        # formatting would erase it: not suggested


def test_one_drive_names_its_cartridge_and_the_command_for_it(tmp_path, card):
    tape = tmp_path / "t1"
    run("vtape", "create", str(tape), "--capacity", "64M", "--barcode", "ONE001L9")
    result = run("write", "--device", f"vtape:{tape}", "--span", "--format", "ltfs", "--no-catalog",
                 "--next-tape-command", "false", "--log-dir", str(tmp_path / "logs"), str(card), code=4)
    assert "ONE001L9 is blank (not an LTFS volume)" in result.output
    suggested = result.output.split("format it first: ", 1)[1].split()[:4]
    assert suggested == ["lto-archive", "format", "--device", f"vtape:{tape}"]
    run(*suggested[1:])


@pytest.fixture
def two_volume_set(tmp_path, monkeypatch):
    """A set of two cartridges (LTA001L9, LTA002L9), then a read error on LTA002L9's third block."""
    import json
    import random
    monkeypatch.chdir(tmp_path)
    rnd = random.Random(16)
    (tmp_path / "big" / "card").mkdir(parents=True)
    for i in range(12):
        (tmp_path / "big" / "card" / f"f{i:02d}.bin").write_bytes(rnd.randbytes(100 * 1024))
    # 1125K: 8 of the 100 KiB files on the first cartridge (8 need more than 1050K with its metadata, its
    # paperwork and custody record; 9 more than 1150K), the other 4 on the second
    run("vlib", "create", "lib", "--drives", "1", "--slots", "4", "--cartridges", "3", "--capacity", "1125K")
    out = run("write", "big/card", "--device", "vlib:lib", "--span", "--barcodes", "LTA*", "--block-size", "16K",
              "--no-progress", "--no-catalog", "--log-dir", "logs").output
    assert "2 cartridge(s)" in out
    from lto_archive.library.vlib import VirtualLibrary
    side = cartridge_folder(VirtualLibrary(tmp_path / "lib"), "LTA002L9") / "lto-archive-vtape.json"
    doc = json.loads(side.read_text())
    doc["faults"] = {"read_error_at_block": 2, "read_error_partition": 0}
    side.write_text(json.dumps(doc))
    return tmp_path


def test_a_read_error_in_a_set_s_verify_names_the_files_and_the_cartridge(two_volume_set):
    result = run("span", "verify", "--library", "vlib:lib", "--cartridges", "LTA001L9,LTA002L9", "--no-catalog",
                 code=5)
    unproven = [ln for ln in result.output.splitlines() if ln.strip().startswith("unproven")]
    assert unproven and all("LTA002L9" in ln and "not read back" in ln for ln in unproven), result.output
    assert "card/f08.bin" in result.output            # the file the bad block cut short
    assert "LTA001L9: 8 files verified" in result.output


def test_a_read_error_in_a_set_s_restore_restores_only_what_was_proven(two_volume_set):
    result = run("span", "restore", "out", "--library", "vlib:lib", "--cartridges", "LTA001L9,LTA002L9",
                 "--no-catalog", code=3)
    assert "FAILED" in result.output and "LTA002L9" in result.output
    restored = sorted(p.name for p in (two_volume_set / "out" / "card").iterdir())
    assert restored == [f"f{i:02d}.bin" for i in range(8)]       # nothing of LTA002L9 under its real name
