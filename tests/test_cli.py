"""CLI-level checks: device errors and --json output, through the real `lto-archive` command."""

from __future__ import annotations

import json
from pathlib import Path

from .bad_input_helpers import card_files, make_card, new_tape, restored_files, run, tape_objects, write_cli


def test_missing_device_is_exit_4_naming_it(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    cp = write_cli(Path("/nonexistent"), card, log_dir=tmp_path / "logs")
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    assert "/nonexistent" in cp.stderr and cp.stderr.startswith("error: ")
    assert "Traceback" not in cp.stderr
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())
    for cmd in (["verify"], ["ls"], ["info"], ["restore", str(tmp_path / "dest")]):
        cp = run(*cmd, "--device", "vtape:/nonexistent")
        assert cp.returncode == 4 and "/nonexistent" in cp.stderr, (cmd, cp.stdout, cp.stderr)
    assert not (tmp_path / "dest").exists()


def test_unknown_device_kind_is_a_usage_error(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    for spec in ("floppy:/dev/fd0", "nokind", "vtape:"):
        cp = run("write", card, "--device", spec, "--log-dir", tmp_path / "logs")
        assert cp.returncode == 2, (spec, cp.stdout, cp.stderr)
        assert "Traceback" not in cp.stderr and "device" in cp.stderr
    cp = run("write", card, "--device", "floppy:/dev/fd0", "--json")
    doc = json.loads(cp.stdout)
    assert cp.returncode == 2 and doc["exit_code"] == 2 and "floppy" in doc["message"]


def test_json_success_outputs_parse(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    tape = tmp_path / "tape"
    doc = json.loads(run("vtape", "create", tape, "--capacity", "16M", "--json", check=0).stdout)
    assert doc["capacity"] == 16_000_000      # decimal, as tape vendors quote capacities (issue 16)
    doc = json.loads(write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--json",), check=0).stdout)
    assert doc["status"] == "ok" and doc["problems"] == [] and doc["session"]["files"] == 3
    doc = json.loads(run("info", "--device", f"vtape:{tape}", "--json", check=0).stdout)
    assert doc["generation"] == "LTO-9" and doc["remaining"] < doc["capacity"]
    doc = json.loads(run("verify", "--device", f"vtape:{tape}", "--json", check=0).stdout)
    assert doc["status"] == "ok" and doc["tape_files"][0]["verified"] == 3
    doc = json.loads(run("ls", "--device", f"vtape:{tape}", "--json", check=0).stdout)
    assert {m["path"] for m in doc["tape_files"][0]["members"] if m["kind"] == "file"} == set(card_files(card))
    doc = json.loads(run("restore", "--device", f"vtape:{tape}", tmp_path / "dest", "--json", check=0).stdout)
    assert doc["status"] == "ok" and doc["tape_files"][0]["restored"] >= 3
    assert restored_files(tmp_path / "dest") == card_files(card)


def test_json_error_outputs_parse(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    # device missing: one error object
    cp = write_cli(Path("/nonexistent"), card, log_dir=tmp_path / "logs", extra=("--json",))
    doc = json.loads(cp.stdout)
    assert cp.returncode == 4 and doc["status"] == "error" and doc["exit_code"] == 4
    assert "/nonexistent" in doc["message"]
    # a job that ran and then failed: still ONE document, the error with the job's result inside
    tape = new_tape(tmp_path / "tape")
    (card / "empty-dir-marker").write_bytes(b"x")
    write_cli(tape, card, log_dir=tmp_path / "logs", check=0)
    before = tape_objects(tape)
    dest = tmp_path / "dest"
    (dest / "card").mkdir(parents=True)
    (dest / "card" / "a.bin").write_bytes(b"keep")
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--json")
    doc = json.loads(cp.stdout)
    assert cp.returncode == 6 and doc["exit_code"] == 6 and doc["error"] == "RestoreConflict"
    assert doc["files"] == ["card/a.bin"] and doc["result"]["status"] == "refused"
    assert (dest / "card" / "a.bin").read_bytes() == b"keep"
    # verify of an absent tape file: a usage error (issue 16: tape files are numbered from 0)
    cp = run("verify", "--device", f"vtape:{tape}", "--tape-file", "5", "--json")
    doc = json.loads(cp.stdout)
    assert cp.returncode == 2 and doc["exit_code"] == 2 and "tape file 5" in doc["message"]
    assert tape_objects(tape) == before
