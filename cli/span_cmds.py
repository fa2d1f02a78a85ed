"""`span list|verify|restore`: the sets of cartridges `write --span` wrote (docs/spanning.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

import lto_archive
from lto_archive import Catalog, UsageError

from .archive_cmds import ask_operator
from .catalog_cmds import catalog_option
from .job_report import job_report, report_option
from .common import ProgressBar, emit
from .render import span_read_text


@click.group("span")
def span() -> None:
    """Sets of cartridges written by `write --span`: list, verify, restore."""


@span.command("list")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
def span_list(catalog_path: Path | None, as_json: bool) -> None:
    """The span sets in the catalog, with their cartridges in order."""
    with Catalog(catalog_path) as cat:
        sets = cat.span_sets()

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
        report_option,
        click.option("--progress/--no-progress", default=None, help="Progress bar on stderr."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout."),
    ]):
        f = opt(f)
    return f


def _run(phase: str, dest: Path | None, overwrite: bool, patterns: tuple[str, ...], device: str | None,
         library: str | None, drive_device: tuple[str, ...], set_id: str | None, cartridges: str | None,
         next_tape_command: str | None, catalog_path: Path | None, no_catalog: bool, report_path: Path | None,
         progress: bool | None, as_json: bool) -> None:
    target = device or library
    if target is None:
        raise UsageError(f"span {phase} needs --library (or a vlib: --device) or the --device holding volume 1")
    how: dict[str, Any] = dict(set=set_id, cartridges=cartridges.split(",") if cartridges else None, span=True,
                               library=library, drive_devices=drive_device, next_tape_command=next_tape_command,
                               ask=ask_operator if sys.stdin.isatty() else None, catalog=catalog_path,
                               record=not no_catalog)
    with job_report(report_path, f"span {phase}", as_json=as_json,
                    targets=[target, set_id or cartridges, dest and f"DEST {dest}"]) as outcome:
        bar = ProgressBar(progress)
        try:
            if phase == "restore":
                result = lto_archive.restore(target, dest, patterns, overwrite=overwrite, progress=bar, **how)
            else:
                result = lto_archive.verify(target, progress=bar, **how)
            outcome.result = result
        finally:
            bar.close()
        emit(result.to_dict(), as_json, lambda: span_read_text(result))
        result.raise_for_status()


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
