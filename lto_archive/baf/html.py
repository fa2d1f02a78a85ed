"""The printable OK-to-format page: self-contained (inline CSS, no script runs, no external resource).

The page is rendered from the certificate document alone (no clock, no
environment), so the same document always gives the same bytes: verifying a
page re-renders it from the document it carries and compares.
"""

from __future__ import annotations

import html
from typing import Any

from .certificate import SCRIPT_ID, canonical_json, html_safe

TEMPLATE_VERSION = 1

_CSS = """
@page { size: A4 landscape; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 9pt/1.35 "Helvetica Neue", Arial, sans-serif; color: #000; margin: 0 auto; max-width: 1400px;
       padding: 10px; }
.banner { border: 3pt solid #0a6b2b; padding: 8px 14px; margin-bottom: 10px; display: flex;
          justify-content: space-between; align-items: center; }
.banner h1 { font-size: 26pt; letter-spacing: 2px; margin: 0; color: #0a6b2b; }
.banner .sub { font-size: 10pt; text-align: right; }
h2 { font-size: 11pt; margin: 14px 0 4px; border-bottom: 0.75pt solid #444; }
table { border-collapse: collapse; width: 100%; }
table.meta { width: auto; margin-bottom: 6px; }
table.meta th { text-align: left; padding: 1px 14px 1px 0; font-weight: 600; vertical-align: top; white-space: nowrap; }
table.meta td { padding: 1px 0; }
table.grid { font-size: 7.5pt; }
table.grid th, table.grid td { border: 0.5pt solid #777; padding: 2px 4px; vertical-align: top; text-align: left; }
table.grid thead th { background: #e6e6e6; }
table.grid thead { display: table-header-group; }
table.grid tr { break-inside: avoid; page-break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; word-break: break-all; }
.small { font-size: 6.5pt; color: #333; }
.copy { margin: 0 0 2px; }
.sign { display: flex; gap: 24px; margin-top: 16px; }
.sign div { flex: 1; border: 0.75pt solid #444; height: 22mm; padding: 4px; font-size: 8pt; }
footer { margin-top: 12px; font-size: 7pt; color: #444; }
@media print { body { padding: 0; max-width: none; } .banner { -webkit-print-color-adjust: exact;
               print-color-adjust: exact; } }
"""


def _e(x: object) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return _e(n)
    v = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if v < 1000 or unit == "TB":
            return f"{n} B" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1000
    return f"{v:.1f} TB"


def _d(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _position(c: dict[str, Any]) -> str:
    if c.get("kind") == "folder":
        return "folder"
    pos = _d(c.get("position"))
    parts = []
    if pos.get("tape_file") is not None:
        parts.append(f"tape file {pos['tape_file']}")
    if pos.get("partition") is not None:
        parts.append(f"partition {pos['partition']}")
    if pos.get("block") is not None:
        parts.append(f"block {pos['block']}" + (f"+{pos['block_offset']}" if pos.get("block_offset") else ""))
    return ", ".join(parts) or "position unknown"


def _place(c: dict[str, Any]) -> str:
    if c.get("kind") == "folder":
        return c.get("folder") or c.get("destination") or ""
    return c.get("barcode") or c.get("destination") or ""


def render_html(document: dict[str, Any]) -> str:
    """The page for this certificate document (exactly as `Certificate.to_html`)."""
    c = _d(document.get("content"))
    card = _d(c.get("card"))
    issued = _d(c.get("issued"))
    n = c.get("copies_required")
    name = card.get("name") or ""
    out: list[str] = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="lto-archive {_e(issued.get("tool_version"))} baf/{TEMPLATE_VERSION}">',
        f"<title>OK TO FORMAT - {_e(name)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        '<div class="banner"><h1>OK TO FORMAT</h1>'
        f'<div class="sub"><b>Bon &agrave; Formater</b> (CST RT-030 2.3.1)<br>card <b>{_e(name)}</b><br>'
        f'certificate {_e(c.get("certificate_id"))}</div></div>',
        '<table class="meta">']
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _meta_rows(c)]
    out.append("</table>")
    out += _destinations_table(_l(c.get("destinations")))
    out += _files_table(_l(c.get("files")))
    out += _integrity(document)
    out.append('<div class="sign"><div>Lab (name, signature, date)</div><div>Production / DIT (received, date)'
               "</div></div>")
    out.append(f"<footer>lto-archive {_e(issued.get('tool_version'))}: this card may be formatted: every file on it "
               f"has {_e(n)} verified copies as listed above.</footer>")
    out.append(f'<script type="application/json" id="{SCRIPT_ID}">{html_safe(canonical_json(document))}</script>')
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


