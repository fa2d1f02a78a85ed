"""`drive info`: what a SCSI tape drive says about itself and its cartridge (like mtx's tapeinfo)."""

from __future__ import annotations

from typing import Any

import click

from lto_archive import DriveSurvey, ScsiDevice
from lto_archive import survey_drive as survey

from .common import emit, human_bytes


@click.group("drive")
def drive() -> None:
    """A real tape drive, asked directly with SCSI commands (SG_IO)."""


@drive.command("info")
@click.argument("device")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def drive_info(device: str, as_json: bool) -> None:
    """Identity, generation, record limits, density, position and cartridge memory of DEVICE
    (/dev/nstN or the drive's /dev/sgN; st:/dev/nstN accepted). Read-only: nothing moves.
    What the drive cannot tell is listed under "not reported"."""
    path = device.removeprefix("st:").split("?")[0]
    with ScsiDevice.open(path) as dev:
        s = survey(dev)
    data = survey_dict(path, s)
    emit(data, as_json, lambda: _text(data))


def survey_dict(path: str, s: DriveSurvey) -> dict[str, Any]:
    inq = s.inquiry
    d: dict[str, Any] = {
        "device": path,
        "vendor": inq.vendor if inq else None, "product": inq.product if inq else None,
        "revision": inq.revision if inq else None, "serial": s.serial,
        "drive_generation": s.drive_generation.name if s.drive_generation else None,
        "block_limits": {"minimum": s.block_limits.minimum, "maximum": s.block_limits.maximum}
        if s.block_limits else None,
        "loaded": s.loaded,
        "density_code": f"0x{s.medium_density_code:02X}" if s.medium_density_code else None,
        "medium_generation": s.medium_generation.name if s.medium_generation else None,
        "write_protected": s.mode.write_protected if s.mode else None,
        "block_length": s.mode.block_length if s.mode else None,
        "position": None, "cartridge_memory": None, "densities": None,
        "not_reported": dict(s.missing),
    }
    if s.position:
        p = s.position
        d["position"] = {"partition": p.partition, "block": p.block, "file_number": None if p.mpu else p.file_number,
                         "bop": p.bop, "early_warning": p.eop, "programmable_early_warning": p.bpew}
    if s.cartridge:
        c = s.cartridge
        d["cartridge_memory"] = {
            "barcode": c.barcode, "medium_serial": c.medium_serial, "manufacturer": c.manufacturer,
            "medium_type": c.medium_type_name,
            "manufacture_date": c.manufacture_date.isoformat() if c.manufacture_date else None,
            "load_count": c.load_count, "remaining_capacity_mib": c.remaining_capacity_mb,
            "max_capacity_mib": c.max_capacity_mb}
    if s.densities is not None:
        d["densities"] = [{"density_code": f"0x{x.primary_density_code:02X}", "name": x.name,
                           "description": x.description, "capacity": x.capacity_mb * 10**6,
                           "writable": x.writable, "default": x.default} for x in s.densities]
    return d


def _record(n: int) -> str:
    """A record length as drives state it: binary units when exact."""
    if n and n % 2**20 == 0:
        return f"{n // 2**20} MiB"
    if n and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


def _text(d: dict[str, Any]) -> None:
    def line(label: str, value: object) -> None:
        click.echo(f"{label:<16}{value}")

    line("device", d["device"])
    line("drive", " ".join(x for x in (d["vendor"], d["product"], d["revision"]) if x)
         + (f" ({d['drive_generation']})" if d["drive_generation"] else " (generation unknown)"))
    if d["serial"]:
        line("serial", d["serial"])
    if d["block_limits"]:
        line("records", f"{_record(d['block_limits']['minimum'])} .. {_record(d['block_limits']['maximum'])}")
    line("cartridge", "loaded" if d["loaded"] else "none")
    if d["loaded"]:
        if d["medium_generation"] or d["density_code"]:
            line("medium", f"{d['medium_generation'] or 'unknown format'} (density code {d['density_code']})")
        if d["write_protected"] is not None:
            line("write protected", "yes" if d["write_protected"] else "no")
        if d["block_length"] is not None:
            line("block mode", f"fixed {d['block_length']} B" if d["block_length"] else "variable")
        if d["position"]:
            p = d["position"]
            flags = "".join(f", {n}" for n, k in (("BOP", "bop"), ("early warning", "early_warning"),
                                                  ("programmable early warning", "programmable_early_warning"))
                            if p[k])
            line("position", f"partition {p['partition']}, block {p['block']}{flags}")
        if d["cartridge_memory"]:
            c = d["cartridge_memory"]
            line("barcode", c["barcode"] or "-")
            line("medium serial", c["medium_serial"] or "-")
            if c["medium_type"]:
                line("medium type", c["medium_type"])
            if c["manufacturer"] or c["manufacture_date"]:
                line("made", " ".join(x for x in (c["manufacturer"], c["manufacture_date"]) if x))
            if c["load_count"] is not None:
                line("loads", c["load_count"])
            if c["remaining_capacity_mib"] is not None and c["max_capacity_mib"]:
                line("left", f"{human_bytes(c['remaining_capacity_mib'] * 2**20)} of "
                             f"{human_bytes(c['max_capacity_mib'] * 2**20)} (partition 0)")
    for what, why in d["not_reported"].items():
        if what != "cartridge" or d["loaded"]:
            click.echo(f"not reported    {what}: {why}")
