"""How long an LTFS index of many files takes to write and to parse, and the memory it needs.

A post house's DPX/EXR archive easily holds 10^6 files on one volume; a mount
(and every append) reads its whole index, and every commit writes it twice.
The index is built in memory as the writer would hold it (frames of 1000 per
folder, two hashes per file), serialised in bounded chunks to a sink that
only counts bytes, then parsed back from record-sized pieces.
"""

from __future__ import annotations

import resource
import time
from typing import Any

from .formats.ltfs.index import Directory, Extent, File, Index, index_xml_chunks, parse_index, times_now
from .formats.ltfs.times import format_time, now_ns


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        f = File(name, ix.next_uid(), list(times), 12_746_752,
                 [Extent(0, "b", block, 0, 12_746_752)])
        f.xattrs = {"ltfs.hash.xxh128": f"{i:032x}", "ltfs.hash.md5sum": f"{i * 7:032x}"}
        folder.children[name] = f
        block += 25
    return ix


def run_index_benchmark(files: int = 1_000_000, record_size: int = 512 * 1024) -> dict[str, Any]:
    rss0 = _peak_rss_mb()
    t0 = time.perf_counter()
    ix = build_index(files)
    built = time.perf_counter() - t0
    rss_built = _peak_rss_mb()
    t0 = time.perf_counter()
    size = 0
    records: list[bytes] = []
    pending = bytearray()
    for chunk in index_xml_chunks(ix):
        size += len(chunk)
        pending += chunk
        while len(pending) >= record_size:
            records.append(bytes(pending[:record_size]))
            del pending[:record_size]
    records.append(bytes(pending))
    written = time.perf_counter() - t0
    del ix
    t0 = time.perf_counter()
    back = parse_index(records)
    parsed = time.perf_counter() - t0
    count = sum(1 for _ in back.files())
    if count != files:
        raise AssertionError(f"index round trip lost files: {count} of {files}")
    return {"files": files, "index_bytes": size, "build_s": round(built, 2), "write_s": round(written, 2),
            "parse_s": round(parsed, 2), "write_mb_s": round(size / 1e6 / written, 1),
            "parse_mb_s": round(size / 1e6 / parsed, 1), "files_per_s_parse": round(files / parsed),
            "peak_rss_mb_before": round(rss0), "peak_rss_mb_tree": round(rss_built),
            "peak_rss_mb_end": round(_peak_rss_mb()),
            "note": "the XML records are held in memory here only to time the parse alone; on tape both "
                    "directions stream, so memory is the tree (~peak_rss_mb_tree - before) plus ~1 MiB of XML"}
