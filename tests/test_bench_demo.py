"""The demo and the benchmark run for real (tiny sizes; no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from lto_archive_cli.main import cli


def test_demo_writes_verifies_restores_and_compares(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "identical to the original" in result.output
    restored = tmp_path / "restored"
    # the restored card checks out with md5sum, a tool nobody here wrote
    from tests.conftest import require_tool
    require_tool("md5sum")
    subprocess.run(["md5sum", "--quiet", "-c", ".lto-archive/tape-file-0/checksums.md5"], cwd=restored, check=True)


def test_bench_reports_ours_beside_raw(tmp_path):
    result = CliRunner().invoke(cli, ["bench", "--dir", str(tmp_path), "--big-size", "3M", "--small-count", "20",
                                      "--small-size", "64K", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    cases = {(m["dataset"], m["case"]) for m in report["results"]}
    assert ("big file", "ours -> vtape") in cases and ("small files", "raw read (null baseline)") in cases
    for m in report["results"]:
        assert m["bytes"] > 0 and m["mb_s"] > 0
    assert set(report["ratios"]) == {"big file", "small files"}


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "lto_archive_cli.main", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Exit codes" in out.stdout
