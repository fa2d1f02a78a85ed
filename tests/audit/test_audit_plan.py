"""What is due under the audit policy (lto_archive/audit/plan.py): the states, the order (by library, loaded
first, oldest first), health warnings, the policy and the clock; and `audit run` on drives: seeded choices,
cartridges out of reach, bad requests."""

from __future__ import annotations

import json
import sys
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive.audit import Place, add_months, parse_time, plan_audits
from lto_archive.catalog import Catalog
from lto_archive.catalog.audits import get_policy, record_audit, set_policy
from lto_archive.catalog.schema import CatalogError
from lto_archive_cli.main import cli


def at(text: str) -> datetime:
    when = parse_time(text)
    assert when is not None
    return when


def cartridge(cat: Catalog, label: str, proven: str | None, result: str = "ok", files: int = 2) -> int:
    """A cartridge with `files` catalogued copies, each read back at `proven` (None: never)."""
    dest = cat.destination("tape", label=label, barcode=label)
    job = cat.job(f"session-{label}", dest, "job", started="2019-01-01T00:00:00Z")
    for i in range(files):
        fid = cat.file(f"CARD/{label}_{i}.mov", 100 + i, "2019-01-01T00:00:00Z", {"md5": f"{i:032x}"})
        copy = cat.copy(fid, dest, job)
        if proven:
            cat.add_verification(copy, at=proven, who="t", host="h", phase="verify", result=result if i == 0 else "ok")
    return dest


@pytest.fixture
def cat(tmp_path: Path) -> Any:
    with Catalog.open(tmp_path / "cat.sqlite") as c:
        yield c


def test_states_and_the_order_grouped_by_library_loaded_first_oldest_first(cat: Catalog) -> None:
    cartridge(cat, "AAA001L9", "2020-01-01T00:00:00Z")     # full due 2021-01-01
    cartridge(cat, "BBB001L9", "2020-06-01T00:00:00Z")     # sample due 2020-09-01
    cartridge(cat, "CCC001L9", "2020-09-01T00:00:00Z")     # sample due 2020-12-01
    cartridge(cat, "DDD001L9", "2019-01-01T00:00:00Z")     # full due 2020-01-01, on the shelf
    cartridge(cat, "EEE001L9", "2021-03-01T00:00:00Z")     # sample due 2021-06-01: good
    cartridge(cat, "FFF001L9", "2021-03-01T00:00:00Z", result="failed")
    cartridge(cat, "HHH001L9", "2021-04-10T00:00:00Z")     # sample due 2021-07-10
    places = {"CCC001L9": Place("vlib:/one", True), "AAA001L9": Place("vlib:/one"), "EEE001L9": Place("vlib:/one"),
              "BBB001L9": Place("vlib:/two", True), "HHH001L9": Place("vlib:/two")}
    plan = plan_audits(cat, at("2021-05-01"), places)
    order = [(c.label, c.kind, c.state, c.reason) for c in plan.due]
    assert order == [
        ("CCC001L9", "sample", "overdue", "due"),     # library one, in a drive
        ("AAA001L9", "full", "overdue", "due"),       # library one, in a slot
        ("BBB001L9", "sample", "overdue", "due"),     # library two
        ("DDD001L9", "full", "overdue", "due")]       # no library: last, oldest first among them
    assert plan.counts() == {"good": 2, "due": 0, "overdue": 4, "failing": 1}
    states = {c.label: c.state for c in plan.cartridges}
    assert states["FFF001L9"] == "failing" and states["EEE001L9"] == "good"
    # a week after HHH's sample date it is due, not yet overdue
    later = {c.label: (c.state, c.kind) for c in plan_audits(cat, at("2021-07-17"), places).cartridges}
    assert later["HHH001L9"] == ("due", "sample") and later["EEE001L9"] == ("overdue", "sample")


