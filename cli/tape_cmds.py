"""`vtape create` and `info`: cartridges and what the drive says about them."""

from __future__ import annotations

from pathlib import Path

import click

from lto_archive import create_vtape, partition_room

from .common import CAPACITY_HELP, capacity_text, device_from, device_or_library, emit, human_bytes, library_options


@click.group("vtape")
def vtape() -> None:
    """Virtual LTO cartridges (a folder in the LTFS reference emulator's layout)."""


@vtape.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--generation", default="LTO-9", show_default=True, help="LTO-5 ... LTO-10 (older ones for tests).")
@click.option("--capacity", default=None, help=f"e.g. 20G ({CAPACITY_HELP}); default: the generation's native capacity.")
@click.option("--barcode", default=None, help="Cartridge label, e.g. ABC123L9.")
@click.option("--partitions", type=click.IntRange(1, 2), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def vtape_create(directory: Path, generation: str, capacity: str | None, barcode: str | None,
                 partitions: int, as_json: bool) -> None:
    """Create a blank virtual cartridge in DIRECTORY."""
    with create_vtape(directory, generation=generation, capacity=capacity or None, barcode=barcode,
                      partitions=partitions) as tape:
        info = tape.medium()
    gen = info.generation
    data = {"device": f"vtape:{directory}", "generation": gen.name, "barcode": barcode,
            "capacity": info.capacity, "partitions": partitions}
    emit(data, as_json, lambda: click.echo(
        f"created {gen.name} cartridge {barcode or '(no barcode)'} in {directory}: "
        f"{capacity_text(info.capacity)}, {partitions} partition(s); use --device vtape:{directory}"))


@click.command("info")
@click.option("--device", callback=device_or_library, help="/dev/nstN (a tape drive), vtape:DIR, vlib:DIR (or null:).")
@library_options()
@click.option("--json", "as_json", is_flag=True)
def info(device: str, as_json: bool) -> None:
    """Medium, generation, barcode, position, space used and left."""
    with device_from(device) as dev:
        m = dev.medium()
        pos = dev.position()
        rooms = partition_room(dev)
        data_room = rooms[-1]       # the data partition (LTFS: b) is the last: where files go
        data = {"device": device, "barcode": m.barcode, "generation": m.generation.name,
                "drive_generation": m.drive_generation.name, "density_code": f"0x{m.density_code:02X}",
                "partitions": m.partitions, "capacity": m.capacity, "remaining": data_room["remaining"],
                "partition_room": rooms,
                "write_protected": m.write_protected,
                "position": {"partition": pos.partition, "block": pos.block, "file_number": pos.file_number,
                             "bop": pos.bop, "eod": pos.eod, "early_warning": pos.early_warning}}

        def text() -> None:
            click.echo(f"device          {device}")
            click.echo(f"barcode         {m.barcode or '-'}")
            click.echo(f"medium          {m.generation.name} (density code 0x{m.density_code:02X}), "
                       f"drive {m.drive_generation.name}")
            click.echo(f"partitions      {m.partitions}")
            click.echo(f"capacity        {capacity_text(m.capacity)}")
            others = "".join(f"; {human_bytes(r['remaining'])} on partition {r['partition']}" for r in rooms[:-1])
            click.echo(f"left            {human_bytes(data_room['remaining'])} on partition {data_room['partition']}"
                       f"{' (data)' if len(rooms) > 1 else ''}{others}")
            click.echo(f"write protected {'yes' if m.write_protected else 'no'}")
            click.echo(f"position        partition {pos.partition}, block {pos.block}"
                       f"{', BOP' if pos.bop else ''}{', EOD' if pos.eod else ''}")
        emit(data, as_json, text)
