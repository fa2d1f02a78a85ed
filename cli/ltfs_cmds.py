"""`format` (mkltfs) and `ltfs check|recover` (ltfsck): LTFS volumes on any device."""

from __future__ import annotations

from pathlib import Path

import click

import lto_archive

from .common import device_from, device_or_library, emit, library_options, remember_barcode


@click.command("format")
@click.option("--device", callback=device_or_library, help="vtape:DIR (a virtual cartridge), vlib:DIR, or st:/dev/nstN (a drive that can partition: LTO-5 or newer).")
@library_options(barcode=False)
@click.option("--format", "fmt", default="ltfs", show_default=True, type=click.Choice(["ltfs"]))
@click.option("--barcode", default=None, callback=remember_barcode,
              help="Cartridge label (default: the one the cartridge carries); its first 6 characters become the volume serial. With --library (or "
                   "--device vlib:DIR): the cartridge to load first.")
@click.option("--serial", default=None, help="Volume serial (6 characters A-Z 0-9), if not from the barcode.")
@click.option("--volume-name", default="", help="Shown as the volume's name when mounted.")
@click.option("--block-size", default="512K", show_default=True, help="LTFS block size (512K is the standard).")
@click.option("--force", is_flag=True, help="Erase a cartridge that already holds data.")
@click.option("--allow-old-generation", is_flag=True, help="Allow media older than LTO-5 (against CST RT-030).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
def format_cmd(device: str, fmt: str, barcode: str | None, serial: str | None, volume_name: str, block_size: str,
               force: bool, allow_old_generation: bool, as_json: bool) -> None:
    """Format the cartridge as an empty LTFS volume (two partitions), like mkltfs."""
    with device_from(device) as dev:
        result = lto_archive.format_ltfs(dev, barcode=barcode, serial=serial, volume_name=volume_name,
                                         block_size=block_size, force=force, allow_old_generation=allow_old_generation)
    emit(result.to_dict(), as_json, lambda: click.echo(
        f"formatted LTFS volume {result.serial or '(no serial)'} '{volume_name}' "
        f"uuid {result.volume_uuid}, {result.block_size // 1024} KiB blocks"))


@click.group("ltfs")
def ltfs() -> None:
    """Check and recover LTFS volumes (the ltfsck equivalents)."""


def _report_text(r: lto_archive.LtfsReport) -> None:
    click.echo(f"volume {r.serial or '(no serial)'} uuid {r.volume_uuid}: current index generation "
               f"{r.generation} from the {r.source}")
    ip, dp = r.index_partition, r.data_partition
    click.echo(f"  index partition: generation {ip['generation']} at a/{ip['block']}")
    click.echo(f"  data partition:  generation {dp['generation']} at b/{dp['block']}, end of data b/{dp['end_of_data']}")
    for n in r.notes:
        click.secho(f"  note: {n}", fg="yellow")
    for run in r.unindexed:
        click.secho(f"  not in any index: blocks b/{run.first_block}-{run.last_block}, {run.bytes} bytes",
                    fg="red")
    for a in r.actions:
        click.echo(f"  done: {a}")
    for s in r.salvaged:
        click.secho(f"  salvaged (unproven): {s}", fg="yellow")
    for j in getattr(r, "journals", []):
        click.echo(f"  journal: {j}")
    for p in getattr(r, "recovered", []):
        click.echo(f"  recovered (proven by the journal): {p}")
    for u in getattr(r, "unproven", []):
        click.secho(f"  not recovered: {u['path']}: {u['reason']}", fg="red")
    click.echo("consistent" if r.consistent else "NOT consistent: run lto-archive ltfs recover")


@ltfs.command("check")
@click.option("--device", callback=device_or_library, help="vtape:DIR, vlib:DIR")
@library_options()
@click.option("--json", "as_json", is_flag=True)
def check(device: str, as_json: bool) -> None:
    """Say whether the volume is consistent, and what a crash left behind (changes nothing)."""
    with device_from(device) as dev:
        report = lto_archive.check_ltfs(dev)
    emit(report.to_dict(), as_json, lambda: _report_text(report))
    report.raise_for_status()


@ltfs.command("recover")
@click.option("--device", callback=device_or_library, help="vtape:DIR, vlib:DIR")
@library_options()
@click.option("--salvage", is_flag=True,
              help="Keep data found after the last index as unproven files in _ltfs_lostandfound/.")
@click.option("--journal", "journals", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A write job's journal (<log dir>/<session>.journal.jsonl): its files written after the last "
                   "index are read back, and those that match its hashes go into the new index. Default: every "
                   "journal in --log-dir that names this volume.")
@click.option("--log-dir", default=None, type=click.Path(path_type=Path),
              help="Where the write jobs kept their copy logs and journals (default: every folder under logs/ "
                   "in the catalog's folder, and ./lto-archive-logs).")
@click.option("--json", "as_json", is_flag=True)
def recover(device: str, salvage: bool, journals: tuple[Path, ...], log_dir: Path | None, as_json: bool) -> None:
    """Make a volume consistent and appendable after a crash, from its last good index and the write
    jobs' journals."""
    with device_from(device) as dev:
        report = lto_archive.recover_ltfs(dev, salvage=salvage, journal=list(journals) if journals else None,
                                          log_dir=log_dir)
    emit(report.to_dict(), as_json, lambda: _report_text(report))
    report.raise_for_status()