def test_an_audit_moves_the_due_date_and_the_clock_ignores_what_it_has_not_seen(cat: Catalog) -> None:
    dest = cartridge(cat, "AAA001L9", "2020-01-01T00:00:00Z")
    record_audit(cat, dest, at="2021-01-05T00:00:00Z", kind="full", reason="due", result="ok", files=2, failed=0,
                 seconds=1.0, device="t", seed=1)
    (c,) = plan_audits(cat, at("2021-03-01")).cartridges
    assert (c.state, c.last_full, c.due_at) == ("good", "2021-01-05T00:00:00Z", at("2021-04-05"))
    (c,) = plan_audits(cat, at("2021-01-04")).cartridges      # before that audit: it is overdue
    assert c.state == "overdue" and c.last_audit is None
    record_audit(cat, dest, at="2021-04-06T00:00:00Z", kind="sample", reason="due", result="ok", files=2, failed=0,
                 seconds=1.0, device="t", seed=1)
    (c,) = plan_audits(cat, at("2021-05-01")).cartridges
    assert c.due_at == at("2021-07-06") and c.kind is None
    (c,) = plan_audits(cat, at("2022-01-05")).cartridges      # a year after the full one: full, not sample
    assert (c.state, c.kind, c.due_at) == ("overdue", "full", at("2021-07-06"))    # since the missed sample
    record_audit(cat, dest, at="2022-01-06T00:00:00Z", kind="full", reason="due", result="failed", files=2,
                 failed=1, seconds=1.0, device="t", seed=1)
    (c,) = plan_audits(cat, at("2022-01-07")).cartridges
    assert (c.state, c.reason) == ("failing", "failed") and not plan_audits(cat, at("2022-01-07")).due


def test_policy_is_kept_in_the_catalog(cat: Catalog) -> None:
    assert get_policy(cat).full_months == 12
    assert set_policy(cat, full_months=6, drill_files=0).to_dict() == {
        "full_months": 6, "sample_months": 3, "sample_files": 5, "drill_files": 0, "grace_days": 30}
    assert get_policy(cat).full_months == 6
    with pytest.raises(CatalogError):
        set_policy(cat, sample_months=0)
    with pytest.raises(CatalogError):
        set_policy(cat, weekly=1)
    cartridge(cat, "AAA001L9", "2020-01-01T00:00:00Z")
    (c,) = plan_audits(cat, at("2020-07-02")).cartridges
    assert c.kind == "full"


def test_health_warnings_make_an_audit_due_when_health_readings_exist(cat: Catalog, monkeypatch: Any) -> None:
    dest = cartridge(cat, "AAA001L9", "2021-03-01T00:00:00Z")
    cartridge(cat, "BBB001L9", "2021-03-01T00:00:00Z")
    # a stand-in for catalog/health.py (schema 7): its flags, and each cartridge's readings, oldest first
    fake: Any = types.ModuleType("lto_archive.catalog.health")
    fake.flags = lambda c: [
        types.SimpleNamespace(label="AAA001L9", kind="migrate soon", why="uncorrected errors at 2 of the last 5 loads"),
        types.SimpleNamespace(label="BBB001L9", kind="clean the drive", why="TapeAlert 20")]
    fake.readings = lambda c, label: [types.SimpleNamespace(read_at="2021-03-20T00:00:00Z"),
                                      types.SimpleNamespace(read_at="2021-04-01T00:00:00Z")]
    monkeypatch.setitem(sys.modules, "lto_archive.catalog.health", fake)
    cat.conn.execute("DROP TABLE IF EXISTS health_readings")        # a catalog from before schema 7
    c, other = plan_audits(cat, at("2021-04-02")).cartridges
    assert c.state == "good"                     # no health table in this catalog: the module is not asked
    cat.conn.execute("CREATE TABLE health_readings (barcode TEXT)")
    c, other = plan_audits(cat, at("2021-04-02")).cartridges
    assert (c.state, c.kind, c.reason, c.health) == (
        "due", "full", "health", ["migrate soon: uncorrected errors at 2 of the last 5 loads"])
    assert other.state == "good"                 # cleaning is about the drive, not the cartridge
    record_audit(cat, dest, at="2021-04-03T00:00:00Z", kind="full", reason="health", result="ok", files=2, failed=0,
                 seconds=1.0, device="t", seed=1)
    c, _ = plan_audits(cat, at("2021-04-04")).cartridges
    assert c.state == "good" and c.health == []  # audited since the reading


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    utc = timezone.utc
    assert add_months(datetime(2027, 1, 31, tzinfo=utc), 1) == datetime(2027, 2, 28, tzinfo=utc)
    assert add_months(datetime(2027, 11, 15, tzinfo=utc), 14) == datetime(2029, 1, 15, tzinfo=utc)
    assert parse_time("2027-06-01") == datetime(2027, 6, 1, tzinfo=utc)


