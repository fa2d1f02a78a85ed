"""`write`, `verify`, `ls`, `restore`: thin over the library jobs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

import lto_archive
from lto_archive import DEFAULT_ALGORITHMS, Catalog, Folder, ReadResult, UsageError, archive_formats

from .catalog_cmds import catalog_option
from .job_report import job_report, report_option
from .common import ProgressBar, device_or_library, device_selection, emit, library_options, optional_device_or_library
from .render import NOT_READ_BACK_TEXT, read_text, span_read_text, span_text, write_text


def _device_option(f):  # type: ignore[no-untyped-def]
    f = library_options()(f)
    return click.option("--device", callback=device_or_library,
                        help="/dev/nstN (a tape drive; st:/dev/nstN?block=512K), vtape:DIR (a virtual cartridge), vlib:DIR (a virtual library's loaded drive), null:, "
                             "or ltfs-mount:DIR (a mounted LTFS volume); with --library and --barcode: optional."
                        )(f)


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
@click.option("--format", "fmt", default="tar", show_default=True, type=click.Choice(list(archive_formats())),
              help="tar: a POSIX pax archive per session; cpio / cpio-crc: SVR4 newc (files under 4 GiB); "
                   "axf: our open self-describing container (docs/formats/axf-style.md); "
                   "ltfs: append to an LTFS volume (lto-archive format).")
@click.option("--index-every", default="64G", show_default=True,
              help="LTFS: write an intermediate index after this much data (a crash loses at most this; decimal: 64G = 64 GB).")
@click.option("--index-minutes", default=10.0, show_default=True, type=float,
              help="LTFS: ...or after this many minutes, whichever comes first.")
@click.option("--hash", "hashes", default=",".join(DEFAULT_ALGORITHMS), show_default=True,
              help="Comma-separated: xxh64, xxh3, xxh128, md5, sha1, sha256.")
@click.option("--block-size", default="512K", show_default=True, help="Tape record size, 4K .. 1M (binary: 512K = 524,288 bytes).")
@click.option("--operator", default=None, help="Name in the copy log (default: the login name).")
@click.option("--production", default=None,
              help="The production (film, series) the footage belongs to: the copy log's folder "
                   "(logs/<production>/<day>/) and the job report name it.")
@click.option("--log-dir", default=None, type=click.Path(path_type=Path),
              help="Where the copy log of the job is written (default: logs/<production or 'no-production'>/"
                   "<YYYY-MM-DD>/ in the catalog's folder).")
@click.option("--verify/--no-verify", "verify_after", default=None,
              help="Read every destination back after writing (the default). --no-verify: the summary says "
                   "'written, not read back' for each destination, never 'ok'. --span on one drive: not read back "
                   "unless asked.")
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
@click.option("--paperwork-password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Encrypt the job's paperwork .7z (beside its copy log) with AES-256: the file's first line.")
@report_option
@_progress_option
@_json_option
def write(sources: tuple[Path, ...], devices: tuple[str, ...], copy_to: tuple[Path, ...], fmt: str, index_every: str,
          index_minutes: float, hashes: str, block_size: str, operator: str | None, production: str | None,
          log_dir: Path | None,
          verify_after: bool | None, allow_old_generation: bool, span_set: bool, barcode_pattern: tuple[str, ...],
          next_tape_command: str | None, split_files: bool, catalog_path: Path | None, no_catalog: bool,
          paperwork_password_file: Path | None,
          report_path: Path | None, progress: bool | None, as_json: bool) -> None:
    """Write SOURCE folders to tape(s) as one archive, hashing in the same pass; copy to folders too."""
    with job_report(report_path, "write", as_json=as_json, production=production, operator=operator,
                    targets=[*devices, *copy_to]) as outcome:
        bar = ProgressBar(progress)
        try:
            result = outcome.result = lto_archive.write(
                list(sources), [*devices, *(Folder(c) for c in copy_to)], format=fmt, hashes=hashes,
                block_size=block_size, operator=operator, allow_old_generation=allow_old_generation, log_dir=log_dir,
                verify=verify_after, index_every=index_every, index_minutes=index_minutes,
                span=barcode_pattern if span_set else None, next_tape_command=next_tape_command,
                split_files=split_files, ask=ask_operator if sys.stdin.isatty() else None, catalog=catalog_path,
                record=not no_catalog, progress=bar, production=production,
                paperwork_password_file=paperwork_password_file, **device_selection())
        finally:
            bar.close()
        emit(result.to_dict(), as_json, lambda: _write_text(result))
        result.raise_for_status()


def _write_text(result: lto_archive.WriteResult) -> None:
    """A write's summary: the job, or each span set and its read-back."""
    if not result.sets:
        write_text(result)
    for one, check in zip(result.sets, result.checks):
        span_text(one)
        if check is not None:
            span_read_text(check)
        else:
            click.secho(f"span set {one.set_id}: {NOT_READ_BACK_TEXT} (read it with `lto-archive span verify`)",
                        fg="yellow")


