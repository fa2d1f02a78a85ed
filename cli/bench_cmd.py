"""`lto-archive bench`: every goal of issue 15 beside its baseline and peer, in the same run."""

from __future__ import annotations

from pathlib import Path

import click

from lto_archive import parse_size, run_benchmark, run_index_benchmark, run_million_benchmark

from .common import emit


def drive_line(d: dict) -> str:
    """The drive goal: a mixed card (every data set in one job) at a generation's speed, no underruns."""
    fl = d["flow"]
    dr, host = fl["drive"], fl["host_buffer"]
    mib = 2**20
    low = "never ran (the job fit in its buffer)" if dr["low_bytes"] is None else f"{dr['low_bytes'] / mib:.0f} MiB"
    return (f"\nmixed card at {d['generation']} speed ({dr['native_mb_s']:.0f} MB/s, floor {dr['floor_mb_s']:.0f}): "
            f"underruns {dr['underruns']} (goal 0, {'met' if dr['underruns'] == 0 else 'not met'}); drive buffer "
            f"high {dr['high_bytes'] / mib:.0f} MiB, low {low} of {dr['buffer_bytes'] / mib:.0f} MiB; host buffer "
            f"high {host['high']}, low {host['low']} of {host['chunks']} chunks; {d['files']} files at "
            f"{d['mb_s']:.0f} MB/s in {d['seconds']:.1f} s")


def markdown(report: dict) -> str:
    """The goals table of docs/performance.md, then every measurement."""
    lines = [f"hashes {', '.join(report['algorithms'])}, records {report['record_size'] // 1024} KiB, "
             f"{report['cpus']} CPUs, best of {report['rounds']}, interleaved; big file "
             f"{report['big_size'] / 2**20:.0f} MiB, card {report['card_files']} files, "
             f"dpx {report['dpx_frames']} frames of 12 KiB", "",
             "| goal | ours | against | ratio | goal | met | CPU-time ratio |", "|---|---|---|---|---|---|---|"]
    for goal, r in report["ratios"].items():
        lines.append(f"| {goal} | {r['ours']} | {r['against']} | {r['ratio']:.2f}x | >= {r['goal']:.2f}x | "
                     f"{'yes' if r['met'] else 'no'} | {r['cpu_ratio'] or 0:.2f}x |")
    lines += ["", "| data set | case | s | CPU s | MB/s | files/s |", "|---|---|---|---|---|---|"]
    for m in report["results"]:
        lines.append(f"| {m['dataset']} | {m['case']} | {m['seconds']:.3f} | {m['cpu_seconds']:.3f} | "
                     f"{m['mb_s']:.0f} | {m['files_s']:.0f} |")
    lines += [drive_line(d) for d in report.get("drive", [])]
    ix = report.get("ltfs_index")
    if ix:
        lines += ["", f"LTFS index of {ix['files']} files: write {ix['write_s']} s, parse {ix['parse_s']} s, "
                      f"peak memory {ix['peak_rss_mb_end']} MB"]
    return "\n".join(lines)


def million_lines(m: dict) -> list[str]:
    """The million-file goal, one line per format: files/s, CPU per file, peak RSS against the goal."""
    out = [f"{m['files']} files of 1-4 KiB ({m['bytes'] / 1e6:.0f} MB), {', '.join(m['algorithms'])}, "
           f"read-back {'on' if m['verify'] else 'off'}; {m['goal']}"]
    for j in m["jobs"]:
        out.append(f"{j['format'].upper():<4} {j['status']}: {j['files']} files, {j['proven']} proven, "
                   f"{j['files_s']:.0f} files/s, {j['cpu_us_per_file']:.0f} µs CPU per file; peak RSS "
                   f"{j['peak_rss_mib']:.0f} MiB (write pass {j['write_peak_rss_mib']:.0f} MiB, at start "
                   f"{j['start_rss_mib']:.0f} MiB): goal < 256 MiB, {'met' if j['goal_met'] else 'not met'}")
    return out


@click.command("bench")
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("/dev/shm/lto-bench"),
              show_default=True, help="Where the data sets and tapes go, removed afterwards (tmpfs gives stable figures).")
@click.option("--big-size", default="512M", show_default=True, help="Size of the one big file (0: leave it out).")
@click.option("--card-files", default=4000, show_default=True,
              help="Files of 8 KiB..1 MiB on the card, seeded (the issue's card; 0: leave it out).")
@click.option("--dpx-frames", default=5000, show_default=True,
              help="12 KiB frames of the DPX-like sequence (100000: the full figure; 0: leave it out).")
@click.option("--hash", "hashes", default="xxh128", show_default=True)
@click.option("--block-size", default="512K", show_default=True)
@click.option("--rounds", default=2, show_default=True, help="Best of N for every case (rounds interleaved).")
@click.option("--no-peers", is_flag=True, help="Leave out the two-pass peer (tar, then xxhsum / md5sum).")
@click.option("--index-files", default=1_000_000, show_default=True,
              help="LTFS (--only index or all): time writing and parsing an index of this many files.")
@click.option("--million-files", default=1_000_000, show_default=True,
              help="--only million: tiny files (1-4 KiB) in one write job, TAR and LTFS, each in its own process.")
@click.option("--only", type=click.Choice(["throughput", "index", "million", "all"]), default="throughput",
              show_default=True, help="all: throughput and index (million only when asked: minutes).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the table of docs/performance.md.")
def bench(workdir: Path, big_size: str, card_files: int, dpx_frames: int, hashes: str, block_size: str,
          rounds: int, no_peers: bool, index_files: int, million_files: int, only: str, as_json: bool,
          as_markdown: bool) -> None:
    """Measure write and read-back throughput against raw baselines and a two-pass peer
    (and, with --only index, the LTFS index at scale). Leaves nothing behind in --dir."""
    report: dict = {"results": [], "ratios": {}}
    if only in ("all", "throughput"):
        report = run_benchmark(workdir, big_size=parse_size(big_size), card_files=card_files, dpx_frames=dpx_frames,
                               algorithms=tuple(hashes.split(",")), record_size=parse_size(block_size),
                               rounds=rounds, peers=not no_peers)
    if only in ("all", "index") and index_files:
        report["ltfs_index"] = run_index_benchmark(index_files)
    if only == "million":
        report["million"] = run_million_benchmark(workdir, million_files, algorithms=tuple(hashes.split(",")))
        emit(report, as_json, lambda: click.echo("\n".join(million_lines(report["million"]))))
        return
    if as_markdown and "algorithms" in report:
        click.echo(markdown(report))
        return

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
            click.echo(f"{m['dataset']:<9} {m['case']:<40} {m['mb_s']:8.0f} MB/s {m['files_s']:9.0f} files/s")
        for goal, r in report["ratios"].items():
            click.echo(f"{goal:<40} {r['ratio']:5.2f}x (goal {r['goal']:.2f}x{'' if r['met'] else ', not met'})")
        for d in report.get("drive", []):
            click.echo(drive_line(d).strip())
    emit(report, as_json, text)
