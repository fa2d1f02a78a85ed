"""SIGINT and SIGTERM stop a write at the next file boundary and close the session properly; a second
signal stops at once and the next job closes the open tape file; exit codes 130 and 143.

The signal is sent from inside the job, at a seeded file (from its progress callback, or from the
progress tracker's file_started for the command line): no timing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive.catalog import Catalog
from lto_archive.errors import ExitCode, Interrupted
from lto_archive.interrupts import stop_requests
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import Manifest
from lto_archive.progress import ProgressTracker
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive_cli.main import cli
from tests.tape_helpers import cartridge_objects, dump_tape_file, run

REPO = Path(__file__).resolve().parents[1]
KiB = 1024
RS = 16 * KiB
FILES = 8


def _card(root: Path, seed: int = 3) -> dict[str, bytes]:
    rng = random.Random(seed)
    out = {}
    for i in range(FILES):
        data = rng.randbytes(30_000 + rng.randrange(50_000))
        p = root / "A001" / "CLIP" / f"A001C{i:03d}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[f"A001/CLIP/A001C{i:03d}.mov"] = data
    return out


def _tape(tmp_path: Path) -> Path:
    cart = tmp_path / "tape"
    create_vtape(cart, "LTO-9", capacity=2 * 1024**3, barcode="INT001L9").close()
    return cart


def _signal_at(n: int, signum: int = signal.SIGINT, times: int = 1):  # type: ignore[no-untyped-def]
    """A progress callback that sends `signum` to this process `times` times when file n has started."""
    sent = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.files_done == n and p.path and len(sent) < times:
            for _ in range(times):
                sent.append(signum)
                os.kill(os.getpid(), signum)
    return progress


@pytest.mark.parametrize("fmt", ["tar", "cpio", "cpio-crc", "axf"])
def test_sigint_stops_at_a_file_boundary_and_closes_the_session(tmp_path: Path, fmt: str) -> None:
    card = _card(tmp_path / "src")
    cart = _tape(tmp_path)
    stop_at = random.Random(fmt).randrange(1, FILES - 1)
    before = signal.getsignal(signal.SIGINT)
    with VirtualTape(cart) as vt:
        result = write_archive([tmp_path / "src" / "A001"], vt,
                               WriteOptions(format=fmt, record_size=RS, log_dir=tmp_path / "logs"),
                               progress=_signal_at(stop_at))
    assert signal.getsignal(signal.SIGINT) is before       # the job's handler is gone
    assert result.status == "interrupted" and result.manifest.session.status == "interrupted"
    done = [f.path for f in result.files if f.status == "ok"]
    assert done == sorted(card)[:stop_at + 1]               # the file in flight is finished, no more
    rest = [f for f in result.files if f.status != "ok"]
    assert rest and all(f.status == "not-written" and "interrupted (SIGINT)" in f.message for f in rest)
    with pytest.raises(Interrupted) as err:
        result.raise_for_status()
    assert err.value.exit_code == ExitCode.INTERRUPTED == 130
    assert f"{stop_at + 1} file(s) taken" in err.value.message
    # the tape: one closed tape file, its manifest says interrupted, it verifies with exactly those files
    assert [k for _, k in cartridge_objects(cart)][-1] == "F"
    with VirtualTape(cart) as vt:
        v = verify_tape(vt)
    assert v.status == "ok" and len(v.tape_files) == 1
    assert sorted(v.tape_files[0].verified) == done
    assert v.tape_files[0].manifest.session.status == "interrupted"
    log = json.loads((tmp_path / "logs" / f"{result.manifest.session.session_id}.json").read_text())
    assert log["session"]["status"] == "interrupted"


def test_sigterm_stops_the_same_way_with_its_own_code(tmp_path: Path) -> None:
    _card(tmp_path / "src")
    cart = _tape(tmp_path)
    with VirtualTape(cart) as vt:
        result = write_archive([tmp_path / "src" / "A001"], vt, WriteOptions(record_size=RS),
                               progress=_signal_at(2, signal.SIGTERM))
    assert result.interrupted == signal.SIGTERM and result.status == "interrupted"
    with pytest.raises(Interrupted) as err:
        result.raise_for_status()
    assert err.value.exit_code == ExitCode.TERMINATED == 143


def test_a_second_signal_stops_at_once_and_the_next_job_closes_the_tape_file(tmp_path: Path) -> None:
    card = _card(tmp_path / "src")
    cart = _tape(tmp_path)
    with VirtualTape(cart) as vt:
        with pytest.raises(Interrupted) as err:
            write_archive([tmp_path / "src" / "A001"], vt, WriteOptions(record_size=RS, chunk_size=2 * RS),
                          progress=_signal_at(3, times=2))
    assert err.value.exit_code == 130 and "stopped at once by SIGINT" in err.value.message
    kinds = [k for _, k in cartridge_objects(cart)]
    assert kinds and "F" not in kinds                        # left open...
    with VirtualTape(cart) as vt:
        again = write_archive([tmp_path / "src" / "A001"], vt, WriteOptions(record_size=RS, verify=True))
    assert again.status == "ok" and again.manifest.session.tape_file == 1
    assert "tape file 0 on INT001L9 was not closed" in again.notes[0]        # ...and closed by the next job
    assert sorted(again.readbacks[0].tape_files[0].verified) == sorted(card)
    tar = dump_tape_file(cart, 1, tmp_path / "tape-file-1.tar")
    assert sorted(p for p in run(["tar", "-tf", str(tar)]).stdout.decode().splitlines()
                  if p.endswith(".mov")) == sorted(card)


def test_a_keyboard_interrupt_in_a_job_becomes_interrupted(tmp_path: Path, monkeypatch) -> None:
    _card(tmp_path / "src")
    cart = _tape(tmp_path)

    def ctrl_c(p) -> None:  # type: ignore[no-untyped-def]
        if p.files_done == 1:
            raise KeyboardInterrupt
    with VirtualTape(cart) as vt:
        with pytest.raises(Interrupted) as err:
            write_archive([tmp_path / "src" / "A001"], vt, WriteOptions(record_size=RS), progress=ctrl_c)
    assert err.value.exit_code == 130 and err.value.signum == signal.SIGINT


def test_no_handler_outside_the_main_thread() -> None:
    import threading
    seen = []
    t = threading.Thread(target=lambda: seen.append(_stop_request_in_thread()))
    t.start()
    t.join()
    assert seen == [signal.default_int_handler]


def _stop_request_in_thread():  # type: ignore[no-untyped-def]
    with stop_requests() as req:
        assert not req.asked
        return signal.getsignal(signal.SIGINT)


def _kill_at_file(monkeypatch, n: int, signum: int) -> None:  # type: ignore[no-untyped-def]
    original = ProgressTracker.file_started
    count = [0]

    def file_started(self, path: str) -> None:  # type: ignore[no-untyped-def]
        original(self, path)
        if self.phase == "write":
            if count[0] == n:
                os.kill(os.getpid(), signum)
            count[0] += 1
    monkeypatch.setattr(ProgressTracker, "file_started", file_started)


def test_cli_ctrl_c_exits_130_and_catalogs_the_job_as_interrupted(tmp_path: Path, monkeypatch) -> None:
    card = _card(tmp_path / "src")
    cart = _tape(tmp_path)
    _kill_at_file(monkeypatch, 4, signal.SIGINT)
    catalog = tmp_path / "cat.sqlite"
    r = CliRunner().invoke(cli, ["write", str(tmp_path / "src" / "A001"), "--device", f"vtape:{cart}",
                                 "--block-size", "16K", "--log-dir", str(tmp_path / "logs"),
                                 "--catalog", str(catalog)])
    assert r.exit_code == 130, r.output
    assert "Aborted!" not in r.output and "Traceback" not in r.output
    assert "interrupted by SIGINT: the session was closed with the 5 file(s) taken before" in r.output
    with Catalog.open(catalog, create=False) as cat:
        jobs = cat.conn.execute("SELECT status FROM jobs").fetchall()
    assert [tuple(j) for j in jobs] == [("interrupted",)]
    v = CliRunner().invoke(cli, ["verify", "--device", f"vtape:{cart}", "--no-catalog"])
    assert v.exit_code == 0, v.output
    with VirtualTape(cart) as vt:
        assert sorted(verify_tape(vt).tape_files[0].verified) == sorted(card)[:5]


def test_cli_json_says_interrupted(tmp_path: Path, monkeypatch) -> None:
    _card(tmp_path / "src")
    cart = _tape(tmp_path)
    _kill_at_file(monkeypatch, 1, signal.SIGINT)
    args = ["write", str(tmp_path / "src" / "A001"), "--device", f"vtape:{cart}", "--block-size", "16K",
            "--no-catalog", "--log-dir", str(tmp_path / "logs"), "--json"]
    monkeypatch.setattr(sys, "argv", ["lto-archive", *args])     # how the command line tells --json
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 130, r.output
    doc = json.loads(r.output)
    assert doc["error"] == "Interrupted" and doc["exit_code"] == 130 and doc["result"]["status"] == "interrupted"


def test_cli_ctrl_c_outside_a_job_exits_130(tmp_path: Path, monkeypatch) -> None:
    cart = _tape(tmp_path)

    def ctrl_c(*a, **k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt
    monkeypatch.setattr("lto_archive.list_files", ctrl_c)
    r = CliRunner().invoke(cli, ["ls", "--device", f"vtape:{cart}"])
    assert r.exit_code == 130 and "Aborted!" not in r.output
    assert "interrupted by SIGINT (Ctrl-C)" in r.output


CHILD = r"""
import os, signal, sys
from lto_archive.progress import ProgressTracker
from lto_archive_cli.main import main
original = ProgressTracker.file_started
count = [0]
def file_started(self, path):
    original(self, path)
    if self.phase == "write":
        if count[0] == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        count[0] += 1
