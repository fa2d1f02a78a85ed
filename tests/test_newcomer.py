"""What tripped a new user (issue 16): each defect, tried the way the user tried it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive_cli.main import cli


@pytest.fixture
def one_session_tape(tmp_path):
    card = tmp_path / "A001_C007" / "CLIPS"
    card.mkdir(parents=True)
    for i in range(3):
        (card / f"A001C00{i}.mov").write_bytes(bytes([i]) * (1000 + i))
    tape = tmp_path / "tape"
    lto_archive.create_vtape(tape, capacity="64M", barcode="NEW001L9").close()
    result = CliRunner().invoke(cli, ["write", "--device", f"vtape:{tape}", "--no-catalog",
                                      "--log-dir", str(tmp_path / "logs"), str(tmp_path / "A001_C007")])
    assert result.exit_code == 0, result.output
    return tape


def test_restore_refuses_a_dest_that_looks_like_a_pattern(one_session_tape, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{one_session_tape}", "A001_C007/CLIPS/*"])
    assert result.exit_code == 2, result.output
    assert "looks like a pattern" in result.output and "DEST" in result.output
    assert not (tmp_path / "A001_C007" / "CLIPS" / "*").exists()
    # an existing folder with such a name is the user's choice
    (tmp_path / "odd[1]").mkdir()
    ok = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{one_session_tape}", "--no-catalog", "odd[1]"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "odd[1]" / "A001_C007" / "CLIPS" / "A001C002.mov").read_bytes() == b"\x02" * 1002


@pytest.mark.parametrize("command", ["verify", "ls", "restore"])
def test_a_tape_file_that_is_not_there_is_a_usage_error(one_session_tape, tmp_path, command):
    args = [command, "--device", f"vtape:{one_session_tape}", "--tape-file", "1"]
    if command == "restore":
        args.insert(1, str(tmp_path / "out"))
    result = CliRunner().invoke(cli, args + ["--json"])
    assert result.exit_code == 2, result.output
    doc = json.loads(result.output)
    assert "numbered from 0" in doc["message"]


def test_tape_file_has_help_and_refuses_negative_numbers(one_session_tape):
    for command in ("verify", "ls", "restore"):
        text = CliRunner().invoke(cli, [command, "--help"]).output
        assert "numbered from 0" in text, command
    result = CliRunner().invoke(cli, ["ls", "--device", f"vtape:{one_session_tape}", "--tape-file", "-1"])
    assert result.exit_code == 2


def test_ls_long_shows_mtime_and_explains_the_position(one_session_tape):
    result = CliRunner().invoke(cli, ["ls", "--device", f"vtape:{one_session_tape}", "-l"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "modified (UTC)" in lines[0] and "position" in lines[0]
    assert "block B+O" in lines[1]
    clip = next(ln for ln in lines if ln.endswith("A001C001.mov"))
    size, day, clock, _block, pos, _name = clip.split()
    assert size == "1001" and len(day) == 10 and day[4] == "-" and clock.count(":") == 2 and "+" in pos


def test_a_cartridge_folder_without_vtape_gets_a_hint(one_session_tape, tmp_path):
    result = CliRunner().invoke(cli, ["info", "--device", str(one_session_tape)])
    assert result.exit_code == 2
    assert f"vtape:{one_session_tape}" in result.output
    result = CliRunner().invoke(cli, ["info", "--device", str(tmp_path / "nothing-here")])
    assert result.exit_code == 2 and "did you mean" not in result.output


def test_restore_says_files_apart_from_folders(one_session_tape, tmp_path):
    result = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{one_session_tape}", "--no-catalog",
                                      str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("tape file 0"))
    # 3 clips and the tape file's own paperwork; the two folders are not counted as files
    assert "files restored and verified (and 2 folder/links)" in line, line
    again = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{one_session_tape}", "--no-catalog",
                                     str(tmp_path / "out")])
    assert again.exit_code == 6
    assert "0 files restored" in again.output and "restored and verified" in again.output


def test_formatting_cartridge_after_cartridge_in_a_one_drive_library(tmp_path):
    """The next format finds the drive holding the last one (idle): that one goes back to its slot."""
    lib = tmp_path / "lib"
    lto_archive.create_vlib(lib, drives=1, slots=3, capacity="200M", partitions=2).close()
    for barcode in ("LTA001L9", "LTA002L9", "LTA003L9"):
        result = CliRunner().invoke(cli, ["format", "--device", f"vlib:{lib}", "--barcode", barcode])
        assert result.exit_code == 0, result.output
    with lto_archive.open_library(f"vlib:{lib}") as library:
        status = library.status()
        assert [d.barcode for d in status.drives] == ["LTA003L9"]
        assert status.locate("LTA001L9").number == 1 and status.locate("LTA002L9").number == 2
    for barcode in ("LTA001L9", "LTA002L9"):
        listed = CliRunner().invoke(cli, ["ls", "--device", f"vlib:{lib}", "--barcode", barcode])
        assert listed.exit_code == 0, listed.output


def test_a_job_puts_an_idle_cartridge_back_to_load_its_own(tmp_path):
    lib = tmp_path / "lib"
    lto_archive.create_vlib(lib, drives=1, slots=3, capacity="200M", partitions=2).close()
    assert CliRunner().invoke(cli, ["library", "load", "--library", f"vlib:{lib}", "LTA001L9"]).exit_code == 0
    result = CliRunner().invoke(cli, ["format", "--device", f"vlib:{lib}", "--barcode", "LTA002L9"])
    assert result.exit_code == 0, result.output
    with lto_archive.open_library(f"vlib:{lib}") as library:
        status = library.status()
        assert status.locate("LTA001L9").number == 1 and [d.barcode for d in status.drives] == ["LTA002L9"]


def test_every_drive_busy_names_the_command_that_frees_one(tmp_path):
    lib = tmp_path / "lib"
    lto_archive.create_vlib(lib, drives=1, slots=3, capacity="200M", partitions=2).close()
    assert CliRunner().invoke(cli, ["library", "load", "--library", f"vlib:{lib}", "LTA001L9"]).exit_code == 0
    with lto_archive.open_device(f"vtape:{lib}/drives/0/LTA001L9"):      # another job has it open
        result = CliRunner().invoke(cli, ["format", "--device", f"vlib:{lib}", "--barcode", "LTA002L9"])
    assert result.exit_code == 4
    command = result.output.split("`")[1]
    assert command == f"lto-archive library unload --library vlib:{lib} --drive 0"
    freed = CliRunner().invoke(cli, command.split()[1:])
    assert freed.exit_code == 0, freed.output
    again = CliRunner().invoke(cli, ["format", "--device", f"vlib:{lib}", "--barcode", "LTA002L9"])
    assert again.exit_code == 0, again.output


def test_a_cartridge_that_fills_up_says_so_on_its_line(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    for i in range(5):
        (card / f"c{i}.mov").write_bytes(bytes([i]) * 3_000_000)
    lto_archive.create_vtape(tmp_path / "t", capacity="8M", barcode="SMALL1L9").close()
    result = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tmp_path / 't'}", "--no-catalog",
                                      "--log-dir", str(tmp_path / "logs")])
    assert result.exit_code == 5, result.output
    line = next(ln for ln in result.output.splitlines() if "tape   SMALL1L9" in ln)
    assert "SMALL1L9: full" in line and "--span" in line and ": ok" not in line
    assert "3 file(s) did not fit" in line
