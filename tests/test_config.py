"""Profiles from the config file (issue 16): defaults for every command, explicit flags win."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive_cli.main import cli

CONFIG = """
[defaults]
operator = "Jane Doe, DIT"

[profile.dayshoot]
hashes = "xxh64,sha1"
log-dir = "{logs}"
copy_to = ["{shuttle}"]
"""


@pytest.fixture
def setup(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG.format(logs=tmp_path / "day-logs", shuttle=tmp_path / "SHUTTLE"))
    monkeypatch.setenv("LTO_ARCHIVE_CONFIG", str(cfg))
    card = tmp_path / "A001"
    card.mkdir()
    (card / "C001.mov").write_bytes(b"x" * 5000)
    lto_archive.create_vtape(tmp_path / "tape", capacity="64M").close()
    return tmp_path, card


def _write(tmp_path, card, *extra):
    result = CliRunner().invoke(cli, [*extra[:2], "write", str(card), "--device", f"vtape:{tmp_path / 'tape'}",
                                      "--no-catalog", "--json", *extra[2:]])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_profile_sets_hashes_logs_and_shuttle(setup):
    tmp_path, card = setup
    doc = _write(tmp_path, card, "--profile", "dayshoot")
    assert doc["session"]["algorithms"] == ["xxh64", "sha1"]
    assert doc["session"]["operator"] == "Jane Doe, DIT"
    assert (tmp_path / "SHUTTLE" / "A001" / "C001.mov").read_bytes() == b"x" * 5000
    logs = list((tmp_path / "day-logs").glob("*.json"))
    assert len(logs) == 1 and "sha1" in logs[0].read_text()


def test_flags_win_and_defaults_apply_without_a_profile(setup, monkeypatch):
    tmp_path, card = setup
    doc = _write(tmp_path, card, "--profile", "dayshoot", "--hash", "md5", "--operator", "Sam",
                 "--copy-to", str(tmp_path / "S2"))
    assert doc["session"]["algorithms"] == ["md5"] and doc["session"]["operator"] == "Sam"
    assert (tmp_path / "S2" / "A001" / "C001.mov").exists() and not (tmp_path / "SHUTTLE").exists()
    monkeypatch.setenv("LTO_ARCHIVE_PROFILE", "dayshoot")          # the environment names the profile too
    doc = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tmp_path / 'tape'}", "--no-catalog",
                                   "--json"])
    assert json.loads(doc.output)["session"]["algorithms"] == ["xxh64", "sha1"]
    assert (tmp_path / "SHUTTLE" / "A001" / "C001.mov").exists()
    monkeypatch.delenv("LTO_ARCHIVE_PROFILE")
    monkeypatch.chdir(tmp_path)
    plain = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tmp_path / 'tape'}", "--no-catalog",
                                     "--json"])
    assert plain.exit_code == 0, plain.output
    session = json.loads(plain.output)["session"]
    assert session["operator"] == "Jane Doe, DIT" and session["algorithms"] == list(lto_archive.DEFAULT_ALGORITHMS)


@pytest.mark.parametrize("content, profile, says", [
    ("[profile.a]\nhash = 'md5'\n", "b", "no profile 'b'"),
    ("[profile.a]\nbogus-option = 1\n", "a", "no command has an option --bogus-option"),
    ("[profile.a\n", "a", "cannot be read"),
])
def test_config_mistakes_are_usage_errors(tmp_path, monkeypatch, content, profile, says):
    cfg = tmp_path / "config.toml"
    cfg.write_text(content)
    monkeypatch.setenv("LTO_ARCHIVE_CONFIG", str(cfg))
    result = CliRunner().invoke(cli, ["--profile", profile, "vtape", "create", str(tmp_path / "t")])
    assert result.exit_code == 2 and says in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "t").exists()


def test_a_profile_without_a_config_file_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LTO_ARCHIVE_CONFIG", str(tmp_path / "none.toml"))
    result = CliRunner().invoke(cli, ["--profile", "x", "info", "--device", "null:"])
    assert result.exit_code == 2 and "there is no config file" in result.output
