"""What tripped a new user on LTFS (issue 16): each defect, tried the way the user tried it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive.tape import mam
from lto_archive_cli.main import cli


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def card(tmp_path):
    clips = tmp_path / "A001_C007" / "CLIPS"
    clips.mkdir(parents=True)
    for i in range(2):
        (clips / f"A001C00{i}.mov").write_bytes(bytes([i + 1]) * (3000 + i))
    return tmp_path / "A001_C007"


def tapes(catalog) -> list[dict]:
    with lto_archive.Catalog(catalog) as cat:
        return [dict(t) for t in cat.tapes()]


def test_format_barcode_names_the_volume_in_the_catalog(tmp_path, card):
    tape, catalog = tmp_path / "t1", tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tape, capacity="64M").close()      # a cartridge whose memory holds no barcode
    run("format", "--device", f"vtape:{tape}", "--barcode", "LTF001L9")
    out = run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--catalog", str(catalog),
              "--log-dir", str(tmp_path / "logs"), str(card)).output
    assert "ltfs:" not in out and "LTF001L9" in out
    [row] = tapes(catalog)
    assert row["label"] == "LTF001L9" and row["barcode"] == "LTF001L9"
    assert row["volume_uuid"]                                   # the uuid is kept beside the barcode
    listed = run("catalog", "tapes", "--catalog", str(catalog)).output
    assert listed.startswith("LTF001L9") and "ltfs:" not in listed


def test_a_catalog_that_knew_the_volume_by_its_uuid_still_finds_it(tmp_path, card):
    tape, catalog = tmp_path / "t1", tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tape, capacity="64M").close()
    run("format", "--device", f"vtape:{tape}")                  # no barcode: known as ltfs:<uuid>
    logs = str(tmp_path / "logs")
    run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--catalog", str(catalog), "--log-dir", logs,
        str(card))
    [before] = tapes(catalog)
    assert before["label"] == f"ltfs:{before['volume_uuid']}"
    with lto_archive.open_device(f"vtape:{tape}") as dev:       # the cartridge gets its barcode later
        dev.write_attribute(0, mam.BARCODE, mam.ascii_value("LTF002L9", 32), mam.ASCII)
    second = tmp_path / "A002_C001"
    second.mkdir()
    (second / "A002C009.mov").write_bytes(b"\x09" * 999)
    run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--catalog", str(catalog), "--log-dir", logs,
        str(second))
    [after] = tapes(catalog)                                    # the same destination, matched on volume_uuid
    assert after["volume_uuid"] == before["volume_uuid"] and after["files"] == 3
    assert after["label"] == "LTF002L9"
    found = run("catalog", "search", "--catalog", str(catalog), "A002C009.mov").output
    assert "LTF002L9" in found


def test_format_never_changes_a_cartridge_s_own_barcode(tmp_path):
    tape = tmp_path / "t1"
    lto_archive.create_vtape(tape, capacity="64M", barcode="OWN001L9").close()
    run("format", "--device", f"vtape:{tape}", "--barcode", "XYZ001L9")
    with lto_archive.open_device(f"vtape:{tape}") as dev:
        assert dev.medium().barcode == "OWN001L9"
