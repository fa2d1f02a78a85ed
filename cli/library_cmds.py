"""`vlib create|insert|remove` and `library status|load|unload|transfer|export|import`: tape libraries
(medium changers)."""

from __future__ import annotations

from pathlib import Path

import click

import lto_archive
from lto_archive import (CartridgeNotFound, DriveFull, DriveInfo, Library, LibraryStatus, UsageError, create_vlib,
                         open_library, parse_capacity)

from .common import CAPACITY_HELP, capacity_text, emit

_LIBRARY_HELP = "vlib:DIR (a virtual library), /dev/sgN or mtx:/dev/sgN (a changer, through mtx)."


@click.group("vlib")
def vlib() -> None:
    """Virtual tape libraries: a folder of slots and drives holding virtual cartridges."""


@vlib.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--drives", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--slots", default=8, show_default=True, type=click.IntRange(1, 999), help="Storage slots.")
@click.option("--import-export", default=0, show_default=True, type=click.IntRange(0, 99),
              help="Import/export (mail) slots, numbered after the storage slots, empty.")
@click.option("--cartridges", default=None, type=click.IntRange(0, 999),
              help="Blank cartridges to put in slots 1, 2, ... (default: one per storage slot).")
@click.option("--generation", default="LTO-9", show_default=True, help="LTO-5 ... LTO-10.")
@click.option("--capacity", default=None, help=f"Per cartridge, e.g. 100M ({CAPACITY_HELP}; default: the generation's native).")
@click.option("--prefix", default="LTA", show_default=True, help="Barcode prefix: LTA -> LTA001L9, LTA002L9, ...")
@click.option("--partitions", type=click.IntRange(1, 2), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def vlib_create(directory: Path, drives: int, slots: int, import_export: int, cartridges: int | None,
                generation: str, capacity: str | None, prefix: str, partitions: int, as_json: bool) -> None:
    """Create a virtual library in DIRECTORY, its cartridges in the storage slots, the drives empty."""
    lib = create_vlib(directory, drives=drives, slots=slots, generation=generation, capacity=capacity or None,
                      cartridges=cartridges,
                      import_export=import_export, prefix=prefix, partitions=partitions)
    st = lib.status()
    data = {"library": lib.name, **st.to_dict()}
    labels = st.barcodes()
    emit(data, as_json, lambda: click.echo(
        f"created {lib.name}: {drives} drive(s), {slots} slot(s)"
        f"{f' + {import_export} import/export' if import_export else ''}, {len(labels)} {generation} "
        f"cartridge(s) {labels[0] + ' .. ' + labels[-1] if labels else ''}"
        f"{f' of {capacity_text(parse_capacity(capacity))}' if capacity else ''}\n"
        f"use --library {lib.name} (or --device {lib.name} --barcode {labels[0] if labels else 'LABEL'})"))


@click.group("library")
def library() -> None:
    """Tape libraries: where every cartridge is, and the robot's moves."""


def _library_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(f)
    f = click.option("--drive-device", "drive_devices", multiple=True,
                     help="Library drive N is this tape device: N=/dev/nstX (repeatable; see docs/library.md).")(f)
    return click.option("--library", "library_spec", required=True, help=_LIBRARY_HELP)(f)


def _open(spec: str, drive_devices: tuple[str, ...]) -> Library:
    return open_library(spec, drive_devices=drive_devices)


# how a drive's device was found, when it was not by its serial number or by the user (docs/library.md)
_DEVICE_SOURCES = {"tapevm": "device from TAPEVM_DRIVES, not checked by serial",
                   "sysfs": "device by SCSI address order, not checked by serial"}


def _status_text(lib: Library, st: LibraryStatus) -> None:
    ie = sum(1 for s in st.slots if s.import_export)
    click.echo(f"library {lib.name}: {len(st.drives)} drive(s), {len(st.slots) - ie} slot(s)"
               f"{f' + {ie} import/export' if ie else ''}, {len(st.barcodes())} cartridge(s)")
    for d in st.drives:
        what = (d.barcode or "(no label)") if d.full else "empty"
        src = f"  from slot {d.source_slot}" if d.full and d.source_slot is not None else ""
        serial = f"serial {d.serial}" if d.serial else ""
        how = f" ({_DEVICE_SOURCES[d.device_source]})" if d.device and d.device_source in _DEVICE_SOURCES else ""
        click.echo(f"drive {d.number:>3}  {what:<10}{src:<16}  {d.device or '':<10}  {serial}{how}".rstrip())
    for s in st.slots:
        what = (s.barcode or "(no label)") if s.full else "empty"
        click.echo(f"slot  {s.number:>3}  {what:<10}{'  import/export' if s.import_export else ''}".rstrip())


@library.command("status")
@_library_options
def library_status(library_spec: str, drive_devices: tuple[str, ...], as_json: bool) -> None:
    """Drives, slots, import/export slots and the barcodes in them."""
    lib = _open(library_spec, drive_devices)
    st = lib.status()
    emit({"library": lib.name, **st.to_dict()}, as_json, lambda: _status_text(lib, st))


def _drive_text(st: LibraryStatus, drive: int) -> str:
    d = st.drive(drive)
    return f"drive {drive}" + (f" ({d.device})" if d.device else "")


@library.command("load")
@_library_options
@click.argument("barcode", required=False)
@click.option("--slot", type=int, default=None, help="Load from this slot instead of naming a BARCODE.")
@click.option("--drive", type=int, default=None, help="Into this drive (default: the first empty one).")
def library_load(library_spec: str, drive_devices: tuple[str, ...], as_json: bool, barcode: str | None,
                 slot: int | None, drive: int | None) -> None:
    """Load the cartridge BARCODE (or the one in --slot) into a drive."""
    if (barcode is None) == (slot is None):
        raise UsageError("name the cartridge to load: a BARCODE or --slot N (not both)")
    lib = _open(library_spec, drive_devices)
    if barcode is not None:
        drive = lib.load_barcode(barcode, drive)
    else:
        assert slot is not None
        if drive is None:
            drive = lib.status().free_drive()
            if drive is None:
                raise DriveFull(f"cannot load slot {slot}: every drive of {lib.name} is full; unload one first",
                                slot=slot)
        lib.load(slot, drive)
    st = lib.status()
    d = st.drive(drive)
    emit({"library": lib.name, "barcode": d.barcode, "drive": drive, "device": d.device,
          "source_slot": d.source_slot}, as_json,
         lambda: click.echo(f"loaded {d.barcode or '(no label)'} into {_drive_text(st, drive)}"
                            + (f"; use --device {d.device}" if d.device else "")))


@library.command("unload")
@_library_options
@click.argument("barcode", required=False)
@click.option("--drive", type=int, default=None, help="The drive to empty (default: the only full one).")
@click.option("--slot", type=int, default=None, help="Into this slot (default: where it came from).")
def library_unload(library_spec: str, drive_devices: tuple[str, ...], as_json: bool, barcode: str | None,
                   drive: int | None, slot: int | None) -> None:
    """Put the cartridge in a drive (or the one labelled BARCODE) back into a slot."""
    lib = _open(library_spec, drive_devices)
    st = lib.status()
    if barcode is not None:
        place = st.locate(barcode)
        if not isinstance(place, DriveInfo):
            if place is None:
                raise CartridgeNotFound(f"no cartridge with barcode {barcode} in {lib.name}", barcode=barcode)
            raise UsageError(f"{barcode} is not in a drive: it is in slot {place.number}", barcode=barcode)
        drive = place.number
    elif drive is None:
        full = [d.number for d in st.drives if d.full]
        if len(full) != 1:
            held = "none is full" if not full else f"drives {', '.join(map(str, full))} are full"
            raise UsageError(f"which drive? {held}: name one with --drive N (or give the BARCODE)")
        drive = full[0]
    label = st.drive(drive).barcode
    lib.unload(drive, slot)
    where = lib.status().locate(label) if label else None
    dest = where.number if where is not None else slot
    emit({"library": lib.name, "barcode": label, "drive": drive, "slot": dest}, as_json,
         lambda: click.echo(f"unloaded {label or '(no label)'} from drive {drive} into slot {dest}"))


@library.command("transfer")
@_library_options
@click.argument("source_slot", type=int)
@click.argument("dest_slot", type=int)
def library_transfer(library_spec: str, drive_devices: tuple[str, ...], as_json: bool, source_slot: int,
                     dest_slot: int) -> None:
    """Move the cartridge in SOURCE_SLOT to DEST_SLOT (e.g. to an import/export slot)."""
    lib = _open(library_spec, drive_devices)
    label = lib.status().slot(source_slot).barcode
    lib.transfer(source_slot, dest_slot)
    emit({"library": lib.name, "barcode": label, "from_slot": source_slot, "to_slot": dest_slot}, as_json,
         lambda: click.echo(f"moved {label or '(no label)'} from slot {source_slot} to slot {dest_slot}"))


@library.command("export")
@_library_options
@click.argument("barcode")
@click.option("--ie-slot", type=int, default=None, help="Into this import/export slot (default: the first empty one).")
def library_export(library_spec: str, drive_devices: tuple[str, ...], as_json: bool, barcode: str,
                   ie_slot: int | None) -> None:
    """Move the cartridge BARCODE (from its slot or a drive) to an import/export (mail) slot."""
    lib = _open(library_spec, drive_devices)
    before = lib.status().locate(barcode)
    slot = lto_archive.export_cartridge(lib, barcode, ie_slot)      # with its custody event
    came = (f"drive {before.number}" if isinstance(before, DriveInfo) else f"slot {before.number}") if before else "?"
    emit({"library": lib.name, "barcode": barcode, "from": came, "ie_slot": slot}, as_json,
         lambda: click.echo(f"exported {barcode} from {came} to import/export slot {slot}: take it out there"))


@library.command("import")
@_library_options
@click.option("--ie-slot", type=int, default=None, help="From this import/export slot (default: the first full one).")
@click.option("--slot", type=int, default=None, help="Into this storage slot (default: the first empty one).")
def library_import(library_spec: str, drive_devices: tuple[str, ...], as_json: bool, ie_slot: int | None,
                   slot: int | None) -> None:
    """Move the cartridge put in an import/export (mail) slot into a storage slot."""
    lib = _open(library_spec, drive_devices)
    label, src, dest = lto_archive.import_cartridge(lib, ie_slot, slot)   # with its custody event
    emit({"library": lib.name, "barcode": label, "ie_slot": src, "slot": dest}, as_json,
         lambda: click.echo(f"imported {label or '(no label)'} from import/export slot {src} into slot {dest}"))


@vlib.command("insert")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--barcode", default=None, help="A new blank cartridge with this label, like the library's own.")
@click.option("--cartridge", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="A virtual cartridge folder to put in (moved into the library).")
@click.option("--ie-slot", type=int, default=None, help="Into this import/export slot (default: the first empty one).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def vlib_insert(directory: Path, barcode: str | None, cartridge: Path | None, ie_slot: int | None,
                as_json: bool) -> None:
    """Put a cartridge into an import/export slot of a virtual library, as an operator at the mail slot."""
    lib = open_library(f"vlib:{directory}")
    label, slot = lib.insert(ie_slot, cartridge=cartridge, barcode=barcode)
    emit({"library": lib.name, "barcode": label, "ie_slot": slot}, as_json,
         lambda: click.echo(f"inserted {label} into import/export slot {slot}; "
                            f"store it with `lto-archive library import --library {lib.name}`"))


@vlib.command("remove")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder the cartridge goes to (it becomes vtape:TO/BARCODE).")
@click.option("--ie-slot", type=int, default=None, help="From this import/export slot (default: the first full one).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def vlib_remove(directory: Path, to: Path, ie_slot: int | None, as_json: bool) -> None:
    """Take the cartridge out of an import/export slot of a virtual library, as an operator at the mail slot."""
    lib = open_library(f"vlib:{directory}")
    dest = lib.remove(to, ie_slot)
    emit({"library": lib.name, "barcode": dest.name, "device": f"vtape:{dest}"}, as_json,
         lambda: click.echo(f"took {dest.name} out of {lib.name}: it is vtape:{dest}"))
