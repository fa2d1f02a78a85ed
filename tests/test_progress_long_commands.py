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
