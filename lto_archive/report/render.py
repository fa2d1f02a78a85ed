"""The rushes report as CSV (one row per clip), JSON (everything), or a printable HTML page.

Every field without a value reads "not available" and gives its reason: in CSV
the reasons are in the Notes column, in JSON next to the field, in HTML as
numbered notes under the table. Values that rest on an assumption (a WAV's
timecode at the project rate) are marked the same way.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import sys
from pathlib import Path

from ..errors import UsageError
from ..fsutil import atomic_write
from .model import CLIP_FIELDS, NOT_AVAILABLE, ClipReport, Field, Report
from .timecode import clock

FORMATS = ("csv", "json", "html")

CSV_COLUMNS = (["Clip", "Path", "Source", "Kind"] + [title for _, title in CLIP_FIELDS]
               + ["Files", "Size (bytes)", "File names", "First frame", "Last frame", "Missing frames",
                  "Sidecars", "Notes"])
#: with a catalog (report --catalog): where each clip's copies are
COPY_COLUMNS = ["Tapes", "Verified copies", "Copies"]


def _notes(c: ClipReport) -> list[str]:
    out = [f"{title}: {NOT_AVAILABLE} ({reason})" for title, reason in c.unavailable()]
    out += [f"{title}: assumed ({f.source})" for _, title, f in c.fields() if f.available and f.assumed]
    return out + list(c.notes)


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    copies = report.catalog is not None
    w.writerow(CSV_COLUMNS + (COPY_COLUMNS if copies else []))
    for c in report.clips:
        fr = c.frames
        w.writerow([c.name, c.path, c.source, c.kind]
                   + [f.display() for _, _, f in c.fields()]
                   + [len(c.media_files), c.size, _csv_names(c),
                      fr.first if fr else "", fr.last if fr else "", fr.missing_text(10_000) if fr else "",
                      "; ".join(f.path for f in c.sidecars), " | ".join(_notes(c))]
                   + ([" ".join(c.tapes()), c.proven_copies(), c.copies_text()] if copies else []))
    return buf.getvalue()


def _csv_names(c: ClipReport) -> str:
    media = c.media_files
    if c.kind == "sequence" and len(media) > 2:
        return f"{media[0].path} ... {media[-1].path} ({len(media)} frames)"
    return "; ".join(f.path for f in media)


def render_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


# --- HTML --------------------------------------------------------------------------

CSS = """
@page { size: A4 landscape; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 9pt/1.3 "Helvetica Neue", Arial, sans-serif; color: #000; margin: 0 auto; max-width: 1400px;
       padding: 8px; }
