"""`lto-archive report`: the digital rushes report (CST RT-030 2.3.2) of camera cards.

With `--catalog PATH` each clip also says where its copies are: the tapes (barcodes) and
folders holding its files, and whether each was verified (lto_archive/report/copies.py).
"""

from __future__ import annotations

from pathlib import Path

import click

from lto_archive import REPORT_FORMATS as FORMATS
from lto_archive import UsageError, build_report, naming_convention, write_report

from .common import emit, human_bytes


def _format_of(fmt: str | None, output: str) -> str:
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    if suffix in FORMATS:
        return suffix
    raise UsageError(f"say which report format to write: --format {'|'.join(FORMATS)} "
                     f"(the output name {output!r} does not say)", value=output)


@click.command("report")
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="csv (one row per clip), json (everything), html (a printable page for the lab). "
                   "Default: from the --output name.")
@click.option("--output", "-o", required=True, help="The report file ('-': standard output).")
@click.option("--naming", default=None, metavar="REGEX|@FILE",
              help="Naming convention: a regular expression with named groups camera, reel, card, clip, "
                   "scene, shot, take, date; or @FILE with one per line. Default: ARRI/Sony/RED names "
                   "(A001C002_230101_R1AB, A001_C002_0101AB) and scene/take names (012A_T03).")
@click.option("--card-folder", default=None, metavar="REGEX",
              help="Which folder names are camera cards (the card id when the name gives none).")
@click.option("--rate", default=None, metavar="FPS",
              help="Project frame rate (25, 23.976, 24000/1001), used, and marked as assumed, only for "
                   "files that record none: a WAV's BWF time reference as timecode, a frame folder's duration.")
@click.option("--production", default=None, help="Production name, in the report's header.")
@click.option("--operator", default=None, help="DIT / data wrangler, in the report's header.")
@click.option("--catalog", default=None, metavar="PATH|URL",
              help="The catalog (an SQLite file or postgresql://...): each clip's copies (tapes by barcode, folders), verified or not, in a "
                   "Copies column. Without it the report says nothing about copies.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (not the report) as JSON.")
def report(sources: tuple[str, ...], fmt: str | None, output: str, naming: str | None, card_folder: str | None,
           rate: str | None, production: str | None, operator: str | None, catalog: Path | None,
           as_json: bool) -> None:
    """Write the digital rushes report of SOURCE... (camera cards or folders): per clip the camera,
    card, reel, scene/shot/take, file names and sizes, file type, duration, start timecode and
    frame rate. Technical metadata comes from ffprobe (apt-get install ffmpeg); what a file does
    not give is written "not available" with the reason, never guessed."""
    fmt = _format_of(fmt, output)
    convention = naming_convention(naming, card_folder=card_folder)
    rep = build_report(list(sources), naming=convention, rate=rate, production=production, operator=operator,
                       catalog=catalog)
    written = write_report(rep, fmt, output)
    totals = rep.totals()
    result = {"status": "ok", "output": str(written) if written else "-", "format": fmt, **totals,
              "clips_list": [c.path for c in rep.clips]}
    if rep.catalog is not None:
        result["clips_without_verified_copy"] = [c.path for c in rep.clips if not c.proven_copies()]

    def text() -> None:
        if written is None:
            return                       # the report itself went to standard output
        na = totals["fields_not_available"]
        click.echo(f"{totals['clips']} clips, {totals['files']} files, {human_bytes(totals['bytes'])} -> {written}"
                   + (f" ({na} fields not available: see the report's notes)" if na else ""))
    emit(result, as_json and written is not None, text)
