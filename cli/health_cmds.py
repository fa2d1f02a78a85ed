"""`lto-archive health [BARCODE] [--device D]`: a cartridge's health, load by load, and what to do about it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import lto_archive
from lto_archive import UsageError

from .catalog_cmds import catalog_option
from .common import emit

_FLAG_COLOURS = {"error": "red", "warning": "yellow", "note": None}


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _text(doc: dict[str, Any]) -> None:
    last = doc["last"] or {}
    click.echo(f"cartridge {doc['cartridge']}: {doc['readings']} reading(s) "
               f"({last.get('generation') or 'generation unknown'}, rated for {doc['rated_loads']} loads)")
    if doc["trend"]:
        click.echo(f"  {'read at (UTC)':<20} {'device':<28} {'loads':>6} {'MiB written':>12} {'MiB read':>9} "
                   f"{'corrected':>9} {'uncorrected':>11}  TapeAlert")
    for row in doc["trend"]:
        alerts = ",".join(str(n) for n in row["tapealert"]) or "-"
        device = row["device"] if len(row["device"]) <= 28 else "…" + row["device"][-27:]
        click.echo(f"  {row['read_at'][:19].replace('T', ' '):<20} {device:<28} {_cell(row['load_count']):>6} "
                   f"{_cell(row['mb_written']):>12} {_cell(row['mb_read']):>9} {row['corrected_errors']:>9} "
                   f"{row['uncorrected_errors']:>11}  {alerts}")
    for flag in last.get("tapealert_flags", []):
        click.echo(f"  TapeAlert {flag['flag']}: {flag['name']} ({flag['severity']})")
    for note in last.get("notes", []):
        click.echo(f"  note: {note}")
    if not doc["flags"]:
        click.echo("nothing to do" if doc["trend"] else "no readings yet: they are taken each time a job loads it")
    for f in doc["flags"]:
        click.secho(f"{f['kind']}: {f['why']}", fg=_FLAG_COLOURS.get(f["severity"]))


def catalog_in(args: list[str]) -> str | bool | None:
    """The catalog a command line names (`--catalog PATH`), False for `--no-catalog`, else None (the default)."""
    if "--no-catalog" in args:
        return False
    for i, arg in enumerate(args):
        if arg == "--catalog" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--catalog="):
            return arg.split("=", 1)[1]
    return None


def keep_readings(catalog: str | bool | None) -> None:
    """A command failed: the health readings its loads took still go into its catalog (docs/health.md)."""
    try:
        lto_archive.record_health_readings(catalog=catalog, create=False)   # never makes a catalog
    except Exception:       # noqa: BLE001 - the command's own error is the one to report, never this one
        pass


@click.command("health")
@click.argument("barcode", required=False)
@click.option("--device", default=None,
              help="Take a reading now: load the cartridge in this drive (vtape:DIR, /dev/nstN, vlib:DIR) and record it.")
@click.option("--library", default=None, help="The library holding BARCODE (vlib:DIR, /dev/sgN), with --device.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def health(barcode: str | None, device: str | None, library: str | None, catalog_path: Path | None,
           as_json: bool) -> None:
    """A cartridge's health at each load (cartridge memory, error counters, TapeAlert), the trend, and the
    flags: "migrate soon" and "clean the drive". Readings are taken whenever a job loads a cartridge."""
    if device is None and barcode is None:
        raise UsageError("name a cartridge (BARCODE) or a drive to read now (--device)")
    catalog = str(catalog_path) if catalog_path is not None else None
    if device is not None:
        in_library = library is not None or lto_archive.is_library_spec(device)
        report = lto_archive.read_cartridge_health(device, barcode=barcode if in_library else None,
                                                   library=library, catalog=catalog)
    else:
        assert barcode is not None
        report = lto_archive.cartridge_health(barcode, catalog=catalog)
    doc = report.to_dict()
    emit(doc, as_json, lambda: _text(doc))
