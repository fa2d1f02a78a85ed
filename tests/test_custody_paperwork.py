"""After each write the job leaves, beside its copy log, its custody excerpt and its paperwork .7z (with it)."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

import lto_archive as lto
from tests.conftest import require_tool


def _job(tmp_path: Path, **kw: object) -> tuple[str, Path]:
    rng = random.Random(3)
    card = tmp_path / "A001"
    (card / "CLIPS").mkdir(parents=True)
    (card / "CLIPS" / "C001.mov").write_bytes(rng.randbytes(70_000))
    with lto.create_vtape(tmp_path / "tape", barcode="PAP001L9") as tape:
        r = lto.write(card, tape, catalog=tmp_path / "cat.sqlite", log_dir=tmp_path / "logs", **kw)  # type: ignore[arg-type]
    r.raise_for_status()
    return r.manifest.session.session_id, tmp_path / "logs"


def test_paperwork_and_custody_excerpt_beside_the_copy_log(tmp_path: Path) -> None:
    session, logs = _job(tmp_path)
    made = logs / f"{session}.paperwork.7z"
    excerpt = logs / f"{session}.custody.jsonl"
    assert made.is_file() and excerpt.is_file()
    report = lto.verify_custody_log(excerpt, excerpt=True)          # a part of the chain, proven on its own
    assert report["ok"] and report["entries"] == 2                  # the write and its read-back
    files = lto.open_paperwork(made)
    assert {f"logs/{session}.json", f"logs/{session}.log", f"extra/{session}.custody.jsonl"} <= set(files)
    assert files[f"extra/{session}.custody.jsonl"] == excerpt.read_bytes()
    assert any(name.endswith("manifest.json") for name in files)
    require_tool("7z")
    t = subprocess.run(["7z", "t", str(made)], capture_output=True, text=True)
    assert t.returncode == 0 and "Everything is Ok" in t.stdout, t.stdout + t.stderr


def test_paperwork_with_a_password_and_none_without_copy_log(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("s3cret horse\n")
    session, logs = _job(tmp_path, paperwork_password_file=pw)
    made = logs / f"{session}.paperwork.7z"
    assert f"logs/{session}.json" in lto.open_paperwork(made, password_file=pw)
    with pytest.raises(lto.LtoArchiveError, match="encrypted"):
        lto.open_paperwork(made)
    require_tool("7z")
    assert subprocess.run(["7z", "t", "-ps3cret horse", str(made)], capture_output=True).returncode == 0
    assert subprocess.run(["7z", "t", "-pwrong", str(made)], capture_output=True).returncode != 0

    other = tmp_path / "other"
    other.mkdir()
    with lto.create_vtape(other / "tape") as tape:
        lto.write(tmp_path / "A001", tape, catalog=False, log_dir=False).raise_for_status()
    assert not list(other.rglob("*.7z"))


def test_an_unreadable_password_file_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(lto.UsageError):
        _job(tmp_path, paperwork_password_file=tmp_path / "missing")
    assert not [e for e in lto.list_files(f"vtape:{tmp_path / 'tape'}") if e.kind == "file"]   # nothing written
    assert not (tmp_path / "logs").exists()


def test_write_command_takes_the_paperwork_password_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lto_archive_cli.main import cli
    card = tmp_path / "B002"
    card.mkdir()
    (card / "clip.mov").write_bytes(random.Random(5).randbytes(10_000))
    lto.create_vtape(tmp_path / "tape").close()
    (tmp_path / "pw").write_text("by mail\n")
    res = CliRunner().invoke(cli, ["write", str(card), "--device", f"vtape:{tmp_path / 'tape'}", "--log-dir",
                                   str(tmp_path / "logs"), "--paperwork-password-file", str(tmp_path / "pw"),
                                   "--catalog", str(tmp_path / "cat.sqlite"), "--no-progress"])
    assert res.exit_code == 0, res.output
    (made,) = (tmp_path / "logs").glob("*.paperwork.7z")
    with pytest.raises(lto.LtoArchiveError, match="encrypted"):
        lto.open_paperwork(made)
    assert any(n.startswith("extra/") for n in lto.open_paperwork(made, password_file=tmp_path / "pw"))
