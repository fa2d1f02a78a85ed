"""`verify`, `restore`, `list_files`: read any target back — a tape, a mounted LTFS volume, a folder copy,
a set of cartridges in a library — and `restore_from_catalog`, where the catalog names the cartridges."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..catalog import Catalog as CatalogStore
from ..catalog import record_folder_read, record_read
from ..errors import DeviceError, LtoArchiveError, UsageError
from ..jobs.catalog_restore import loaded_labels, plan_restore, restore_from_plan
from ..jobs.folder_verify import verify_folder
from ..jobs.salvaged import settle_salvaged
from ..jobs.ltfs_mounted import list_mounted, restore_mounted, verify_mounted
from ..progress import ProgressCallback
from ..jobs.read import list_tape, load_copy_log, locate_tape_file, open_tape_file, restore_tape, verify_tape
from ..jobs.medium import TapeFiles, open_medium
from ..jobs.restore_choice import session_tape_files, tape_file_sessions
from ..library import Library
from ..manifest import Manifest
from ..span.catalog import find_set
from ..span.read import DriveLoader, LibraryLoader, SpanReadResult, VolumeLoader, read_span
from ..tape import TapeDevice
from .catalog import Catalog, CatalogArg, catalog_store
from .targets import (Folder, Target, is_library_spec, loaded_drive, mount_of, one_drive_error, open_library, open_tape,
                      target_name)
from .ltfs import ltfs_volume_uuid
from .results import Listing, ReadResult

PathLike = str | os.PathLike[str]
Ask = Callable[[str], bool]
Drives = Mapping[int, str] | Iterable[str] | None


def _manifest(manifest: Manifest | PathLike | None) -> Manifest | None:
    """A copy log (its path, or loaded) for a tape file whose own manifest is missing."""
    if manifest is None or isinstance(manifest, Manifest):
        return manifest
    return load_copy_log(Path(manifest))


def _tape(t: Any, stack: ExitStack, barcode: str | None, library: str | None, drive_devices: Drives) -> TapeDevice:
    if isinstance(t, TapeDevice):
        return t
    if isinstance(t, Library):
        return stack.enter_context(t.open_drive(loaded_drive(t)))
    return stack.enter_context(open_tape(str(t), barcode=barcode, library=library, drive_devices=drive_devices))


def record_span_reads(store: CatalogStore, result: SpanReadResult) -> None:
    """What a verify or restore of a set proved, per cartridge, into the catalog."""
    for t, medium in zip([t for t in result.tape_files if t.manifest is not None], result.media):
        record_read(store, SpanReadResult(result.phase, [t]), medium)


def _read_set(phase: str, target: Any, *, set: str | None, cartridges: Sequence[str] | None, catalog: CatalogArg,
              record: bool, dest: Path | None = None, overwrite: bool = False, patterns: Sequence[str] = (),
              progress: ProgressCallback | None = None, next_tape_command: str | None = None, ask: Ask | None = None,
              library: str | None = None, drive_devices: Drives = None) -> ReadResult:
    """A set of cartridges a spanning job wrote, volume by volume: from a library (the catalog names the
    set's cartridges, or `cartridges` does) or through one drive (the next from a command or `ask`)."""
    lib: Library | str | None = target if isinstance(target, Library) else library or (
        target if isinstance(target, str) and is_library_spec(target) else None)
    barcodes = [b.strip() for b in cartridges if b.strip()] if cartridges else []
    full_id = None
    if set and not barcodes:
        with catalog_store(None if catalog is False else catalog, create=False) as store:
            assert store is not None
            found = find_set(store, set)
            barcodes = [v["cartridge"] for v in found["volumes"]]
            full_id = found["set_id"]
    loader: VolumeLoader
    if lib is not None:
        if not barcodes:
            raise UsageError("reading a set from a library needs --set (the catalog names its cartridges) or "
                             "--cartridges B1,B2,...")
        loader = LibraryLoader(lib if isinstance(lib, Library) else open_library(lib, drive_devices=drive_devices),
                               barcodes)
    else:
        if not next_tape_command and ask is None:
            raise one_drive_error(f"span {phase}")
        loader = DriveLoader(target_name(target), command=next_tape_command, ask=ask)
    raw = read_span(loader, phase, set_id=full_id, dest=dest, overwrite=overwrite, patterns=list(patterns),
                    progress=progress)
    if record and catalog is not False:
        with catalog_store(catalog) as store:
            if store is not None:
                record_span_reads(store, raw)
    return ReadResult(raw, require_complete=True)


def verify(target: Target, *, manifest: Manifest | PathLike | None = None, tape_files: Sequence[int] | None = None,
           catalog: CatalogArg = None, record: bool = True, operator: str | None = None,
           progress: ProgressCallback | None = None, set: str | None = None, cartridges: Sequence[str] | None = None,
           span: bool = False, next_tape_command: str | None = None, ask: Ask | None = None,
           barcode: str | None = None, library: str | None = None, drive_devices: Drives = None,
           generation: int | None = None, rollback: bool = False, accept_unproven: bool = False,
           accept_salvaged: bool = False) -> ReadResult:
    """Read every file back and compare its hashes with the manifest: of a tape (a device or spec), a mounted
    LTFS volume, a `Folder` copy, or a set of cartridges (`set=ID` or `cartridges=[...]` from a library,
    `span=True` through one drive). `manifest`: a job's copy log, for a tape file whose own is missing.
    What was proven is recorded in `catalog` (default: the default catalog; False: not recorded).
    An LTFS cartridge whose newest index cannot be used is damage (CorruptArchive) unless an older
    generation is asked for: `generation=N`, or `rollback=True` (the newest readable one); said loudly.
    Without a manifest a file is proven by its own checksum (AXF-style footer, cpio crc); one with none is
    unproven ("incomplete") unless `accept_unproven`. Each verified file says what proved it (`proven_by`).
    Files `ltfs recover --salvage` kept in lost+found are unproven, said on a line of their own, unless
    `accept_salvaged` accepts them as known-unproven (docs/recovery.md)."""
    into = catalog if record else False      # where what was proven is recorded
    if isinstance(target, Folder):
        copy = verify_folder(target.path)
        with catalog_store(into) as store:
            recorded = record_folder_read(store, copy, operator) if store is not None else None
        return ReadResult(copy, recorded=recorded)
    if span or set or cartridges:
        return _read_set("verify", target, set=set, cartridges=cartridges, catalog=catalog, record=record,
                         progress=progress, next_tape_command=next_tape_command, ask=ask, library=library,
                         drive_devices=drive_devices)
    mount = mount_of(target)
    if mount is not None:
        return ReadResult(verify_mounted(mount.path, manifest=_manifest(manifest), progress=progress))
    with ExitStack() as stack:
        dev = _tape(target, stack, barcode, library, drive_devices)
        raw = verify_tape(dev, tape_files=tape_files or None, manifest=_manifest(manifest), progress=progress,
                          accept_unproven=accept_unproven, **_index(generation, rollback))
        settle_salvaged(raw, accept=accept_salvaged)
        with catalog_store(into) as store:
            if store is not None:
                record_read(store, raw, dev.medium(), operator)
    return ReadResult(raw)


def restore(target: Target | Catalog, dest: PathLike, patterns: Sequence[str] = (), *, overwrite: bool = False,
            set: str | None = None, cartridges: Sequence[str] | None = None, span: bool = False,
            manifest: Manifest | PathLike | None = None, tape_files: Sequence[int] | None = None,
            catalog: CatalogArg = None, record: bool = True, progress: ProgressCallback | None = None,
            devices: Sequence[Target] = (), next_tape_command: str | None = None, ask: Ask | None = None,
            barcode: str | None = None, library: str | None = None, drive_devices: Drives = None,
            generation: int | None = None, rollback: bool = False, keep_damaged: bool = False,
            accept_unproven: bool = False, session: str | None = None) -> ReadResult:
    """Restore files (all, or those matching `patterns`) into `dest`, verifying each on the way.

    A path the tape holds in several sessions (tape files) is restored from the newest (the last written); the
    older copies are passed over and the result's notes say so. `tape_files` or `session` (a session ID or a
    prefix naming one) restore those tape files only; from a `Catalog`, those copies.

    `target`: a tape (device or spec), a mounted LTFS volume, a library with `set=ID` (a spanning job's set:
    split files are joined), or a `Catalog` (it names the cartridges; `devices` are the drives that hold
    them, or give the library). Existing files in `dest` are refused unless `overwrite`. Nothing matching
    the patterns is an error (`raise_for_status`). A file that fails never appears under its real name
    (`keep_damaged`, from a tape: its bytes are kept beside it as NAME.damaged)."""
    dest = Path(dest)
    if isinstance(target, Catalog):
        return restore_from_catalog(target, dest, patterns, devices=devices, library=library,
                                    drive_devices=drive_devices, overwrite=overwrite, progress=progress, record=record,
                                    session=session, tape_files=tape_files)
    if session is not None and (span or set or cartridges or mount_of(target) is not None):
        raise UsageError("--session chooses among the tape files of one cartridge (a span set: --set; a mounted "
                         "LTFS volume holds one copy of each path)", session=session)
    if span or set or cartridges:
        return _read_set("restore", target, set=set, cartridges=cartridges, catalog=catalog, record=record,
                         dest=dest, overwrite=overwrite, patterns=patterns, progress=progress,
                         next_tape_command=next_tape_command, ask=ask, library=library, drive_devices=drive_devices)
    mount = mount_of(target)
    if mount is not None:
        raw = restore_mounted(mount.path, dest, patterns=list(patterns), overwrite=overwrite,
                              manifest=_manifest(manifest), progress=progress)
        return ReadResult(raw, require_match=list(patterns))
    with ExitStack() as stack:
        dev = _tape(target, stack, barcode, library, drive_devices)
        if session is not None:
            tape_files = _session_tape_files(dev, session, tape_files)
        raw = restore_tape(dev, dest, patterns=list(patterns), tape_files=tape_files or None, overwrite=overwrite,
                           manifest=_manifest(manifest), progress=progress, keep_damaged=keep_damaged,
                           accept_unproven=accept_unproven, **_index(generation, rollback))
        with catalog_store(catalog if record else False) as store:
            if store is not None:
                record_read(store, raw, dev.medium())
    return ReadResult(raw, require_match=list(patterns))


def _session_tape_files(dev: TapeDevice, session: str, tape_files: Sequence[int] | None) -> list[int]:
    """The tape files of `session` on the cartridge (and among `tape_files`, when given too)."""
    if not isinstance(open_medium(dev), TapeFiles):
        raise UsageError("--session: an LTFS volume holds one copy of each path, the newest, in its current index; "
                         "--generation N reads an older index generation", session=session)
    found = session_tape_files(tape_file_sessions(dev, open_tape_file, locate_tape_file), session)
    chosen = [n for n in found if not tape_files or n in tape_files]
    if not chosen:
        raise UsageError(f"session {session!r} is in tape file(s) {', '.join(map(str, found))}, not in the "
                         f"--tape-file given", session=session)
    return chosen


def list_files(target: Target, *, tape_files: Sequence[int] | None = None, barcode: str | None = None,
               library: str | None = None, drive_devices: Drives = None, generation: int | None = None,
               rollback: bool = False) -> Listing:
    """What is on a tape (or mounted LTFS volume), without reading the files' data: iterate the result
    for entries with `.path`, `.size`, `.hashes` (recorded in the manifest) and `.position`."""
    mount = mount_of(target)
    if mount is not None:
        return Listing(list_mounted(mount.path))
    with ExitStack() as stack:
        dev = _tape(target, stack, barcode, library, drive_devices)
        return Listing(list_tape(dev, tape_files=tape_files or None, **_index(generation, rollback)))


def _index(generation: int | None, rollback: bool) -> dict[str, Any]:
    """Which LTFS index generation to read (the newest unless asked): only said when asked."""
    return {"generation": generation, "rollback": rollback} if generation is not None or rollback else {}


def _cartridge_opener(opened: list[TapeDevice]) -> Callable[[str], TapeDevice]:
    """Finds the given device that holds a cartridge the plan names, by barcode or LTFS uuid."""
    def open_cartridge(label: str) -> TapeDevice:
        for dev in opened:
            if (dev.medium().barcode or "").upper() == label.upper():
                return dev
        if label.startswith("ltfs:"):
            for dev in opened:
                try:
                    if ltfs_volume_uuid(dev) == label[5:]:
                        return dev
                except LtoArchiveError:
                    continue
        raise DeviceError(f"cartridge {label} is needed but none of the given devices holds it: load it "
                          f"and name it with --device", barcode=label)
    return open_cartridge


def _from_library(store: CatalogStore, lib: Library, patterns: Sequence[str], dest: Path, overwrite: bool,
                  record: bool, progress: ProgressCallback | None, choice: dict[str, Any]) -> Any:
    """The robot loads each cartridge the plan names, in plan order (what the drives hold is read first)."""
    plan = plan_restore(store, list(patterns), loaded=[d.barcode for d in lib.status().drives if d.barcode], **choice)
    loader = LibraryLoader(lib, [c.barcode for c in plan])
    current: list[TapeDevice] = []

    def open_cartridge(label: str) -> TapeDevice:
        if current:
            loader.done(current.pop())      # put the previous one away: its drive takes the next
        current.append(loader.load(loader.barcodes.index(label) + 1, None))
        return current[-1]
    try:
        return restore_from_plan(plan, open_cartridge, dest, overwrite=overwrite, progress=progress,
                                 catalog=store if record else None)
    finally:
        if current:
            current.pop().close()           # the last one stays in its drive


def restore_from_catalog(catalog: CatalogArg, dest: PathLike, patterns: Sequence[str], *,
                         devices: Sequence[Target] = (), library: str | Library | None = None,
                         drive_devices: Drives = None, overwrite: bool = False,
                         progress: ProgressCallback | None = None, record: bool = True, session: str | None = None,
                         tape_files: Sequence[int] | None = None) -> ReadResult:
    """Restore the files matching `patterns`: the catalog names the cartridges, each file is read by locating
    straight to it, in tape order. The cartridges come from `library` (its robot loads them) or are in
    the `devices` given (matched by barcode or LTFS uuid). Use `Catalog.plan_restore` for the plan alone.
    A path catalogued in several sessions is restored from the newest one's copy (the job that started last;
    the others are passed over, and the notes say so), or from `session` (an ID or its prefix) / `tape_files`."""
    choice: dict[str, Any] = {"session": session, "tape_files": set(tape_files or ())}
    if not patterns:
        raise UsageError("--from-catalog needs the PATHs (or patterns) to restore")
    dest = Path(dest)
    with catalog_store(None if catalog is False else catalog, create=False) as store:
        assert store is not None
        lib: Library | str | None = library
        if lib is None and devices and all(isinstance(d, str) and d.startswith("vlib:") and d == devices[0]
                                           for d in devices):
            lib = str(devices[0])
        if lib is not None and (not devices or {target_name(d) for d in devices} == {target_name(lib)}):
            opened = lib if isinstance(lib, Library) else open_library(lib, drive_devices=drive_devices)
            return ReadResult(_from_library(store, opened, patterns, dest, overwrite, record, progress, choice))
        if not devices:
            raise UsageError("restoring from the catalog needs the devices holding the cartridges, or the library")
        with ExitStack() as stack:
            opened_devs = [_tape(d, stack, None, lib if isinstance(lib, str) else None, drive_devices)
                           for d in devices]
            plan = plan_restore(store, list(patterns), loaded=loaded_labels(opened_devs), **choice)  # loaded first
            raw = restore_from_plan(plan, _cartridge_opener(opened_devs), dest, overwrite=overwrite,
                                    progress=progress, catalog=store if record else None)
    return ReadResult(raw)


__all__ = ["verify", "restore", "list_files", "restore_from_catalog", "record_span_reads"]
