"""`lto-archive status` (issue 16): drives, libraries, the last jobs and what needs attention, on one screen."""

from __future__ import annotations

import json

from click.testing import CliRunner

import lto_archive
from lto_archive_cli.main import cli


def _write(tmp_path, tape, card, cat, *extra):
    result = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tape}", "--catalog", str(cat),
                                      "--log-dir", str(tmp_path / "logs"), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_status_shows_drives_jobs_and_what_needs_attention(tmp_path):
    card = tmp_path / "A001"
    card.mkdir()
    for i in range(3):
        (card / f"C00{i}.mov").write_bytes(bytes([i]) * 4000)
    cat = tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tmp_path / "proven", capacity="64M", barcode="PRV001L9").close()
    lto_archive.create_vtape(tmp_path / "unread", capacity="64M", barcode="UNR001L9").close()
    lto_archive.create_vtape(tmp_path / "locked", capacity="64M", barcode="LCK001L9").close()
    _write(tmp_path, tmp_path / "proven", card, cat)
    job = _write(tmp_path, tmp_path / "unread", card, cat, "--no-verify")
    with lto_archive.open_device(f"vtape:{tmp_path / 'locked'}") as dev:
        dev.write_protected = True
        dev.save_settings()
    lto_archive.create_vlib(tmp_path / "lib", drives=1, slots=2, capacity="64M").close()
    result = CliRunner().invoke(cli, ["status", "--device", f"vtape:{tmp_path / 'proven'}",
                                      "--device", f"vtape:{tmp_path / 'locked'}", "--device", f"vtape:{tmp_path / 'gone'}",
                                      "--library", f"vlib:{tmp_path / 'lib'}", "--catalog", str(cat), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    drives = {d["device"].rsplit("/", 1)[-1]: d for d in doc["drives"]}
    assert drives["proven"]["barcode"] == "PRV001L9" and drives["proven"]["attention"] == []
    assert drives["locked"]["write_protected"] and "write-protected" in drives["locked"]["attention"][0]
    assert "does not exist" in drives["gone"]["problem"]
    assert doc["libraries"][0]["cartridges"] == 2 and doc["libraries"][0]["drives"][0]["barcode"] is None
    jobs = doc["catalog"]["recent_jobs"]
    assert jobs[0]["session_id"] == job["session"]["session_id"] and jobs[0]["files"] >= 3
    where = {a["where"]: a["what"] for a in doc["attention"]}
    assert "never read back" in where["UNR001L9"]
    assert "PRV001L9" not in where
    text = CliRunner().invoke(cli, ["status", "--device", f"vtape:{tmp_path / 'locked'}", "--catalog", str(cat)])
    assert text.exit_code == 0 and "! write-protected" in text.output and "UNR001L9: " in text.output