h1 { font-size: 15pt; margin: 0 0 6px; }
h2 { font-size: 11pt; margin: 14px 0 4px; }
table { border-collapse: collapse; width: 100%; }
table.meta { width: auto; margin-bottom: 8px; }
table.meta th { text-align: left; padding: 1px 12px 1px 0; font-weight: 600; vertical-align: top; }
table.meta td { padding: 1px 0; }
table.clips { font-size: 7.5pt; }
table.clips th, table.clips td { border: 0.5pt solid #777; padding: 2px 3px; vertical-align: top; text-align: left; }
table.clips thead th { background: #e6e6e6; }
table.clips thead { display: table-header-group; }
table.clips tfoot td { font-weight: 600; background: #f2f2f2; }
table.clips tr { break-inside: avoid; page-break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
.tc { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: nowrap; }
.small { font-size: 6.5pt; color: #333; word-break: break-all; }
.na { color: #a00; font-style: italic; white-space: nowrap; }
.assumed { color: #555; }
sup { font-size: 6pt; }
ol.notes { font-size: 7.5pt; padding-left: 22px; }
ol.notes li { margin: 1px 0; }
.totals span { margin-right: 16px; }
footer { margin-top: 12px; font-size: 7pt; color: #444; }
@media print { body { padding: 0; max-width: none; } a { color: #000; text-decoration: none; } }
"""


def esc(x: object) -> str:
    """Text (or anything printed as text) safe inside HTML, attributes included."""
    return html.escape(str(x), quote=True)


def html_head(title: str, css: str = CSS) -> list[str]:
    """The start of a self-contained page (inline CSS, nothing fetched), up to and with `<body>`."""
    return ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>", f"<style>{css}</style>", "</head>", "<body>"]


def meta_rows(rows: list[tuple[str, str]]) -> list[str]:
    """A header table of name/value rows (`table.meta`)."""
    return ['<table class="meta">'] + [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows] + ["</table>"]


def human_size(n: int) -> str:
    x = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if x < 1000 or unit == "TB":
            return f"{n} B" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1000
    return f"{x:.1f} TB"


class _Footnotes:
    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    def ref(self, text: str) -> str:
        n = self.items.setdefault(text, len(self.items) + 1)
        return f'<sup><a href="#n{n}">[{n}]</a></sup>'


def _cell(f: Field, notes: _Footnotes, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    if not f.available:
        return f'<td><span class="na">{NOT_AVAILABLE}</span>{notes.ref(f.reason or "not recorded")}</td>'
    if f.assumed:
        return (f'<td{attr}><span class="assumed">{esc(f.display())}</span>'
                f'{notes.ref("assumed: " + (f.source or ""))}</td>')
    return f"<td{attr}>{esc(f.display())}</td>"


def render_html(report: Report) -> str:
    notes = _Footnotes()
    t = report.totals()
    dur = clock(t["duration_seconds"])
    title = "Digital rushes report" + (f" - {report.production}" if report.production else "")
    out = [*html_head(title), "<header>", f"<h1>{esc(title)}</h1>", *meta_rows(_meta_rows(report)), "</header>"]
    out.append('<p class="totals">'
               f"<span><b>{t['clips']}</b> clips</span><span><b>{t['files']}</b> files</span>"
               f"<span><b>{esc(human_size(t['bytes']))}</b> ({t['bytes']:,} bytes)</span>"
               f"<span>duration <b>{esc(dur)}</b>"
               + (f" (+ {t['clips_without_duration']} clip(s) of unknown duration)" if t["clips_without_duration"]
                  else "") + "</span>"
               + "".join(f"<span>camera {esc(k)}: {v}</span>" for k, v in t["clips_per_camera"].items())
               + "</p>")
    out += _clips_table(report, notes, t["clips"], dur)
    out += _appendix(report, t["takes_per_shot"], notes)
    out.append(f"<footer>{esc(report.generator)}. CST RT-030 2.3.2 digital rushes report. "
               f"&quot;{NOT_AVAILABLE}&quot;: the files do not give the value (see the notes); "
               "nothing is guessed.</footer>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _meta_rows(report: Report) -> list[tuple[str, str]]:
    """The header table: production, operator, date, sources, rate, naming, folders, catalog."""
    rate = report.project_rate
    if rate.available and rate.source:
        rate_text = f"{rate.display()} fps ({rate.source})"
    else:
        rate_text = rate.display() if rate.available else f"{NOT_AVAILABLE} ({rate.reason})"
    meta = [("Production", report.production or ""), ("DIT / operator", report.operator or ""),
            ("Date", report.created), ("Sources", ", ".join(report.sources)), ("Project rate", rate_text),
            ("Naming convention", " | ".join(report.naming)), ("Card folders", report.card_folder or "")]
    if report.catalog:
        meta.append(("Catalog", report.catalog))
    return meta


def _clips_table(report: Report, notes: _Footnotes, clips: int, dur: str) -> list[str]:
    """The table of clips, one row each, with a totals row (and a copies column with a catalog)."""
    copies = report.catalog is not None
    heads = ["#", "Clip", "Card", "Cam", "Reel", "Scene", "Shot", "Take", "Type", "Codec", "Start TC", "End TC",
             "Duration", "Rate", "Resolution", "Audio", "Files", "Size"] + (["Copies"] if copies else [])
    out = ['<table class="clips"><thead><tr>'
           + "".join(f'<th{" class=num" if h in ("#", "Size") else ""}>{esc(h)}</th>' for h in heads)
           + "</tr></thead><tbody>"]
    out += [_clip_row(i, c, notes, copies) for i, c in enumerate(report.clips, 1)]
    out.append("</tbody><tfoot><tr>"
               f'<td colspan="12">{clips} clips</td>'
               f'<td class="tc">{esc(dur)}</td><td colspan="3"></td>'
               f'<td class="num">{sum(len(c.files) for c in report.clips)}</td>'
               f'<td class="num">{esc(human_size(sum(c.size for c in report.clips)))}</td>'
               + (f"<td>{sum(1 for c in report.clips if c.proven_copies() >= 2)} clip(s) with 2+ verified "
                  f"copies</td>" if copies else "")
               + "</tr></tfoot></table>")
    return out


def _clip_row(i: int, c: ClipReport, notes: _Footnotes, copies: bool) -> str:
    sub = " &middot; ".join(esc(x) for x in (
        [f"clip {c.clip_number.value}"] if c.clip_number.available else []) + (
        [str(c.date.value)] if c.date.available else []))
    refs = "".join(notes.ref(f"{c.name}: {n}") for n in c.notes)
    fr = c.frames
    frames = (f"<br>frames {fr.first}-{fr.last}" + (f", {len(fr.missing)} missing" if fr.missing else "")
              if fr else "")
    sidecars = ("<br>+ " + esc(", ".join(f.path.rsplit("/", 1)[-1] for f in c.sidecars))) if c.sidecars else ""
    return ("<tr>"
            f'<td class="num">{i}</td>'
            f"<td><b>{esc(c.name)}</b>{refs}"
            + (f'<br><span class="small">{sub}</span>' if sub else "")
            + f'<br><span class="small">{esc(c.path)}<br>{esc(c.files_text())}{frames}{sidecars}</span></td>'
            + _cell(c.card, notes) + _cell(c.camera, notes) + _cell(c.reel, notes)
            + _cell(c.scene, notes) + _cell(c.shot, notes) + _cell(c.take, notes)
            + _cell(c.file_type, notes) + _cell(c.codec, notes)
            + _cell(c.start_timecode, notes, "tc") + _cell(c.end_timecode, notes, "tc")
            + _cell(c.duration, notes, "tc") + _cell(c.frame_rate, notes)
            + _cell(c.resolution, notes) + _cell(c.audio, notes)
            + f'<td class="num">{len(c.media_files)}' + (f"+{len(c.sidecars)}" if c.sidecars else "") + "</td>"
            + f'<td class="num">{esc(human_size(c.size))}<br><span class="small">{c.size:,} B</span></td>'
            + (_copies_cell(c) if copies else "")
            + "</tr>")


def _appendix(report: Report, takes: dict[str, list[str]], notes: _Footnotes) -> list[str]:
    """Below the clips: shots and their takes, the numbered notes, files that are no clip."""
    out: list[str] = []
    if takes:
        out.append(f"<h2>Shots and takes: {len(takes)} shot(s)</h2><table class=\"meta\">")
        out += [f"<tr><th>{esc(shot)}</th><td>{len(ts)} take(s): {esc(', '.join(ts))}</td></tr>"
                for shot, ts in takes.items()]
        out.append("</table>")
    if notes.items:
        out.append('<h2>Notes</h2><ol class="notes">')
        out += [f'<li id="n{n}">{esc(text)}</li>' for text, n in sorted(notes.items.items(), key=lambda kv: kv[1])]
        out.append("</ol>")
    if report.other_files:
        out.append(f"<h2>Other files ({len(report.other_files)}, not part of a clip)</h2>"
                   '<table class="clips"><thead><tr><th>File</th><th class="num">Size</th></tr></thead><tbody>')
        out += [f'<tr><td>{esc(f.path)}</td><td class="num">{f.size:,} B</td></tr>' for f in report.other_files]
        out.append("</tbody></table>")
    return out


def _copies_cell(c: ClipReport) -> str:
    """One line per destination: bold when every file of the clip is on it and verified."""
    if not c.copies:
        return '<td><span class="na">no copy in the catalog</span></td>'
    lines = [(f"<b>{esc(x.text())}</b>" if x.proven else esc(x.text())) for x in c.copies]
    return '<td class="small">' + "<br>".join(lines) + "</td>"


def render(report: Report, fmt: str) -> str:
    if fmt == "csv":
        return render_csv(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        return render_html(report)
    raise UsageError(f"unknown report format {fmt!r} (choose {', '.join(FORMATS)})", value=fmt)


def write_report(report: Report, fmt: str, output: str | os.PathLike[str]) -> Path | None:
    """Write the report to `output` (replaced in one step: never a half-written file), or to
    standard output for "-". Returns the path written."""
    return save_text(render(report, fmt), output, "report")


def check_output(output: str | os.PathLike[str], what: str = "report") -> None:
    """A usage error unless `output` can be written: "-" (standard output), or a file in a folder that exists."""
    if os.fspath(output) == "-":
        return
    out = Path(output)
    if out.is_dir():
        raise UsageError(f"{out} is a folder: give the {what}'s file name", path=str(out))
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"the folder of {out} does not exist", path=str(out))


def save_text(text: str, output: str | os.PathLike[str], what: str = "report") -> Path | None:
    """`text` into `output` (replaced in one step: never a half-written file), or onto standard output for "-"."""
    check_output(output, what)
    if os.fspath(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    out = Path(output)
    atomic_write(out, text, mode=0o644)
    return out
