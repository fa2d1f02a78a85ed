"""`catalog search | import | export | tapes | set-location | plan`: what is on which tape, and where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lto_archive import DEFAULT_CATALOG_HELP as DEFAULT_HELP
from lto_archive import Catalog, FileHit, UsageError, copy_catalog, migrate_catalog, place_text

from .common import device_from, emit, human_bytes, library_options, optional_device_or_library


def catalog_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--catalog PATH` (parameter `catalog_path`, None = the default catalog); for every command that uses it."""
    return click.option("--catalog", "catalog_path", default=None, metavar="PATH|URL",
                        help=f"The catalog: an SQLite file (a path or sqlite:PATH) or a shared PostgreSQL database "
                             f"(postgresql://user@host/db) (default: {DEFAULT_HELP}).")(f)


def open_catalog(catalog_path: Path | None, *, create: bool = True) -> Any:
    """The catalog's store, for the commands that hand it to the library (baf)."""
    return Catalog(catalog_path, create=create).store


def _json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")(f)


def _filters(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed([
        click.argument("pattern", required=False),
        click.option("--hash", "hash_", default=None, help="A checksum or its first digits (any algorithm; "
                                                          "'md5:1a2b' for one)."),
        click.option("--camera", default=None, help="Camera letter read from the path (A001C007 -> A)."),
        click.option("--reel", default=None, help="Reel/card number read from the path (A001C007 -> 001)."),
        click.option("--since", default=None, help="From this date or time (2026-03-15, 2026-03-15T14:00, ...Z)."),
        click.option("--until", default=None, help="Up to this date (the whole day) or time."),
        click.option("--by", "date_field", type=click.Choice(["mtime", "written"]), default="mtime",
                     show_default=True, help="Dates apply to the file's modification time, or to when it was written."),
        click.option("--tape", "destination", default=None, help="Only copies on this tape (barcode) or folder."),
        click.option("--reel-regex", default=None,
                     help="Regular expression with named groups camera and reel, for other naming schemes."),
        click.option("--production", default=None, help="Only files a job of this production wrote (write --production)."),
    ]):
        f = opt(f)
    return f


def _criteria(pattern: str | None, hash_: str | None, camera: str | None, reel: str | None, since: str | None,
              until: str | None, date_field: str, destination: str | None, reel_regex: str | None,
              production: str | None = None) -> dict[str, Any]:
    return {k: v for k, v in {"pattern": pattern, "hash": hash_, "camera": camera, "reel": reel, "since": since,
                              "until": until, "destination": destination, "reel_regex": reel_regex,
                              "production": production}.items()
            if v is not None} | ({"date_field": date_field} if since or until else {})


def _run_search(cat: Catalog, c: dict[str, Any], limit: int | None = None) -> list[FileHit]:
    return cat.search(**c, limit=limit)


@click.group("catalog")
def catalog() -> None:
    """The catalog of what is on which tape: search it, rebuild it from tapes, export it."""


@catalog.command("search")
@_filters
@click.option("--limit", type=int, default=None, help="At most this many files.")
@catalog_option
@_json_option
def search_cmd(pattern: str | None, hash_: str | None, camera: str | None, reel: str | None, since: str | None,
               until: str | None, date_field: str, destination: str | None, reel_regex: str | None,
               production: str | None, limit: int | None, catalog_path: Path | None, as_json: bool) -> None:
    """Which tapes and folders hold the files matching PATTERN (and the options), and where on them.

    PATTERN without wildcards is part of the path (A001C007); with * ? [...] it is
    a glob on the file name, or on the whole path when it holds a '/'. Case is ignored.
    """
    crit = _criteria(pattern, hash_, camera, reel, since, until, date_field, destination, reel_regex, production)
    with Catalog(catalog_path, create=False) as cat:
        hits = _run_search(cat, crit, limit)
        doc = cat.search_document(hits, crit) | {"catalog": str(cat.path)}

    def text() -> None:
        for h in hits:
            who = " ".join(x for x in (f"camera {h.camera}" if h.camera else "", f"reel {h.reel}" if h.reel else "")
                           if x)
            click.echo(f"{h.path}  {human_bytes(h.size)}  mtime {h.mtime}" + (f"  {who}" if who else ""))
            if h.hashes:
                click.echo("    " + "  ".join(f"{a}:{x}" for a, x in h.hashes.items()))
            for c in h.copies:
                click.echo(f"    {_where(c)}")
            if not h.copies:
                click.secho("    no copy recorded", fg="yellow")
        click.echo(f"{len(hits)} file(s), {sum(len(h.copies) for h in hits)} copies")
    emit(doc, as_json, text)


def _where(c: Any) -> str:
    if c.kind == "folder":
        place = f"folder {c.folder}" + (f" on {c.volume_id}" if c.volume_id else "")
    else:
        place = place_text(c.format, tape_file=c.tape_file, block=c.block, offset=c.block_offset,
                           partition=c.partition)
    shelf = f" ({c.location})" if c.location else ""
    proof = f"verified {c.verified}" if c.verified else "never verified"
    if c.last_result and c.last_result != "ok":
        proof += f", last check {c.last_result} {c.last_check}"
    status = "" if c.status == "ok" else f" [{c.status}]"
    return f"{c.destination}{shelf}: {place}; written {c.written} by {c.operator or '?'}; {proof}{status}"


@catalog.command("import")
@click.option("--device", default=None, callback=optional_device_or_library,
              help="vtape:DIR (or vlib:DIR, --library L --barcode B): the cartridge to read (its manifests or LTFS "
                   "index).")
@library_options()
@click.option("--folder", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Instead of a tape: a folder copy (write --copy-to), from the job manifests it holds.")
@click.option("--manifest", "copy_log", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A job's copy log or journal (.journal.jsonl), for a tape file whose own manifest is missing "
                   "(a killed job): its whole members are catalogued with the journal's hashes.")
@catalog_option
@_json_option
def import_cmd(device: str | None, folder: Path | None, copy_log: Path | None, catalog_path: Path | None,
               as_json: bool) -> None:
    """Rebuild the catalog entries of the loaded cartridge (or of a folder copy) from itself (safe to repeat)."""
    if (device is None) == (folder is None):
        raise UsageError("catalog import needs either --device (a cartridge) or --folder (a folder copy)")
    if folder is not None:
        with Catalog(catalog_path) as cat:
            rec = cat.import_folder(folder)
            doc = {"status": "ok", "catalog": str(cat.path), **rec.to_dict()}
    else:
        assert device is not None
        with device_from(device, mounts=True) as dev, Catalog(catalog_path) as cat:
            rec = cat.import_tape(dev, copy_log)
            doc = {"status": "ok", "catalog": str(cat.path), **rec.to_dict()}

    def text() -> None:
        for note in rec.notes:
            click.secho(f"note: {note}", fg="yellow", err=True)
        click.echo(f"{rec.destination or device}: {len(rec.jobs)} session(s), {rec.files} file copies catalogued "
                   f"in {doc['catalog']}")
    emit(doc, as_json, text)


@catalog.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), required=True)
@click.option("--output", "-o", required=True, help="File to write ('-' for standard output).")
@_filters
@catalog_option
@_json_option
def export_cmd(fmt: str, output: str, pattern: str | None, hash_: str | None, camera: str | None, reel: str | None,
               since: str | None, until: str | None, date_field: str, destination: str | None,
               reel_regex: str | None, production: str | None, catalog_path: Path | None, as_json: bool) -> None:
    """Export the whole catalog, or the files matching PATTERN and the options, as CSV or JSON.

    CSV: one line per copy (file, hashes, tape, position, job, last verification).
    JSON: the whole catalog (tapes, jobs, files with their copies), or the search results.
    """
    crit = _criteria(pattern, hash_, camera, reel, since, until, date_field, destination, reel_regex, production)
    with Catalog(catalog_path, create=False) as cat:
        hits = _run_search(cat, crit) if crit else None
        n = cat.export(fmt, output, hits)
        doc = {"status": "ok", "catalog": str(cat.path), "format": fmt, "output": output,
               "rows" if fmt == "csv" else "files": n}
    if output != "-":
        emit(doc, as_json, lambda: click.echo(f"exported {n} {'rows' if fmt == 'csv' else 'files'} to {output}"))