def ask_operator(message: str) -> bool:
    """The operator loads the next cartridge: Enter goes on, q (or no) stops."""
    answer = click.prompt(message, default="", show_default=False, err=True)
    return answer.strip().lower() not in ("q", "quit", "stop", "n", "no")


def _index_options(f):  # type: ignore[no-untyped-def]
    """--generation / --rollback: an LTFS volume read from an older index, only on purpose."""
    f = click.option("--rollback", is_flag=True,
                     help="LTFS: when the newest index cannot be used, read the newest readable older generation "
                          "(said loudly; files written after it are missing). Without it: damage, exit 6.")(f)
    return click.option("--generation", type=click.IntRange(min=1), default=None,
                        help="LTFS: read this index generation (an older one, on purpose; said loudly).")(f)


@click.command("verify")
@click.option("--device", default=None, callback=optional_device_or_library,
              help="/dev/nstN (a tape drive), vtape:DIR (a virtual cartridge), vlib:DIR, null:, or ltfs-mount:DIR (a mounted LTFS volume).")
@library_options()
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instead of a tape: a folder a write job copied to (--copy-to), read back against the job "
                   "manifests it holds.")
@click.option("--operator", default=None, help="Who verifies, in the catalog (default: the login name).")
@click.option("--tape-file", "tape_files", type=click.IntRange(min=0), multiple=True,
              help="Only these tape files (numbered from 0, as `ls` shows them; repeatable).")
@click.option("--manifest", "copy_log", type=click.Path(exists=True, path_type=Path), default=None,
              help="A job's copy log (.json), for a tape file whose own manifest is missing.")
@catalog_option
@click.option("--no-catalog", is_flag=True, help="Do not record the verification in the catalog.")
@click.option("--accept-unproven", is_flag=True, help="Files with no evidence at all (no manifest, no checksum "
              "of their own, e.g. a foreign TAR) are accepted as read: exit 0 instead of 5.")
@click.option("--accept-salvaged", is_flag=True, help="Files `ltfs recover --salvage` kept in lost+found are "
              "accepted as known-unproven (still named): exit 0 instead of 5 when all else is proven.")
@_index_options
@report_option
@_progress_option
@_json_option
def verify(device: str | None, folder: Path | None, operator: str | None, tape_files: tuple[int, ...],
           copy_log: Path | None, catalog_path: Path | None, no_catalog: bool, generation: int | None, rollback: bool,
           report_path: Path | None, progress: bool | None, as_json: bool, accept_unproven: bool = False,
           accept_salvaged: bool = False) -> None:
    """Read every file back and compare its hashes with the manifest (of a tape, or of a folder copy)."""
    if (device is None) == (folder is None):
        raise UsageError("verify needs either --device (a tape) or --folder (a folder copy)")
    with job_report(report_path, "verify", as_json=as_json, operator=operator, targets=[device, folder]) as outcome:
        bar = ProgressBar(progress)
        try:
            result = outcome.result = lto_archive.verify(
                Folder(folder) if folder is not None else device, manifest=copy_log, tape_files=tape_files or None,
                catalog=catalog_path, record=not no_catalog, operator=operator, progress=bar, generation=generation,
                rollback=rollback, accept_unproven=accept_unproven, accept_salvaged=accept_salvaged,
                **device_selection())
        finally:
            bar.close()
        emit(result.to_dict(), as_json,
             lambda: folder_text(result) if folder is not None else read_text(result, "verify"))
        result.raise_for_status()


