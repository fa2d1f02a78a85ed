"""A write job reports each tape's flow in its --json: bytes, the host buffer's watermarks and, with the
virtual tape's drive-speed model, the drive buffer's watermarks and its underruns (shoe-shine events).

The speed model runs on an injected clock that ticks once per call (once per record written, once per
flush), so the host's rate is exact and nothing depends on wall time."""

from __future__ import annotations

import json
import random
from pathlib import Path

from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import create_vtape

from .bad_input_helpers import new_tape, write_cli

RECORD = 16 * 1024
SPEED = {"enabled": True, "buffer_bytes": 16 * RECORD, "min_mb_s": 100, "native_mb_s": 400}


class TickClock:
    """Each reading is `step` seconds after the one before: a host writing one record per step."""

    def __init__(self, step: float) -> None:
        self.t, self.step = 0.0, step

    def __call__(self) -> float:
        self.t += self.step
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def mixed_card(root: Path) -> Path:
    """Big clips and small frames (seeded)."""
    rng = random.Random(15)
    card = root / "card"
    (card / "CLIP").mkdir(parents=True)
    (card / "frames").mkdir()
    for i in range(3):
        (card / "CLIP" / f"A{i:03d}.MXF").write_bytes(rng.randbytes(20 * RECORD + 100 * i))
    for i in range(60):
        (card / "frames" / f"f.{i:05d}.dpx").write_bytes(rng.randbytes(3000))
    return card


def write_with_host_rate(tmp_path: Path, name: str, mb_s: float) -> tuple[dict, object]:
    clock = TickClock(RECORD / (mb_s * 1e6))
    dev = create_vtape(tmp_path / name, "LTO-9", capacity=10**9, speed=SPEED, clock=clock, sleep=clock.sleep)
    try:
        r = write_archive([mixed_card(tmp_path / f"src-{name}")], dev,
                          WriteOptions(format="tar", algorithms=("xxh128",), record_size=RECORD, verify=False,
                                       chunk_size=4 * RECORD))   # many chunks: the host buffer is sampled
        r.raise_for_status()
        return r.destinations[0]["flow"], dev.stats
    finally:
        dev.close()


def test_a_host_inside_the_speed_matching_range_never_underruns(tmp_path: Path) -> None:
    flow, stats = write_with_host_rate(tmp_path, "fast", 300)      # between the floor (100) and native (400)
    drive = flow["drive"]
    assert drive["underruns"] == 0 == stats.underruns
    assert drive["generation"] == "LTO-9" and drive["native_mb_s"] == 400 and drive["floor_mb_s"] == 100
    assert drive["high_bytes"] == SPEED["buffer_bytes"]          # it filled, so the tape moved
    assert drive["low_bytes"] == SPEED["buffer_bytes"] - RECORD  # matched to the host: never below one record
    assert flow["bytes"] == stats.bytes_written
    host = flow["host_buffer"]
    assert host["chunks"] >= 2 and host["chunk_bytes"] == 4 * RECORD
    assert host["low"] is not None and 0 <= host["low"] <= host["high"] < host["chunks"]


def test_a_host_below_the_floor_underruns_and_says_so(tmp_path: Path) -> None:
    flow, stats = write_with_host_rate(tmp_path, "slow", 50)       # half the floor: the buffer drains
    drive = flow["drive"]
    assert drive["underruns"] == stats.underruns > 0
    assert drive["low_bytes"] == 0 and drive["high_bytes"] == SPEED["buffer_bytes"]
    # 16 records fill the buffer, then each record drains one more than it brings: dry 16 records later,
    # and the drive starts again only on a full buffer
    records = stats.records_written
    assert drive["underruns"] == (records - 16) // 32 or drive["underruns"] == (records - 16) // 32 + 1


def test_no_speed_model_no_drive_figures_but_bytes_and_host_buffer(tmp_path: Path) -> None:
    dev = create_vtape(tmp_path / "plain", "LTO-9", capacity=10**9)
    try:
        r = write_archive([mixed_card(tmp_path / "src")], dev,
                          WriteOptions(format="tar", algorithms=("xxh128",), record_size=RECORD, verify=False))
        flow = r.destinations[0]["flow"]
        assert flow["drive"] is None and flow["bytes"] == dev.stats.bytes_written > 3 * 20 * RECORD
    finally:
        dev.close()


def test_the_cli_json_carries_each_tapes_flow(tmp_path: Path) -> None:
    """Through the CLI the model runs on the wall clock: only the figures' presence and bounds are checked."""
    tape = new_tape(tmp_path / "tape", speed={"enabled": True, "buffer_bytes": 8 * RECORD})
    doc = json.loads(write_cli(tape, mixed_card(tmp_path), log_dir=tmp_path / "logs", extra=("--json",)).stdout)
    tapes = [d for d in doc["destinations"] if d["kind"] == "tape"]
    assert len(tapes) == 1
    flow = tapes[0]["flow"]
    assert flow["bytes"] > 3 * 20 * RECORD and flow["host_buffer"]["high"] < flow["host_buffer"]["chunks"]
    drive = flow["drive"]
    assert drive["underruns"] >= 0 and 0 < drive["high_bytes"] <= drive["buffer_bytes"] == 8 * RECORD


def test_the_progress_bar_shows_each_tapes_bytes_rate_and_buffer(tmp_path: Path) -> None:
    """The write's progress carries each tape's own progress (the stream's sampler); the CLI's bar prints a
    line per tape under its main line (plain mode here: stderr is not a terminal)."""
    from lto_archive.progress import Progress

    seen: list[Progress] = []
    dev = create_vtape(tmp_path / "t", "LTO-9", capacity=10**9)
    try:
        write_archive([mixed_card(tmp_path / "src")], dev, WriteOptions(
            format="tar", algorithms=("xxh128",), record_size=RECORD, verify=False, chunk_size=4 * RECORD),
            progress=seen.append)
    finally:
        dev.close()
    writes = [p for p in seen if p.phase == "write"]
    assert writes and all(len(p.destinations) == 1 for p in writes)
    last = writes[-1].destinations[0]
    assert last.kind == "tape" and last.state == "done" and last.buffer_fill == 0.0
    assert last.bytes_done == dev.stats.bytes_written
    assert all(0.0 <= p.destinations[0].buffer_fill <= 1.0 for p in writes)
    assert [p.destinations[0].bytes_done for p in writes] == sorted(p.destinations[0].bytes_done for p in writes)

    tape = new_tape(tmp_path / "cli")
    cp = write_cli(tape, mixed_card(tmp_path / "src2"), log_dir=tmp_path / "logs", extra=("--progress",))
    lines = [ln for ln in cp.stderr.splitlines() if ln.startswith("  tape ")]
    assert lines and "MB/s" in lines[-1] and "buffer   0%" in lines[-1] and lines[-1].endswith("done")
