"""`lto-archive metrics` (and `status --prometheus`): the numbers a post house graphs, in the Prometheus text
exposition format (version 0.0.4) for node_exporter's textfile collector.

Cartridges by audit state (good, due, overdue, failing), bytes archived per day, each cartridge's audit age and
last drill time, and the drives' error counters when the catalog has health readings (catalog/health.py;
omitted otherwise). Every value comes from the catalog, at the audits' clock (`now`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ..catalog.audits import archived_bytes_by_day, drills, drive_error_counters
from ..catalog.store import Catalog
from .clock import parse_time
from .plan import STATES, AuditPlan, plan_audits
from .report import drill_summary

PREFIX = "lto_archive"
DAYS = 30         # bytes archived per day: the days shown (the older ones are in the total)

Sample = tuple[dict[str, str], float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1 << 53):
        return str(int(value))
    return repr(float(value))


def family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    """One metric family: its HELP and TYPE lines and a line per sample (labels escaped)."""
    full = f"{PREFIX}_{name}"
    lines = [f"# HELP {full} {help_text.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}", f"# TYPE {full} {kind}"]
    for labels, value in samples:
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
        lines.append(f"{full}{{{text}}} {_number(value)}" if text else f"{full} {_number(value)}")
    return lines


def _age(now: datetime, when: str | None) -> float | None:
    at = parse_time(when) if when else None
    return None if at is None else max(0.0, (now - at).total_seconds())


def _cartridge_samples(plan: AuditPlan, first_seen: dict[str, str]) -> tuple[list[Sample], list[Sample]]:
    proof: list[Sample] = []
    full: list[Sample] = []
    for c in plan.cartridges:
        newest = max((t for t in (c.last_full, c.last_sample) if t), key=lambda t: parse_time(t) or plan.now,
                     default=None)
        age = _age(plan.now, newest or first_seen.get(c.label))
        if age is not None:
            proof.append(({"cartridge": c.label}, round(age)))
        full_age = _age(plan.now, c.last_full or first_seen.get(c.label))
        if full_age is not None:
            full.append(({"cartridge": c.label}, round(full_age)))
    return proof, full


def metric_lines(cat: Catalog, now: datetime, *, days: int = DAYS) -> list[str]:
    """Every metric family, as lines of the text format."""
    plan = plan_audits(cat, now)
    counts = plan.counts()
    first_seen = {r["label"]: r["first_seen"] for r in cat.query("SELECT label, first_seen FROM destinations")}
    per_day = archived_bytes_by_day(cat)
    since, today = (now - timedelta(days=days)).strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d")
    proof, full = _cartridge_samples(plan, first_seen)
    last_drill: dict[str, list[dict[str, Any]]] = {}
    for d in drills(cat):
        if (parse_time(d["at"]) or now) <= now:
            same = last_drill.setdefault(d["label"], [])
            if same and same[-1]["audit_id"] != d["audit_id"]:
                same.clear()
            same.append(d)
    lines = family("cartridges", "gauge", "Cartridges with catalogued files, by audit state.",
                   [({"state": s}, counts[s]) for s in STATES])
    lines += family("archived_bytes", "gauge", f"Bytes written to cartridges by the jobs started on that day (UTC), "
                    f"the last {days} days.", [({"day": day}, n) for day, n in per_day if since <= day <= today])
    lines += family("archived_bytes_all", "gauge", "Bytes written to cartridges by every job the catalog holds.",
                    [({}, sum(n for _, n in per_day))])
    lines += family("audit_age_seconds", "gauge", "Seconds since the cartridge's last proof (a full or sampled "
                    "audit, or every copy read back); since it was first seen when never proven.", proof)
    lines += family("audit_full_age_seconds", "gauge", "Seconds since the cartridge was last proven whole.", full)
    lines += family("drill_seconds_per_file", "gauge", "Mean seconds to restore and compare one file in the "
                    "cartridge's last restore drill.",
                    [({"cartridge": k}, drill_summary(v)["mean_seconds"] or 0.0)
                     for k, v in sorted(last_drill.items())])
    counters = drive_error_counters(cat)
    if counters:
        lines += family("drive_errors", "gauge", "The drive's error counters and TapeAlert flags raised, at its "
                        "latest health reading (a cartridge load).", [({"drive": d, "counter": k}, v) for d, c in sorted(counters.items())
                                            for k, v in sorted(c.items())])
    lines += family("metrics_time_seconds", "gauge", "When these metrics were computed (Unix time).",
                    [({}, round(now.timestamp()))])
    return lines


def metrics_text(cat: Catalog, now: datetime, *, days: int = DAYS) -> str:
    """The metrics as one text exposition (ends with a newline)."""
    return "\n".join(metric_lines(cat, now, days=days)) + "\n"


__all__ = ["PREFIX", "DAYS", "family", "metric_lines", "metrics_text"]