def folder_text(result: ReadResult) -> None:
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


@click.command("ls")
@_device_option
@click.option("--tape-file", "tape_files", type=click.IntRange(min=0), multiple=True,
              help="Only these tape files (numbered from 0, as `ls` shows them; repeatable).")
@click.option("--long", "-l", "long_", is_flag=True, help="Size, mtime and tape position of each member.")
@_index_options
@_json_option
def ls(device: str, tape_files: tuple[int, ...], long_: bool, generation: int | None, rollback: bool,
       as_json: bool) -> None:
    """List what is on the tape, tape file by tape file."""
    result = lto_archive.list_files(device, tape_files=tape_files or None, generation=generation, rollback=rollback,
                                    **device_selection())

    def text() -> None:
        for note in result.notes:
            click.secho(f"note: {note}", fg="yellow", err=True)
        if long_ and result.tape_files:
            click.echo(f"{'size (bytes)':>14}  {'modified (UTC)':<19}  {'position':<22}  path")
            click.echo("# position: block B+O = the member's data starts O bytes into record B of its tape file")
        for t in result.tape_files:
            click.echo(f"# tape file {t.tape_file}" + (f"  session {t.session_id}" if t.session_id else ""))
            for m in t.members:
                name = m.path + ("/" if m.kind == "dir" else "") + (f" -> {m.linkname}" if m.linkname else "")
                if long_:
                    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(m.mtime)) if m.mtime else "-"
                    click.echo(f"{m.size:>14}  {when:<19}  {'block ' + str(m.block) + '+' + str(m.offset):<22}  {name}")
                else:
                    click.echo(name)
            if t.error:
                click.secho(f"  damaged: {t.error.message}", fg="red", err=True)
    emit(result.to_dict(), as_json, text)
    result.raise_for_status()


@click.command("restore")
@click.option("--device", "devices", multiple=True, callback=optional_device_or_library,
              help="/dev/nstN, vtape:DIR, vlib:DIR, or ltfs-mount:DIR. With --from-catalog: every cartridge the plan names "
                   "(repeat).")
@library_options()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.argument("patterns", nargs=-1)
@click.option("--tape-file", "tape_files", type=click.IntRange(min=0), multiple=True,
              help="Only these tape files (numbered from 0, as `ls` shows them; repeatable). Default: every tape "
                   "file, and a path held in several sessions comes from the newest; the older copies are passed "
                   "over (said). --tape-file 0 restores the first session's.")
@click.option("--session", "session", default=None, metavar="ID",
              help="Only this session's tape file(s): its ID, or enough of it to name one (verify and restore name "
                   "each tape file's session). With --from-catalog: that session's copies.")
@click.option("--overwrite", is_flag=True, help="Replace files that already exist in DEST (files this restore "
              "wrote from an older session are replaced by a newer one's without it).")
@click.option("--accept-unproven", is_flag=True, help="Files with no evidence at all (no manifest, no checksum "
              "of their own, e.g. a foreign TAR) are accepted as read: exit 0 instead of 5.")
@click.option("--keep-damaged", is_flag=True, help="Keep the bytes of a file that FAILED as NAME.damaged (never "
              "under its real name).")
@click.option("--manifest", "copy_log", type=click.Path(exists=True, path_type=Path), default=None,
              help="A job's copy log (.json), for a tape file whose own manifest is missing.")
