"""`lto-archive catalog ...` through the real command: import, search, tapes, set-location, export, plan, errors."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from ..bad_input_helpers import run
from .conftest import make_cards


@pytest.fixture(scope="module")
def tapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Written once through the CLI, then only read."""
    tmp_path = tmp_path_factory.mktemp("cli-tapes")
    cards = make_cards(tmp_path / "media")
    tar, ltfs = tmp_path / "TAR001", tmp_path / "LTF002"
    run("vtape", "create", tar, "--capacity", "32M", "--barcode", "TAR001L9", check=0)
    run("vtape", "create", ltfs, "--capacity", "32M", "--barcode", "LTF002L9", "--partitions", "2", check=0)
    run("format", "--device", f"vtape:{ltfs}", "--block-size", "64K", check=0)
    logs = tmp_path / "logs"
    for card, fmt in (("A001", "tar"), ("B002", "cpio")):
        run("write", cards[card], "--device", f"vtape:{tar}", "--format", fmt, "--block-size", "16K",
            "--log-dir", logs, "--no-progress", "--operator", "Jane DIT", check=0)
    run("write", cards["RED"], cards["A001"], "--device", f"vtape:{ltfs}", "--format", "ltfs", "--log-dir", logs,
        "--no-progress", check=0)
    return {"TAR001L9": tar, "LTF002L9": ltfs}


def cli_json(*args: str | Path, check: int = 0) -> dict:  # type: ignore[type-arg]
    cp = run(*args, "--json", check=check)
    return json.loads(cp.stdout)


def test_import_search_tapes_location_export_plan(tmp_path: Path, tapes: dict[str, Path]) -> None:
    cat = tmp_path / "cat" / "catalog.sqlite"
    doc = cli_json("catalog", "import", "--device", f"vtape:{tapes['TAR001L9']}", "--catalog", cat)
    assert doc["status"] == "ok" and doc["destination"] == "TAR001L9" and len(doc["jobs"]) == 2 and doc["files"] == 6
    doc = cli_json("catalog", "import", "--device", f"vtape:{tapes['LTF002L9']}", "--catalog", cat)
    assert doc["destination"] == "LTF002L9" and doc["files"] == 5
    again = cli_json("catalog", "import", "--device", f"vtape:{tapes['LTF002L9']}", "--catalog", cat)
    assert again["files"] == 5

    doc = cli_json("catalog", "search", "A001C007*.mxf", "--catalog", cat)
    assert doc["files"] == 1 and doc["copies"] == 2
    hit = doc["results"][0]
    assert hit["path"] == "A001_C007/CLIPS/A001C007_210315_R1AB.mxf" and hit["camera"] == "A"
    assert {c["destination"] for c in hit["copies"]} == {"TAR001L9", "LTF002L9"}
    tar_copy = next(c for c in hit["copies"] if c["destination"] == "TAR001L9")
    assert tar_copy["tape_file"] == 0 and tar_copy["format"] == "tar" and tar_copy["operator"] == "Jane DIT"
    md5 = hit["hashes"]["md5"]
    assert cli_json("catalog", "search", "--hash", md5[:8], "--catalog", cat)["files"] == 1
    assert cli_json("catalog", "search", "--camera", "B", "--reel", "2", "--catalog", cat)["files"] == 2
    assert cli_json("catalog", "search", "--since", "2021-03-17T00:00Z", "--catalog", cat)["files"] == 1
    assert cli_json("catalog", "search", "--tape", "LTF002L9", "--catalog", cat)["files"] == 5
    text = run("catalog", "search", "A001C007", "--catalog", cat, check=0).stdout
    assert "TAR001L9: tar, tape file 0, block" in text and "never verified" in text and "2 file(s)" in text

    doc = cli_json("catalog", "set-location", "TAR001L9", "Shelf 3", "--catalog", cat)
    assert doc == {"status": "ok", "tape": "TAR001L9", "location": "Shelf 3"}
    doc = cli_json("catalog", "tapes", "--catalog", cat)
    by = {t["label"]: t for t in doc["tapes"]}
    assert by["TAR001L9"]["location"] == "Shelf 3" and by["TAR001L9"]["format"] == "cpio,tar"
    assert by["LTF002L9"]["volume_uuid"] and by["LTF002L9"]["files"] == 5
    assert "Shelf 3" in run("catalog", "tapes", "--catalog", cat, check=0).stdout

    out = tmp_path / "export.csv"
    doc = cli_json("catalog", "export", "--format", "csv", "--output", out, "--catalog", cat)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert doc["rows"] == len(rows) == 11
    assert {r["location"] for r in rows if r["destination"] == "TAR001L9"} == {"Shelf 3"}
    out = tmp_path / "export.json"
    cli_json("catalog", "export", "--format", "json", "--output", out, "--catalog", cat)
    whole = json.loads(out.read_text(encoding="utf-8"))
    assert whole["format"] == "lto-archive-catalog" and len(whole["files"]) == 7 and len(whole["jobs"]) == 3
    cli_json("catalog", "export", "--format", "json", "--output", out, "*.mov", "--catalog", cat)
    assert [r["path"] for r in json.loads(out.read_text())["results"]] == [
        "B002_C010/B002C010_210316_R2CD.mov", "B002_C010/B002C011_210316_R2CD.mov"]
    cp = run("catalog", "export", "--format", "csv", "-o", "-", "--reel", "003", "--catalog", cat, check=0)
    assert [r["path"] for r in csv.DictReader(cp.stdout.splitlines())] == [
        "A003_0317XY.RDM/A003_C001_0317XY.RDC/A003_C001_0317XY_001.R3D"]

    doc = cli_json("catalog", "plan", "B002_C010", "A003_0317XY.RDM", "--catalog", cat)
    assert sorted(c["barcode"] for c in doc["cartridges"]) == ["LTF002L9", "TAR001L9"]
    tar = next(c for c in doc["cartridges"] if c["barcode"] == "TAR001L9")
    assert tar["location"] == "Shelf 3" and [e["tape_file"] for e in tar["entries"]] == [1, 1]
    blocks = [(e["block"], e["block_offset"]) for e in tar["entries"]]
    assert blocks == sorted(blocks)
    text = run("catalog", "plan", "B002_C010", "--catalog", cat, check=0).stdout
    assert text.startswith("load TAR001L9 (Shelf 3): 2 file(s)")


