"""`write --span` and `span list|verify|restore`: jobs that span cartridges (docs/spanning.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from lto_archive.catalog.record import record_read
from lto_archive.errors import JobIncomplete, UsageError
from lto_archive.jobs.write import WriteOptions
from lto_archive.library.base import open_library
from lto_archive.span.catalog import find_set, record_span_write, span_sets
from lto_archive.span.read import DriveLoader, LibraryLoader, SpanReadResult, read_span
from lto_archive.span.supply import CartridgeSupply, CommandSupply, PromptSupply, library_supplies
from lto_archive.span.write import SpanResult, write_spans

from .archive_cmds import tape_file_problems
from .catalog_cmds import catalog_option, open_catalog
from .common import ProgressBar, emit, human_bytes, library_selection as _selection


def _library_spec(device: str | None) -> str | None:
    lib = _selection().get("library")
    if lib:
        return lib
    if device and (device.startswith(("vlib:", "mtx:", "/dev/sg"))):
        return device
    return None


def _open_library(spec: str, drive_device: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    from lto_archive.library.mtx import parse_drive_devices
    given = drive_device or _selection().get("drive_device", ())
    return open_library(spec, drive_devices=parse_drive_devices(given) or None)


def _ask(message: str) -> bool:
    answer = click.prompt(message, default="", show_default=False, err=True)
    return answer.strip().lower() not in ("q", "quit", "stop", "n", "no")


def _one_drive(kind: str) -> None:
    if not sys.stdin.isatty():
        raise UsageError(f"{kind} on one drive needs --next-tape-command (or a terminal to ask for the next "
                         f"cartridge); with a library give --library or a vlib:/changer --device")


def write_span_command(sources: list[Path], devices: tuple[str, ...], copy_to: tuple[Path, ...], opts: WriteOptions,
                       pattern: str | tuple[str, ...], next_command: str | None, split_files: bool,
                       catalog_path: Path | None, no_catalog: bool, progress: bool | None, as_json: bool,
                       verify: bool = False) -> None:
    """`write --span`: the supplies from the command line (one set per library pattern or per --device),
    the job, the catalog, the report; with `verify` (a library only: the cartridges must come back)
    each set is read back and proven."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern) or ["*"]
    lib = _library_spec(devices[0] if devices else None)
    if verify and lib is None:
        raise UsageError("--verify with --span needs a library (the cartridges must come back to the drive); "
                         "on one drive, read the set back later with `lto-archive span verify`")
    if lib is not None and len(devices) > 1:
        raise UsageError("--span from a library: one set per --barcodes pattern, each on its own drive of the "
                         "library (give the library once, not several --device)")
    if lib is None and len(patterns) > 1:
        raise UsageError("several --barcodes patterns (one set each) need a library; on separate drives give "
                         "one --device per set")
    supplies: list[CartridgeSupply]
    if lib is not None:
        supplies = list(library_supplies(_open_library(lib), patterns, allow_old=opts.allow_old_generation,
                                         first_barcode=_selection().get("barcode")))
    elif next_command:
        supplies = [CommandSupply(d, next_command, allow_old=opts.allow_old_generation) for d in devices]
    else:
        _one_drive("--span")
        supplies = [PromptSupply(d, _ask, allow_old=opts.allow_old_generation) for d in devices]
    bar = ProgressBar(progress)
    try:
        results = write_spans(list(sources), supplies, opts, bar, split_files=split_files, folders=list(copy_to))
    finally:
        bar.close()
    if not no_catalog:
        with open_catalog(catalog_path) as cat:
            for result in results:
                if result.volumes:
                    record_span_write(cat, result)
    checks: list[SpanReadResult | None] = []
    for result in results:
        check = None
        if verify and result.error is None and lib is not None:
            check = read_span(LibraryLoader(_open_library(lib), [b for b in result.barcodes if b]), "verify",
                              set_id=result.set_id)
            if not no_catalog:
                _record_reads(catalog_path, check)
        checks.append(check)
    docs = []
    for result, check in zip(results, checks):
        doc = _span_dict(result)
        if check is not None:
            doc["verify"] = check.to_dict()
        docs.append(doc)
    if len(docs) == 1:
        out = docs[0]
    else:     # one block per set; the job is as good as its worst set
        order = ["ok", "incomplete", "failed"]
        out = {"status": max((d["status"] for d in docs), key=order.index), "job": results[0].job_id,
               "sets": docs}

    def text() -> None:
        for result, check in zip(results, checks):
            _span_text(result)
            if check is not None:
                _read_text(check)
    emit(out, as_json, text)
    for result, check in zip(results, checks):
        result.raise_for_status()
        if check is not None:
            check.raise_for_status()


