"""`write`, `verify`, `ls`, `restore`: thin over the library jobs."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from lto_archive.catalog import record_read, record_write
from lto_archive.jobs.catalog_import import record_job
from lto_archive.errors import DeviceError, JobIncomplete, LtoArchiveError, UsageError
from lto_archive.hashing import DEFAULT_ALGORITHMS
from lto_archive.jobs.read import ReadResult, list_tape, load_copy_log, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, WriteResult, formats, write_archive

from .catalog_cmds import catalog_option, open_catalog
from .common import (ProgressBar, device_from, device_or_library, emit, human_bytes, library_options,
                     library_selection, optional_device_or_library, parse_size)

DEFAULT_LOG_DIR = "lto-archive-logs"


def _device_option(f):  # type: ignore[no-untyped-def]
    f = library_options()(f)
    return click.option("--device", callback=device_or_library,
                        help="/dev/nstN (a tape drive; st:/dev/nstN?block=512K), vtape:DIR (a virtual cartridge), vlib:DIR (a virtual library's loaded drive), null:, "
                             "or ltfs-mount:DIR (a mounted LTFS volume); with --library and --barcode: optional."
                        )(f)


MOUNT_PREFIX = "ltfs-mount:"


def _mountpoint(device: str) -> Path | None:
    """A mounted LTFS volume (the LTFS software's own FUSE mount) instead of a tape device."""
    return Path(device[len(MOUNT_PREFIX):]) if device.startswith(MOUNT_PREFIX) else None


def _json_option(f):  # type: ignore[no-untyped-def]
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")(f)


def _progress_option(f):  # type: ignore[no-untyped-def]
    return click.option("--progress/--no-progress", default=None,
                        help="Progress bar on stderr (default: when stderr is a terminal).")(f)


@click.command("write")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--device", "devices", multiple=True, callback=device_or_library,
              help="/dev/nstN, vtape:DIR, vlib:DIR, null:, or ltfs-mount:DIR; repeat for several tapes written in one pass.")