def _meta_rows(c: dict[str, Any]) -> list[tuple[str, Any]]:
    """The card, what was required and checked, who issued it with what, the catalog."""
    card, issued, catalog = _d(c.get("card")), _d(c.get("issued")), _d(c.get("catalog"))
    n = c.get("copies_required")
    cam = " ".join(x for x in (f"camera {card['camera']}" if card.get("camera") else "",
                               f"reel {card['reel']}" if card.get("reel") else "") if x)
    meta = [
        ("Card", f"{card.get('name') or ''}" + (f" ({cam})" if cam else "")),
        ("Card folder", card.get("source")),
        ("Content", f"{card.get('files')} file(s) in {card.get('folders')} folder(s), {_size(card.get('bytes'))} "
                    f"({card.get('bytes'):,} bytes)" if isinstance(card.get("bytes"), int) else ""),
        ("Required", f"{n} verified copies of every file on {n} distinct destinations"),
        ("Rule", c.get("rule")),
        ("Card checked", c.get("checked_at")),
        ("Issued", f"{issued.get('at')} by {issued.get('by')} on {issued.get('host')}"),
        ("Tool", f"{issued.get('tool')} {issued.get('tool_version')}"),
        ("Catalog", f"{catalog.get('path')} (schema {catalog.get('schema_version')})"),
    ]
    skipped = _l(card.get("not_checked"))
    if skipped:
        meta.insert(3, ("Not checked", f"{len(skipped)} file(s): {card.get('not_checked_reason')}"))
    return meta


def _destinations_table(dests: list[Any]) -> list[str]:
    out = [f"<h2>Destinations: {len(dests)}</h2>",
           '<table class="grid"><thead><tr><th>Cartridge / folder</th><th>Kind</th><th>Generation</th>'
           '<th>Format</th><th>Shelf location</th><th>Volume (LTFS, or disk)</th><th class="num">Files</th>'
           '<th class="num">Size</th></tr></thead><tbody>']
    for d in map(_d, dests):
        out.append(f'<tr><td><b>{_e(_place(d))}</b></td><td>{_e(d.get("kind"))}</td>'
                   f'<td>{_e(d.get("generation") or "")}</td><td>{_e(", ".join(map(str, _l(d.get("formats")))))}</td>'
                   f'<td>{_e(d.get("location") or "")}</td><td class="mono small">{_e(d.get("volume_uuid") or d.get("volume_id") or "")}</td>'
                   f'<td class="num">{_e(d.get("files"))}</td><td class="num">{_size(d.get("bytes"))}</td></tr>')
    out.append("</tbody></table>")
    return out


def _files_table(files: list[Any]) -> list[str]:
    """Every file with its checksums (* when computed from the card) and its copies."""
    out = [f"<h2>Files: {len(files)}</h2>",
           '<table class="grid"><thead><tr><th class="num">#</th><th>File</th><th class="num">Size</th>'
           "<th>Checksums</th><th>Copies (where, written, verified)</th></tr></thead><tbody>"]
    for i, f in enumerate(map(_d, files), 1):
        hashes = _d(f.get("hashes"))
        on_card = set(_l(f.get("hashed_on_card")))
        sums = "<br>".join(f'{_e(a)}{"*" if a in on_card else ""} <span class="mono">{_e(h)}</span>'
                           for a, h in sorted(hashes.items()))
        copies = "".join(_copy_html(cp) for cp in map(_d, _l(f.get("copies"))))
        out.append(f'<tr><td class="num">{i}</td><td class="mono">{_e(f.get("path"))}<br>'
                   f'<span class="small">modified {_e(f.get("mtime"))}</span></td>'
                   f'<td class="num">{_size(f.get("size"))}<br><span class="small">{_e(f.get("size"))} B</span></td>'
                   f'<td class="small">{sums}</td><td>{copies}</td></tr>')
    out.append("</tbody></table>")
    out.append('<p class="small">* computed from the card itself when the certificate was issued; the others as '
               "recorded with the copies.</p>")
    return out


def _copy_html(cp: dict[str, Any]) -> str:
    """One copy of a file: where, in what format at what position, written and verified by whom."""
    w, v = _d(cp.get("written")), _d(cp.get("verified"))
    return (f'<div class="copy"><b>{_e(_place(cp))}</b> {_e(cp.get("format"))}, '
            f"{_e(_position(cp))}<br>"
            f'<span class="small">written {_e(w.get("at"))} by {_e(w.get("by"))} '
            f'(session {_e(cp.get("session_id"))}); {_e(v.get("phase") or "verified")} '
            f'{_e(v.get("result"))} {_e(v.get("at"))} by {_e(v.get("by"))}</span></div>')


def _integrity(document: dict[str, Any]) -> list[str]:
    """The digest, the signature (or that there is none), and how to check them."""
    sig = document.get("signature")
    out = ["<h2>Integrity</h2><table class=\"meta\">",
           f'<tr><th>Digest</th><td class="mono">{_e(document.get("digest"))}</td></tr>']
    if isinstance(sig, dict):
        out.append(f'<tr><th>Signature</th><td>{_e(sig.get("algorithm"))}, lab key '
                   f'<span class="mono">{_e(sig.get("key_fingerprint"))}</span></td></tr>')
        out.append(f'<tr><th>Signature value</th><td class="mono small">{_e(sig.get("value"))}</td></tr>')
    else:
        out.append("<tr><th>Signature</th><td>not signed (the digest detects changes, not who made them)</td></tr>")
    out.append("<tr><th>Check it</th><td><span class=\"mono\">lto-archive baf verify THIS-FILE "
               "[--public-key lab.pub]</span> (the JSON certificate and this page carry the same document)"
               "</td></tr></table>")
    return out


__all__ = ["render_html", "TEMPLATE_VERSION"]
