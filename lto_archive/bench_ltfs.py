"""How long an LTFS index of many files takes to write and to parse, and the memory it needs.

A post house's DPX/EXR archive easily holds 10^6 files on one volume; a mount
(and every append) reads its whole index, and every commit writes it twice.
The index is built in memory as the writer would hold it (frames of 1000 per
folder, two hashes per file) and written in record-sized pieces to a scratch
file, as to tape; then a fresh process parses it back from record-sized reads.
Each direction runs in its own process, so its peak RSS is its own: the
model, the interpreter (~20 MB) and the bounded XML in flight.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .formats.ltfs.index import Directory, Extent, File, Index, index_xml_chunks, parse_index, times_now
from .formats.ltfs.times import format_time, now_ns

__all__ = ["build_index", "run_index_benchmark", "GOAL_S", "GOAL_RSS_MIB"]

GOAL_S = 10            # issue 15: a 10^6-file index written and parsed in <= 10 s each,
GOAL_RSS_MIB = 256     # in <= 256 MiB each (ru_maxrss, KiB on Linux, / 1024)


def _peak_rss_mb() -> float:
    """Peak RSS in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_bytes() -> int:
    """The resident set now (Linux); 0 where /proc is not there."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def build_index(files: int, per_folder: int = 1000) -> Index:
    now = now_ns()
    times = times_now(now)
    ix = Index(creator="lto-archive bench", volume_uuid="00000000-0000-4000-8000-000000000000", generation=2,
               update_time=format_time(now), location=("b", 5), previous=None,
               root=Directory("bench", 1, list(times)))
    folder: Directory | None = None
    block = 7
    for i in range(files):
        if i % per_folder == 0:
            folder = ix.make_dirs([f"reel_{i // per_folder:05d}"], times)
        assert folder is not None
        name = f"frame_{i:08d}.dpx"
        f = File(name, ix.next_uid(), times, 12_746_752, [Extent(0, "b", block, 0, 12_746_752)],
                 xattrs={"ltfs.hash.xxh128": f"{i:032x}", "ltfs.hash.md5sum": f"{i * 7:032x}"})
        folder.children[name] = f
        block += 25
    return ix


def _write_phase(files: int, path: str, record_size: int) -> dict[str, Any]:
    """In its own process: build the index, write it to `path` in records as a tape would get them."""
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    ix = build_index(files)
    built = time.perf_counter() - t0
    model = rss_bytes() - rss0
    t0, c0 = time.perf_counter(), time.process_time()
    size = 0
    pending = bytearray()
    with open(path, "wb") as out:
        for chunk in index_xml_chunks(ix):
            size += len(chunk)
            pending += chunk
            while len(pending) >= record_size:
                out.write(pending[:record_size])
                del pending[:record_size]
        out.write(pending)
    return {"build_s": built, "write_s": time.perf_counter() - t0, "write_cpu_s": time.process_time() - c0,
            "index_bytes": size, "model_bytes": model, "peak_rss_mb": _peak_rss_mb()}


def _parse_phase(files: int, path: str, record_size: int) -> dict[str, Any]:
    """In its own process: parse the index from record-sized reads; count its files."""
    def records() -> Any:
        with open(path, "rb") as fh:
            while data := fh.read(record_size):
                yield data

    rss0 = rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    back = parse_index(records())
    parsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    model = rss_bytes() - rss0
    count = sum(1 for _ in back.files())
    if count != files:
        raise AssertionError(f"index round trip lost files: {count} of {files}")
    return {"parse_s": parsed, "parse_cpu_s": cpu, "model_bytes": model, "peak_rss_mb": _peak_rss_mb()}


def _in_process(fn: Any, *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
        return result


def run_index_benchmark(files: int = 1_000_000, record_size: int = 512 * 1024,
                        workdir: Path | None = None) -> dict[str, Any]:
    """Write then parse an index of `files` files, each in a fresh process; seconds and peak RSS of each.

    The XML goes through a scratch file in `workdir` (default: the system's temporary directory),
    removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lto-index-bench-", dir=workdir) as tmp:
        path = str(Path(tmp) / "index.xml")
        w = _in_process(_write_phase, files, path, record_size)
        p = _in_process(_parse_phase, files, path, record_size)
    size = w["index_bytes"]
    return {"files": files, "index_bytes": size, "build_s": round(w["build_s"], 2),
            "write_s": round(w["write_s"], 2), "write_cpu_s": round(w["write_cpu_s"], 2),
            "parse_s": round(p["parse_s"], 2), "parse_cpu_s": round(p["parse_cpu_s"], 2),
            "write_mb_s": round(size / 1e6 / max(w["write_s"], 1e-9), 1),
            "parse_mb_s": round(size / 1e6 / max(p["parse_s"], 1e-9), 1),
            "files_per_s_parse": round(files / max(p["parse_s"], 1e-9)),
            "write_peak_rss_mb": round(w["peak_rss_mb"]), "parse_peak_rss_mb": round(p["peak_rss_mb"]),
            "peak_rss_mb_end": round(max(w["peak_rss_mb"], p["peak_rss_mb"])),
            "goal": f"write and parse <= {GOAL_S} s each, peak RSS <= {GOAL_RSS_MIB} MiB each (issue 15)",
            "goal_met": bool(max(w["write_s"], p["parse_s"]) <= GOAL_S
                             and max(w["peak_rss_mb"], p["peak_rss_mb"]) <= GOAL_RSS_MIB),
            "bytes_per_entry_built": round(w["model_bytes"] / max(files, 1)),
            "bytes_per_entry_parsed": round(p["model_bytes"] / max(files, 1)),
            "note": "each direction in its own process: peak RSS is the interpreter, the in-memory index "
                    "and the XML in flight (bounded); bytes_per_entry is the growth of RSS over the files"}