@click.option("--from-catalog", is_flag=True,
              help="PATTERNs are looked up in the catalog: it names the cartridges to load and each file is "
                   "read by locating straight to it, in tape order (without --device: just the plan).")
@catalog_option
@click.option("--no-catalog", is_flag=True, help="Do not record what the restore proved in the catalog.")
@_index_options
@report_option
@_progress_option
@_json_option
def restore(devices: tuple[str, ...], dest: Path, patterns: tuple[str, ...], tape_files: tuple[int, ...],
            overwrite: bool, copy_log: Path | None, from_catalog: bool, catalog_path: Path | None, no_catalog: bool,
            generation: int | None, rollback: bool, report_path: Path | None, progress: bool | None,
            as_json: bool, keep_damaged: bool = False, accept_unproven: bool = False, session: str | None = None) -> None:
    """Restore files (all, or those matching PATTERNs) into DEST, verifying them on the way. A file that fails
    is never left under its real name."""
    _check_dest(dest, patterns)
    if not from_catalog and len(devices) != 1:
        raise UsageError("restore needs one --device (or --from-catalog to restore across cartridges)")
    with job_report(report_path if devices else None, "restore", as_json=as_json,
                    targets=[*devices, f"DEST {dest}"]) as outcome:
        if from_catalog:
            outcome.result = _restore_from_catalog(devices, dest, patterns, overwrite, catalog_path, no_catalog,
                                                   progress, as_json, {"session": session, "tape_files": tape_files})
            if outcome.result is not None:
                outcome.result.raise_for_status()
            return
        bar = ProgressBar(progress)
        try:
            result = outcome.result = lto_archive.restore(
                devices[0], dest, patterns, tape_files=tape_files or None, overwrite=overwrite, manifest=copy_log,
                catalog=catalog_path, record=not no_catalog, progress=bar, generation=generation, rollback=rollback,
                keep_damaged=keep_damaged, accept_unproven=accept_unproven, session=session, **device_selection())
        finally:
            bar.close()
        emit(result.to_dict(), as_json, lambda: read_text(result, "restore"))
        result.raise_for_status()


def _check_dest(dest: Path, patterns: tuple[str, ...]) -> None:
    """A DEST that looks like a pattern and does not exist is a forgotten DEST, not a folder to make."""
    if not dest.exists() and any(c in str(dest) for c in "*?["):
        example = " ".join(["./restored", f"'{dest}'", *(f"'{p}'" for p in patterns)])
        raise UsageError(f"DEST {str(dest)!r} looks like a pattern and does not exist: restore takes the folder "
                         f"to restore into first, then the PATTERNs (e.g. lto-archive restore --device ... {example})")


def _restore_from_catalog(devices: tuple[str, ...], dest: Path, patterns: tuple[str, ...], overwrite: bool,
                          catalog_path: Path | None, no_catalog: bool, progress: bool | None,
                          as_json: bool, choice: dict[str, Any]) -> ReadResult | None:
    """The catalog names the cartridges; each given --device is matched to one by its barcode (or LTFS uuid),
    or the --library's robot loads them. Without --device: just the plan. The caller raises for the status."""
    if not devices:
        with Catalog(catalog_path, create=False) as cat:
            plan = cat.plan_restore(list(patterns), **choice)
        emit(cat.plan_document(plan), as_json, lambda: [click.echo(line) for line in cat.load_instructions(plan)])
        return None
    sel = device_selection()
    bar = ProgressBar(progress)
    try:
        result = lto_archive.restore_from_catalog(catalog_path, dest, patterns, devices=devices,
                                                  library=sel["library"], drive_devices=sel["drive_devices"],
                                                  overwrite=overwrite, progress=bar, record=not no_catalog, **choice)
    finally:
        bar.close()
    emit(result.to_dict(), as_json, lambda: read_text(result, "restore"))
    return result
