"""`mhl verify` and `mhl create`: ASC MHL histories of cards, deliveries and folder copies."""

from __future__ import annotations

import click

from lto_archive import MHL_FORMATS, CreatorInfo, UsageError
from lto_archive import MHL_IN_PLACE as IN_PLACE
from lto_archive import MHL_TRANSFER as TRANSFER
from lto_archive import MhlVerifyReport as VerifyReport
from lto_archive import mhl_check_formats as check_formats
from lto_archive import mhl_create_generation as create_generation
from lto_archive import mhl_verify_tree as verify_tree

from .common import ProgressBar, emit, human_bytes


def _formats(spec: str) -> tuple[str, ...]:
    try:
        out = check_formats(spec.split(","))
    except ValueError as exc:
        raise UsageError(str(exc), value=spec) from None
    if not out:
        raise UsageError(f"name at least one hash format ({', '.join(MHL_FORMATS)})", value=spec)
    return out


def _text(r: VerifyReport, verb: str) -> None:
    for f in r.files:
        if f.status != "verified" and not (f.status == "new" and r.new_files_ok):
            why = f" ({f.reason})" if f.reason else ""
            click.echo(f"{f.status.upper():<9} {f.path}{why}")
    for n in r.notes:
        click.echo(f"note: {n}")
    for m in r.directory_mismatches:
        click.echo(f"note: folder {m['path']}: {m['format']} directory hash differs from the history")
    c = r.counts
    hist = ", ".join(f"{h.root} ({h.generations} generation{'s' if h.generations != 1 else ''})"
                     for h in r.histories if h.generations) or "none before"
    click.echo(f"{verb} {r.root}: {c['verified']} verified, {c['failed']} failed, {c['missing']} missing, "
               f"{c['new']} new; {human_bytes(r.bytes_hashed)} hashed in {r.seconds:.1f} s; history: {hist}")
    for w in r.written:
        click.echo(f"wrote generation {w.sequence_nr}: {w.path}")
    click.echo(f"status: {r.status}")


@click.group("mhl")
def mhl() -> None:
    """ASC MHL: verify a card or delivery against its history, record new generations."""


@mhl.command("verify")
@click.argument("card", type=click.Path(exists=True, file_okay=False))
@click.option("--record", type=click.Choice([IN_PLACE, TRANSFER]), default=None,
              help="Also append the result to the history as a new generation (in-place, or transfer after a copy).")
@click.option("--hash", "hash_spec", default=None,
              help=f"Formats the recorded generation holds ({', '.join(MHL_FORMATS)}); "
                   "default: those of the newest generation.")
@click.option("--operator", default=None, help="Author of the recorded generation.")
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr (default: on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
def verify_cmd(card: str, record: str | None, hash_spec: str | None, operator: str | None,
               progress: bool | None, as_json: bool) -> None:
    """Verify every file of CARD against the ASC MHL history it carries (the ingest check
    before the OK to format). Exit 3 when a file failed, 5 when files are missing or new."""
    formats = _formats(hash_spec) if hash_spec else None
    bar = ProgressBar(progress)
    try:
        report = verify_tree(card, record=record, formats=formats,
                             creator=CreatorInfo.create(operator) if record else None, progress=bar)
    finally:
        bar.close()
    emit(report.to_dict(), as_json, lambda: _text(report, "checked"))
    report.raise_for_status()


@mhl.command("create")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--hash", "hash_spec", default="xxh128", show_default=True,
              help=f"Formats to record, comma separated ({', '.join(MHL_FORMATS)}).")
@click.option("--operator", default=None, help="Author recorded in the generation's creator info.")
@click.option("--location", default=None, help="Location recorded in the creator info.")
@click.option("--comment", default=None, help="Comment recorded in the creator info.")
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr (default: on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
def create_cmd(folder: str, hash_spec: str, operator: str | None, location: str | None, comment: str | None,
               progress: bool | None, as_json: bool) -> None:
    """Write a new ASC MHL generation (process in-place) for FOLDER, as `ascmhl create` does:
    files the history knows are verified, new ones recorded as original. Exit 3 when a file
    failed, 5 when recorded files are missing."""
    formats = _formats(hash_spec)
    bar = ProgressBar(progress)
    try:
        report = create_generation(folder, formats, creator=CreatorInfo.create(operator, location=location,
                                                                               comment=comment), progress=bar)
    finally:
        bar.close()
    emit(report.to_dict(), as_json, lambda: _text(report, "recorded"))
    report.raise_for_status()
