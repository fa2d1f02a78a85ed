"""The demo and the benchmark run for real (tiny sizes; no timing assertions)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lto_archive_cli.main import cli

MiB = 1 << 20


def test_demo_writes_verifies_restores_and_compares(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "identical to the original" in result.output
    restored = tmp_path / "restored"
    # the restored card checks out with md5sum, a tool nobody here wrote
    from tests.conftest import require_tool
    require_tool("md5sum")
    subprocess.run(["md5sum", "--quiet", "-c", ".lto-archive/tape-file-0/checksums.md5"], cwd=restored, check=True)


TINY = ["--big-size", "3M", "--card-files", "12", "--dpx-frames", "30", "--rounds", "2"]


def test_bench_measures_every_goal_beside_its_baseline_and_leaves_nothing(tmp_path):
    workdir = tmp_path / "bench"          # made by the bench, so removed by it
    result = CliRunner().invoke(cli, ["bench", "--dir", str(workdir), *TINY, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    cases = {(m["dataset"], m["case"]) for m in report["results"]}
    for dataset in ("big file", "card", "dpx"):
        for case in ("raw records -> vtape layout", "ours TAR xxh128 -> vtape", "raw read + xxh128 of the records",
                     "ours verify", "ours restore"):
            assert (dataset, case) in cases
    assert ("big file", "md5 ceiling (one core, same buffers)") in cases
    assert ("card", "ours LTFS xxh128 -> vtape") in cases
    assert "ltfs_index" not in report            # the 10^6-file index is --only index
    for m in report["results"]:
        assert m["bytes"] > 0 and m["files"] > 0 and m["seconds"] > 0 and m["cpu_seconds"] >= 0
    goals = report["ratios"]
    assert {"big file, xxh128 / raw records", "big file, xxh128+md5 / md5 ceiling", "card / raw records",
            "card, LTFS / our TAR", "dpx / raw records", "dpx, restore / raw read+hash",
            "dpx, restore / raw read+hash+write", "big file, restore / raw read+hash+write"} <= set(goals)
    assert goals["dpx, restore / raw read+hash+write"]["against"] == "raw read + xxh128 + write the files"
    if shutil.which("tar") and shutil.which("xxhsum"):
        assert "card / two-pass peer" in goals and "dpx / two-pass peer" in goals
    assert all(g["ratio"] > 0 and g["met"] == (g["ratio"] >= g["goal"]) for g in goals.values())
    # the drive goal: the mixed card (every data set in one job) at LTO-9 and LTO-10 speed
    assert [d["generation"] for d in report["drive"]] == ["LTO-9", "LTO-10"]
    for d in report["drive"]:
        drive = d["flow"]["drive"]
        assert d["files"] == 1 + 12 + 30 and d["flow"]["bytes"] > 3 * MiB
        assert drive["native_mb_s"] == 400 and drive["underruns"] >= 0
        assert 0 < drive["high_bytes"] <= drive["buffer_bytes"]
    assert not workdir.exists()


def test_bench_cleans_up_inside_a_folder_it_did_not_make(tmp_path):
    keep = tmp_path / "mine.txt"
    keep.write_text("not the bench's")
    result = CliRunner().invoke(cli, ["bench", "--dir", str(tmp_path), *TINY, "--no-peers", "--markdown"])
    assert result.exit_code == 0, result.output
    assert "| goal | ours | against | ratio | goal | met | CPU-time ratio |" in result.output
    assert "| card / raw records |" in result.output and "peer" not in result.output
    assert "mixed card at LTO-9 speed (400 MB/s, floor 177): underruns 0 (goal 0, met)" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_bench_cleans_up_when_a_case_fails(tmp_path, monkeypatch):
    import lto_archive.bench as bench

    def broken(*a, **k):
        raise RuntimeError("case failed")
    monkeypatch.setattr(bench, "md5_ceiling", broken)
    with pytest.raises(RuntimeError, match="case failed"):
        bench.run_benchmark(tmp_path / "b", big_size=MiB, card_files=0, dpx_frames=0, rounds=1, peers=False)
    assert not (tmp_path / "b").exists()


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "lto_archive_cli.main", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Exit codes" in out.stdout
