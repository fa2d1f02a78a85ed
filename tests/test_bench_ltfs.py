"""`bench --only index`: the report's structure (never its timing)."""

from __future__ import annotations

from pathlib import Path

from lto_archive import run_index_benchmark
from lto_archive.bench_ltfs import build_index
from lto_archive.formats.ltfs.index import index_to_xml, parse_index_bytes


def test_index_benchmark_reports_both_directions_and_leaves_nothing(tmp_path: Path) -> None:
    r = run_index_benchmark(2000, workdir=tmp_path)
    assert r["files"] == 2000 and r["index_bytes"] > 2000 * 500
    for key in ("write_s", "parse_s", "write_cpu_s", "parse_cpu_s", "write_peak_rss_mb", "parse_peak_rss_mb",
                "peak_rss_mb_end", "bytes_per_entry_built", "bytes_per_entry_parsed", "files_per_s_parse"):
        assert isinstance(r[key], (int, float)) and r[key] >= 0, key
    assert r["peak_rss_mb_end"] == max(r["write_peak_rss_mb"], r["parse_peak_rss_mb"]) > 0
    assert list(tmp_path.iterdir()) == []


def test_bench_index_is_the_shape_it_says() -> None:
    ix = build_index(2500, per_folder=1000)
    files = list(ix.files())
    assert len(files) == 2500 and files[0][0] == "reel_00000/frame_00000000.dpx"
    assert files[-1][1].xattrs == {"ltfs.hash.xxh128": f"{2499:032x}", "ltfs.hash.md5sum": f"{2499 * 7:032x}"}
    assert sum(1 for _ in parse_index_bytes(index_to_xml(ix)).files()) == 2500