@library_options()
@click.option("--copy-to", "copy_to", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Also copy into this folder (a shuttle drive, a RAID), from the same read; repeatable.")
@click.option("--format", "fmt", default="tar", show_default=True, type=click.Choice(list(formats())),
              help="tar: a POSIX pax archive per session; cpio / cpio-crc: SVR4 newc (files under 4 GiB); "
                   "axf: our open self-describing container (docs/formats/axf-style.md); "
                   "ltfs: append to an LTFS volume (lto-archive format).")
@click.option("--index-every", default="64G", show_default=True,
              help="LTFS: write an intermediate index after this much data (a crash loses at most this).")
@click.option("--index-minutes", default=10.0, show_default=True, type=float,
              help="LTFS: ...or after this many minutes, whichever comes first.")
@click.option("--hash", "hashes", default=",".join(DEFAULT_ALGORITHMS), show_default=True,
              help="Comma-separated: xxh64, xxh3, xxh128, md5, sha1, sha256.")
@click.option("--block-size", default="512K", show_default=True, help="Tape record size, 4K .. 1M.")
@click.option("--operator", default=None, help="Name in the copy log (default: the login name).")
@click.option("--log-dir", default=DEFAULT_LOG_DIR, show_default=True, type=click.Path(path_type=Path),
              help="Where the copy log of the job is written.")
@click.option("--verify/--no-verify", "verify_after", default=None,
              help="Read every destination back after writing (default: on with several destinations).")
@click.option("--allow-old-generation", is_flag=True, help="Allow media older than LTO-5 (against CST RT-030).")
@click.option("--span", "span_set", is_flag=True,
              help="Go on on the next cartridge when this one is full (docs/spanning.md): from the --library, "
                   "by --next-tape-command, or by asking.")
@click.option("--barcodes", "barcode_pattern", multiple=True, default=("*",), show_default=True,
              help="--span from a library: the cartridges it may use, by label pattern (e.g. 'LTA*'); "
                   "repeat it to write one set per pattern in one pass, each on its own drive.")
@click.option("--next-tape-command", default=None,
              help="--span on one drive: run CMD to load the next cartridge (env LTO_ARCHIVE_DRIVE, LTO_ARCHIVE_SET, "
                   "LTO_ARCHIVE_SEQUENCE, LTO_ARCHIVE_FULL_BARCODE); a nonzero exit stops the job cleanly.")
@click.option("--split-files", is_flag=True,
              help="--span: split any file at the end of a cartridge (default: only files larger than a cartridge).")
@catalog_option
@click.option("--no-catalog", is_flag=True, help="Do not record the job in the catalog.")
@_progress_option
@_json_option
def write(sources: tuple[Path, ...], devices: tuple[str, ...], copy_to: tuple[Path, ...], fmt: str, index_every: str,
          index_minutes: float, hashes: str, block_size: str, operator: str | None, log_dir: Path,
          verify_after: bool | None, allow_old_generation: bool, span_set: bool, barcode_pattern: tuple[str, ...],
          next_tape_command: str | None, split_files: bool, catalog_path: Path | None, no_catalog: bool,
          progress: bool | None, as_json: bool) -> None:
    """Write SOURCE folders to tape(s) as one archive, hashing in the same pass; copy to folders too."""
    if span_set:
        from .span_cmds import write_span_command
        opts = WriteOptions(format=fmt, algorithms=tuple(hashes.split(",")), record_size=parse_size(block_size),
                            operator=operator, allow_old_generation=allow_old_generation, log_dir=log_dir,
                            device_name=",".join(devices), index_every_bytes=parse_size(index_every),
                            index_every_seconds=index_minutes * 60)
        write_span_command(list(sources), devices, copy_to, opts, barcode_pattern, next_tape_command, split_files,
                           catalog_path, no_catalog, progress, as_json, verify=bool(verify_after))
        return
    several = len(devices) + len(copy_to) > 1
    opts = WriteOptions(format=fmt, algorithms=tuple(hashes.split(",")), record_size=parse_size(block_size),
                        operator=operator, allow_old_generation=allow_old_generation, log_dir=log_dir,
                        device_name=",".join(devices), index_every_bytes=parse_size(index_every),
                        index_every_seconds=index_minutes * 60,
                        verify=several if verify_after is None else verify_after)
    bar = ProgressBar(progress)
    mp = _mountpoint(devices[0])
    if mp is not None:
        if several:
            raise UsageError("a mounted LTFS volume (ltfs-mount:) is written on its own, without other destinations")
        from lto_archive.jobs.ltfs_mounted import write_to_mount
        try:
            result = write_to_mount(list(sources), mp, opts, progress=bar)
        finally:
            bar.close()
        if not no_catalog:
            with open_catalog(catalog_path) as cat:
                record_write(cat, result, None)
    else:
        with ExitStack() as stack:
            devs = [stack.enter_context(device_from(d)) for d in devices]
            try:
                result = write_archive(list(sources), devs, opts, progress=bar, folders=list(copy_to))
            finally:
                bar.close()
            if not no_catalog:
                _record_write(catalog_path, result, devs, copy_to, fmt)
    emit(_write_dict(result), as_json, lambda: _write_text(result))
    result.raise_for_status()


def _record_write(catalog_path: Path | None, result: WriteResult, devs: list, copy_to: tuple[Path, ...],
                  fmt: str) -> None:
    """Every tape and folder of the job into the catalog, each with its own positions and read-back."""
    with open_catalog(catalog_path) as cat:
        record_job(cat, result, devs)


def _write_dict(r: WriteResult) -> dict:
    return {"status": r.status, "error": r.error.to_dict() if r.error else None, "notes": r.notes,
            "destinations": r.destinations,
            "session": r.manifest.to_dict()["session"], "log": [str(p) for p in r.log_paths],
            "problems": [{"path": f.path, "status": f.status, "message": f.message} for f in r.problems]}


def _write_text(r: WriteResult) -> None:
    s = r.manifest.session
    ok = sum(1 for f in r.files if f.status == "ok")
    for note in r.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    where = (f"LTFS session from b/{s.start_block}" if s.start_block is not None else "LTFS session") \
        if s.format == "ltfs" else f"tape file {s.tape_file}"
    click.echo(f"{where} on {s.barcode or s.device}: {ok} of {len(r.files)} files, "
               f"{human_bytes(s.bytes_copied)} in {s.duration_s:.1f} s ({s.mb_per_s:.0f} MB/s), "
               f"hashes {', '.join(s.algorithms)}")
    for f in r.problems:
        click.secho(f"  {f.status:<12} {f.path}  {f.message}", fg="yellow", err=True)
    for d in r.destinations:
        proven = f", {d['verified']} files proven by read-back" if d.get("verified") is not None else ""
        line = f"  {d['kind']:<6} {d['destination']}: {d['status']}{proven}"
        click.secho(line + (f" - {d['error']}" if d.get("error") else ""),
                    fg=None if d["status"] == "ok" else "red")
        for f in d.get("failed") or []:
            click.secho(f"         FAILED {f['path']}: {f['reason']}", fg="red")
        for n in d.get("notes") or []:
            click.secho(f"         note: {n}", fg="yellow", err=True)
    for p in r.log_paths:
        click.echo(f"copy log: {p}")


def _read_text(r: ReadResult, verb: str) -> None:
    for note in r.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    for t in r.tape_files:
        where = f"tape file {t.tape_file}" + (f" (session {t.session_id})" if t.session_id else "")
        if r.phase == "list":
            continue
        if t.manifest is None and not t.verified and not t.failed:
            click.echo(f"{where}: {len(t.members)} members read; no lto-archive manifest, nothing to compare")
        else:
            source = t.manifest_source if t.manifest is not None else "catalog"
            click.echo(f"{where}: {len(t.verified)} files verified"
                       + (f", {len(t.restored)} restored" if verb == "restore" else "")
                       + (f" (against the {source})" if source != "tape" else ""))
        tape_file_problems(t)
    if r.phase != "list":
        click.echo(f"result: {r.status}")


def tape_file_problems(t, indent: str = "  ") -> None:  # type: ignore[no-untyped-def]
    """What went wrong in one tape file (a TapeFileResult): failed, unproven, refused, damage."""
    for f in t.failed:
        click.secho(f"{indent}FAILED     {f['path']}: {f['reason']}", fg="red")
    for u in t.unproven:
        click.secho(f"{indent}unproven   {u['path']}: {u['reason']}", fg="yellow")
    for x in t.refused:
        click.secho(f"{indent}refused    {x['path']}: {x['message']}", fg="red")
    if t.error:
        click.secho(f"{indent}damaged    {t.error.message}", fg="red")


@click.command("verify")
@click.option("--device", default=None, callback=optional_device_or_library,
              help="/dev/nstN (a tape drive), vtape:DIR (a virtual cartridge), vlib:DIR, null:, or ltfs-mount:DIR (a mounted LTFS volume).")
@library_options()
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instead of a tape: a folder a write job copied to (--copy-to), read back against the job "
                   "manifests it holds.")
