"""`bench --only million`: the report's structure and its seeded data (never its timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive import run_million_benchmark
from lto_archive.bench_million import TINY_MAX, TINY_MIN, make_tiny_files
from lto_archive_cli.main import cli

pytestmark = pytest.mark.slow


def test_million_benchmark_proves_every_file_and_leaves_nothing(tmp_path: Path) -> None:
    r = run_million_benchmark(tmp_path / "work", files=1200)
    assert [j["format"] for j in r["jobs"]] == ["tar", "ltfs"]
    for j in r["jobs"]:
        assert j["status"] == "ok" and j["files"] == 1200 and j["proven"] == 1200, j
        assert 0 < j["start_rss_mib"] <= j["peak_rss_mib"] and j["write_peak_rss_mib"] <= j["peak_rss_mib"]
        assert j["goal_met"] == (j["peak_rss_mib"] < 256)
    assert not (tmp_path / "work").exists()


def test_tiny_files_are_seeded(tmp_path: Path) -> None:
    src, total = make_tiny_files(tmp_path / "a", 2100)
    again, total2 = make_tiny_files(tmp_path / "b", 2100)
    files = sorted(p.relative_to(src) for p in src.rglob("*.dpx"))
    assert len(files) == 2100 and total == total2 and str(files[-1]) == "d0002/f0002099.dpx"
    for rel in files[::97]:
        data = (src / rel).read_bytes()
        assert TINY_MIN <= len(data) <= TINY_MAX and data == (again / rel).read_bytes()


def test_bench_only_million_json(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["bench", "--only", "million", "--million-files", "300", "--dir",
                                   str(tmp_path / "w"), "--json"])
    assert out.exit_code == 0, out.output
    m = json.loads(out.output)["million"]
    assert m["files"] == 300 and {j["format"]: j["proven"] for j in m["jobs"]} == {"tar": 300, "ltfs": 300}
    text = CliRunner().invoke(cli, ["bench", "--only", "million", "--million-files", "200", "--dir",
                                    str(tmp_path / "w")])
    assert text.exit_code == 0 and "goal < 256 MiB" in text.output and text.output.count(" proven, ") == 2
