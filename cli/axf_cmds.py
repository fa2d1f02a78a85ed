"""`axf scan`: recover an AXF-style volume by reading it record by record (no index needed)."""

from __future__ import annotations

from pathlib import Path

import click

from lto_archive import AXF_FAILED as FAILED
from lto_archive import AXF_MISSING as MISSING
from lto_archive import AXF_PROVEN as PROVEN
from lto_archive import AXF_UNPROVEN as UNPROVEN
from lto_archive import AxfScanReport as ScanReport
from lto_archive import scan_axf as scan_volume

from .common import device_from, device_or_library, emit, human_bytes, library_options


@click.group("axf")
def axf() -> None:
    """AXF-style volumes (docs/formats/axf-style.md): recovery by scanning."""


def _text(report: ScanReport, dest: Path | None, verbose: bool) -> None:
    for v in report.volumes:
        if v["structure"] in ("volume header", "volume footer"):
            click.echo(f"{v['structure']} (tape file {v['tape_file']}, block {v['block']}): volume "
                       f"{v.get('volume_uuid')} collection {v.get('collection_uuid')} sequence {v.get('sequence')}")
    for o in report.objects:
        files = [f for f in o.files.values() if f.kind == "file"]
        counts = ", ".join(f"{sum(1 for f in files if f.status == s)} {s}"
                           for s in (PROVEN, FAILED, UNPROVEN, MISSING) if any(f.status == s for f in files))
        click.echo(f"object {o.uuid} (tape file {o.tape_file}): header {'found' if o.header else 'LOST'}, "
                   f"footer {'found' if o.footer else 'LOST'}; {len(files)} files: {counts or 'none'}")
        for f in sorted(o.files.values(), key=lambda f: f.seq):
            if f.kind != "file":
                continue
            if f.status == PROVEN and f.segment_size is not None:     # a spanned file's part (spec 7.3)
                more = "; continues on the next cartridge" if f.continues else \
                    ("; joined with the earlier segments" if f.joined else "")
                click.echo(f"  segment: {f.path}: bytes {f.segment_offset}-{f.segment_offset + f.segment_size} "
                           f"of {f.size}, proven" + (", restored" if f.restored else "") + more)
                continue
            if f.status == PROVEN:
                if verbose:
                    how = "" if f.proof == "file footer" else f" (by the {f.proof})"
                    click.echo(f"  proven{how}: {f.path} ({human_bytes(f.size)})"
                               + (", restored" if f.restored else ""))
                continue
            colour = "yellow" if f.status == UNPROVEN else "red"
            click.secho(f"  {f.status.upper()}: {f.path}: {f.reason}", fg=colour)
    for d in report.damaged:
        end = f", resumed at block {d.resumed_at}" if d.resumed_at is not None else ""
        click.secho(f"damaged: tape file {d.tape_file} block {d.block} offset {d.offset}: {d.message}{end}", fg="red")
    for r in report.refused:
        click.secho(f"not restored: {r['path']}: {r['message']}", fg="yellow")
    for n in report.notes:
        click.secho(f"note: {n}", fg="yellow")
    files = report.files
    proven = [f for f in files if f.status == PROVEN]
    line = (f"{len(proven)} of {len(files)} files proven by their checksums, "
            f"{human_bytes(sum(f.size if f.segment_size is None else f.segment_size for f in proven))}; "
            f"{report.tape_files} tape files, {report.records} records read")
    if dest is not None:
        line += f"; {sum(1 for f in files if f.restored)} restored into {dest}"
    click.echo(line)


@axf.command("scan")
@click.option("--device", callback=device_or_library, help="vtape:DIR (a virtual cartridge), vlib:DIR.")
@library_options()
@click.option("--restore", "dest", default=None, type=click.Path(path_type=Path),
              help="Restore every proven file (and the folders and links found) into DEST.")
@click.option("--overwrite", is_flag=True, help="Replace files that already exist in DEST.")
@click.option("--partition", default=None, type=int, help="Partition to scan (default: the last, the data partition).")
@click.option("--verbose", "-v", is_flag=True, help="List every proven file, not only the problems.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result on stdout.")
def scan(device: str, dest: Path | None, overwrite: bool, partition: int | None, verbose: bool, as_json: bool) -> None:
    """Find every object and file on the tape without any index, even when volume headers or
    footers are damaged, and prove each file by its checksums (exit 3: files failed or are
    missing; 6: damage found, every other file proven; 5: files found but not provable)."""
    with device_from(device) as dev:
        report = scan_volume(dev, dest=dest, overwrite=overwrite, partition=partition)
    emit(report.to_dict(), as_json, lambda: _text(report, dest, verbose))
    report.raise_for_status()