@click.option("--operator", default=None, help="Who verifies, in the catalog (default: the login name).")
@click.option("--tape-file", "tape_files", type=int, multiple=True, help="Only these tape files (0 = first).")
@click.option("--manifest", "copy_log", type=click.Path(exists=True, path_type=Path), default=None,
              help="A job's copy log (.json), for a tape file whose own manifest is missing.")
@catalog_option
@click.option("--no-catalog", is_flag=True, help="Do not record the verification in the catalog.")
@_progress_option
@_json_option
def verify(device: str | None, folder: Path | None, operator: str | None, tape_files: tuple[int, ...],
           copy_log: Path | None, catalog_path: Path | None, no_catalog: bool, progress: bool | None,
           as_json: bool) -> None:
    """Read every file back and compare its hashes with the manifest (of a tape, or of a folder copy)."""
    if (device is None) == (folder is None):
        raise UsageError("verify needs either --device (a tape) or --folder (a folder copy)")
    if folder is not None:
        _verify_folder(folder, operator, catalog_path, no_catalog, as_json)
        return
    bar = ProgressBar(progress)
    mp = _mountpoint(device)
    try:
        if mp is not None:
            from lto_archive.jobs.ltfs_mounted import verify_mounted
            result = verify_mounted(mp, manifest=load_copy_log(copy_log) if copy_log else None, progress=bar)
        else:
            with device_from(device) as dev:
                result = verify_tape(dev, tape_files=tape_files or None,
                                     manifest=load_copy_log(copy_log) if copy_log else None, progress=bar)
                if not no_catalog:
                    with open_catalog(catalog_path) as cat:
                        record_read(cat, result, dev.medium(), operator)
    finally:
        bar.close()
    emit(result.to_dict(), as_json, lambda: _read_text(result, "verify"))
    result.raise_for_status()