def test_errors_are_clear_with_exit_codes(tmp_path: Path, tapes: dict[str, Path]) -> None:
    missing = tmp_path / "none.sqlite"
    for args in (["search", "x"], ["tapes"], ["export", "--format", "csv", "-o", tmp_path / "o.csv"],
                 ["set-location", "TAR001L9", "x"], ["plan", "x"]):
        doc = cli_json("catalog", *args, "--catalog", missing, check=2)
        assert doc["status"] == "error" and doc["error"] == "CatalogError" and "no catalog" in doc["message"]
    assert not missing.exists()
    cat = tmp_path / "c.sqlite"
    run("catalog", "import", "--device", f"vtape:{tapes['TAR001L9']}", "--catalog", cat, check=0)
    doc = cli_json("catalog", "set-location", "NOPE01L9", "x", "--catalog", cat, check=2)
    assert "NOPE01L9" in doc["message"]
    doc = cli_json("catalog", "search", "--hash", "zz", "--catalog", cat, check=2)
    assert doc["error"] == "UsageError"
    doc = cli_json("catalog", "import", "--device", f"vtape:{tmp_path / 'nowhere'}", "--catalog", cat, check=4)
    assert doc["status"] == "error"
    with sqlite3.connect(cat) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future', 'x')")
    cp = run("catalog", "search", "--catalog", cat, check=2)
    assert "newer lto-archive" in cp.stderr and "Traceback" not in cp.stderr


def test_default_catalog_from_environment(tmp_path: Path, tapes: dict[str, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LTO_ARCHIVE_CATALOG", str(tmp_path / "env.sqlite"))
    doc = cli_json("catalog", "import", "--device", f"vtape:{tapes['TAR001L9']}")
    assert doc["catalog"] == str(tmp_path / "env.sqlite") and (tmp_path / "env.sqlite").exists()
    assert cli_json("catalog", "search", "T001")["files"] == 0
    assert cli_json("catalog", "search", "A001C008")["files"] == 1
