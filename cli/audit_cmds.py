"""`audit policy | plan | run | report` and `metrics`: regular checks of stored cartridges (CST RT-030), restore drills,
and the numbers for Prometheus."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

import lto_archive

from .catalog_cmds import catalog_option
from .common import ProgressBar, emit, human_bytes

NOW_ENV = "LTO_ARCHIVE_NOW"


def now_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--now TIME`: the audits' clock (a simulated date; default: the real time)."""
    return click.option("--now", default=None, envvar=NOW_ENV, metavar="TIME",
                        help=f"The time to plan or audit at, e.g. 2027-06-01 (${NOW_ENV}; default: now).")(f)


def _where(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--library", "libraries", multiple=True,
                     help="A library whose robot loads the cartridges (vlib:DIR, /dev/sgN; repeatable).")(f)
    return click.option("--device", "devices", multiple=True,
                        help="A drive whose loaded cartridge is audited (vtape:DIR, /dev/nstN; repeatable).")(f)


@click.group("audit")
def audit() -> None:
    """Regular checks of the stored cartridges: what is due, doing it, and the report (docs/audit.md)."""


@audit.command("policy")
@click.option("--full-months", type=click.IntRange(min=1), default=None, help="Full verify at least this often.")
@click.option("--sample-months", type=click.IntRange(min=1), default=None, help="A sample this often in between.")
@click.option("--sample-files", type=click.IntRange(min=0), default=None, help="Files read per sample.")
@click.option("--drill-files", type=click.IntRange(min=0), default=None, help="Files restored per drill (0: none).")
@click.option("--grace-days", type=click.IntRange(min=0), default=None, help="Days after due before overdue.")
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def policy(full_months: int | None, sample_months: int | None, sample_files: int | None, drill_files: int | None,
           grace_days: int | None, catalog_path: Path | None, as_json: bool) -> None:
    """Show the catalog's audit policy; with options, change it first."""
    got = lto_archive.audit_policy(catalog_path, full_months=full_months, sample_months=sample_months,
                                   sample_files=sample_files, drill_files=drill_files, grace_days=grace_days)
    emit(got.to_dict(), as_json, lambda: click.echo(
        f"full verify every {got.full_months} months; {got.sample_files} sampled files every {got.sample_months} "
        f"months in between; {got.drill_files} files per restore drill; overdue {got.grace_days} days after due"))


def _state_line(c: dict[str, Any]) -> str:
    last = c["last_audit"]
    proof = c["last_full"][:10] if c["last_full"] else "never"
    tail = f", last audit {last['at'][:10]} {last['kind']} {last['result']}" if last else ""
    where = f"  [{c['library']}{', in a drive' if c['loaded'] else ''}]" if c["library"] else ""
    return f"{c['cartridge']:<12} {c['state']:<8} full proof {proof}{tail}, next due {c['due_at'][:10]}{where}"


@audit.command("plan")
@_where
@now_option
@catalog_option
@click.option("--all", "show_all", is_flag=True, help="Every cartridge, not only what is due.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plan(devices: tuple[str, ...], libraries: tuple[str, ...], now: str | None, catalog_path: Path | None,
         show_all: bool, as_json: bool) -> None:
    """What is due and overdue: grouped by library, loaded cartridges first, the oldest first."""
    doc = lto_archive.audit_plan(catalog_path, now=now, devices=devices, libraries=libraries).to_dict()

    def text() -> None:
        counts = ", ".join(f"{n} {s}" for s, n in doc["counts"].items())
        click.echo(f"audit plan at {doc['now'][:16].replace('T', ' ')} UTC: {counts}")
        group = None
        for i, c in enumerate(doc["due"], 1):
            if c["library"] != group or i == 1:
                group = c["library"]
                click.echo(f"library {group}" if group else "not in a library given (load them, or give --library)")
            why = {"never-proven": " (never read back)", "health": f" (health: {'; '.join(c['health'])})"}.get(
                c["reason"], "")
            where = ("in a drive" if c["loaded"] else "in a slot") if c["library"] else (c["location"] or "shelf?")
            click.echo(f"{i:>4}. {c['cartridge']:<10} {c['due']:<6} {c['state']} since {c['due_at'][:10]}{why}, "
                       f"{where}")
        for c in doc["cartridges"]:
            if c["state"] == "failing":
                again = f"--library {c['library']} " if c["library"] else ""
                click.secho(f"  failing: {c['cartridge']}: its last check failed; restore the file from another "
                            f"copy, migrate the cartridge, or check it again: lto-archive audit run {again}"
                            f"--cartridge {c['cartridge']}", fg="red")
        if show_all:
            for c in doc["cartridges"]:
                click.echo("  " + _state_line(c))
        for p in doc["problems"]:
            click.echo(f"  {p['where']}: {p['why']}")
    emit(doc, as_json, text)


