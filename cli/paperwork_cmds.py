"""`lto-archive paperwork make | list`: a job's paperwork as one .7z (docs/paperwork.md)."""

from __future__ import annotations

from pathlib import Path

import click

import lto_archive

from .common import emit, human_bytes

_PASSWORD_HELP = "AES-256 with the password in this file (its first line); names are hidden too."


@click.group("paperwork")
def paperwork() -> None:
    """A job's paperwork (copy logs, manifest, checksum lists, MHL, reports) as one .7z for the production."""


@paperwork.command("make")
@click.argument("copy_log", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The .7z (default: <session>.paperwork.7z beside the copy log).")
@click.option("--add", "extra", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also this file (a rushes report, a certificate, a custody export); repeatable.")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help=_PASSWORD_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def make(copy_log: Path, output: Path | None, extra: tuple[Path, ...], password_file: Path | None,
         as_json: bool) -> None:
    """Pack the paperwork of the job whose copy log (.json) is COPY_LOG."""
    doc = lto_archive.make_paperwork(copy_log, output, extra=list(extra), password_file=password_file)
    emit(doc, as_json, lambda: click.echo(
        f"{doc['output']}: {len(doc['files'])} files of session {doc['session']}"
        + (" (AES-256, names hidden)" if doc["encrypted"] else "")))


@paperwork.command("list")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help=_PASSWORD_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(archive: Path, password_file: Path | None, as_json: bool) -> None:
    """List (and test: every file is read and checked against its CRC) a paperwork archive."""
    files = lto_archive.open_paperwork(archive, password_file=password_file)
    emit({"archive": str(archive), "files": {k: len(v) for k, v in files.items()}}, as_json,
         lambda: [click.echo(f"{human_bytes(len(v)):>10}  {k}") for k, v in files.items()])