def _span_dict(r: SpanResult) -> dict[str, Any]:
    return {"status": r.status, "error": r.error.to_dict() if r.error else None, "set_id": r.set_id, "job": r.job_id,
            **({"drive": r.drive} if r.drive else {}),
            "cartridges": [{"sequence": v.manifest.session.span.get("sequence"), "barcode": v.manifest.session.barcode,
                            "tape_file": v.manifest.session.tape_file, "last": v.manifest.session.span.get("last"),
                            "files": len([f for f in v.files if not f.part]),
                            "parts": [{"path": f.path, **{k: f.part[k] for k in ("number", "offset", "length")}}
                                      for f in v.files if f.part],
                            "bytes": v.manifest.session.bytes_copied} for v in r.volumes],
            "folders": [f.to_dict() for f in r.folders],
            "log": [str(p) for p in r.log_paths],
            "problems": [{"path": f.path, "status": f.status, "message": f.message} for f in r.problems]}


def _span_text(r: SpanResult) -> None:
    ok = sum(1 for f in r.files if f.status == "ok" and not (f.part and not f.part.get("last")))
    drive = f" on {r.drive}" if r.drive else ""
    click.echo(f"span set {r.set_id} (job {r.job_id}){drive}: {len(r.volumes)} cartridge(s), "
               f"{ok} of {len(r.files)} files" + (f" - FAILED: {r.error.message}" if r.error and r.drive else ""))
    for v in r.volumes:
        s = v.manifest.session
        parts = [f"part {f.part['number']} of {f.path} ({human_bytes(f.part['length'])})" for f in v.files if f.part]
        whole = len([f for f in v.files if not f.part and f.status == "ok"])
        where = f"tape file {s.tape_file}" if s.tape_file is not None else f"LTFS {s.span.get('volume_uuid', '')}"
        click.echo(f"  {s.span.get('sequence'):>3}  {s.barcode or s.device}  {where}: {whole} files"
                   + (", " + ", ".join(parts) if parts else "") + (" (last)" if s.span.get("last") else ""))
    for f in r.problems:
        click.secho(f"  {f.status:<12} {f.path}  {f.message}", fg="yellow", err=True)
    for d in r.folders:
        line = f"  folder {d.root}: {d.status}, {len(d.written)} files written, {len(d.verified)} proven by read-back"
        click.secho(line + (f" - {d.error}" if d.error else ""), fg=None if d.status == "ok" else "red")
        for path, why in d.failed.items():
            click.secho(f"         FAILED {path}: {why}", fg="red")
    for p in r.log_paths:
        click.echo(f"copy log: {p}")


@click.group("span")
def span() -> None:
    """Sets of cartridges written by `write --span`: list, verify, restore."""


@span.command("list")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
def span_list(catalog_path: Path | None, as_json: bool) -> None:
    """The span sets in the catalog, with their cartridges in order."""
    with open_catalog(catalog_path) as cat:
        sets = span_sets(cat)

    def text() -> None:
        for s in sets:
            state = "complete" if s["complete"] else "INCOMPLETE"
            click.echo(f"{s['set_id']}  job {s['job']}  {len(s['volumes'])} cartridge(s), {state}")
            for v in s["volumes"]:
                where = f"  ({v['location']})" if v["location"] else ""
                click.echo(f"  {v['sequence']:>3}  {v['cartridge']}{where}")
    emit({"sets": sets}, as_json, text)


