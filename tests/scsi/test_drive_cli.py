"""`lto-archive drive info` and the survey behind it, on scripted drives."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lto_archive.generations import GENERATIONS
from lto_archive.tape.scsi import ScsiDevice, cdb
from lto_archive.tape.scsi.survey import survey
from lto_archive_cli import drive_cmds
from lto_archive_cli.main import cli

from . import examples as ex
from .fake import FakeDrive, check, good
from .test_device import FULL_MAM, Mam

LTO9_LOADED = {
    cdb.INQUIRY: lambda c, _d: good(ex.TGT_UNIT_SERIAL if c[1] & 1 else ex.TGT_INQUIRY),
    cdb.READ_BLOCK_LIMITS: good(ex.TGT_BLOCK_LIMITS),
    cdb.TEST_UNIT_READY: good(),
    cdb.MODE_SENSE_6: good(ex.LTO9_MODE_SENSE6_WP),
    cdb.READ_POSITION: good(ex.LONG_POSITION_P1),
    cdb.REPORT_DENSITY_SUPPORT: good(ex.DENSITY_SUPPORT_TWO),
    cdb.READ_ATTRIBUTE: Mam(FULL_MAM).read,
}
TGT_LIKE = {
    cdb.INQUIRY: lambda c, _d: good(ex.TGT_UNIT_SERIAL if c[1] & 1 else ex.TGT_INQUIRY),
    cdb.READ_BLOCK_LIMITS: good(ex.TGT_BLOCK_LIMITS),
    cdb.TEST_UNIT_READY: good(),
    cdb.MODE_SENSE_6: good(ex.TGT_MODE_SENSE6),
    cdb.READ_POSITION: good(ex.TGT_READ_POSITION_LONG),
}
EMPTY = {**TGT_LIKE, cdb.TEST_UNIT_READY: check(0x2, 0x3A, 0x00)}


def scripted(answers):
    return lambda path, **_: ScsiDevice(-1, name=path, transport=FakeDrive(dict(answers)))


def test_survey_of_a_full_lto9_drive():
    s = survey(scripted(LTO9_LOADED)("/dev/nst0"))
    assert s.drive_generation is GENERATIONS["LTO-9"] and s.loaded and s.missing == {}
    assert s.medium_density_code == 0x60 and s.medium_generation is GENERATIONS["LTO-9"]
    assert s.position.partition == 1 and s.cartridge.barcode == "LTA001L9"


def test_survey_of_tgt_lists_what_it_cannot_learn():
    s = survey(scripted(TGT_LIKE)("/dev/nst0"))
    assert s.loaded and s.position is None and s.cartridge is None and s.densities is None
    assert s.medium_generation is None
    assert set(s.missing) == {"position (READ POSITION)", "medium densities (REPORT DENSITY SUPPORT)",
                              "cartridge memory (READ ATTRIBUTE)", "medium generation"}
    assert "does not support this command" in s.missing["cartridge memory (READ ATTRIBUTE)"]


def test_survey_density_from_mam_when_mode_sense_says_zero():
    s = survey(scripted({**LTO9_LOADED, cdb.MODE_SENSE_6: good(ex.TGT_MODE_SENSE6),
                         cdb.REPORT_DENSITY_SUPPORT: check(0x5, 0x20, 0)})("/dev/nst0"))
    assert s.medium_density_code == 0x60 and "medium generation" not in s.missing


def test_drive_info_text(monkeypatch):
    monkeypatch.setattr(drive_cmds.ScsiDevice, "open", scripted(LTO9_LOADED))
    r = CliRunner().invoke(cli, ["drive", "info", "st:/dev/nst0"])
    assert r.exit_code == 0, r.output
    assert "IBM ULT3580-TD9 Q3F0 (LTO-9)" in r.output
    assert "LTO-9 (density code 0x60)" in r.output
    assert "write protected yes" in r.output
    assert "partition 1, block 4660, programmable early warning" in r.output
    assert "barcode         LTA001L9" in r.output and "made            FUJIFILM 2025-03-17" in r.output
    assert "not reported" not in r.output


def test_drive_info_json_tgt(monkeypatch):
    monkeypatch.setattr(drive_cmds.ScsiDevice, "open", scripted(TGT_LIKE))
    r = CliRunner().invoke(cli, ["drive", "info", "/dev/nst0", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["drive_generation"] == "LTO-9" and d["density_code"] is None and d["position"] is None
    assert d["block_limits"] == {"minimum": 4, "maximum": 1048576}
    assert "position (READ POSITION)" in d["not_reported"]


def test_drive_info_empty_drive(monkeypatch):
    monkeypatch.setattr(drive_cmds.ScsiDevice, "open", scripted(EMPTY))
    r = CliRunner().invoke(cli, ["drive", "info", "/dev/nst0"])
    assert r.exit_code == 0, r.output
    assert "cartridge       none" in r.output and "not reported" not in r.output


@pytest.mark.parametrize("path", ["/dev/null", "/dev/nst-not-there"])
def test_drive_info_not_a_drive(path):
    r = CliRunner().invoke(cli, ["drive", "info", path])
    assert r.exit_code == 4
    assert path in r.output