@catalog.command("tapes")
@click.option("--folders/--no-folders", default=True, help="Also list folder destinations.")
@catalog_option
@_json_option
def tapes_cmd(folders: bool, catalog_path: Path | None, as_json: bool) -> None:
    """Every tape (and folder) in the catalog, with its shelf location and what is on it."""
    with Catalog(catalog_path, create=False) as cat:
        tapes = cat.tapes(include_folders=folders)
        doc = {"catalog": str(cat.path), "tapes": tapes}

    def text() -> None:
        for t in tapes:
            what = (f"folder on {t['volume_id'] or 'an unknown disk'}" if t["kind"] == "folder"
                    else f"{t['generation'] or '?'} {t['format'] or ''}".strip())
            click.echo(f"{t['label']:<16} {what:<14} {t['files']:>8} files {human_bytes(t['bytes']):>10}  "
                       f"last verified {t['last_verified'] or 'never'}  {t['location'] or '(no location)'}")
        if not tapes:
            click.echo("the catalog holds no tape yet")
    emit(doc, as_json, text)


@catalog.command("set-location")
@click.argument("barcode")
@click.argument("location")
@catalog_option
@_json_option
def set_location_cmd(barcode: str, location: str, catalog_path: Path | None, as_json: bool) -> None:
    """Record where the cartridge BARCODE is kept ("Shelf 3", "vault, box 12"; "" clears it)."""
    with Catalog(catalog_path, create=False) as cat:
        row = cat.set_location(barcode, location)
    emit({"status": "ok", "tape": row["label"], "location": location}, as_json,
         lambda: click.echo(f"{row['label']}: {location or '(no location)'}"))


