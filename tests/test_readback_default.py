"""Issue 14, item 4: every destination is read back by default; `--no-verify` says it was not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lto_archive

from .bad_input_helpers import make_card, new_tape, run, write_cli


@pytest.mark.parametrize("fmt", ["tar", "cpio", "axf"])
def test_one_tape_is_read_back_by_default(tmp_path: Path, fmt: str) -> None:
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    cp = write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", fmt, "--json"), check=0)
    doc = json.loads(cp.stdout)
    [dest] = doc["destinations"]
    assert dest["status"] == "ok" and dest["verified"] == 3, dest
    cp = write_cli(tape, card, log_dir=tmp_path / "logs2", extra=("--format", fmt), check=0)
    assert "tape" in cp.stdout and "ok, 3 files proven by read-back" in cp.stdout, cp.stdout


def test_ltfs_volume_is_read_back_by_default(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    run("format", "--device", f"vtape:{tape}", check=0)
    doc = json.loads(write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--format", "ltfs", "--json"),
                               check=0).stdout)
    [dest] = doc["destinations"]
    assert dest["status"] == "ok" and dest["verified"] == 3, dest


def test_no_verify_says_written_not_read_back_and_exits_0(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    cp = write_cli(tape, card, log_dir=tmp_path / "logs", extra=("--no-verify",), check=0)
    dest_lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("  tape ")]
    assert len(dest_lines) == 1 and dest_lines[0].endswith(": written, not read back"), cp.stdout
    assert ": ok" not in cp.stdout
    doc = json.loads(write_cli(tape, card, log_dir=tmp_path / "logs2", extra=("--no-verify", "--json"),
                               check=0).stdout)
    [dest] = doc["destinations"]
    assert dest["status"] == "written" and dest["verified"] is False, dest
    assert doc["status"] == "ok"


def test_no_verify_with_a_folder_copy_reads_neither_back(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    doc = json.loads(write_cli(tape, card, log_dir=tmp_path / "logs",
                               extra=("--copy-to", str(tmp_path / "shuttle"), "--no-verify", "--json"), check=0).stdout)
    assert [(d["kind"], d["status"], d["verified"]) for d in doc["destinations"]] == [
        ("tape", "written", False), ("folder", "written", False)]


def test_api_verify_false_and_default(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    r = lto_archive.write(card, f"vtape:{tape}", verify=False, log_dir=False, record=False)
    assert r.ok and [d["status"] for d in r.destinations] == ["written"]
    assert r.to_dict()["destinations"][0]["verified"] is False
    r = lto_archive.write(card, f"vtape:{tape}", log_dir=False, record=False)
    assert r.ok and [(d["status"], d["verified"]) for d in r.destinations] == [("ok", 3)]


def test_read_back_that_fails_is_not_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default read-back really compares: a tape whose bytes read back wrong fails the job."""
    from lto_archive.tape.vtape_device import VirtualTape
    card = make_card(tmp_path / "src", sizes={"a.bin": 40000})
    tape = new_tape(tmp_path / "tape")
    real = VirtualTape.read_record

    def flipped(self, *a, **kw):  # type: ignore[no-untyped-def]
        rec = real(self, *a, **kw)
        if rec and len(rec) > 20000:
            rec = bytes(rec[:20000]) + bytes([rec[20000] ^ 1]) + bytes(rec[20001:])
        return rec
    monkeypatch.setattr(VirtualTape, "read_record", flipped)
    r = lto_archive.write(card, f"vtape:{tape}", log_dir=False, record=False, block_size="64K")
    assert not r.ok and r.destinations[0]["status"] == "failed", r.destinations


@pytest.mark.parametrize("verify", [True, False])
def test_a_mounted_ltfs_volume_is_read_back_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify: bool) -> None:
    """The mount is one destination: read back through its files by default (xattrs kept in memory here)."""
    import functools

    from lto_archive.api import writing
    from lto_archive.jobs import ltfs_mounted
    from lto_archive.ltfs_tools import VOLUME_UUID, DictXattrs
    store = DictXattrs()
    vol = tmp_path / "mnt"
    vol.mkdir()
    store.set(vol, VOLUME_UUID, "3b1c7d2e-0000-4000-8000-00000000abcd")
    monkeypatch.setattr(writing, "write_to_mount", functools.partial(ltfs_mounted.write_to_mount, xattrs=store))
    monkeypatch.setattr(writing, "verify_mounted", functools.partial(ltfs_mounted.verify_mounted, xattrs=store))
    card = make_card(tmp_path / "src")
    r = lto_archive.write(card, f"ltfs-mount:{vol}", verify=verify, log_dir=False, record=False)
    assert r.ok
    want = ("ok", 3) if verify else ("written", False)
    assert [(d["kind"], d["status"], d["verified"]) for d in r.destinations] == [("ltfs-mount", *want)]


def test_the_null_device_is_written_and_never_called_read_back(tmp_path: Path) -> None:
    """null: keeps nothing: the job succeeds (it is for benchmarks), its destination says written, not read back."""
    from lto_archive.jobs.write import WriteOptions, write_archive
    from lto_archive.tape import NullTape

    card = make_card(tmp_path)
    result = write_archive([card], NullTape(), WriteOptions())
    assert result.status == "ok"
    (dest,) = result.destinations
    assert dest["status"] == "written" and dest["verified"] is False
    assert any("keeps nothing: written, not read back" in n for n in result.notes)
    r = run("write", card, "--device", "null:", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["destinations"][0]["status"] == "written"
