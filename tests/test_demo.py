"""`lto-archive demo` as a new user runs it: twice on one folder, with --json, into a log file."""

from __future__ import annotations

import json

from click.testing import CliRunner

from lto_archive import Progress
from lto_archive_cli.common import ProgressBar
from lto_archive_cli.main import cli


def test_demo_runs_twice_on_the_same_folder(tmp_path):
    for _ in range(2):
        result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path), "--no-progress"])
        assert result.exit_code == 0, result.output
        assert "identical to the original" in result.output
    logs = list((tmp_path / "logs").glob("*.json"))
    assert len(logs) == 1, "the second run starts over: one tape, one job"


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "my-footage.mov").write_bytes(b"precious")
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path), "--no-progress"])
    assert result.exit_code == 2
    assert "not empty" in result.output and "my-footage.mov" in result.output
    assert (tmp_path / "my-footage.mov").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-footage.mov"]


def test_demo_json_is_one_document(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["status"] == "ok" and doc["identical"] is True and doc["files"] == doc["verified"] == 28
    assert doc["write"]["destinations"][0]["status"] == "ok"


def _progress(elapsed: float, done: int) -> Progress:
    return Progress(phase="write", bytes_done=done * 1000, bytes_total=10_000, files_done=done, files_total=10,
                    path=f"card/f{done}.mov", elapsed=elapsed)


def test_progress_off_a_terminal_is_plain_periodic_lines(capsys):
    with ProgressBar(True, terminal=False, plain_every=5.0) as bar:
        for i in range(10):
            bar(_progress(i * 1.0, i))      # one call per second of the job
    err = capsys.readouterr().err
    assert "\r" not in err and "\033" not in err
    lines = err.splitlines()
    assert [ln.split()[-1] for ln in lines] == ["card/f0.mov", "card/f5.mov", "card/f9.mov"]
    assert "9/10 files" in lines[-1] and "90.0%" in lines[-1]


def test_progress_on_a_terminal_redraws_one_line(capsys):
    with ProgressBar(True, terminal=True) as bar:
        bar(_progress(0.0, 1))
        bar(_progress(1.0, 2))
    err = capsys.readouterr().err
    assert err.count("\r\033[K") == 2 and err.endswith("\n") and err.count("\n") == 1


def test_progress_on_a_terminal_draws_per_interval_and_the_last_state(capsys):
    """A job of many small files reports every file start; the bar draws at most every `draw_every` seconds of
    the job, a new phase at once, and the last state at close."""
    with ProgressBar(True, terminal=True, draw_every=0.1) as bar:
        for i in range(100):
            bar(_progress(i * 0.001, i))        # 100 reports within 0.1 s
        bar(Progress(phase="verify", bytes_done=0, bytes_total=10_000, files_done=0, files_total=10,
                     path="card/v.mov", elapsed=0.0))
        bar(_progress(0.05, 7))                  # (a new phase's clock: shown at once)
    err = capsys.readouterr().err
    drawn = err.split("\r\033[K")[1:]
    assert len(drawn) == 3 and "card/f0.mov" in drawn[0] and "card/v.mov" in drawn[1]
    assert "card/f7.mov" in drawn[2]      # drawn at once (a new phase again), so not again at close
    with ProgressBar(True, terminal=True, draw_every=0.1) as bar:
        for i in range(10):
            bar(_progress(i * 0.001, i))
    drawn = capsys.readouterr().err.split("\r\033[K")[1:]
    assert len(drawn) == 2 and "card/f0.mov" in drawn[0] and "card/f9.mov" in drawn[1]


def test_the_tracker_samples_destinations_per_interval_and_at_the_end() -> None:
    """Reports at every file start carry the destinations sampled at most once an interval, and the last one
    a fresh sample (a new sampler, a new stream: sampled at once)."""
    from lto_archive import DestinationProgress
    from lto_archive.progress import ProgressTracker
    seen: list[Progress] = []
    calls = [0]

    def sampler() -> tuple[DestinationProgress, ...]:
        calls[0] += 1
        return (DestinationProgress("T", "tape", calls[0], 1.0),)

    tracker = ProgressTracker("write", seen.append, interval=3600.0)
    tracker.sampler = sampler
    for i in range(50):
        tracker.file_started(f"f{i}")
    assert calls[0] == 1 and all(p.destinations[0].bytes_done == 1 for p in seen)
    tracker.sampler = lambda: sampler()
    tracker.file_started("g")
    tracker.finish()
    assert calls[0] == 3 and [p.destinations[0].bytes_done for p in seen[-2:]] == [2, 3]


def _fan_out(elapsed: float) -> Progress:
    from lto_archive import DestinationProgress
    dests = (DestinationProgress("LTA001L9", "tape", 400_000_000, elapsed or 1, 0.9),
             DestinationProgress("LTA002L9", "tape", 400_000_000, elapsed or 1, 0.85),
             DestinationProgress("/mnt/shuttle/DAY_01", "folder", 120_000_000, elapsed or 1, 0.02))
    return Progress(phase="write", bytes_done=400_000_000, bytes_total=800_000_000, files_done=3, files_total=6,
                    path="A001/C003.mov", elapsed=elapsed, destinations=dests)


def test_progress_shows_one_line_per_destination(capsys):
    with ProgressBar(True, terminal=True) as bar:
        bar(_fan_out(1.0))
        bar(_fan_out(2.0))
    err = capsys.readouterr().err
    assert err.count("\033[3A") == 1               # the second drawing goes back up over the first's 4 lines
    last = err.split("\033[3A")[1]
    rows = [ln for ln in last.split("\n") if ln.strip()]
    assert len(rows) == 4 and "LTA001L9" in rows[1] and "LTA002L9" in rows[2] and "shuttle/DAY_01" in rows[3]
    assert "200.0 MB/s" in rows[1] and "buffer  90%" in rows[1] and "60.0 MB/s" in rows[3] and "buffer   2%" in rows[3]
    with ProgressBar(True, terminal=False) as bar:
        bar(_fan_out(1.0))
    plain = capsys.readouterr().err
    assert "\033" not in plain and len(plain.splitlines()) == 4 and "folder" in plain.splitlines()[3]