@catalog.command("plan")
@click.argument("paths", nargs=-1, required=True)
@click.option("--loaded", multiple=True, metavar="BARCODE",
              help="A cartridge already in a drive (repeatable): what it holds is read from it first.")
@catalog_option
@_json_option
def plan_cmd(paths: tuple[str, ...], loaded: tuple[str, ...], catalog_path: Path | None, as_json: bool) -> None:
    """Which cartridges to load to restore PATHS (globs, files or folders), and their files in tape order:
    the fewest cartridges, those already loaded first."""
    with Catalog(catalog_path, create=False) as cat:
        plan = cat.plan_restore(list(paths), loaded=loaded)
    doc = plan.to_dict()

    def text() -> None:
        for c in plan:
            info = plan.tapes.get(c.barcode, {})
            verb = "already loaded:" if c.barcode in plan.loaded else "load"
            click.echo(f"{verb} {c.barcode}" + (f" ({info['location']})" if info.get("location") else "")
                       + f": {len(c.entries)} file(s), {human_bytes(sum(e.size for e in c.entries))}")
            for e in c.entries:
                where = place_text(e.format, tape_file=e.tape_file, block=e.block, offset=e.block_offset,
                                   style="plan")
                click.echo(f"    {where:<28} {e.path}")
        for p in plan.not_on_tape:
            click.secho(f"not on any tape: {p}", fg="yellow", err=True)
        for p in plan.unmatched:
            click.secho(f"no catalogued file matches: {p}", fg="yellow", err=True)
    emit(doc, as_json, text)


@catalog.command("copy")
@click.option("--from", "source", required=True, metavar="PATH|URL",
              help="The catalog to copy from (an SQLite file, sqlite:PATH or postgresql://...).")
@click.option("--to", "target", required=True, metavar="PATH|URL",
              help="The catalog to add it to (made when new), e.g. the house catalog postgresql://user@host/db.")
@_json_option
def copy_cmd(source: str, target: str, as_json: bool) -> None:
    """Add everything one catalog knows to another, without duplicates: a laptop's catalog into the house
    catalog. Rows are matched by what they mean (barcode, session, file and hashes), never by id, so
    running it twice changes nothing."""
    doc = copy_catalog(source, target)

    def text() -> None:
        added = ", ".join(f"{n} {t}" for t, n in doc["added"].items() if n) or "nothing new"
        click.echo(f"{doc['source']} -> {doc['target']}: added {added}")
        known = sum(doc["matched"].values())
        if known:
            click.echo(f"{known} rows were already there")
        for note in doc["notes"]:
            click.secho(f"note: {note}", fg="yellow", err=True)
    emit({"status": "ok", **doc}, as_json, text)


@catalog.command("migrate")
@catalog_option
@_json_option
def migrate_cmd(catalog_path: str | None, as_json: bool) -> None:
    """Upgrade the catalog (SQLite or PostgreSQL) to this version's schema. Opening a catalog upgrades it
    too; this says what was done. A catalog made by a newer lto-archive is refused, unchanged."""
    doc = migrate_catalog(catalog_path)
    emit({"status": "ok", **doc}, as_json, lambda: click.echo(
        f"{doc['catalog']} ({doc['engine']}): schema version {doc['from_version']} -> {doc['version']}"
        if doc["upgraded"] else f"{doc['catalog']} ({doc['engine']}): already at schema version {doc['version']}"))


__all__ = ["catalog", "catalog_option", "open_catalog"]