def _verify_folder(folder: Path, operator: str | None, catalog_path: Path | None, no_catalog: bool,
                   as_json: bool) -> None:
    from lto_archive.catalog import record_folder_read
    from lto_archive.jobs.folder_verify import verify_folder
    result = verify_folder(folder)
    doc = result.to_dict()
    if not no_catalog:
        with open_catalog(catalog_path) as cat:
            doc["recorded"] = record_folder_read(cat, result, operator).to_dict()

    def text() -> None:
        for note in result.notes:
            click.secho(f"note: {note}", fg="yellow", err=True)
        for s in result.sessions:
            click.echo(f"session {s.session_id}: {len(s.verified)} files verified")
            for f in s.failed:
                click.secho(f"  FAILED     {f['path']}: {f['reason']}", fg="red")
            for u in s.unproven:
                click.secho(f"  unproven   {u['path']}: {u['reason']}", fg="yellow")
        click.echo(f"{result.root} ({result.volume.volume_id if result.volume else 'volume unknown'}): "
                   f"result: {result.status}")
    emit(doc, as_json, text)
    result.raise_for_status()


@click.command("ls")
@_device_option
@click.option("--tape-file", "tape_files", type=int, multiple=True)
@click.option("--long", "-l", "long_", is_flag=True, help="Size, mtime and tape position of each member.")
@_json_option
def ls(device: str, tape_files: tuple[int, ...], long_: bool, as_json: bool) -> None:
    """List what is on the tape, tape file by tape file."""
    mp = _mountpoint(device)
    if mp is not None:
        from lto_archive.jobs.ltfs_mounted import list_mounted
        result = list_mounted(mp)
    else:
        with device_from(device) as dev:
            result = list_tape(dev, tape_files=tape_files or None)
    data = {"notes": result.notes, "tape_files": [{"tape_file": t.tape_file, "session_id": t.session_id,
                            "error": t.error.to_dict() if t.error else None,
                            "members": [vars(m) for m in t.members]} for t in result.tape_files]}

    def text() -> None:
        for note in result.notes:
            click.secho(f"note: {note}", fg="yellow", err=True)
        for t in result.tape_files:
            click.echo(f"# tape file {t.tape_file}" + (f"  session {t.session_id}" if t.session_id else ""))
            for m in t.members:
                name = m.path + ("/" if m.kind == "dir" else "") + (f" -> {m.linkname}" if m.linkname else "")
                if long_:
                    click.echo(f"{m.size:>14}  block {m.block:>8}+{m.offset:<7}  {name}")
                else:
                    click.echo(name)
            if t.error:
                click.secho(f"  damaged: {t.error.message}", fg="red", err=True)
    emit(data, as_json, text)
    if result.errors:
        raise result.errors[0]


@click.command("restore")
@click.option("--device", "devices", multiple=True, callback=optional_device_or_library,
              help="/dev/nstN, vtape:DIR, vlib:DIR, or ltfs-mount:DIR. With --from-catalog: every cartridge the plan names "
                   "(repeat).")
@library_options()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.argument("patterns", nargs=-1)
@click.option("--tape-file", "tape_files", type=int, multiple=True)
@click.option("--overwrite", is_flag=True, help="Replace files that already exist in DEST.")
@click.option("--manifest", "copy_log", type=click.Path(exists=True, path_type=Path), default=None,
              help="A job's copy log (.json), for a tape file whose own manifest is missing.")
@click.option("--from-catalog", is_flag=True,
              help="PATTERNs are looked up in the catalog: it names the cartridges to load and each file is "
                   "read by locating straight to it, in tape order (without --device: just the plan).")
@catalog_option
@click.option("--no-catalog", is_flag=True, help="Do not record what the restore proved in the catalog.")
@_progress_option
@_json_option
def restore(devices: tuple[str, ...], dest: Path, patterns: tuple[str, ...], tape_files: tuple[int, ...],
            overwrite: bool, copy_log: Path | None, from_catalog: bool, catalog_path: Path | None, no_catalog: bool,
            progress: bool | None, as_json: bool) -> None:
    """Restore files (all, or those matching PATTERNs) into DEST, verifying them on the way."""
    if from_catalog:
        _restore_from_catalog(devices, dest, patterns, overwrite, catalog_path, no_catalog, progress, as_json)
        return
    if len(devices) != 1:
        raise UsageError("restore needs one --device (or --from-catalog to restore across cartridges)")
    device = devices[0]
    bar = ProgressBar(progress)
    mp = _mountpoint(device)
    try:
        if mp is not None:
            from lto_archive.jobs.ltfs_mounted import restore_mounted
            result = restore_mounted(mp, dest, patterns=list(patterns), overwrite=overwrite,
                                     manifest=load_copy_log(copy_log) if copy_log else None, progress=bar)
        else:
            with device_from(device) as dev:
                result = restore_tape(dev, dest, patterns=list(patterns), tape_files=tape_files or None,
                                      overwrite=overwrite, manifest=load_copy_log(copy_log) if copy_log else None,
                                      progress=bar)
                if not no_catalog:
                    with open_catalog(catalog_path) as cat:
                        record_read(cat, result, dev.medium())
    finally:
        bar.close()
    emit(result.to_dict(), as_json, lambda: _read_text(result, "restore"))
    result.raise_for_status()
    if not any(t.restored for t in result.tape_files):
        raise JobIncomplete("nothing matched: no file was restored", patterns=list(patterns))