def _run_text(doc: dict[str, Any]) -> None:
    for a in doc["audited"]:
        drilled = a["drill"]
        drill = (f"; drill {sum(d['result'] == 'ok' for d in drilled)}/{len(drilled)} restored ok in "
                 f"{sum(d['seconds'] for d in drilled):.2f} s") if drilled else ""
        click.echo(f"{a['cartridge']:<12} {a['kind']:<6} {a['result']:<10} {a['files']} file(s) read, "
                   f"{a['failed']} failed{drill}")
        for f in a["failures"][:10]:
            click.secho(f"  FAILED {f['path']}: {f['reason']}", fg="red")
        for d in drilled:
            if d["result"] != "ok":
                click.secho(f"  drill FAILED {d['path']}: {d['message']}", fg="red")
        if a["message"] and not a["failures"]:
            click.echo(f"  {a['message']}")
    for s in doc["skipped"]:
        click.echo(f"skipped {s['cartridge']}: {s['why']}")
    if not doc["audited"] and not doc["skipped"]:
        click.echo("nothing due")
    if doc["audited"]:
        click.echo(f"seed {doc['seed']} (give --seed {doc['seed']} to pick the same files again)")


@audit.command("run")
@_where
@click.option("--cartridge", "cartridges", multiple=True, help="Audit this cartridge now, due or not (repeatable).")
@click.option("--kind", type=click.Choice(["full", "sample"]), default=None,
              help="Only audits of this kind (with --cartridge: this kind; default full).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="The random choice of files (recorded).")
@click.option("--scratch", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where sampled and drilled files are restored, then removed (default: the temp folder).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many cartridges.")
@click.option("--progress/--no-progress", default=None,
              help="Progress on stderr (default: on a terminal); plain lines when not a terminal.")
@now_option
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def run(devices: tuple[str, ...], libraries: tuple[str, ...], cartridges: tuple[str, ...], kind: str | None,
        seed: int | None, scratch: Path | None, limit: int | None, progress: bool | None, now: str | None,
        catalog_path: Path | None, as_json: bool) -> None:
    """Do what is due: full or sampled verify, and a restore drill, recorded in the catalog and custody log."""
    if not devices and not libraries:
        raise lto_archive.UsageError("audit run needs the drives (--device) or libraries (--library) to use")
    with ProgressBar(progress) as bar:
        result = lto_archive.audit_run(catalog_path, devices=devices, libraries=libraries, now=now, seed=seed,
                                       scratch=scratch, cartridges=cartridges, kind=kind, limit=limit,
                                       progress=bar)
    doc = result.to_dict()
    emit(doc, as_json, lambda: _run_text(doc))
    result.raise_for_status()


@audit.command("report")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as one printable HTML page.")
@now_option
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def report(html_path: Path | None, now: str | None, catalog_path: Path | None, as_json: bool) -> None:
    """Every cartridge's last proof, what is due, what failed, and the restore drills' times."""
    doc = lto_archive.audit_report(catalog_path, now=now)
    if html_path is not None:
        lto_archive.write_audit_report(doc, html_path)

    def text() -> None:
        counts = ", ".join(f"{n} {s}" for s, n in doc["counts"].items())
        click.echo(f"audit report at {doc['now'][:19].replace('T', ' ')} UTC: {len(doc['cartridges'])} "
                   f"cartridges ({counts}), {doc['audits']} audits")
        for c in doc["cartridges"]:
            click.echo("  " + _state_line(c))
        for f in doc["failed"]:
            click.secho(f"  failed {f['at'][:10]} {f['cartridge']} {f['kind']}: {f['message'] or f['result']}",
                        fg="red")
        d = doc["drills"]["summary"]
        if d["files"]:
            rate = f", {human_bytes(d['bytes_per_second'])}/s" if d["bytes_per_second"] else ""
            click.echo(f"drills: {d['files']} file(s) restored, {d['failed']} failed, {d['mean_seconds']:.3f} s "
                       f"per file on average, slowest {d['max_seconds']:.3f} s{rate}")
        if html_path is not None:
            click.echo(f"report: {html_path}")
    emit(doc, as_json, text)


@click.command("metrics")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write them to this file (whole or not at all), e.g. node_exporter's textfile folder's "
                   "lto_archive.prom, instead of printing them.")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Bytes archived per day: this many days.")
@now_option
@catalog_option
def metrics(output: Path | None, days: int, now: str | None, catalog_path: Path | None) -> None:
    """The catalog's numbers in Prometheus text format (for node_exporter's textfile collector): cartridges by
    audit state, bytes archived per day, audit age, drill times, drive error counters (docs/metrics.md)."""
    text = lto_archive.metrics(catalog_path, now=now, days=days, output=output)
    if output is None:
        click.echo(text, nl=False)
