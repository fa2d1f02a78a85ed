"""`lto-archive metrics` and `status --prometheus`: the Prometheus text format, checked by prometheus_client's own
parser when it is installed and always by the strict grammar below; the values from a catalog built for it."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lto_archive.catalog import Catalog
from lto_archive.catalog.audits import record_audit
from lto_archive_cli.main import cli

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
LABELS = rf"\{{(?:[a-zA-Z_][a-zA-Z0-9_]*={LABEL_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*={LABEL_VALUE})*)?\}}"
SAMPLE = re.compile(rf"({NAME})({LABELS})? (-?(?:[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|\+Inf|-Inf))")
HELP = re.compile(rf"# HELP ({NAME}) [^\n]*")
TYPE = re.compile(rf"# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)")
LABEL = re.compile(rf'([a-zA-Z_][a-zA-Z0-9_]*)=({LABEL_VALUE})')


def parse_strict(text: str) -> dict[str, dict[str, Any]]:
    """Text format 0.0.4, strictly: HELP then TYPE before a family's samples, each family once, samples of the
    family just typed, unique label sets, a final newline."""
    assert text.endswith("\n") and "\n\n" not in text
    families: dict[str, dict[str, Any]] = {}
    current = None
    for line in text[:-1].split("\n"):
        if (m := HELP.fullmatch(line)) is not None:
            assert m.group(1) not in families, f"family twice: {line}"
            current = m.group(1)
            families[current] = {"type": None, "samples": {}}
        elif (m := TYPE.fullmatch(line)) is not None:
            assert m.group(1) == current and families[current]["type"] is None, line
            families[current]["type"] = m.group(2)
        else:
            m = SAMPLE.fullmatch(line)
            assert m is not None, f"not a sample line: {line!r}"
            assert current is not None and families[current]["type"] is not None, line
            name = m.group(1)
            assert name == current, line
            labels = tuple(sorted((k, v[1:-1]) for k, v in LABEL.findall(m.group(2) or "")))
            assert labels not in families[current]["samples"], f"label set twice: {line}"
            families[current]["samples"][labels] = float(m.group(3))
    return families


def check_with_prometheus_client(text: str) -> None:
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return      # the strict grammar above still checks it
    names = [f.name for f in text_string_to_metric_families(text)]
    assert len(names) == len(set(names)) and "lto_archive_cartridges" in names


def build(cat: Catalog) -> None:
    for label, day, size in (("AAA001L9", "2027-05-30", 1000), ("BBB001L9", "2027-05-31", 2500),
                             ("CCC001L9", "2027-01-02", 700)):
        dest = cat.destination("tape", label=label, barcode=label)
        job = cat.job(f"s-{label}", dest, "job", started=f"{day}T10:00:00.000000Z")
        fid = cat.file(f"CARD/{label}.mov", size, "2027-01-01T00:00:00Z", {"md5": "0" * 32})
        copy = cat.copy(fid, dest, job)
        cat.add_verification(copy, at=f"{day}T10:05:00.000000Z", who="t", host="h", phase="verify",
                             result="failed" if label == "CCC001L9" else "ok")
    folder = cat.destination("folder", label="/shuttle", folder="/shuttle")
    cat.copy(cat.file("CARD/x.mov", 999, "", {}), folder, cat.job("s-folder", folder, "job", started="2027-05-30"))
    (bbb,) = [r["id"] for r in cat.query("SELECT id FROM destinations WHERE label = 'BBB001L9'")]
    record_audit(cat, bbb, at="2027-05-31T12:00:00Z", kind="sample", reason="asked", result="ok", files=1, failed=0,
                 seconds=2.0, device="vtape:x", seed=3, drills=[
                     {"path": "CARD/BBB001L9.mov", "bytes": 2500, "seconds": 0.5, "result": "ok"},
                     {"path": "CARD/BBB001L9.mov", "bytes": 2500, "seconds": 1.5, "result": "ok"}])


def test_metrics_text_format_and_values(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "cat.sqlite"
    with Catalog.open(path) as cat:
        build(cat)
    out = tmp_path / "textfile" / "lto_archive.prom"
    out.parent.mkdir()
    result = CliRunner().invoke(cli, ["metrics", "--catalog", str(path), "--now", "2027-06-01", "--output", str(out)])
    assert result.exit_code == 0 and result.output == "", result.output
    text = out.read_text()
    check_with_prometheus_client(text)
    fam = parse_strict(text)
    assert fam["lto_archive_cartridges"]["type"] == "gauge"
    assert fam["lto_archive_cartridges"]["samples"] == {
        (("state", "good"),): 2, (("state", "due"),): 0, (("state", "overdue"),): 0, (("state", "failing"),): 1}
    assert fam["lto_archive_archived_bytes"]["samples"] == {               # tapes only, the last 30 days
        (("day", "2027-05-30"),): 1000, (("day", "2027-05-31"),): 2500}
    assert fam["lto_archive_archived_bytes_all"]["samples"] == {(): 4200}
    age = fam["lto_archive_audit_age_seconds"]["samples"]
    assert age[(("cartridge", "BBB001L9"),)] == 12 * 3600                  # the sample at noon, May 31
    assert age[(("cartridge", "AAA001L9"),)] == 2 * 86400 - 10 * 3600 - 300
    assert fam["lto_archive_audit_full_age_seconds"]["samples"][(("cartridge", "BBB001L9"),)] == 86400 - 10 * 3600 - 300
    assert fam["lto_archive_drill_seconds_per_file"]["samples"] == {(("cartridge", "BBB001L9"),): 1.0}
    assert "lto_archive_drive_errors" not in fam                  # no health readings: omitted
    status = CliRunner().invoke(cli, ["status", "--prometheus", "--catalog", str(path)])
    assert status.exit_code == 0 and parse_strict(status.output)["lto_archive_cartridges"]

    # with health readings (catalog/health.py, migration 7): the drives' counters, label values escaped
    def reading(at: str, device: str, corrected: int, alerts: list[int]) -> Any:
        return types.SimpleNamespace(read_at=at, device=device, corrected_errors=corrected, uncorrected_errors=0,
                                     tapealert=alerts)
    fake: Any = types.ModuleType("lto_archive.catalog.health")      # a stand-in for catalog/health.py
    fake.labels = lambda c: ["AAA001L9", "BBB001L9"]
    fake.readings = lambda c, label: {
        "AAA001L9": [reading("2027-05-01T00:00:00Z", '/dev/nst0 "left"', 1, []),
                     reading("2027-05-20T00:00:00Z", "/dev/nst1", 0, [])],
        "BBB001L9": [reading("2027-05-10T00:00:00Z", '/dev/nst0 "left"', 3, [20])]}[label]
    fake.flags = lambda c: []
    monkeypatch.setitem(sys.modules, "lto_archive.catalog.health", fake)
    with Catalog.open(path) as cat:
        cat.conn.execute("CREATE TABLE IF NOT EXISTS health_readings (barcode TEXT)")    # schema 7 has it
    text = CliRunner().invoke(cli, ["metrics", "--catalog", str(path), "--now", "2027-06-01"]).output
    check_with_prometheus_client(text)
    counters = parse_strict(text)["lto_archive_drive_errors"]
    assert counters["type"] == "gauge"
    left = '/dev/nst0 \\"left\\"'                  # each drive's latest reading, its name escaped
    assert counters["samples"] == {(("counter", k), ("drive", d)): v for d, values in (
        (left, {"corrected_errors": 3, "uncorrected_errors": 0, "tapealert_flags": 1}),
        ("/dev/nst1", {"corrected_errors": 0, "uncorrected_errors": 0, "tapealert_flags": 0})) for k, v in values.items()}


@pytest.mark.parametrize("bad", ["x 1 2", "# TYPE x gauge\nx 1", "# HELP x a\n# TYPE x gauge\ny 1",
                                 '# HELP x a\n# TYPE x gauge\nx{a="1",a="1"} 1\nx{a="1",a="1"} 1'])
def test_the_strict_parser_refuses_what_is_not_the_format(bad: str) -> None:
    with pytest.raises(AssertionError):
        parse_strict(bad + "\n")
