"""The job report: one printable, self-contained HTML page of what a write, verify or restore did, for a producer.

It says what the copy log says, in words: the job, who ran it, the production, the sources, every destination
with its status and read-back, how many files and bytes, every problem by name, the hashes, the times. It is
drawn from the job's result as `--json` prints it (`result.to_dict()`), so it never knows more or less than
the job; a job that failed before it had a result gets a page with its error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .render import CSS, esc, html_head, human_size, meta_rows, save_text

_JOB_CSS = CSS + """
.status { font-weight: 700; padding: 1px 6px; border-radius: 3px; }
.status.ok { background: #d9f2d9; } .status.bad { background: #f8d0d0; } .status.warn { background: #fbeec2; }
table.clips td.bad { color: #a00; font-weight: 600; }
p.error { color: #a00; font-weight: 600; }
"""


@dataclass
class JobContext:
    """What the report says besides the result: which command, for which production, on what."""

    command: str                         # "write", "verify", "restore", "span verify", ...
    production: str | None = None
    operator: str | None = None
    targets: list[str] = field(default_factory=list)      # the devices, folders and DEST the command named
    started: str = ""                    # ISO times of the command (the session's own are shown too)
    finished: str = ""
    generator: str = "lto-archive"


def _status_span(status: str) -> str:
    kind = "ok" if status == "ok" else "warn" if status in ("incomplete", "interrupted", "written") else "bad"
    return f'<span class="status {kind}">{esc(status)}</span>'


def _table(heads: list[str], rows: list[list[str]], bad_col: int | None = None) -> list[str]:
    """A bordered table (`table.clips`) of already-escaped cells; cells of column `bad_col` that are not 'ok' in red."""
    out = ['<table class="clips"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in heads) + "</tr></thead><tbody>"]
    for row in rows:
        cells = [f'<td class="bad">{c}</td>' if i == bad_col and c not in ("ok", "") else f"<td>{c}</td>"
                 for i, c in enumerate(row)]
        out.append("<tr>" + "".join(cells) + "</tr>")
    return out + ["</tbody></table>"]


def _read_back(d: dict[str, Any]) -> str:
    verified = d.get("verified")
    if verified is None or verified is False:
        return "not read back"
    failed = len(d.get("failed") or [])
    return f"{verified} file(s) proven" + (f", {failed} failed" if failed else "")


def _destinations(doc: dict[str, Any]) -> list[str]:
    """A write job's destinations, a span set's cartridges and folders."""
    rows = [[esc(d.get("kind", "")), esc(d.get("destination") or d.get("device") or ""), esc(d.get("device", "")),
             esc(d.get("status", "")), esc(_read_back(d)), esc(d.get("error") or "")]
            for d in doc.get("destinations") or []]
    rows += [[esc("folder"), esc(f.get("destination", "")), "", esc(f.get("status", "")), esc(_read_back(f)),
              esc(f.get("error") or "")] for f in doc.get("folders") or []]
    rows += [[esc("tape"), esc(c.get("barcode") or "?"), "", esc("written"),
              esc("see the set's read-back" if doc.get("verify") else "not read back"),
              esc(f"volume {c.get('sequence')}, tape file {c.get('tape_file')}, {c.get('files')} file(s), "
                  f"{human_size(int(c.get('bytes') or 0))}")] for c in doc.get("cartridges") or []]
    if not rows:
        return []
    return ["<h2>Destinations</h2>",
            *_table(["Kind", "Destination", "Device", "Status", "Read-back", "Notes"], rows, bad_col=3)]


def _read_parts(doc: dict[str, Any]) -> list[str]:
    """What a verify or restore read: per tape file (or session of a folder copy)."""
    parts = doc.get("tape_files") or doc.get("sessions") or []
    rows = [[esc(p.get("tape_file", "")), esc(p.get("session_id") or ""), esc(p.get("verified", 0)),
             esc(p.get("restored", "")), esc(len(p.get("failed") or [])), esc(len(p.get("unproven") or [])),
             esc((p.get("error") or {}).get("message", ""))] for p in parts]
    if not rows:
        return []
    return ["<h2>Read back</h2>", *_table(["Tape file", "Session", "Verified", "Restored", "Failed", "Unproven",
                                          "Error"], rows)]


def problems(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every file that is not simply ok, by name: (where, path, what happened)."""
    out = [("job", p.get("path", ""), f"{p.get('status', '')}" + (f": {p['message']}" if p.get("message") else ""))
           for p in doc.get("problems") or []]
    for d in [*(doc.get("destinations") or []), *(doc.get("folders") or [])]:
        out += [(str(d.get("destination", "")), f.get("path", ""), f"failed: {f.get('reason', '')}")
                for f in d.get("failed") or []]
    for p in [*(doc.get("tape_files") or []), *(doc.get("sessions") or [])]:
        where = f"tape file {p['tape_file']}" if p.get("tape_file") is not None else str(p.get("session_id", ""))
        for key in ("failed", "unproven", "refused"):
            out += [(where, f.get("path", ""), f"{key}: {f.get('reason', '')}") for f in p.get(key) or []
                    if isinstance(f, dict)]
    out += [("catalog", str(p), "no file in the catalog") for p in doc.get("unmatched") or []]
    out += [("catalog", str(p.get("path", p) if isinstance(p, dict) else p), "no copy on tape in the catalog")
            for p in doc.get("not_on_tape") or []]
    for s in doc.get("sets") or []:
        out += problems(s)
    if isinstance(doc.get("verify"), dict):
        out += problems(doc["verify"])
    return out


def _summary_rows(doc: dict[str, Any], ctx: JobContext) -> list[tuple[str, str]]:
    s = doc.get("session") or {}
    rows = [("Production", ctx.production or s.get("production") or "-"), ("Command", f"lto-archive {ctx.command}"),
            ("Status", doc.get("status", "")),
            ("Job", s.get("session_id") or doc.get("set_id") or doc.get("job") or ", ".join(
                str(p["session_id"]) for p in [*(doc.get("tape_files") or []), *(doc.get("sessions") or [])]
                if p.get("session_id")) or "-"),
            ("Operator", s.get("operator") or ctx.operator or "-")]
    rows += [("Host", s["host"])] if s.get("host") else []
    rows += [("Sources", ", ".join(s.get("sources") or []) or "-")] if s else []
    rows += [("Named on the command line", ", ".join(ctx.targets))] if ctx.targets else []
    if s:
        rows += [("Files copied", f"{s.get('files', 0)} file(s), {human_size(int(s.get('bytes_copied') or 0))} "
                           f"({int(s.get('bytes_copied') or 0):,} bytes)"),
                 ("Format", f"{s.get('format', '')}, {s.get('record_size', '')} byte records"),
                 ("Hashes", ", ".join(s.get("algorithms") or [])),
                 ("Written", f"{s.get('started', '')} to {s.get('finished', '')} ({float(s.get('duration_s') or 0):.1f} s, "
                             f"{float(s.get('mb_per_s') or 0):.1f} MB/s)")]
    rows += _read_totals(doc)
    rows += [("Command ran", f"{ctx.started} to {ctx.finished}")] if ctx.started else []
    rows += [("Copy log", ", ".join(doc.get("log") or []))] if doc.get("log") else []
    return rows


def _read_totals(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """A verify's or restore's files verified and restored, over its tape files (or folder sessions)."""
    parts = doc.get("tape_files") or doc.get("sessions") or []
    if not parts and "phase" not in doc:
        return []
    rows = []
    for key in ("verified", "restored"):
        n = doc.get(key) if isinstance(doc.get(key), int) else sum(
            p.get(key) or 0 for p in parts if isinstance(p.get(key), int))
        if key == "verified":
            rows.append(("Verified", f"{n} file(s)"))
        elif doc.get("phase") == "restore":
            rows.append(("Restored", f"{n} entries (files and folders)"))
    return rows


def render_job_report(doc: dict[str, Any], ctx: JobContext) -> str:
    """The page for one command's result `doc` (its `--json` document; an error document when it failed early)."""
    status = str(doc.get("status", "error"))
    title = f"Job report: {ctx.command}" + (f" - {ctx.production}" if ctx.production else "")
    out = [*html_head(title, _JOB_CSS), "<header>", f"<h1>{esc(title)} {_status_span(status)}</h1>",
           *meta_rows(_summary_rows(doc, ctx)), "</header>"]
    error = doc.get("error") if isinstance(doc.get("error"), dict) else doc if status == "error" else None
    if error and error.get("message"):
        out.append(f'<p class="error">Error: {esc(error["message"])}</p>')
    out += _destinations(doc) + _read_parts(doc)
    for i, one in enumerate(doc.get("sets") or [], 1):
        out += [f"<h2>Set {i}: {esc(one.get('set_id', ''))} {_status_span(str(one.get('status', '')))}</h2>",
                *_destinations(one)]
    found = problems(doc)
    out.append(f"<h2>Problems: {len(found)}</h2>")
    out += _table(["Where", "File", "What happened"], [[esc(w), esc(p), esc(r)] for w, p, r in found]) if found \
        else ["<p>None: every file is accounted for.</p>"]
    notes = list(doc.get("notes") or [])
    if notes:
        out += ["<h2>Notes</h2>", '<ol class="notes">', *(f"<li>{esc(n)}</li>" for n in notes), "</ol>"]
    out += [f"<footer>{esc(ctx.generator)}. What the job's copy log and read-back say; "
            "the copy log itself is the record.</footer>", "</body>", "</html>", ""]
    return "\n".join(out)


def write_job_report(doc: dict[str, Any], ctx: JobContext, output: str | os.PathLike[str]) -> Path | None:
    """The job report into `output` (whole or not at all), or onto standard output for "-"."""
    return save_text(render_job_report(doc, ctx), output, "job report")


__all__ = ["JobContext", "render_job_report", "write_job_report", "problems"]
