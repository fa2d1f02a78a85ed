"""`write`: one job from source folders to any targets — tapes, folders, a mounted LTFS volume, or the
cartridges of a library that a spanning job continues over."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..catalog import record_write
from ..catalog.anchor import chain_anchor
from ..jobs.catalog_import import record_job
from ..errors import UsageError
from ..hashing import DEFAULT_ALGORITHMS
from ..jobs.ltfs_mounted import verify_mounted, write_to_mount
from ..progress import ProgressCallback
from ..jobs.session import mark_not_read_back
from ..jobs.write import WriteOptions, write_archive
from ..library import Library
from ..span.catalog import record_span_write
from ..span.read import LibraryLoader, read_span
from ..span.supply import CartridgeSupply, CommandSupply, PromptSupply, library_supplies
from ..span.write import write_spans
from ..tape import TapeDevice
from .catalog import CatalogArg, catalog_store
from .logs import job_log_dir, production_folder
from .paperwork import job_paperwork
from ..paperwork import read_password
from .targets import (MOUNT_PREFIX, Folder, LtfsMount, Target, is_library_spec, loaded_drive, mount_of, one_drive_error,
                      open_library, open_tape, parse_capacity, parse_size, target_name)
from .reading import record_span_reads
from .results import ReadResult, WriteResult

DEFAULT_LOG_DIR = "logs/<production>/<YYYY-MM-DD>"   # under the catalog's folder (api/logs.py)
PathLike = str | os.PathLike[str]
Ask = Callable[[str], bool]


@dataclass
class _Where:
    """How to open the targets named by a spec: --barcode, --library, --drive-device."""

    barcode: str | None = None
    library: str | None = None
    drive_devices: Mapping[int, str] | Iterable[str] | None = None

    def tape(self, t: Target, stack: ExitStack) -> TapeDevice:
        if isinstance(t, TapeDevice):
            return t
        if isinstance(t, Library):
            return stack.enter_context(t.open_drive(loaded_drive(t)))
        if isinstance(t, (Folder, LtfsMount)) or (isinstance(t, str) and t.startswith(MOUNT_PREFIX)):
            raise UsageError("a mounted LTFS volume (ltfs-mount:) is written on its own, without other destinations")
        return stack.enter_context(open_tape(t, barcode=self.barcode, library=self.library,
                                             drive_devices=self.drive_devices))


def write(sources: PathLike | Sequence[PathLike], targets: Target | Sequence[Target], *, format: str = "tar",
          hashes: Sequence[str] | str = DEFAULT_ALGORITHMS, span: str | Sequence[str] | bool | None = None,
          progress: ProgressCallback | None = None, catalog: CatalogArg = None, record: bool = True,
          log_dir: PathLike | None | bool = None, verify: bool | None = None, block_size: str | int = "512K",
          operator: str | None = None, allow_old_generation: bool = False, index_every: str | int = "64G",
          index_minutes: float = 10.0, split_files: bool = False, next_tape_command: str | None = None,
          ask: Ask | None = None, barcode: str | None = None, library: str | None = None,
          drive_devices: Mapping[int, str] | Iterable[str] | None = None,
          production: str | None = None, paperwork: bool = True,
          paperwork_password_file: PathLike | None = None, queue_job: int | None = None) -> WriteResult:
    """Write `sources` (folders or files) once, as one archive, to every target, hashing in the same pass.

    `targets`: one or a list of: an open device, a device spec ("vtape:DIR", "/dev/nst0", "vlib:DIR",
    "null:"), `Folder(path)`, an LTFS mount (`LtfsMount(path)` or "ltfs-mount:DIR", on its own), or a
    library (with `span`). `span="LTA*"` (or True for any label, or a list of patterns: one set each,
    each on its own drive) continues over the library's cartridges whose barcodes match; on one drive
    the next cartridge comes from `next_tape_command` or `ask(message) -> bool`.

    As the CLI does: every target is read back (`verify`, the default; `verify=False`: written, not read
    back, said in each destination's status "written" and `"verified": False`), the copy log goes to
    `log_dir` (default: `logs/<production or 'no-production'>/<YYYY-MM-DD>/` in the catalog's folder, see
    api/logs.py; False: none), and the job is recorded in `catalog` (default: the default catalog; False or
    `record=False`: not recorded). With `paperwork` (the default) every tape session ends with its paperwork .7z
    and custody record as members (docs/paperwork.md), and a job that left a copy log also leaves its custody
    excerpt and its paperwork .7z beside it (api/paperwork.py; AES-256 with `paperwork_password_file`).
    `queue_job`: the queued job (api/queue.py) this write is; its sessions say so, on tape and in the catalog,
    where the whole job is recorded in one transaction, so a retried job sees all of it or none.
    """
    production_folder(production)       # a name that cannot be a folder: refused before anything runs
    password = read_password(paperwork_password_file)    # an unreadable password file: refused before anything runs
    srcs = [Path(sources)] if isinstance(sources, (str, os.PathLike)) else [Path(s) for s in sources]
    tlist: list[Target] = [targets] if isinstance(targets, (str, TapeDevice, Folder, LtfsMount, Library)) \
        else list(targets)
    folders = [t.path for t in tlist if isinstance(t, Folder)]
    tapes = [t for t in tlist if not isinstance(t, Folder)]
    opts = WriteOptions(format=format, algorithms=tuple(hashes.split(",") if isinstance(hashes, str) else hashes),
                        record_size=parse_size(block_size), operator=operator,
                        allow_old_generation=allow_old_generation,
                        log_dir=job_log_dir(production, catalog) if log_dir is None or log_dir is True
                        else None if log_dir is False else Path(log_dir),
                        device_name=",".join(target_name(t) for t in tapes), index_every_bytes=parse_capacity(index_every),
                        index_every_seconds=index_minutes * 60, production=(production or "").strip(),
                        queue_job=queue_job, paperwork=paperwork, paperwork_password=password)
    where = _Where(barcode, library, drive_devices)
    cat: CatalogArg = catalog if record else False
    with catalog_store(cat) as store:    # the catalog chain's head: each session's on-tape record states it
        opts.custody_anchor = chain_anchor(store)
    if span is not None and span is not False:
        patterns = ["*"] if span is True else [span] if isinstance(span, str) else list(span) or ["*"]
        return _write_span(srcs, tapes, folders, opts, patterns, where, progress, cat, verify=verify,
                           split_files=split_files, next_tape_command=next_tape_command, ask=ask)
    opts.verify = verify is None or verify
    if not tapes:
        raise UsageError("a write job needs at least one tape device (or an LTFS mount)")
    mount = mount_of(tapes[0])
    if mount is not None:
        if len(tlist) > 1:
            raise UsageError("a mounted LTFS volume (ltfs-mount:) is written on its own, without other destinations")
        result = write_to_mount(list(srcs), mount.path, opts, progress=progress)
        _read_mount_back(result, mount.path, opts.verify)
        with catalog_store(cat) as store:
            if store is not None:
                with store.transaction():
                    record_write(store, result, None)
            if paperwork:
                job_paperwork(result, store, password_file=paperwork_password_file)
        return WriteResult(job=result)
    with ExitStack() as stack:
        devs = [where.tape(t, stack) for t in tapes]
        result = write_archive(list(srcs), devs, opts, progress=progress, folders=list(folders))
        with catalog_store(cat) as store:
            if store is not None:
                with store.transaction():
                    record_job(store, result, devs)
            if paperwork:
                job_paperwork(result, store, password_file=paperwork_password_file)
    return WriteResult(job=result)


def _read_mount_back(result, mountpoint: Path, verify: bool) -> None:  # type: ignore[no-untyped-def]
    """A mounted LTFS volume is one destination too: read back through its files (or said not to be)."""
    failed_write = result.error is not None
    dest: dict = {"kind": "ltfs-mount", "destination": str(mountpoint), "device": "", "tape_file": None,
                  "start_block": None, "status": "failed" if failed_write else "interrupted" if result.interrupted else "ok",
                  "error": result.error.message if failed_write else "", "verified": None, "failed": []}
    result.destinations = [dest]
    if failed_write or not verify:
        mark_not_read_back(result.destinations)
        return
    tops = sorted({f.path.split("/", 1)[0] for f in result.manifest.files})
    r = verify_mounted(mountpoint, patterns=tops)
    wanted = {f.path for f in result.manifest.files if f.kind == "file" and f.status == "ok"}
    dest["verified"] = len([p for t in r.tape_files for p in t.verified if p in wanted])
    dest["failed"] = [{"path": f["path"], "reason": f["reason"]} for f in r.failed]
    if r.failed or r.errors:
        dest["status"] = "failed"
        dest["error"] = r.errors[0].message if r.errors else f"{len(r.failed)} file(s) failed read-back"


def _library_of(tapes: Sequence[Target], where: _Where) -> Library | None:
    """The library a spanning job takes its cartridges from: given, or named as the target."""
    libs = [t for t in tapes if isinstance(t, Library)]
    if libs:
        return libs[0]
    spec = where.library or next((t for t in tapes[:1] if isinstance(t, str) and is_library_spec(t)), None)
    return open_library(spec, drive_devices=where.drive_devices) if spec else None


def _supplies(tapes: Sequence[Target], lib: Library | None, opts: WriteOptions, patterns: list[str], where: _Where,
              next_tape_command: str | None, ask: Ask | None) -> list[CartridgeSupply]:
    allow_old = opts.allow_old_generation
    if lib is not None:
        return list(library_supplies(lib, patterns, allow_old=allow_old, first_barcode=where.barcode))
    specs = [target_name(t) for t in tapes]
    if next_tape_command:
        return [CommandSupply(d, next_tape_command, allow_old=allow_old) for d in specs]
    if ask is None:
        raise one_drive_error("--span")
    return [PromptSupply(d, ask, allow_old=allow_old) for d in specs]


def _write_span(srcs: list[Path], tapes: Sequence[Target], folders: list[Path], opts: WriteOptions, patterns: list[str],
                where: _Where, progress: ProgressCallback | None, catalog: CatalogArg, *, verify: bool | None,
                split_files: bool, next_tape_command: str | None, ask: Ask | None) -> WriteResult:
    """A job that spans cartridges: one set per supply (per library pattern, or per drive), the catalog,
    and with `verify` (a library only: the cartridges must come back; the default there) each set read back and
    proven. On one drive the set is not read back unless asked (`lto-archive span verify` reads it later)."""
    if not tapes and where.library is None:
        raise UsageError("a job that spans cartridges needs a drive or a library")
    lib_given = where.library is not None or any(isinstance(t, Library) for t in tapes) or (
        isinstance(tapes[0], str) and is_library_spec(tapes[0]))
    if verify and not lib_given:
        raise UsageError("--verify with --span needs a library (the cartridges must come back to the drive); "
                         "on one drive, read the set back later with `lto-archive span verify`")
    verify = lib_given if verify is None else verify
    if lib_given and len(tapes) > 1:
        raise UsageError("--span from a library: one set per --barcodes pattern, each on its own drive of the "
                         "library (give the library once, not several --device)")
    if not lib_given and len(patterns) > 1:
        raise UsageError("several --barcodes patterns (one set each) need a library; on separate drives give "
                         "one --device per set")
    lib = _library_of(tapes, where) if lib_given else None
    supplies = _supplies(tapes, lib, opts, patterns, where, next_tape_command, ask)
    results = write_spans(list(srcs), supplies, opts, progress, split_files=split_files, folders=list(folders))
    with catalog_store(catalog) as store:
        if store is not None:
            with store.transaction():
                for result in results:
                    if result.volumes:
                        record_span_write(store, result)
    checks: list[ReadResult | None] = []
    for result in results:
        check = None
        if verify and result.error is None and lib is not None:
            raw = read_span(LibraryLoader(lib, [b for b in result.barcodes if b]), "verify", set_id=result.set_id)
            with catalog_store(catalog) as store:
                if store is not None:
                    record_span_reads(store, raw)
            check = ReadResult(raw)
        checks.append(check)
    return WriteResult(sets=results, checks=checks)


__all__ = ["write", "DEFAULT_LOG_DIR"]
