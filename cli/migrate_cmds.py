"""`migrate --from DEVICE --to DEVICE [--format F]` and `migrations`: cartridges moved tape to tape, proven, the
old one superseded in the catalog (docs/migration.md)."""

from __future__ import annotations

from pathlib import Path

import click

import lto_archive

from .catalog_cmds import catalog_option
from .common import ProgressBar, emit


def _text(doc: dict) -> None:  # type: ignore[type-arg]
    for s in doc["sources"]:
        sessions = ", ".join(f"{old} -> {new}" for old, new in s["sessions"])
        if s["status"] == "proven":
            click.echo(f"{s['source']} -> {doc['target']} ({doc['format']}): {s['files']} files, {s['bytes']:,} bytes "
                       f"read, written, read back and proven; {s['source']} superseded")
            click.echo(f"  sessions {sessions}")
            if s["cards"]:
                click.echo(f"  ASC MHL: a migration generation added to {', '.join(s['cards'])}")
        else:
            click.echo(f"{s['source']}: NOT migrated (kept, not superseded)")
            for p in s["problems"][:10]:
                click.echo(f"  {p}")
            if s["staging_kept"]:
                click.echo(f"  what was read is kept in {s['staging_kept']}")


@click.command("migrate")
@click.option("--from", "sources", multiple=True, help="A source cartridge's drive (vtape:DIR, /dev/nstN, vlib:DIR); "
              "repeat it to consolidate several cartridges onto one target.")
@click.option("--to", "target", default=None, help="The target cartridge's drive.")
@click.option("--library", default=None, help="A tape library (vlib:DIR, /dev/sgN): with --from-barcode and "
              "--to-barcode its robot loads the cartridges (one drive will do).")
@click.option("--from-barcode", "from_barcodes", multiple=True, help="A source cartridge in the --library "
              "(repeatable).")
@click.option("--to-barcode", default=None, help="The target cartridge in the --library.")
@click.option("--drive-device", "drive_devices", multiple=True, help="Library drive N is this device: N=/dev/nstX.")
@click.option("--format", "fmt", default=None, type=click.Choice(lto_archive.archive_formats()),
              help="The target's format (default: ltfs on an LTFS volume, else the source's).")
@click.option("--staging", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The folder each source is read into before it is written (its room is checked first; "
                   "default: a temporary folder).")
@click.option("--operator", default=None, help="Who runs the migration (the copy logs, the ASC MHL history).")
@click.option("--production", default=None, help="The production the copy logs are filed under.")
@click.option("--progress/--no-progress", default=None,
              help="Progress on stderr (default: on a terminal); plain lines when not a terminal.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def migrate(sources: tuple[str, ...], target: str | None, library: str | None, from_barcodes: tuple[str, ...],
            to_barcode: str | None, drive_devices: tuple[str, ...], fmt: str | None, staging: Path | None,
            operator: str | None, production: str | None, progress: bool | None, catalog_path: Path | None,
            as_json: bool) -> None:
    """Move cartridges to a new one, any format to any: each source read and proven, written to the target,
    the target read back and compared; only then the source is marked superseded (nothing is deleted)."""
    if not sources and not from_barcodes:
        raise click.UsageError("give the source: --from DEVICE, or --library L --from-barcode B")
    with ProgressBar(progress) as bar:
        result = lto_archive.migrate(list(sources), target, format=fmt, staging=staging, catalog=catalog_path,
                                     library=library, source_barcodes=list(from_barcodes),
                                     target_barcode=to_barcode, drive_devices=list(drive_devices) or None,
                                     operator=operator, production=production, progress=bar)
    doc = result.to_dict()
    emit(doc, as_json, lambda: _text(doc))
    result.raise_for_status()


@click.command("migrations")
@click.argument("cartridge", required=False)
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def migrations(cartridge: str | None, catalog_path: Path | None, as_json: bool) -> None:
    """The migrations the catalog recorded (all, or from or to CARTRIDGE): the lineage of the copies."""
    rows = lto_archive.migrations(catalog_path, cartridge)

    def text() -> None:
        for m in rows:
            gone = f"; {m['source']} superseded by {m['source_superseded_by']}" if m["source_superseded_by"] else ""
            click.echo(f"{m['at'][:19].replace('T', ' ')}  {m['source']} -> {m['target']}  {m['status']}: "
                       f"{m['files']} files, {m['copies_linked']} copies linked{gone}")
    emit({"migrations": rows}, as_json, text)
