"""Progress on every long command (issue 16): migrate and audit run show it too, as plain lines when
stderr is not a terminal (never escape codes)."""

from __future__ import annotations

import random
from pathlib import Path

from click.testing import CliRunner

from lto_archive_cli.main import cli


def run(*args: str) -> str:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_migrate_and_audit_show_progress_without_escape_codes(tmp_path: Path) -> None:
    card = tmp_path / "A001_C001"
    card.mkdir()
    (card / "A001C001.mov").write_bytes(random.Random(3).randbytes(2_000_000))
    cat = str(tmp_path / "cat.sqlite")
    run("vtape", "create", str(tmp_path / "old"), "--barcode", "OLD001L6", "--generation", "LTO-6")
    run("vtape", "create", str(tmp_path / "new"), "--barcode", "NEW001L9")
    run("write", str(card), "--device", f"vtape:{tmp_path / 'old'}", "--catalog", cat, "--no-progress",
        "--log-dir", str(tmp_path / "logs"))
    out = run("audit", "run", "--device", f"vtape:{tmp_path / 'old'}", "--cartridge", "OLD001L6", "--kind", "full",
              "--catalog", cat, "--progress")
    lines = [ln for ln in out.splitlines() if ln.startswith("verify ")]
    assert lines and "2.0 MB 1 files" in lines[-1] and "MB/s" in lines[-1]
    out = run("migrate", "--from", f"vtape:{tmp_path / 'old'}", "--to", f"vtape:{tmp_path / 'new'}",
              "--catalog", cat, "--progress")
    assert any(ln.startswith("restore ") for ln in out.splitlines())          # the source read into staging
    assert any(ln.startswith("write ") and "100.0%" in ln for ln in out.splitlines())   # the target written
    assert "\x1b" not in out and "\r" not in out


def test_a_write_to_two_tapes_and_a_shuttle_shows_three_destination_lines(tmp_path: Path) -> None:
    card = tmp_path / "A001_C007"
    card.mkdir()
    for i in range(3):
        (card / f"A001C00{i}.mov").write_bytes(random.Random(i).randbytes(200_000))
    for name in ("A", "B"):
        run("vtape", "create", str(tmp_path / name), "--barcode", f"{name}{name}{name}001L9")
    out = run("write", str(card), "--device", f"vtape:{tmp_path / 'A'}", "--device", f"vtape:{tmp_path / 'B'}",
              "--copy-to", str(tmp_path / "shuttle"), "--catalog", str(tmp_path / "c.sqlite"), "--progress",
              "--log-dir", str(tmp_path / "logs"))
    last = out[out.rindex("write   ["):].splitlines()
    assert [ln.split()[0] for ln in last[1:4]] == ["tape", "tape", "folder"], last
    assert "100.0%" in last[0] and str(tmp_path / "shuttle")[-20:] in last[3] and "600.0 KB" in last[3]