def run_cli(*args: Any, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return json.loads(result.output) if "--json" in args else result.output


def test_audit_run_on_a_drive_seeded_recorded_and_refusals(tmp_path: Path) -> None:
    card = tmp_path / "B002"
    card.mkdir()
    for i in range(9):
        (card / f"B002C{i:03}.mov").write_bytes(bytes([65 + i]) * (500 * (i + 1)))
    cat = tmp_path / "cat.sqlite"
    tape = tmp_path / "tape"
    lto_archive.create_vtape(tape, capacity="64M", barcode="VTP001L9").close()
    other = tmp_path / "other"
    lto_archive.create_vtape(other, capacity="64M", barcode="VTP002L9").close()
    for t in (tape, other):
        run_cli("write", card, "--device", f"vtape:{t}", "--catalog", cat, "--log-dir", tmp_path / "logs")
    dev = f"vtape:{tape}"
    first = run_cli("audit", "run", "--device", dev, "--cartridge", "VTP001L9", "--kind", "sample", "--seed", 41,
                    "--scratch", tmp_path, "--catalog", cat, "--json")
    again = run_cli("audit", "run", "--device", dev, "--cartridge", "VTP001L9", "--kind", "sample", "--seed", 41,
                    "--scratch", tmp_path, "--catalog", cat, "--json")
    (a,), (b,) = first["audited"], again["audited"]
    assert a["reason"] == "asked" and a["result"] == "ok" and len(a["sampled"]) == 5
    assert a["sampled"] == b["sampled"] and [d["path"] for d in a["drill"]] == [d["path"] for d in b["drill"]]
    assert not set(d["path"] for d in a["drill"]) - {f"B002/B002C{i:03}.mov" for i in range(9)}
    with lto_archive.Catalog(cat) as c:
        entries = [e for e in c.custody_log(subject="VTP001L9") if e["event"] == "audit"]
    assert [e["data"]["sampled"] for e in entries] == [a["sampled"], a["sampled"]]
    assert entries[0]["data"]["drill"][0]["result"] == "ok"
    # three years on both are overdue; only the one in the drive given can be audited: the other is named
    later = f"{datetime.now(timezone.utc).year + 3}-01-01"
    out = run_cli("audit", "run", "--device", dev, "--now", later, "--catalog", cat, "--json", code=5)
    assert [x["cartridge"] for x in out["result"]["audited"]] == ["VTP001L9"]
    assert out["result"]["skipped"][0]["cartridge"] == "VTP002L9" and "load it" in out["result"]["skipped"][0]["why"]
    text = run_cli("audit", "plan", "--now", later, "--catalog", cat)
    assert "VTP002L9" in text and "overdue" in text and "VTP001L9" not in text
    # bit rot under one file: the sample and the drill (every file, by policy) both name it; exit 3
    run_cli("audit", "policy", "--sample-files", 9, "--drill-files", 9, "--catalog", cat)
    for rec in sorted(tape.glob("*_R")):
        data = bytearray(rec.read_bytes())
        at = data.find(bytes([65 + 4]) * 64)
        if at >= 0:
            data[at + 10] ^= 0x40
            rec.write_bytes(bytes(data))
            break
    bad = run_cli("audit", "run", "--device", dev, "--cartridge", "VTP001L9", "--kind", "sample", "--seed", 1,
                  "--catalog", cat, "--json", code=3)["result"]["audited"][0]
    assert bad["result"] == "failed" and [f["path"] for f in bad["failures"]] == ["B002/B002C004.mov"]
    drilled = {d["path"]: d for d in bad["drill"]}
    assert len(drilled) == 9 and drilled["B002/B002C004.mov"]["result"] == "failed"
    assert "mismatch" in drilled["B002/B002C004.mov"]["message"]
    assert all(d["result"] == "ok" for p, d in drilled.items() if p != "B002/B002C004.mov")
    assert "needs the drives (--device) or libraries" in run_cli("audit", "run", "--catalog", cat, code=2)
    assert "no cartridge 'NOPE01L9'" in run_cli("audit", "run", "--device", dev, "--cartridge", "NOPE01L9",
                                                "--catalog", cat, code=2)
