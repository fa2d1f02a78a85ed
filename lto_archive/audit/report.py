"""`audit report`: every cartridge's last proof, what is due, what failed, and the restore drills' times,
as a JSON document or one printable, self-contained HTML page (no script, no external resource)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from ..catalog.audits import audits, drills
from ..catalog.store import Catalog
from ..version import __version__
from .clock import parse_time
from .plan import AuditPlan, plan_audits

REPORT_FORMAT = "lto-archive-audit-report"


def _seen(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    return [r for r in rows if (parse_time(r["at"]) or now) <= now]


def drill_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Files restored by drills, how many failed, and the time per file (seconds: mean, slowest) and rate."""
    seconds = [r["seconds"] for r in rows]
    total_bytes, total_s = sum(r["bytes"] for r in rows), sum(seconds)
    return {"files": len(rows), "failed": sum(r["result"] != "ok" for r in rows),
            "mean_seconds": round(total_s / len(rows), 6) if rows else None,
            "max_seconds": round(max(seconds), 6) if rows else None,
            "bytes_per_second": round(total_bytes / total_s) if total_s > 0 else None}


def report_document(cat: Catalog, now: datetime, plan: AuditPlan | None = None) -> dict[str, Any]:
    """The report as data (the JSON `audit report --json` prints)."""
    plan = plan or plan_audits(cat, now)
    history = _seen(audits(cat), now)
    drilled = _seen(drills(cat), now)
    failed = [{"cartridge": a["label"], "at": a["at"], "kind": a["kind"], "result": a["result"],
               "failed": a["failed"], "message": a["message"]} for a in history if a["result"] != "ok"]
    failed += [{"cartridge": d["label"], "at": d["at"], "kind": "drill", "result": d["result"], "failed": 1,
                "message": f"{d['path']}: {d['message']}"} for d in drilled if d["result"] != "ok"]
    failed.sort(key=lambda f: f["at"])
    return {"format": REPORT_FORMAT, "version": 1, "tool": f"lto-archive {__version__}", "catalog": str(cat.path),
            **plan.to_dict(), "audits": len(history), "failed": failed,
            "drills": {"summary": drill_summary(drilled),
                       "files": [{k: d[k] for k in ("at", "label", "path", "bytes", "seconds", "result", "seed")}
                                 for d in drilled]}}


_CSS = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#eee}"
        ".good{color:#176117}.due{color:#8a6100}.overdue,.failing,.failed,.error{color:#a11}"
        "@media print{body{margin:0}}")


def _table(head: list[str], body: list[list[Any]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for i, row in enumerate(body):
        cls = f' class="{html.escape(classes[i])}"' if classes else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
                   + "</tr>")
    return "\n".join(out) + "</table>" if body else "<p>none</p>"


def _when(text: str | None) -> str | None:
    """An ISO time as the page shows it: to the minute, UTC."""
    return text[:16].replace("T", " ") if text else text


def report_html(doc: dict[str, Any]) -> str:
    """The report as one printable HTML page."""
    counts = ", ".join(f"{n} {s}" for s, n in doc["counts"].items())
    carts = doc["cartridges"]
    drill = doc["drills"]["summary"]
    parts = [
        f"<h1>Audit report</h1><p>{html.escape(doc['catalog'])} at {html.escape(_when(doc['now']) or '')} UTC: "
        f"{len(carts)} cartridges ({html.escape(counts)}). Policy: full verify every "
        f"{doc['policy']['full_months']} months, {doc['policy']['sample_files']} sampled files every "
        f"{doc['policy']['sample_months']} months, {doc['policy']['drill_files']} files per restore drill.</p>",
        "<h2>Every cartridge</h2>",
        _table(["cartridge", "state", "last full proof", "last sample", "last audit", "next due", "due", "location"],
               [[c["cartridge"], c["state"], _when(c["last_full"]), _when(c["last_sample"]),
                 c["last_audit"] and f"{_when(c['last_audit']['at'])} {c['last_audit']['kind']} "
                                     f"{c['last_audit']['result']}",
                 _when(c["due_at"]), c["due"] and f"{c['due']} ({c['reason']})", c["location"]] for c in carts],
               [c["state"] for c in carts]),
        "<h2>Due now</h2>",
        _table(["cartridge", "audit", "why", "due since", "library", "loaded"],
               [[c["cartridge"], c["due"], c["reason"], _when(c["due_at"]), c["library"], "yes" if c["loaded"] else ""]
                for c in doc["due"]]),
        "<h2>What failed</h2>",
        _table(["when", "cartridge", "what", "result", "files failed", "message"],
               [[_when(f["at"]), f["cartridge"], f["kind"], f["result"], f["failed"], f["message"]]
                for f in doc["failed"]]),
        f"<h2>Restore drills</h2><p>{drill['files']} files restored, {drill['failed']} failed; "
        f"mean {drill['mean_seconds']} s per file, slowest {drill['max_seconds']} s.</p>",
        _table(["when", "cartridge", "file", "bytes", "seconds", "result", "seed"],
               [[_when(d["at"]), d["label"], d["path"], d["bytes"], d["seconds"], d["result"], d["seed"]]
                for d in doc["drills"]["files"]]),
        f"<p>{html.escape(doc['tool'])}</p>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit report</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


__all__ = ["REPORT_FORMAT", "report_document", "report_html", "drill_summary"]
