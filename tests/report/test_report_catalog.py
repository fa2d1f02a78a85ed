"""`lto-archive report --catalog`: per clip, which tapes and folders hold it, verified or not, from a real
catalog filled by real write jobs."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from lto_archive.tape import create_vtape
from tests.bad_input_helpers import run
from tests.conftest import require_tool

from .helpers import MEDIA, MOV, MXF, WAV


@pytest.fixture(autouse=True)
def _ffprobe() -> None:
    require_tool("ffprobe")


def test_rushes_report_says_which_tapes_hold_each_clip(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    for name in ("A001R1AB", "B002", "SOUND_001"):
        shutil.copytree(MEDIA / name, cards / name, copy_function=shutil.copy2)
    for barcode in ("LTA001L9", "LTA002L9"):
        create_vtape(tmp_path / barcode, "LTO-9", capacity=256 << 20, barcode=barcode).close()
    cat, shuttle = tmp_path / "cat.sqlite", tmp_path / "SHUTTLE01"
    common = ["--block-size", "64K", "--catalog", cat, "--log-dir", tmp_path / "logs"]
    # A001 and B002 to tape 1 and the shuttle drive (both read back by the job); A001 again to tape 2, unverified
    run("write", cards / "A001R1AB", cards / "B002", "--device", f"vtape:{tmp_path / 'LTA001L9'}",
        "--copy-to", shuttle, *common, check=0)
    run("write", cards / "A001R1AB", "--device", f"vtape:{tmp_path / 'LTA002L9'}", "--no-verify", *common, check=0)

    out = run("report", *(cards / n for n in ("A001R1AB", "B002", "SOUND_001")), "--catalog", cat,
              "--rate", "25", "-o", tmp_path / "r.csv", "--json", check=0)
    assert json.loads(out.stdout)["clips_without_verified_copy"] == [f"SOUND_001/{WAV.name}"]
    rows = {r["Clip"]: r for r in csv.DictReader((tmp_path / "r.csv").open(newline=""))}
    mov, mxf, wav = rows[MOV.stem], rows[MXF.stem], rows[WAV.stem]
    assert mov["Tapes"] == "LTA001L9 LTA002L9" and mov["Verified copies"] == "2"
    assert mov["Start TC"] == "01:00:00:00"                                   # the report is still the report
    copies = mov["Copies"].split("; ")
    assert copies[0].startswith("LTA001L9 verified 20") and copies[1] == "LTA002L9 NOT verified"
    assert copies[2].startswith(f"{shuttle.resolve()} verified 20")
    assert mxf["Tapes"] == "LTA001L9" and mxf["Verified copies"] == "2"
    assert wav["Tapes"] == "" and wav["Verified copies"] == "0" and wav["Copies"] == "no copy in the catalog"
    assert "not in the catalog" in wav["Notes"]

    run("report", *(cards / n for n in ("A001R1AB", "B002")), "--catalog", cat, "-o", tmp_path / "r.json",
        check=0)
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["catalog"] == str(cat)
    clip = next(c for c in doc["clips"] if c["name"] == MOV.stem)
    assert clip["tapes"] == ["LTA001L9", "LTA002L9"] and clip["proven_copies"] == 2
    by = {c["destination"]: c for c in clip["copies"]}
    assert by["LTA001L9"]["kind"] == "tape" and by["LTA001L9"]["proven"] and by["LTA001L9"]["formats"] == ["tar"]
    assert by["LTA002L9"]["verified"] == 0 and by["LTA002L9"]["files"] == by["LTA002L9"]["of"] == len(clip["files"])
    assert by[str(shuttle.resolve())]["kind"] == "folder" and by[str(shuttle.resolve())]["volume_id"]

    # the lab verifies tape 2 later: the next report says so
    run("verify", "--device", f"vtape:{tmp_path / 'LTA002L9'}", "--catalog", cat, check=0)
    run("report", cards / "A001R1AB", "--catalog", cat, "-o", tmp_path / "r.html", check=0)
    page = (tmp_path / "r.html").read_text()
    assert "<th>Copies</th>" in page and "<b>LTA002L9 verified 20" in page and "NOT verified" not in page

    # a clip edited on the card after its copy is not taken for the copied one
    edited = cards / "B002" / MXF.name
    edited.touch()
    run("report", cards / "B002", "--catalog", cat, "-o", tmp_path / "b.csv", check=0)
    row = next(csv.DictReader((tmp_path / "b.csv").open(newline="")))
    assert row["Tapes"] == "" and "another modification time" in row["Notes"]
