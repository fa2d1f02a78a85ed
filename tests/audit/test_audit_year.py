"""A full year of audits on a virtual library, with the clock set month by month (issue 17): what is due,
`audit run` doing it (full verify, sampled verify, restore drills), the catalog and the custody log recording it,
a cartridge damaged in the tenth month caught by the year's full verify, and the report."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import lto_archive
from lto_archive.audit import add_months, parse_time
from lto_archive_cli.main import cli

CLIPS = 8


def lto(*args: Any, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def lto_json(*args: Any, code: int = 0) -> Any:
    return json.loads(lto(*args, "--json", code=code).output)


def make_card(root: Path) -> Path:
    card = root / "A001"
    card.mkdir(parents=True)
    for i in range(CLIPS):
        (card / f"A001C{i:03}.mov").write_bytes(f"CLIP-{i:03}|".encode() * (300 + 250 * i))
    return card


def cartridge_dir(lib: Path, barcode: str) -> Path:
    (found,) = [p for p in lib.glob(f"*/*/{barcode}") if p.is_dir()]
    return found


def flip_bit(cartridge: Path, needle: bytes) -> None:
    """Bit rot: one bit of one clip's data changed on the cartridge, silently."""
    for rec in sorted(cartridge.glob("*_R")):
        data = bytearray(rec.read_bytes())
        at = data.find(needle)
        if at >= 0:
            data[at + 2] ^= 0x01
            rec.write_bytes(bytes(data))
            return
    raise AssertionError(f"{needle!r} is not on {cartridge}")


def test_a_year_of_audits_due_run_recorded_reported(tmp_path: Path) -> None:
    card = make_card(tmp_path)
    lib, cat = tmp_path / "lib", tmp_path / "cat.sqlite"
    lto_archive.create_vlib(lib, drives=2, slots=4, capacity="64M", partitions=2).close()
    vlib = f"vlib:{lib}"
    common = ("--catalog", cat, "--log-dir", tmp_path / "logs")
    lto("write", card, "--device", vlib, "--barcode", "LTA001L9", *common)
    lto("write", card, "--device", vlib, "--barcode", "LTA002L9", "--format", "cpio", *common)
    lto("format", "--device", vlib, "--barcode", "LTA003L9")
    lto("write", card, "--device", vlib, "--barcode", "LTA003L9", "--format", "ltfs", "--no-verify", *common)
    policy = lto_json("audit", "policy", "--catalog", cat)
    assert policy == {"full_months": 12, "sample_months": 3, "sample_files": 5, "drill_files": 2, "grace_days": 30}

    # the simulated year starts on the 2nd of January three years after the writes, whatever today is
    written = parse_time(lto_archive.Catalog(cat).tapes()[0]["first_seen"])
    assert written is not None
    start = datetime(written.year + 3, 1, 2, 9, 0, tzinfo=timezone.utc)
    plan = lto_json("audit", "plan", "--library", vlib, "--now", start.isoformat(), "--catalog", cat)
    assert plan["counts"] == {"good": 0, "due": 0, "overdue": 3, "failing": 0}
    assert {c["cartridge"]: c["reason"] for c in plan["due"]} == {
        "LTA001L9": "due", "LTA002L9": "due", "LTA003L9": "never-proven"}   # written --no-verify
    assert [c["loaded"] for c in plan["due"]] == [True, True, False]    # what is in a drive first
    assert {c["library"] for c in plan["due"]} == {vlib}

    kinds: dict[int, dict[str, str]] = {}
    for month in range(13):
        now = add_months(start, month).isoformat()
        if month == 10:
            flip_bit(cartridge_dir(lib, "LTA002L9"), b"CLIP-006|")
        doc = lto_json("audit", "run", "--library", vlib, "--now", now, "--seed", month, "--scratch", tmp_path,
                       "--catalog", cat, code=3 if month == 12 else 0)
        if month == 12:                     # exit 3: the error, with the run's result inside
            assert doc["status"] == "error" and "A001/A001C006.mov" in doc["message"]
            doc = doc["result"]
        kinds[month] = {a["cartridge"]: a["kind"] for a in doc["audited"]}
        assert doc["seed"] == month and not doc["skipped"]
        for a in doc["audited"]:
            assert len(a["drill"]) == 2 and all(d["seconds"] >= 0 and d["bytes"] > 0 for d in a["drill"])
            assert a["result"] == ("failed" if (month, a["cartridge"]) == (12, "LTA002L9") else "ok"), a
            if a["kind"] == "sample":
                assert len(a["sampled"]) == a["files"] == 5
            else:
                assert a["files"] == CLIPS, (a["cartridge"], a["files"])
        if month == 12:
            bad = [a for a in doc["audited"] if a["result"] == "failed"]
            assert [f["path"] for f in bad[0]["failures"]] == ["A001/A001C006.mov"]
        after = lto_json("audit", "plan", "--library", vlib, "--now", now, "--catalog", cat)
        assert after["due"] == []           # everything due was done

    everyone = {"LTA001L9", "LTA002L9", "LTA003L9"}
    assert kinds == {0: dict.fromkeys(everyone, "full"), 3: dict.fromkeys(everyone, "sample"),
                     6: dict.fromkeys(everyone, "sample"), 9: dict.fromkeys(everyone, "sample"),
                     12: dict.fromkeys(everyone, "full"), **{m: {} for m in (1, 2, 4, 5, 7, 8, 10, 11)}}

    # recorded: 5 rounds of 3 audits, in the catalog and in the custody log
    end = add_months(start, 12).isoformat()
    report = lto_json("audit", "report", "--now", end, "--catalog", cat, "--html", tmp_path / "audit.html")
    assert report["audits"] == 15 and report["counts"] == {"good": 2, "due": 0, "overdue": 0, "failing": 1}
    assert report["drills"]["summary"]["files"] == 30 and report["drills"]["summary"]["failed"] == 0
    assert [(f["cartridge"], f["kind"]) for f in report["failed"]] == [("LTA002L9", "full")]
    by = {c["cartridge"]: c for c in report["cartridges"]}
    assert by["LTA001L9"]["last_full"] == add_months(start, 12).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert by["LTA002L9"]["state"] == "failing" and by["LTA002L9"]["last_audit"]["result"] == "failed"
    page = (tmp_path / "audit.html").read_text()
    assert "LTA002L9" in page and "failing" in page and "<script" not in page and "http" not in page
    log = lto_archive.Catalog(cat).custody_log()
    audits = [e for e in log if e["event"] == "audit"]
    assert len(audits) == 15 and {e["subject"] for e in audits} == everyone
    assert audits[-1]["data"]["seed"] == 12 and audits[0]["data"]["at"].startswith(start.strftime("%Y-%m-%d"))
    assert lto_json("custody", "verify", "--catalog", cat)["entries"] == len(log)
    text = lto("audit", "report", "--now", end, "--catalog", cat).output
    assert "LTA002L9     failing" in text and "drills: 30 file(s) restored, 0 failed" in text
    # the verifications the audits proved are the catalog's too: status says the damaged copy failed
    status = lto_json("status", "--catalog", cat, "--device", f"vtape:{tmp_path / 'none'}")
    assert any(a["where"] == "LTA002L9" and a["severity"] == "error" for a in status["attention"])
    assert not list(tmp_path.glob("audit-*"))          # the scratch folders were removed
