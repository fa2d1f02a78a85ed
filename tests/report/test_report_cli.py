"""`lto-archive report` end to end, through the real command in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_input_helpers import CLI, run
from tests.conftest import require_tool

from .helpers import CARDS, MOV, MXF, WAV


@pytest.fixture(autouse=True)
def _ffprobe() -> None:
    require_tool("ffprobe")


def test_report_in_every_format(tmp_path: Path) -> None:
    common = ["--rate", "25", "--production", "Le Film", "--operator", "Jane DIT"]
    cp = run("report", *CARDS, "--format", "csv", "--output", tmp_path / "r.csv", *common, check=0)
    assert cp.stdout.startswith("5 clips, 11 files") and "fields not available" in cp.stdout
    rows = {r["Clip"]: r for r in csv.DictReader((tmp_path / "r.csv").open(newline=""))}
    assert rows[MOV.stem]["Start TC"] == "01:00:00:00" and rows[MOV.stem]["Rate"] == "25"
    assert rows[MXF.stem]["Start TC"] == "10:00:00:00" and rows[MXF.stem]["Rate"] == "23.976"
    assert rows[WAV.stem]["Start TC"] == "01:00:10:00"

    cp = run("report", *CARDS, "-o", tmp_path / "r.json", *common, "--json", check=0)   # format from the name
    result = json.loads(cp.stdout)
    assert result["status"] == "ok" and result["format"] == "json" and result["clips"] == 5
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["catalog"] is None and doc["production"] == "Le Film" and "copies" not in doc["clips"][0]
    assert {c["name"]: c["duration_frames"]["value"] for c in doc["clips"]}[MXF.stem] == 48

    run("report", *CARDS, "--format", "html", "-o", tmp_path / "r.htm", *common, check=0)
    page = (tmp_path / "r.htm").read_text()
    assert page.startswith("<!DOCTYPE html>") and "Jane DIT" in page and "not available" in page


def test_report_to_stdout_and_custom_naming(tmp_path: Path) -> None:
    card = tmp_path / "MAG07"
    card.mkdir()
    shutil.copy(MOV, card / "SC012-A-T3_CAMB.mov")
    naming = tmp_path / "naming.txt"
    naming.write_text(r"^SC(?P<scene>\d+)-(?P<shot>[A-Z])-T(?P<take>\d+)_CAM(?P<camera>[A-Z])$" "\n"
                      r"card-folder: ^MAG\d+$" "\n")
    for spec in (f"@{naming}", r"^SC(?P<scene>\d+)-(?P<shot>[A-Z])-T(?P<take>\d+)_CAM(?P<camera>[A-Z])$"):
        cp = run("report", card, "--format", "csv", "-o", "-", "--naming", spec, check=0)
        row = next(csv.DictReader(cp.stdout.splitlines()))
        assert (row["Scene"], row["Shot"], row["Take"], row["Camera"], row["Card"]) == ("012", "A", "3", "B", "MAG07")
        assert row["Start TC"] == "01:00:00:00"


def test_usage_errors(tmp_path: Path) -> None:
    cp = run("report", *CARDS, "-o", tmp_path / "r.txt")
    assert cp.returncode == 2 and "--format" in cp.stderr and "Traceback" not in cp.stderr
    cp = run("report", *CARDS, "-o", tmp_path / "r.csv", "--naming", "(?P<camera>")
    assert cp.returncode == 2 and "regular expression" in cp.stderr
    cp = run("report", *CARDS, "-o", tmp_path / "r.csv", "--rate", "fast")
    assert cp.returncode == 2 and "frame rate" in cp.stderr
    cp = run("report", tmp_path / "nope", "-o", tmp_path / "r.csv")
    assert cp.returncode == 2 and "does not exist" in cp.stderr
    cp = run("report", *CARDS, "-o", tmp_path / "no-such-folder" / "r.csv")
    assert cp.returncode == 2 and "does not exist" in cp.stderr
    cp = run("report", *CARDS, "-o", tmp_path / "r.csv", "--catalog", tmp_path / "none.sqlite")
    assert cp.returncode == 2 and "no catalog" in cp.stderr and not (tmp_path / "none.sqlite").exists()
    assert not any(tmp_path.glob("r.*"))


def test_missing_ffprobe_fails_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = dict(os.environ, PATH=str(empty), PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("LTO_ARCHIVE_FFPROBE", None)
    out = tmp_path / "r.html"
    for extra in ([], ["--json"]):
        cp = subprocess.run(CLI + ["report", *map(str, CARDS), "-o", str(out), *extra], capture_output=True,
                            text=True, env=env, timeout=60)
        assert cp.returncode == 4, (cp.stdout, cp.stderr)
        message = json.loads(cp.stdout)["message"] if extra else cp.stderr
        assert "ffprobe" in message and "apt-get install ffmpeg" in message
        assert "Traceback" not in cp.stderr
    assert not out.exists()
