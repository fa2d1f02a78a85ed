"""Where copy logs go by default (issue 16, "Logs where people look for them"): the data folder beside the
catalog, `logs/<production or 'no-production'>/<YYYY-MM-DD>/`; `--log-dir` still wins, and `ltfs recover`
finds the journals there."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

import lto_archive
from lto_archive.formats.ltfs.volume import open_volume
from lto_archive.jobs.journal import read_journal
from lto_archive.tape import VirtualTape

from .bad_input_helpers import make_card, new_tape, run
from .ltfs.test_recover_journal import killed_writer


def _days() -> set[str]:
    """Today's name (and tomorrow's, should the job run past midnight): the day folder is the job's."""
    today = date.today()
    return {today.isoformat(), date.fromordinal(today.toordinal() + 1).isoformat()}


def _logs_of(cp_stdout: str) -> list[Path]:
    return [Path(line.split(": ", 1)[1]) for line in cp_stdout.splitlines() if line.startswith("copy log: ")]


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A default catalog of this test's own: its folder gets the default logs."""
    path = tmp_path / "data" / "catalog.sqlite"
    monkeypatch.setenv("LTO_ARCHIVE_CATALOG", str(path))
    return path


def test_default_copy_log_goes_beside_the_catalog_by_production_and_day(tmp_path: Path, catalog: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    work = tmp_path / "cwd"
    work.mkdir()
    cp = run("write", card, "--device", f"vtape:{tape}", "--no-progress", cwd=work, check=0)
    [json_log, text_log] = _logs_of(cp.stdout)              # the path is printed
    folder = json_log.parent
    assert folder.parent.parent == catalog.parent / "logs"
    assert folder.parent.name == "no-production" and folder.name in _days()
    sid = json.loads(json_log.read_text())["session"]["session_id"]
    assert json_log.name == f"{sid}.json" and text_log == folder / f"{sid}.log" and text_log.is_file()
    assert (folder / f"{sid}.journal.jsonl").is_file()      # the journal beside it
    assert list(work.iterdir()) == []                        # nothing in the current directory any more


def test_production_names_the_folder(tmp_path: Path, catalog: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    cp = run("write", card, "--device", f"vtape:{tape}", "--no-progress", "--production", "The Long Take", check=0)
    [json_log, _] = _logs_of(cp.stdout)
    assert json_log.parent.parent == catalog.parent / "logs" / "The Long Take"
    assert json_log.parent.name in _days()


def test_catalog_option_moves_the_logs_with_it(tmp_path: Path, catalog: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    other = tmp_path / "elsewhere" / "lab.sqlite"
    cp = run("write", card, "--device", f"vtape:{tape}", "--no-progress", "--catalog", other, "--production", "P1",
             check=0)
    [json_log, _] = _logs_of(cp.stdout)
    assert json_log.parent.parent == other.parent / "logs" / "P1"
    assert not (catalog.parent / "logs").exists()


def test_log_dir_still_wins(tmp_path: Path, catalog: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    cp = run("write", card, "--device", f"vtape:{tape}", "--no-progress", "--production", "P1",
             "--log-dir", tmp_path / "mine", check=0)
    [json_log, _] = _logs_of(cp.stdout)
    assert json_log.parent == tmp_path / "mine"
    assert not (catalog.parent / "logs").exists()


@pytest.mark.parametrize("name", ["a/b", "..", "bad\tname"])
def test_a_production_that_cannot_be_a_folder_is_a_usage_error(tmp_path: Path, catalog: Path, name: str) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    cp = run("write", card, "--device", f"vtape:{tape}", "--no-progress", "--production", name)
    assert cp.returncode == 2 and "--production" in cp.stderr, (cp.stdout, cp.stderr)
    assert not (catalog.parent / "logs").exists()
    assert lto_archive.list_files(f"vtape:{tape}").tape_files == []     # nothing was written


def test_api_write_default_log_dir(tmp_path: Path) -> None:
    card, tape = make_card(tmp_path / "src"), new_tape(tmp_path / "tape")
    cat = tmp_path / "api" / "catalog.sqlite"
    r = lto_archive.write(card, f"vtape:{tape}", catalog=cat, production="Doc", block_size="16K")
    assert r.ok and r.log_paths and all(p.parent.parent == cat.parent / "logs" / "Doc" for p in r.log_paths)
    r = lto_archive.write(card, f"vtape:{tape}", catalog=cat, log_dir=False, block_size="16K")
    assert r.ok and r.log_paths == []


def test_ltfs_recover_finds_the_journal_in_the_default_place(tmp_path: Path, catalog: Path) -> None:
    cart, logs, src = killed_writer(tmp_path / "w", 5)
    [jpath] = list(logs.glob("*.journal.jsonl"))
    journaled = {r.path for r in read_journal(jpath).records() if r.kind == "file"}
    day = catalog.parent / "logs" / "Feature" / "2026-12-01"
    day.mkdir(parents=True)
    moved = Path(shutil.move(str(jpath), day / jpath.name))
    shutil.copytree(cart, tmp_path / "copy")

    with VirtualTape(cart) as dev:
        report = lto_archive.recover_ltfs(dev)                  # no log_dir: the default place
        assert report.consistent and report.journals == [str(moved)]
        assert set(report.recovered) == journaled and journaled
    cp = run("ltfs", "recover", "--device", f"vtape:{tmp_path / 'copy'}", check=0)   # the CLI too
    assert f"journal: {moved}" in cp.stdout
    with VirtualTape(tmp_path / "copy") as dev:
        assert open_volume(dev).consistent


def test_production_is_in_the_copy_log_and_absent_without_it(tmp_path: Path, catalog: Path) -> None:
    card = make_card(tmp_path / "src")
    for name, production in (("plain", None), ("named", "The Long Take")):
        tape = new_tape(tmp_path / f"tape-{name}")
        extra = ("--production", production) if production else ()
        cp = run("write", card, "--device", f"vtape:{tape}", "--no-progress", *extra, check=0)
        [json_log, text_log] = _logs_of(cp.stdout)
        dest = tmp_path / f"dest-{name}"
        run("restore", "--device", f"vtape:{tape}", dest, check=0)
        on_tape = (dest / ".lto-archive" / "tape-file-0" / "manifest.json").read_text()
        session = json.loads(on_tape)["session"]
        if production is None:     # a job without --production writes the manifest it always wrote
            assert "production" not in session and "production" not in json.loads(json_log.read_text())["session"]
            assert "\nproduction " not in text_log.read_text()
        else:
            assert session["production"] == production
            assert f"production   {production}" in text_log.read_text()
            assert lto_archive.Manifest.from_json(on_tape).session.production == production