ProgressTracker.file_started = file_started
sys.argv = ["lto-archive"] + sys.argv[1:]
main()
"""


def test_sigterm_in_a_real_process_exits_143(tmp_path: Path) -> None:
    card = _card(tmp_path / "src")
    cart = _tape(tmp_path)
    import lto_archive_cli
    paths = [str(REPO), str(Path(lto_archive_cli.__file__).parent.parent)]    # the same packages as this run
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", CHILD, "write", str(tmp_path / "src" / "A001"),
                           "--device", f"vtape:{cart}", "--block-size", "16K", "--no-catalog",
                           "--log-dir", str(tmp_path / "logs")], env=env, cwd=str(tmp_path), capture_output=True)
    err = proc.stderr.decode()
    assert proc.returncode == 143, err
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    with VirtualTape(cart) as vt:
        v = verify_tape(vt)
    assert v.status == "ok" and sorted(v.tape_files[0].verified) == sorted(card)[:4]
    logs = list((tmp_path / "logs").glob("*.json"))
    assert len(logs) == 1 and Manifest.from_json(logs[0].read_text()).session.status == "interrupted"


def test_stopped_at_once_during_read_back_says_the_session_is_closed(tmp_path: Path, monkeypatch) -> None:
    card = _card(tmp_path / "src")
    cart = _tape(tmp_path)

    def ctrl_c(*a, **k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt
    monkeypatch.setattr("lto_archive.jobs.read.verify_tape", ctrl_c)
    with VirtualTape(cart) as vt:
        with pytest.raises(Interrupted) as err:
            write_archive([tmp_path / "src" / "A001"], vt, WriteOptions(record_size=RS, verify=True))
    assert "after the session was closed on tape" in err.value.message
    monkeypatch.undo()
    assert [k for _, k in cartridge_objects(cart)][-1] == "F"
    with VirtualTape(cart) as vt:
        assert sorted(verify_tape(vt).tape_files[0].verified) == sorted(card)
