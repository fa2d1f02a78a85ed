"""`lto-archive bench`: our throughput beside a raw copy of the same bytes, in the same run."""

from __future__ import annotations

from pathlib import Path

import click

from lto_archive import parse_size, run_benchmark, run_index_benchmark

from .common import emit


@click.command("bench")
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("/dev/shm/lto-bench"),
              show_default=True, help="Where the data set and tapes go (tmpfs gives stable figures).")
@click.option("--big-size", default="2G", show_default=True, help="Size of the one big file.")
@click.option("--small-count", default=5000, show_default=True, help="Number of small files.")
@click.option("--small-size", default="1M", show_default=True, help="Size of each small file.")
@click.option("--hash", "hashes", default="xxh128", show_default=True)
@click.option("--block-size", default="512K", show_default=True)
@click.option("--rounds", default=1, show_default=True, help="Best of N for every case.")
@click.option("--index-files", default=1_000_000, show_default=True,
              help="LTFS: time writing and parsing an index of this many files (0: skip).")
@click.option("--only", type=click.Choice(["all", "throughput", "index"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench(workdir: Path, big_size: str, small_count: int, small_size: str, hashes: str, block_size: str,
          rounds: int, index_files: int, only: str, as_json: bool) -> None:
    """Measure write throughput to a null target and a virtual tape against raw baselines,
    and the LTFS index at scale."""
    report: dict = {"results": [], "ratios": {}}
    if only in ("all", "throughput"):
        report = run_benchmark(workdir, big_size=parse_size(big_size), small_count=small_count,
                               small_size=parse_size(small_size), algorithms=tuple(hashes.split(",")),
                               record_size=parse_size(block_size), rounds=rounds)
    if only in ("all", "index") and index_files:
        report["ltfs_index"] = run_index_benchmark(index_files)

    def text() -> None:
        ix = report.get("ltfs_index")
        if ix:
            click.echo(f"LTFS index of {ix['files']} files ({ix['index_bytes'] / 1e6:.0f} MB of XML): "
                       f"write {ix['write_s']} s, parse {ix['parse_s']} s ({ix['files_per_s_parse']} files/s), "
                       f"peak memory {ix['peak_rss_mb_end']} MB")
        if "algorithms" not in report:
            return
        click.echo(f"hashes {', '.join(report['algorithms'])}, records {report['record_size']} B, "
                   f"{report['cpus']} CPUs, best of {report['rounds']}")
        for m in report["results"]:
            click.echo(f"{m['dataset']:<12} {m['case']:<30} {m['mb_s']:9.1f} MB/s {m['files_s']:9.1f} files/s")
        for name, r in report["ratios"].items():
            click.echo(f"{name:<12} ours/raw: null {r['null / raw read']:.2f}x, vtape {r['vtape / raw records']:.2f}x")
    emit(report, as_json, text)
