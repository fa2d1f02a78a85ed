"""A write job that spans cartridges: one archive in volumes, one volume per cartridge.

Each cartridge gets, at its end of data (docs/spanning.md):

    [ volume N: a TAR volume in GNU tar's multi-volume layout ] FM [ its metadata archive ] FM

The volume starts with the rest of a file split at the end of volume N-1 (if
any), then `.lto-archive/session.json` (with the set), then whole members. A
volume that more volumes follow ends on a record boundary without end-of-archive
blocks (so `tar -xM` goes on to the next volume); the last one ends normally.
The metadata archive right after is an ordinary tar archive holding the
volume's manifest, checksum lists and copy log: every cartridge describes
itself, including which part of a split file it holds.

Files stay whole: a file that does not fit in the room left goes to the next
cartridge. A file that would not fit even on an empty cartridge, or any file
with `split_files`, fills this cartridge and continues on the next; a TAR
volume also ends inside a file where the drive reports early warning (real
drives do not say how much room is left). CPIO: every volume is a whole
archive and a split file is stored as members NAME.part0001, NAME.part0002, ...
AXF-style: the set is one object over the volumes of one collection, a split file
is stored in segments (docs/formats/axf-style.md 7.3), and the metadata archive is
a second object continuing the volume. LTFS sets: span/ltfs_span.py.

This module is the engine's spanning side: a cartridge supply (span/supply.py) hands out the
cartridges, a job per kind of target writes them (span/tape_span.py: tape files, one set per
drive; span/ltfs_span.py: LTFS volumes), and `write_spans` runs the one loop over both: plan, add
every entry, close the last volume, settle, folders, copy logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import JobIncomplete, UsageError
from ..formats.registry import write_format
from ..jobs.engine import run, settle_interrupted
from ..jobs.folder_dest import FolderDestination, close_folders, job_files, verify_folders
from ..progress import ProgressCallback
from ..jobs.session import JobPlan, WriteOptions, plan_job, write_copy_log
from ..manifest import OK
from .ltfs_span import LtfsSpanJob
from .result import SpanResult
from .supply import CartridgeSupply
from .tape_span import TapeSpanJob


def write_span(sources: list[str | Path], supply: CartridgeSupply, options: WriteOptions | None = None,
               progress: ProgressCallback | None = None, *, split_files: bool = False,
               folders: list[str | Path] = ()) -> SpanResult:  # type: ignore[assignment]
    """Write `sources` as one archive over as many cartridges as `supply` hands out (one set).

    Preconditions (format, sources, the first cartridge) raise before anything is
    written. A cartridge that fills is closed with its manifest and the job goes on
    on the next; when the supply has none left (NoNextCartridge) or a device fails,
    the result carries the error, every volume closed before still describes itself,
    and the files not written are listed as such.

    `folders` (a shuttle drive, a RAID): each gets every file whole from the same
    read, plus the job's manifest of whole files, and is read back at the end.
    """
    return write_spans(sources, [supply], options, progress, split_files=split_files, folders=folders)[0]


def write_spans(sources: list[str | Path], supplies: list[CartridgeSupply], options: WriteOptions | None = None,
                progress: ProgressCallback | None = None, *, split_files: bool = False,
                folders: list[str | Path] = ()) -> list[SpanResult]:  # type: ignore[assignment]
    """Write `sources` once as one set per supply (drive): the A and B copies of a job that spans
    cartridges, from one read. Returns one SpanResult per set, in supply order; a set whose drive
    fails or runs out of cartridges ends there (its result says why) and the others go on.
    TAR, CPIO and AXF-style sets with several supplies; one supply: every format (see write_span)."""
    opts = options or WriteOptions()
    fmt = write_format(opts.format)
    if not supplies:
        raise UsageError("a job that spans cartridges needs a drive")
    if len(supplies) > 1 and not fmt.spans_several_drives:
        raise UsageError(f"--span with several drives writes TAR, CPIO or AXF-style sets, not {fmt.name.upper()} "
                         f"(each cartridge its own index): write the {fmt.name.upper()} sets one after the other",
                         format=opts.format)
    plan = plan_job(sources, opts, fmt, folders)
    tracker = plan.tracker(progress)
    kind = LtfsSpanJob if fmt.is_volume else TapeSpanJob    # a volume layout: each cartridge its own volume
    job: Any = kind(sources, list(supplies), opts, tracker, plan.entries, split_files, plan.cards, plan.dests)
    try:
        results = run(job)
    except BaseException:         # stopped at once (a second signal) or refused: the drives are released
        job.close_devices()
        for supply in supplies:
            supply.close()
        raise
    _finish(job, results, plan, opts)
    settle_interrupted(results, job.interrupted)     # the folders, written and read back after the sets
    job.close_devices()
    for supply, result in zip(supplies, results):
        if len(supplies) > 1:
            result.drive = supply.drive
        supply.close()
    return results


def _finish(job: Any, results: list[SpanResult], plan: JobPlan, opts: WriteOptions) -> None:
    """Notes, what later cartridges learned about split files, the folders (written and read back),
    and the copy logs next to the job."""
    for result in results:
        result.notes.extend(plan.notes())
        for v in result.volumes:      # the copy logs next to the job know what later cartridges learned
            for f in v.files:
                if f.part and not f.part.get("file_hashes"):
                    last = next((g.part for g in result.files if g.path == f.path and g.part), None)
                    if last and last.get("file_hashes"):
                        f.part["file_hashes"] = dict(last["file_hashes"])
    for c in job.copies:             # the file being written when the job stopped: not in the folders
        c.broken = True
        c.finish(False)
    if plan.dests:                   # the folders hold the job once: by the set that went furthest
        _finish_folders(plan.dests, results, plan.cards, opts)
    if opts.log_dir is not None:
        for result in results:
            for v in result.volumes:
                try:
                    result.log_paths.extend(write_copy_log(v.manifest, opts.log_dir))
                except JobIncomplete as exc:     # said in the result, never raised: the set still reaches the catalog
                    result.error = result.error or exc


def _finish_folders(dests: list[FolderDestination], results: list[SpanResult], cards: list[Any],
                    opts: WriteOptions) -> None:
    best = next((r for r in results if r.error is None), results[0])
    whole = best.whole_manifest()
    close_folders(dests, job_files(whole, cards))
    expected = {f.path: f.hashes for f in whole.files if f.status == OK and f.hashes}
    verify_folders(dests, expected, tuple(opts.algorithms))
    best.folders = [d.result for d in dests]


__all__ = ["SpanResult", "write_span", "write_spans"]
