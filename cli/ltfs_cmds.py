"""`format` (mkltfs) and `ltfs check|recover` (ltfsck): LTFS volumes on any device."""

from __future__ import annotations

import click

from lto_archive.errors import ArchiveError, UsageError
from lto_archive.formats.ltfs.recover import CheckReport, check_volume, recover_volume
from lto_archive.formats.ltfs.volume import format_volume, read_labels
from lto_archive.jobs.write import TOOL, prepare_medium

from .common import device_from, device_or_library, emit, library_options, parse_size, remember_barcode


def _serial_from(barcode: str | None, serial: str | None) -> str | None:
    if serial:
        return serial
    if barcode:
        return barcode[:6].upper()
    return None


def _has_data(dev) -> bool:  # type: ignore[no-untyped-def]
    for p in range(dev.partitions):
        dev.locate(p, 0)
        dev.seek_eod()
        if dev.position().block:
            return True
    return False


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
    bs = parse_size(block_size)
    if bs < 4096:
        raise UsageError("LTFS needs a block size of at least 4K (512K is the standard)")
    with device_from(device) as dev:
        prepare_medium(dev, allow_old_generation)
        if not force and _has_data(dev):
            what = "an LTFS volume" if _is_ltfs(dev) else "data"
            raise UsageError(f"the cartridge in {device} already holds {what}: formatting erases it all; "
                             f"add --force if that is what you want", device=device)
        state = format_volume(dev, creator=f"{TOOL} - format", serial=_serial_from(barcode or dev.medium().barcode, serial),
                              volume_name=volume_name, block_size=bs)
    data = {"status": "ok", "serial": state.serial, "volume_uuid": state.label.volume_uuid,
            "volume_name": volume_name, "block_size": bs, "generation": state.index.generation}
    emit(data, as_json, lambda: click.echo(
        f"formatted LTFS volume {state.serial or '(no serial)'} '{volume_name}' "
        f"uuid {state.label.volume_uuid}, {bs // 1024} KiB blocks"))


def _is_ltfs(dev) -> bool:  # type: ignore[no-untyped-def]
    try:
        read_labels(dev)
        return True
    except ArchiveError:
        return False


@click.group("ltfs")
def ltfs() -> None:
    """Check and recover LTFS volumes (the ltfsck equivalents)."""


def _report_text(r: CheckReport) -> None:
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
    click.echo("consistent" if r.consistent else "NOT consistent: run lto-archive ltfs recover")


@ltfs.command("check")
@click.option("--device", callback=device_or_library, help="vtape:DIR, vlib:DIR")
@library_options()
@click.option("--json", "as_json", is_flag=True)
def check(device: str, as_json: bool) -> None:
    """Say whether the volume is consistent, and what a crash left behind (changes nothing)."""
    with device_from(device) as dev:
        report = check_volume(dev)
    emit(report.to_dict(), as_json, lambda: _report_text(report))
    if not report.consistent:
        raise ArchiveError("the LTFS volume is not consistent: run 'lto-archive ltfs recover'",
                           unindexed_bytes=report.unindexed_bytes)


@ltfs.command("recover")
@click.option("--device", callback=device_or_library, help="vtape:DIR, vlib:DIR")
@library_options()
@click.option("--salvage", is_flag=True,
              help="Keep data found after the last index as unproven files in _ltfs_lostandfound/.")
@click.option("--json", "as_json", is_flag=True)
def recover(device: str, salvage: bool, as_json: bool) -> None:
    """Make a volume consistent and appendable after a crash, from its last good index."""
    with device_from(device) as dev:
        prepare_medium(dev, True)
        report = recover_volume(dev, creator=f"{TOOL} - recover", salvage=salvage)
    emit(report.to_dict(), as_json, lambda: _report_text(report))
    if not report.consistent:
        raise ArchiveError("the LTFS volume could not be made consistent")