def _read_options(f):  # type: ignore[no-untyped-def]
    for opt in reversed([
        click.option("--device", default=None, help="The drive holding volume 1 (one-drive sets), or vlib:DIR."),
        click.option("--library", default=None, help="The library holding the set: vlib:DIR, /dev/sgN."),
        click.option("--drive-device", "drive_device", multiple=True,
                     help="Library drive N is this device: N=/dev/nstX (repeatable)."),
        click.option("--set", "set_id", default=None, help="The set (its id or first characters, or the job id): "
                                                           "the catalog names its cartridges."),
        click.option("--cartridges", default=None, help="The set's cartridges in order: B1,B2,B3 (instead of --set)."),
        click.option("--next-tape-command", default=None,
                     help="One drive: run CMD to load the next volume (env LTO_ARCHIVE_SEQUENCE, LTO_ARCHIVE_SET)."),
        catalog_option,
        click.option("--no-catalog", is_flag=True, help="Do not record what was proven in the catalog."),
        click.option("--progress/--no-progress", default=None, help="Progress bar on stderr."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout."),
    ]):
        f = opt(f)
    return f


def _run(phase: str, dest: Path | None, overwrite: bool, patterns: tuple[str, ...], device: str | None,
         library: str | None, drive_device: tuple[str, ...], set_id: str | None, cartridges: str | None,
         next_tape_command: str | None, catalog_path: Path | None, no_catalog: bool, progress: bool | None,
         as_json: bool) -> None:
    lib = library or (device if device and device.startswith(("vlib:", "mtx:", "/dev/sg")) else None)
    barcodes = [b.strip() for b in cartridges.split(",") if b.strip()] if cartridges else []
    full_id = None
    if set_id and not barcodes:
        with open_catalog(catalog_path, create=False) as cat:
            found = find_set(cat, set_id)
            barcodes = [v["cartridge"] for v in found["volumes"]]
            full_id = found["set_id"]
    if lib is not None:
        if not barcodes:
            raise UsageError("reading a set from a library needs --set (the catalog names its cartridges) or "
                             "--cartridges B1,B2,...")
        loader: Any = LibraryLoader(_open_library(lib, drive_device), barcodes)
    elif device:
        if not next_tape_command:
            _one_drive(f"span {phase}")
        loader = DriveLoader(device, command=next_tape_command, ask=_ask)
    else:
        raise UsageError(f"span {phase} needs --library (or a vlib: --device) or the --device holding volume 1")
    bar = ProgressBar(progress)
    try:
        result = read_span(loader, phase, set_id=full_id, dest=dest, overwrite=overwrite, patterns=patterns,
                           progress=bar)
    finally:
        bar.close()
    if not no_catalog:
        _record_reads(catalog_path, result)
    emit(result.to_dict(), as_json, lambda: _read_text(result))
    result.raise_for_status()
    if not result.complete:
        raise JobIncomplete(f"the set was not read to its last volume ({len(result.barcodes)} read: "
                            f"{', '.join(b or '?' for b in result.barcodes)})", set_id=result.set_id)


def _record_reads(catalog_path: Path | None, result: SpanReadResult) -> None:
    """What a verify or restore of a set proved, per cartridge, into the catalog."""
    with open_catalog(catalog_path) as cat:
        for t, medium in zip([t for t in result.tape_files if t.manifest is not None], result.media):
            record_read(cat, SpanReadResult(result.phase, [t]), medium)


def _read_text(r: SpanReadResult) -> None:
    click.echo(f"span set {r.set_id}: {len(r.barcodes)} cartridge(s) read"
               + ("" if r.complete else ", NOT to its last volume"))
    for t, barcode in zip(r.tape_files, r.barcodes + [None] * len(r.tape_files)):
        click.echo(f"  {barcode or '-'}: {len(t.verified)} files verified"
                   + (f", {len(t.restored)} restored" if r.phase == "restore" else ""))
        tape_file_problems(t, "    ")
    click.echo(f"result: {r.status}")


@span.command("verify")
@_read_options
def span_verify(**kw: Any) -> None:
    """Read every volume of a set in order; prove every file, every part and every joined file."""
    _run("verify", None, False, (), **kw)


@span.command("restore")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.argument("patterns", nargs=-1)
@click.option("--overwrite", is_flag=True, help="Replace files that already exist in DEST.")
@_read_options
def span_restore(dest: Path, patterns: tuple[str, ...], overwrite: bool, **kw: Any) -> None:
    """Restore a set (all files, or those matching PATTERNs) into DEST, joining split files, verifying on the way."""
    _run("restore", dest, overwrite, patterns, **kw)
