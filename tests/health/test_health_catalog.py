"""Health in the catalog: a reading per cartridge per load (migration 7), recorded in the job's catalog,
the trend, the thresholds, `lto-archive health` and the flags `status` shows."""

from __future__ import annotations

import json

from click.testing import CliRunner

import lto_archive
from lto_archive.catalog import Catalog
from lto_archive.catalog.health import (CLEAN_DRIVE, MIGRATE_SOON, WATCH, assess, readings, record,
                                        record_pending)
from lto_archive.catalog.schema import MIGRATIONS
from lto_archive.tape import VirtualTape
from lto_archive.tape.drive_health import DriveHealth, take_pending
from lto_archive_cli.main import cli

MiB = 1 << 20


def _reading(n: int, **kw) -> DriveHealth:  # type: ignore[no-untyped-def]
    return DriveHealth(**{"barcode": "TRD001L9", "device": "vtape:/x", "read_at": f"2026-12-0{n}T10:00:00+00:00",
                          "generation": "LTO-9", "load_count": n, **kw})


def test_migration_7_stores_a_reading_and_gives_it_back(tmp_path):
    assert 7 in [m.version for m in MIGRATIONS]
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        h = _reading(1, tapealert=[4], read_errors={"total_uncorrected": 2}, notes=["log page 0x14: none"])
        record(cat, h)
        row = cat.conn.execute("SELECT label, load_count, uncorrected_errors, tapealert FROM health_readings").fetchone()
        assert tuple(row) == ("TRD001L9", 1, 2, "4")
        assert readings(cat, "TRD001L9") == [h]


def test_a_catalog_past_version_7_without_the_table_gets_it(tmp_path):
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        cat.conn.execute("DROP TABLE health_readings")      # as a build whose steps skipped 7 left it
        assert readings(cat, "TRD001L9") == []
        record(cat, _reading(1))
        assert len(readings(cat, "TRD001L9")) == 1


def test_thresholds():
    ok = [_reading(n) for n in (1, 2, 3)]
    assert assess(ok) == []
    one = ok + [_reading(4, volume={"last_mount_unrecovered_read_errors": 1})]
    assert [f.kind for f in assess(one)] == [WATCH]
    two = one + [_reading(5, volume={"last_mount_unrecovered_write_errors": 3})]
    flags = assess(two)
    assert [f.kind for f in flags] == [MIGRATE_SOON] and "2 of the last 5 loads (0, 0, 0, 1, 3)" in flags[0].why
    media = assess([_reading(1, tapealert=[4])])
    assert [(f.kind, f.severity) for f in media] == [(MIGRATE_SOON, "error")] and "4 (media)" in media[0].why
    worn = assess([DriveHealth(barcode="OLD001L4", device="d", read_at="t", generation="LTO-4", load_count=4100)])
    assert [f.kind for f in worn] == [MIGRATE_SOON] and "4100 loads of the 5000" in worn[0].why
    assert assess([_reading(1, load_count=15_999)]) == []          # LTO-9: 20,000 loads
    clean = assess([_reading(1, tapealert=[20])])
    assert [(f.kind, f.device) for f in clean] == [(CLEAN_DRIVE, "vtape:/x")]


def _card(tmp_path):  # type: ignore[no-untyped-def]
    card = tmp_path / "card"
    card.mkdir()
    (card / "A001.mov").write_bytes(bytes(range(256)) * 8192)       # 2 MiB
    return card


def test_every_jobs_load_is_recorded_in_the_jobs_catalog(tmp_path):
    cat = tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tmp_path / "t", capacity="64M", barcode="JOB001L9").close()
    take_pending()
    card = _card(tmp_path)
    for _ in range(2):
        lto_archive.write([card], f"vtape:{tmp_path / 't'}", catalog=cat, log_dir=False)
    lto_archive.verify(f"vtape:{tmp_path / 't'}", catalog=cat)
    report = lto_archive.cartridge_health("JOB001L9", catalog=cat)
    assert [r["load_count"] for r in report.trend()] == [1, 2, 3]
    first, second, third = [r["mb_written"] for r in report.trend()]      # lifetime MiB as of each load
    assert first == 0 and 2 <= second < third
    assert report.flags == []


def test_a_library_load_is_read_and_recorded(tmp_path):
    cat = tmp_path / "cat.sqlite"
    lto_archive.create_vlib(tmp_path / "lib", drives=1, slots=2, capacity="64M").close()
    take_pending()           # the loads that made the blank cartridges
    lto_archive.write([_card(tmp_path)], f"vlib:{tmp_path / 'lib'}", barcode="LTA002L9", catalog=cat, log_dir=False)
    report = lto_archive.cartridge_health("LTA002L9", catalog=cat)
    assert len(report.readings) == 1 and report.readings[0].device.endswith("drives/0/LTA002L9")


def _failing_jobs(tmp_path, cat):  # type: ignore[no-untyped-def]
    """A write, two verify jobs that meet a read error (the vtape's fault knob), and the drive then asking to be
    cleaned. Only the jobs' loads are kept (the loads that set the knobs are dropped)."""
    lto_archive.create_vtape(tmp_path / "t", capacity="64M", barcode="BAD001L9").close()
    take_pending()
    lto_archive.write([_card(tmp_path)], f"vtape:{tmp_path / 't'}", catalog=cat, log_dir=False)
    for _ in range(2):
        with VirtualTape(tmp_path / "t") as vt:
            vt.faults.read_error_at_block = 3
            vt.save_settings()
        take_pending()
        try:
            lto_archive.verify(f"vtape:{tmp_path / 't'}", catalog=cat)
        except lto_archive.LtoArchiveError:
            pass                         # the job fails; its load's reading waits for the next catalog
        with Catalog.open(cat) as store:
            record_pending(store)
    with VirtualTape(tmp_path / "t") as vt:
        vt.faults.clear()
        vt.faults.clean_drive = 1
        vt.save_settings()
    take_pending()