def _restore_from_catalog(devices: tuple[str, ...], dest: Path, patterns: tuple[str, ...], overwrite: bool,
                          catalog_path: Path | None, no_catalog: bool, progress: bool | None, as_json: bool) -> None:
    """The catalog names the cartridges; each given --device is matched to one by its barcode (or LTFS uuid)."""
    from lto_archive.jobs.catalog_restore import (load_instruction_lines, loaded_labels, plan_document,
                                                  plan_restore, restore_from_plan)
    if not patterns:
        raise UsageError("--from-catalog needs the PATHs (or patterns) to restore")
    with open_catalog(catalog_path, create=False) as cat:
        if not devices:
            plan = plan_restore(cat, list(patterns))
            emit(plan_document(plan), as_json, lambda: [click.echo(line) for line in load_instruction_lines(plan)])
            return
        lib_spec = library_selection().get("library") or (devices[0] if devices[0].startswith("vlib:") else None)
        if lib_spec is not None and set(devices) == {lib_spec}:
            result = _restore_catalog_from_library(cat, lib_spec, patterns, dest, overwrite, no_catalog, progress)
            emit(result.to_dict(), as_json, lambda: _read_text(result, "restore"))
            result.raise_for_status()
            return
        with ExitStack() as stack:
            opened = [stack.enter_context(device_from(d)) for d in devices]
            plan = plan_restore(cat, list(patterns), loaded=loaded_labels(opened))   # what is loaded first

            def open_cartridge(label: str):  # type: ignore[no-untyped-def]
                for dev in opened:
                    if (dev.medium().barcode or "").upper() == label.upper():
                        return dev
                if label.startswith("ltfs:"):
                    from lto_archive.formats.ltfs.volume import open_volume
                    for dev in opened:
                        try:
                            if open_volume(dev).label.volume_uuid == label[5:]:
                                return dev
                        except LtoArchiveError:
                            continue
                raise DeviceError(f"cartridge {label} is needed but none of the given devices holds it: load it "
                                  f"and name it with --device", barcode=label)

            bar = ProgressBar(progress)
            try:
                result = restore_from_plan(plan, open_cartridge, dest, overwrite=overwrite, progress=bar,
                                           catalog=None if no_catalog else cat)
            finally:
                bar.close()
    emit(result.to_dict(), as_json, lambda: _read_text(result, "restore"))
    result.raise_for_status()


def _restore_catalog_from_library(cat, lib_spec: str, patterns: tuple[str, ...],  # type: ignore[no-untyped-def]
                                  dest: Path, overwrite: bool, no_catalog: bool, progress: bool | None):
    """restore --from-catalog --library L: the robot loads each cartridge the plan names, in plan order
    (what the drives hold already is read first)."""
    from lto_archive.jobs.catalog_restore import plan_restore, restore_from_plan
    from lto_archive.library import open_library
    from lto_archive.library.mtx import parse_drive_devices
    from lto_archive.span.read import LibraryLoader
    lib = open_library(lib_spec, drive_devices=parse_drive_devices(library_selection().get("drive_device", ())))
    plan = plan_restore(cat, list(patterns), loaded=[d.barcode for d in lib.status().drives if d.barcode])
    loader = LibraryLoader(lib, [c.barcode for c in plan])
    current: list = []

    def open_cartridge(label: str):  # type: ignore[no-untyped-def]
        if current:
            loader.done(current.pop())      # put the previous one away: its drive takes the next
        current.append(loader.load(loader.barcodes.index(label) + 1, None))
        return current[-1]

    bar = ProgressBar(progress)
    try:
        return restore_from_plan(plan, open_cartridge, dest, overwrite=overwrite, progress=bar,
                                 catalog=None if no_catalog else cat)
    finally:
        bar.close()
        if current:
            current.pop().close()           # the last one stays in its drive
