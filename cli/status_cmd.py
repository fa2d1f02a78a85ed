"""`lto-archive status`: every drive and library seen, what is loaded, the last jobs, and what needs attention."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import click

import lto_archive
from lto_archive import Catalog, LtoArchiveError

from .catalog_cmds import catalog_option
from .common import capacity_text, emit, human_bytes

LOW_ROOM = 0.05      # a loaded cartridge with less than this share of its capacity left is flagged
SHOWN = 12           # attention lines on screen, errors first
_SEVERITY = ("error", "warning", "note")


def _drive(spec: str) -> dict[str, Any]:
    """One drive: what is loaded, its generation and room, or why it cannot say."""
    try:
        with lto_archive.open_device(spec) as dev:
            m = dev.medium()
            info = {"device": spec, "barcode": m.barcode, "generation": m.generation.name,
                    "drive_generation": m.drive_generation.name, "capacity": m.capacity, "remaining": m.remaining,
                    "write_protected": m.write_protected, "problem": None}
    except LtoArchiveError as exc:
        return {"device": spec, "barcode": None, "problem": exc.message}
    attention = []
    if info["write_protected"]:
        attention.append("write-protected: it cannot take a job")
    if info["capacity"] and info["remaining"] < LOW_ROOM * info["capacity"]:
        attention.append(f"nearly full: {human_bytes(info['remaining'])} left")
    return {**info, "attention": attention}


def _library(spec: str) -> dict[str, Any]:
    try:
        with lto_archive.open_library(spec) as lib:
            st = lib.status()
            return {"library": spec, "drives": [{"number": d.number, "barcode": d.barcode if d.full else None,
                                                  "device": d.device} for d in st.drives],
                    "slots": len(st.slots), "cartridges": len(st.barcodes()), "problem": None}
    except LtoArchiveError as exc:
        return {"library": spec, "problem": exc.message}


def discovered_drives() -> list[str]:
    """The Linux st drives this machine has (no-rewind nodes)."""
    return sorted(p for p in glob.glob("/dev/nst[0-9]*") if p[len("/dev/nst"):].isdigit())


def _text(doc: dict[str, Any]) -> None:
    click.echo("drives")
    if not doc["drives"]:
        click.echo("  none seen (give --device; /dev/nst* found none)")
    for d in doc["drives"]:
        if d["problem"]:
            click.echo(f"  {d['device']:<28} {d['problem']}")
            continue
        click.echo(f"  {d['device']:<28} {d['barcode'] or '(no barcode)':<10} {d['generation']} in a "
                   f"{d['drive_generation']} drive, {capacity_text(d['capacity'])}, {human_bytes(d['remaining'])} left")
        for a in d["attention"]:
            click.secho(f"  {'':<28} ! {a}", fg="yellow")
    for lib in doc["libraries"]:
        if lib["problem"]:
            click.echo(f"library {lib['library']}: {lib['problem']}")
            continue
        loaded = ", ".join(f"drive {d['number']}: {d['barcode'] or 'empty'}" for d in lib["drives"])
        click.echo(f"library {lib['library']}: {lib['cartridges']} cartridges in {lib['slots']} slots; {loaded}")
    cat = doc["catalog"]
    click.echo(f"catalog {cat['catalog']}: {cat['tapes']} tapes, {cat['folders']} folders, {cat['files']} files")
    for j in cat["recent_jobs"]:
        click.echo(f"  {j['started'][:19].replace('T', ' ')}  {j['status']:<11} {j['format']:<5} {j['files']:>7} files "
                   f"-> {j['destination']}  ({j['session_id']})")
    click.echo("attention" + ("" if doc["attention"] else ": nothing"))
    shown = sorted(doc["attention"], key=lambda a: _SEVERITY.index(a["severity"]))
    for a in shown[:SHOWN]:
        click.secho(f"  {a['where']}: {a['what']}", fg="red" if a["severity"] == "error" else "yellow")
    if len(shown) > SHOWN:
        click.echo(f"  ... and {len(shown) - SHOWN} more (--json lists them all)")


@click.command("status")
@click.option("--device", "devices", multiple=True,
              help="A drive to show (vtape:DIR, /dev/nstN, ...; repeatable). Default: every /dev/nst* found.")
@click.option("--library", "libraries", multiple=True, help="A library to show (vlib:DIR, /dev/sgN; repeatable).")
@catalog_option
@click.option("--jobs", "jobs", default=5, show_default=True, type=click.IntRange(min=0), help="How many recent jobs.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--prometheus", is_flag=True,
              help="Print the catalog's numbers in Prometheus text format instead (as `lto-archive metrics`).")
def status(devices: tuple[str, ...], libraries: tuple[str, ...], catalog_path: Path | None, jobs: int,
           as_json: bool, prometheus: bool) -> None:
    """One screen: every drive and library seen, the loaded cartridges, the last jobs, and what needs attention."""
    if prometheus:
        click.echo(lto_archive.metrics(catalog_path), nl=False)
        return
    drives = [_drive(spec) for spec in (devices or discovered_drives())]
    libs = [_library(spec) for spec in libraries]
    with Catalog(catalog_path) as cat:
        overview = cat.overview(jobs=jobs)
    attention = [{"where": d["device"], "severity": "warning", "what": a} for d in drives for a in d.get("attention", [])]
    attention += [{"where": a["destination"], "severity": a["severity"], "what": a["what"]} for a in overview["attention"]]
    attention += [{"where": f["label"], "severity": f["severity"], "what": f"{f['kind']}: {f['why']}"}   # docs/health.md
                  for f in lto_archive.health_flags(catalog=str(catalog_path) if catalog_path else None)]
    doc = {"drives": drives, "libraries": libs, "catalog": overview, "attention": attention}
    emit(doc, as_json, lambda: _text(doc))