def test_health_command_shows_the_trend_and_the_flags(tmp_path):
    cat = tmp_path / "cat.sqlite"
    _failing_jobs(tmp_path, cat)
    runner = CliRunner()
    result = runner.invoke(cli, ["health", "--device", f"vtape:{tmp_path / 't'}", "--catalog", str(cat)])
    assert result.exit_code == 0, result.output
    assert "cartridge BAD001L9: 4 reading(s) (LTO-9, rated for 20000 loads)" in result.output
    assert "migrate soon: TapeAlert about the medium at the last load: 4 (media), 5 (read failure)" in result.output
    assert "migrate soon: uncorrected errors at 2 of the last 4 loads" in result.output
    assert "clean the drive: drive vtape:" in result.output and "20 (clean now)" in result.output
    doc = json.loads(runner.invoke(cli, ["health", "BAD001L9", "--catalog", str(cat), "--json"]).output)
    assert [r["uncorrected_errors"] for r in doc["trend"]] == [0, 0, 2, 2]     # the read engine tried twice
    assert [r["tapealert"] for r in doc["trend"]] == [[], [], [4, 5], [4, 5, 20]]
    assert {f["kind"] for f in doc["flags"]} == {MIGRATE_SOON, CLEAN_DRIVE}
    flags = lto_archive.health_flags(catalog=cat)
    assert flags[0]["severity"] == "error" and flags[0]["label"] == "BAD001L9"
    [summary] = lto_archive.health_summary(catalog=cat)
    assert (summary["label"], summary["uncorrected_errors"], summary["lifetime_uncorrected_errors"],
            summary["tapealert"]) == ("BAD001L9", 2, 4, [4, 5, 20])


def test_health_without_a_cartridge_is_a_usage_error_and_an_unknown_one_has_no_readings(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["health"]).exit_code == 2
    result = runner.invoke(cli, ["health", "NONE01L9", "--catalog", str(tmp_path / "c.sqlite")])
    assert result.exit_code == 0 and "no readings yet" in result.output


def test_readings_of_loads_no_catalog_took_wait_for_the_next_one(tmp_path):
    take_pending()
    lto_archive.create_vtape(tmp_path / "t", capacity="64M", barcode="WAI001L9").close()
    with Catalog.open(tmp_path / "c.sqlite") as cat:
        assert record_pending(cat) == 1 and record_pending(cat) == 0


def test_status_shows_the_flags(tmp_path):
    cat = tmp_path / "cat.sqlite"
    _failing_jobs(tmp_path, cat)
    result = CliRunner().invoke(cli, ["status", "--device", f"vtape:{tmp_path / 't'}", "--catalog", str(cat),
                                      "--json"])
    assert result.exit_code == 0, result.output
    mine = [a for a in json.loads(result.output)["attention"] if a["where"] == "BAD001L9"]
    assert [a["what"].split(":")[0] for a in mine] == [MIGRATE_SOON, MIGRATE_SOON, CLEAN_DRIVE]
    assert mine[0]["severity"] == "error"


def test_a_failed_cli_job_still_records_its_load(tmp_path):
    cat = tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tmp_path / "t", capacity="64M", barcode="FLD001L9").close()
    take_pending()
    runner = CliRunner()
    assert runner.invoke(cli, ["write", str(_card(tmp_path)), "--device", f"vtape:{tmp_path / 't'}", "--catalog",
                               str(cat), "--log-dir", str(tmp_path / "logs")]).exit_code == 0
    with VirtualTape(tmp_path / "t") as vt:
        vt.faults.read_error_at_block = 2
        vt.save_settings()
    take_pending()
    result = runner.invoke(cli, ["verify", "--device", f"vtape:{tmp_path / 't'}", "--catalog", str(cat)])
    assert result.exit_code != 0 and "read error" in result.output
    trend = lto_archive.cartridge_health("FLD001L9", catalog=cat).trend()
    assert len(trend) == 2                     # the write's load and the failed verify's
    with VirtualTape(tmp_path / "t") as vt:    # the failed mount's errors, as the next load reads them
        vt.faults.clear()
        vt.save_settings()
    assert lto_archive.read_cartridge_health(f"vtape:{tmp_path / 't'}", catalog=cat).trend()[-1]["tapealert"] == [4, 5]


def test_a_library_load_command_reads_the_cartridge_into_an_existing_catalog(tmp_path, monkeypatch):
    cat = tmp_path / "cat.sqlite"
    monkeypatch.setenv("LTO_ARCHIVE_CATALOG", str(cat))
    lto_archive.create_vlib(tmp_path / "lib", drives=1, slots=2, capacity="64M").close()
    take_pending()
    runner = CliRunner()
    assert runner.invoke(cli, ["library", "load", "--library", f"vlib:{tmp_path / 'lib'}", "LTA001L9"]).exit_code == 0
    assert not cat.exists()                    # a load never makes a catalog
    Catalog.open(cat).close()
    runner.invoke(cli, ["library", "unload", "--library", f"vlib:{tmp_path / 'lib'}"])
    assert runner.invoke(cli, ["library", "load", "--library", f"vlib:{tmp_path / 'lib'}", "--slot", "2"]).exit_code == 0
    assert [h.device.rsplit("/", 2)[-2:] for h in lto_archive.cartridge_health("LTA002L9").readings] == [
        ["0", "LTA002L9"]]
