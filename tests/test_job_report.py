"""`--report FILE` (issue 16): the HTML job report of write, verify and restore, for a producer; written
when the job fails too, never when the command was a usage error."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import lto_archive

from .bad_input_helpers import KiB, make_card, new_tape, run, set_sidecar

_VOID = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"}


class _Page(HTMLParser):
    """The page's text, its tags checked to open and close in order, and anything it would fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.fetches: list[str] = []
        self.errors: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link", "img", "iframe") or any(k in ("src",) for k, _ in attrs) or any(
                k == "href" and v and not v.startswith("#") for k, v in attrs):
            self.fetches.append(tag)
        if tag not in _VOID:
            self.stack.append(tag)
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)


def parse(path: Path) -> str:
    """The report's text, once it parsed as a well-formed, self-contained HTML page."""
    raw = path.read_text(encoding="utf-8")
    assert raw.startswith("<!DOCTYPE html>")
    page = _Page()
    page.feed(raw)
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    assert not page.fetches, page.fetches                 # no external asset, no script
    return " ".join(" ".join(page.text).split())


def test_write_report_names_destinations_status_hashes(tmp_path: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    shuttle, report = tmp_path / "SHUTTLE01", tmp_path / "job.html"
    cp = run("write", card, "--device", f"vtape:{tape}", "--copy-to", shuttle, "--no-progress", "--production",
             "The <Long> Take", "--operator", "Jane DIT", "--hash", "xxh128,md5", "--log-dir", tmp_path / "logs",
             "--report", report, check=0)
    assert f"job report: {report}" in cp.stdout
    text = parse(report)
    for needed in ("The <Long> Take", "Jane DIT", "TST001L9", str(shuttle), "xxh128, md5", "3 file(s)",
                   "Problems: 0", str(card)):
        assert needed in text, needed
    assert "ok" in text.split("Status", 1)[1][:20]
    assert "3 file(s) proven" in text                        # the read-back of each destination
    assert str(tmp_path / "logs") in text                     # the copy log it comes from


def test_failed_write_still_gets_its_report_naming_the_failed_files(tmp_path: Path) -> None:
    card = make_card(tmp_path / "src", sizes={f"f{i}.bin": 100 * KiB for i in range(5)})
    tape, report = new_tape(tmp_path / "tape"), tmp_path / "failed.html"
    set_sidecar(tape, faults={"end_of_medium_at": 250 * KiB})
    cp = run("write", card, "--device", f"vtape:{tape}", "--copy-to", tmp_path / "shuttle", "--no-progress",
             "--log-dir", tmp_path / "logs", "--report", report, "--json")
    assert cp.returncode == 4, (cp.stdout, cp.stderr)
    assert json.loads(cp.stdout)["status"] == "error"          # --json stays one document
    assert f"job report: {report}" in cp.stderr
    text = parse(report)
    assert "failed" in text and "TST001L9" in text and str(tmp_path / "shuttle") in text
    for lost in ("card/f2.bin", "card/f3.bin", "card/f4.bin"):
        assert lost in text, lost
    assert "Problems: 0" not in text


def test_job_that_fails_before_it_has_a_result(tmp_path: Path) -> None:
    card, report = make_card(tmp_path / "src"), tmp_path / "r.html"
    cp = run("write", card, "--device", "vtape:/nonexistent", "--no-progress", "--log-dir", tmp_path / "logs",
             "--report", report)
    assert cp.returncode == 4
    text = parse(report)
    assert "/nonexistent" in text and "error" in text


def test_verify_and_restore_reports(tmp_path: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    run("write", card, "--device", f"vtape:{tape}", "--no-progress", "--log-dir", tmp_path / "logs", check=0)
    run("verify", "--device", f"vtape:{tape}", "--report", tmp_path / "v.html", check=0)
    text = parse(tmp_path / "v.html")
    assert "Job report: verify" in text and f"vtape:{tape}" in text and "Verified 3" in text
    run("restore", "--device", f"vtape:{tape}", tmp_path / "dest", "--report", tmp_path / "r.html", check=0)
    text = parse(tmp_path / "r.html")
    assert "Job report: restore" in text and str(tmp_path / "dest") in text and "Restored 4 entries" in text

    set_sidecar(tape, faults={"read_error_at_block": 0})       # the read-back now fails: still a report
    cp = run("verify", "--device", f"vtape:{tape}", "--report", tmp_path / "bad.html")
    assert cp.returncode not in (0, 2), (cp.stdout, cp.stderr)
    text = parse(tmp_path / "bad.html")
    assert "ok" not in text.split("Status", 1)[1][:12] and "Error" in text


def test_usage_errors_write_no_report(tmp_path: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    report = tmp_path / "r.html"
    cp = run("write", card, "--device", f"vtape:{tape}", "--production", "a/b", "--report", report,
             "--log-dir", tmp_path / "logs")
    assert cp.returncode == 2 and not report.exists()
    cp = run("verify", "--report", report)                     # neither --device nor --folder
    assert cp.returncode == 2 and not report.exists()
    cp = run("write", card, "--device", f"vtape:{tape}", "--report", tmp_path / "no" / "such" / "r.html",
             "--log-dir", tmp_path / "logs")
    assert cp.returncode == 2 and "does not exist" in cp.stderr     # refused before the job runs
    assert lto_archive.list_files(f"vtape:{tape}").tape_files == []


def test_api_report_of_a_result(tmp_path: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    r = lto_archive.write(card, f"vtape:{tape}", catalog=False, log_dir=False, block_size="16K")
    out = lto_archive.write_job_report(r, tmp_path / "api.html", production="Doc")
    assert out == tmp_path / "api.html"
    text = parse(out)
    assert "Doc" in text and "TST001L9" in text and r.manifest.session.session_id in text


def test_span_write_and_span_verify_reports(tmp_path: Path) -> None:
    from tests.span.helpers import make_card as span_card
    from tests.span.test_span_read import SIZES

    card, lib = span_card(tmp_path, SIZES), tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "4", "--cartridges", "3", "--capacity", "8M", check=0)
    run("write", card, "--device", f"vlib:{lib}", "--span", "--barcodes", "LTA*", "--block-size", "64K",
        "--log-dir", tmp_path / "logs", "--no-progress", "--verify", "--report", tmp_path / "w.html", check=0)
    text = parse(tmp_path / "w.html")
    assert all(b in text for b in ("LTA001L9", "LTA002L9", "LTA003L9")) and "Problems: 0" in text
    run("span", "verify", "--device", f"vlib:{lib}", "--cartridges", "LTA001L9,LTA002L9,LTA003L9", "--no-progress",
        "--report", tmp_path / "v.html", check=0)
    text = parse(tmp_path / "v.html")
    assert "Job report: span verify" in text and "LTA001L9,LTA002L9,LTA003L9" in text and "Problems: 0" in text
