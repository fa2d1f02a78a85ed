"""CSV, JSON and HTML reports parse back, say "not available" with the reason, and escape names."""

from __future__ import annotations

import csv
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lto_archive.report import NOT_AVAILABLE, Report, build_report, render, write_report
from lto_archive.report.render import CSV_COLUMNS
from tests.conftest import require_tool

from .helpers import CARDS, MOV, MXF, WAV

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "source", "wbr"}


class _Page(HTMLParser):
    """Collects the text and checks that every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    assert page.errors == [] and page.stack == [], (page.errors, page.stack)
    return page


@pytest.fixture(scope="module")
def report() -> Report:
    require_tool("ffprobe")
    return build_report(CARDS, rate="25", production="Le Film", operator="Jane DIT")


def test_csv_parses_back(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == 5
    by = {r["Clip"]: r for r in rows}
    mov, mxf, wav = by[MOV.stem], by[MXF.stem], by[WAV.stem]
    assert (mov["Start TC"], mov["End TC"], mov["Rate"], mov["Frames"], mov["Seconds"]) == \
        ("01:00:00:00", "01:00:02:00", "25", "50", "2.000")
    assert (mxf["Start TC"], mxf["Rate"], mxf["Frames"], mxf["Seconds"]) == ("10:00:00:00", "23.976", "48", "2.002")
    assert mxf["Sidecars"] == "B002/B002C005_230101XYM01.XML" and mxf["Type"] == "DNx"
    assert wav["Start TC"] == "01:00:10:00" and "Start TC: assumed" in wav["Notes"]
    assert (wav["Scene"], wav["Shot"], wav["Take"], wav["Reel"]) == ("012", "A", "03", "SOUND_001")
    red = by["D001_C007_0101RX"]
    assert red["Start TC"] == NOT_AVAILABLE and red["Rate"] == NOT_AVAILABLE and red["Type"] == "RAW"
    assert "Start TC: not available (ffprobe cannot read it" in red["Notes"]
    dpx = by["C003C001_230101_R2CD"]
    assert (dpx["Frames"], dpx["First frame"], dpx["Last frame"]) == ("5", "86400", "86404")
    assert dpx["Kind"] == "sequence" and "(5 frames)" in dpx["File names"]
    assert int(mov["Size (bytes)"]) == MOV.stat().st_size


def test_json_parses_back(report: Report) -> None:
    doc = json.loads(render(report, "json"))
    assert doc["production"] == "Le Film" and doc["operator"] == "Jane DIT"
    assert doc["project_rate"] == {"value": "25/1", "display": "25", "source": "given with --rate"}
    by = {c["name"]: c for c in doc["clips"]}
    mxf = by[MXF.stem]
    assert mxf["frame_rate"] == {"value": "24000/1001", "display": "23.976",
                                 "source": "ffprobe stream 0 r_frame_rate"}
    assert mxf["start_timecode"]["value"] == "10:00:00:00" and mxf["duration_frames"]["value"] == 48
    assert by[MOV.stem]["start_timecode"]["value"] == "01:00:00:00"
    wav = by[WAV.stem]["start_timecode"]
    assert wav["value"] == "01:00:10:00" and wav["assumed"] is True and "25 fps" in wav["source"]
    red = by["D001_C007_0101RX"]
    assert red["start_timecode"]["value"] is None and "ffprobe cannot read it" in red["start_timecode"]["not_available"]
    dpx = by["C003C001_230101_R2CD"]
    assert dpx["frames"] == {"count": 5, "first": 86400, "last": 86404, "missing": []}
    assert len(dpx["files"]) == 5
    assert doc["totals"]["clips"] == 5 and doc["totals"]["takes_per_shot"] == {"012A": ["03"]}
    assert doc["totals"]["bytes"] == sum(p.stat().st_size for c in CARDS for p in c.rglob("*") if p.is_file())


def test_html_is_printable_and_complete(report: Report) -> None:
    text = render(report, "html")
    page = parse_html(text)
    words = " ".join(page.text)
    for clip in report.clips:
        assert clip.name in words
    for value in ("01:00:00:00", "10:00:00:00", "23.976", "Le Film", "Jane DIT", NOT_AVAILABLE,
                  "ffprobe cannot read it", "Shots and takes"):
        assert value in words, value
    assert "@page" in text and "@media print" in text               # print styles, inline
    assert "<script" not in text and "<link" not in text and "src=" not in text   # self-contained


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    require_tool("ffprobe")
    card = tmp_path / "A009<b>"
    card.mkdir()
    hostile = '<script>alert("x")&\'y\', z'
    shutil.copy(MOV, card / f"{hostile}.mov")
    shutil.copy(MOV, card / "A009C001_230101_R1AB.mov")
    report = build_report([card], production="<img src=x onerror=alert(1)>", operator="O'Brien & Co")
    text = render(report, "html")
    page = parse_html(text)
    assert "<script" not in text and "<img" not in text and "A009<b>" not in text and "A009&lt;b&gt;" in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&amp;&#x27;y&#x27;, z" in text
    words = "".join(page.text)
    assert hostile in words and "<img src=x onerror=alert(1)>" in words and "O'Brien & Co" in words
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "table",
                              "thead", "tbody", "tfoot", "tr", "th", "td", "p", "span", "b", "br", "sup", "a",
                              "ol", "li", "footer"}
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert hostile in {r["Clip"] for r in rows}
    doc = json.loads(render(report, "json"))
    assert hostile in {c["name"] for c in doc["clips"]}


def test_write_report_replaces_the_file_in_one_step(tmp_path: Path, report: Report) -> None:
    out = tmp_path / "report.html"
    out.write_text("old")
    assert write_report(report, "html", out) == out
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]          # no temporary file left
    from lto_archive.errors import UsageError
    with pytest.raises(UsageError):
        write_report(report, "html", tmp_path / "missing" / "r.html")
    with pytest.raises(UsageError):
        write_report(report, "pdf", tmp_path / "r.pdf")
