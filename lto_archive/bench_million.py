"""A million tiny files in one write job: files/s and the job's peak memory (issue 15's bounded-memory goal).

The files (`files`, 1-4 KiB each, sizes and bytes seeded, 1,000 to a folder) are made once under the
work folder; then each format's job (TAR, LTFS) runs in a fresh process, a real `write_archive` to a
virtual LTO-9 cartridge with its read-back (the default), so its peak RSS (ru_maxrss) is the whole
job's: the interpreter, the imports, the job's records and whatever the job holds at its end. A thread
samples the resident set, so the peak of the write pass (the scan, every file, the session's metadata
members and its commit point, up to the pass's last progress report) is told apart from the peak of
the whole job (which adds the read-back). Everything made is removed afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["run_million_benchmark", "make_tiny_files", "GOAL_RSS_MIB"]

GOAL_RSS_MIB = 256      # issue 15: a 10^6-file job (TAR and LTFS, tiny files) in < 256 MiB, whatever its size
TINY_MIN, TINY_MAX = 1024, 4096
PER_FOLDER = 1000


def make_tiny_files(root: Path, files: int, seed: int = 15) -> tuple[Path, int]:
    """`files` files of 1-4 KiB (seeded sizes, seeded incompressible bytes) under root/seq/dNNNN/;
    the source folder and its bytes."""
    rng = random.Random(seed)
    pattern = rng.randbytes(1 << 20)
    src = root / "seq"
    total = 0
    folder = src
    for i in range(files):
        if i % PER_FOLDER == 0:
            folder = src / f"d{i // PER_FOLDER:04d}"
            folder.mkdir(parents=True)
        size = rng.randint(TINY_MIN, TINY_MAX)
        off = (i * 7919) % (len(pattern) - size)
        fd = os.open(folder / f"f{i:07d}.dpx", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, pattern[off:off + size])
        finally:
            os.close(fd)
        total += size
    return src, total


def _job(src: str, cart: str, fmt: str, algorithms: tuple[str, ...], verify: bool) -> dict[str, Any]:
    """In its own process: one real write job of `src`; seconds, CPU, files and the peaks of RSS."""
    from .bench import blank_cartridge
    from .bench_ltfs import rss_bytes
    from .jobs.write import WriteOptions, write_archive
    peaks = {"write": 0, "job": 0}
    phase = ["write"]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            r = rss_bytes()
            peaks[phase[0]] = max(peaks[phase[0]], r)

    def progress(p: Any) -> None:
        if p.files_total and p.files_done >= p.files_total:
            phase[0] = "job"     # the write pass's last report (the session is closed on tape): the read-back follows

    dev = blank_cartridge(Path(cart), fmt)
    try:
        start_rss = rss_bytes()
        threading.Thread(target=sample, daemon=True).start()
        t0, c0 = time.perf_counter(), time.process_time()
        result = write_archive([src], dev, WriteOptions(format=fmt, algorithms=algorithms, verify=verify), progress)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        done.set()
    finally:
        dev.close()
    proven = sum(d.get("verified") or 0 for d in result.destinations)
    return {"format": fmt, "status": result.status, "files": result.manifest.session.files, "proven": proven,
            "seconds": seconds, "cpu_seconds": cpu, "start_rss_mib": start_rss / 2**20,
            "write_peak_rss_mib": peaks["write"] / 2**20,
            # the kernel's high-water mark is brought up to date lazily (when the RSS falls), so a sample taken
            # since may be above it: the job's peak is the larger of the two
            "peak_rss_mib": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                max(peaks.values()) / 2**20)}


def _in_process(fn: Any, *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
        return result


def run_million_benchmark(workdir: Path, files: int = 1_000_000, formats: tuple[str, ...] = ("tar", "ltfs"),
                          algorithms: tuple[str, ...] = ("xxh128",), verify: bool = True,
                          seed: int = 15, on_job: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Make `files` tiny files under `workdir`, write them once per format, each job in a fresh process;
    per format its files/s, CPU, peak RSS and whether it met the goal (also given to `on_job` as soon as
    that job is done: a run of minutes shows its figures as it goes). Removes what it made."""
    workdir = Path(workdir)
    made_workdir = not workdir.exists()
    workdir.mkdir(parents=True, exist_ok=True)
    top = Path(tempfile.mkdtemp(prefix="lto-million-", dir=workdir))
    jobs = []
    try:
        t0 = time.perf_counter()
        src, total = make_tiny_files(top / "data", files, seed)
        made_s = time.perf_counter() - t0
        for fmt in formats:
            cart = top / f"tape-{fmt}"
            job = _in_process(_job, str(src), str(cart), fmt, algorithms, verify)
            shutil.rmtree(cart, ignore_errors=True)
            job.update(files_s=job["files"] / max(job["seconds"], 1e-9),
                       cpu_us_per_file=job["cpu_seconds"] * 1e6 / max(job["files"], 1),
                       goal_met=job["status"] == "ok" and job["peak_rss_mib"] < GOAL_RSS_MIB)
            jobs.append(job)
            if on_job is not None:
                on_job(job)
    finally:
        shutil.rmtree(top, ignore_errors=True)
        if made_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return {"files": files, "bytes": total, "make_seconds": round(made_s, 1), "algorithms": list(algorithms),
            "verify": verify, "seed": seed, "goal": f"peak RSS < {GOAL_RSS_MIB} MiB for the whole job (issue 15)",
            "jobs": jobs}
