"""Jobs queued across nodes (api/queue.py): two worker processes on two virtual libraries and one real
PostgreSQL (tests/pg_helpers.py). Every job runs exactly once; a worker killed mid-job (kill -9) has its
job finished by the other; refusals are clear. The workers are real processes: the process is the subject."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

import lto_archive
from lto_archive.catalog import Catalog
from lto_archive.api.queue import QueueNode, run_job
from lto_archive.catalog.queued import queued_job
from lto_archive_cli.main import cli

MiB = 1 << 20
WAIT_S = 300          # a generous ceiling for a step a loaded CI machine may be slow at; never a measurement


def lto(*args: str) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def library(path: Path, prefix: str, *, slow: bool = False) -> str:
    lto_archive.create_vlib(path, drives=1, slots=3, prefix=prefix, capacity="400M")
    if slow:         # the speed model really waits (throttle): a job is still running when the test looks
        for side in path.glob("slots/*/*/lto-archive-vtape.json"):
            doc = json.loads(side.read_text())
            doc["speed"] = {"enabled": True, "throttle": True, "native_mb_s": 2.0, "min_mb_s": 1.0,
                            "buffer_bytes": MiB}
            side.write_text(json.dumps(doc))
    spec = f"vlib:{path}"
    with lto_archive.open_library(spec) as lib:
        lib.load_barcode(f"{prefix}001L9")          # each node writes what is in its drive
    return spec


def card(root: Path, name: str, files: int, size: int, seed: int) -> Path:
    rng = random.Random(seed)
    top = root / name
    top.mkdir(parents=True)
    for i in range(files):
        (top / f"{name}C{i:03}.mov").write_bytes(rng.randbytes(size))
    return top


def start_worker(url: str, spec: str, name: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "lto_archive_cli.main", "worker", "--library", spec, "--catalog", url,
                             "--name", name, "--poll", "0.2", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_eight_jobs_with_a_span_run_exactly_once_on_one_of_two_nodes(tmp_path: Path, pg_url: str) -> None:
    libs = {"node-a": library(tmp_path / "libA", "QAA"), "node-b": library(tmp_path / "libB", "QBB")}
    cards = [card(tmp_path / "media", f"A00{i}", 3, 20_000 + i, seed=i) for i in range(4)]
    ids = [lto("submit", "write", str(c), "--catalog", pg_url)["job"] for c in cards[:3]]
    ids += [lto("submit", "verify", "--catalog", pg_url)["job"] for _ in range(4)]
    # a span set, last: jobs are taken oldest first, so no verify of "the cartridge in the drive" comes after
    # the robot changed it
    ids += [lto("submit", "write", str(cards[3]), "--span", "Q*", "--catalog", pg_url)["job"]]
    workers = [start_worker(pg_url, spec, name, "--once") for name, spec in libs.items()]
    for w in workers:
        out, err = w.communicate(timeout=WAIT_S)
        assert w.returncode == 0, err.decode()
    jobs = {j["id"]: j for j in lto("jobs", "list", "--catalog", pg_url)["jobs"]}
    assert sorted(jobs) == sorted(ids)
    for j in jobs.values():
        assert j["state"] == "succeeded" and j["attempts"] == 1 and j["status"] == "ok", (j, j["result"])
        assert j["node"] in libs
    with Catalog.open(pg_url) as cat:
        # each card written once, by one node: 3 files x 4 cards, one copy each, one session per write job
        assert cat.counts()["files"] == 12 and cat.counts()["copies"] == 12 and cat.counts()["jobs"] == 4
        paths = [r[0] for r in cat.conn.execute("SELECT path FROM files").fetchall()]
        assert len(paths) == len(set(paths)) == 12
        recorded = {r[0] for r in cat.conn.execute("SELECT job_id FROM queued_jobs").fetchall()}
        assert recorded == set(ids)


def test_a_node_killed_mid_job_leaves_its_job_to_another(tmp_path: Path, pg_url: str) -> None:
    slow, fast = library(tmp_path / "libA", "KAA", slow=True), library(tmp_path / "libB", "KBB")
    big = card(tmp_path / "media", "A001", 4, 4 * MiB, seed=7)
    job = lto("submit", "write", str(big), "--catalog", pg_url)["job"]
    a = start_worker(pg_url, slow, "node-a", "--stalled-after", "2")
    try:
        deadline = time.monotonic() + WAIT_S
        while True:      # wait until node-a is writing: its drive (2 MB/s, 8 s for the card) holds 4 records
            with Catalog.open(pg_url) as cat:
                rec = queued_job(cat, job)
            writing = rec and rec["status"] == "running" and rec["progress"].get("phase") == "write"
            if writing and len(list((tmp_path / "libA").glob("**/*_R"))) >= 4:
                break
            assert time.monotonic() < deadline and a.poll() is None, "node-a never started the job"
            time.sleep(0.05)
        os.kill(a.pid, signal.SIGKILL)
        a.wait(timeout=60)
    finally:
        if a.poll() is None:
            a.kill()
    b = start_worker(pg_url, fast, "node-b", "--once", "--stalled-after", "2")
    out, err = b.communicate(timeout=WAIT_S)
    assert b.returncode == 0, err.decode()
    j = lto("jobs", "show", str(job), "--catalog", pg_url)
    assert j["state"] == "succeeded" and j["node"] == "node-b" and j["attempts"] == 2 and j["status"] == "ok"
    with Catalog.open(pg_url) as cat:
        # what one node would have recorded: the card once, on node-b's cartridge, read back
        rows = cat.conn.execute("SELECT d.label, count(*) FROM copies c JOIN destinations d ON d.id = c.destination_id "
                                "GROUP BY d.label").fetchall()
        assert rows == [("KBB001L9", 4)]
        assert cat.counts()["files"] == 4 and cat.counts()["jobs"] == 1
    # node-a's cartridge kept what it had; the next job there closes the session the kill left open first
    with lto_archive.open_library(slow) as lib:
        lib.load_barcode("KAA001L9")
    res = lto_archive.write([card(tmp_path / "media2", "B001", 1, 1000, seed=8)], slow, catalog=False, log_dir=False)
    assert res.status == "ok"


def tape_objects(lib: Path) -> list[tuple[str, int]]:
    return sorted((p.name, p.stat().st_size) for p in lib.glob("**/*_[RFE]"))


def test_a_write_recorded_by_a_node_that_died_before_telling_the_queue_is_not_written_again(tmp_path: Path) -> None:
    spec, cat_path = library(tmp_path / "lib", "RAA"), tmp_path / "catalog.sqlite"
    args = {"sources": [str(card(tmp_path / "media", "A001", 3, 5000, seed=3))]}
    run_job(QueueNode(catalog=str(cat_path), library=spec, name="node-a"), 7, "write", args)
    with Catalog.open(cat_path) as cat:
        assert queued_job(cat, 7)["status"] == "ok"  # type: ignore[index]
        # node-a died after the catalog had the write and before the queue heard: the job comes back
        with cat.transaction():
            cat.conn.execute("UPDATE queued_jobs SET status = 'running', finished = NULL WHERE job_id = 7")
    on_tape = tape_objects(tmp_path / "lib")
    run_job(QueueNode(catalog=str(cat_path), library=spec, name="node-b"), 7, "write", args)
    assert tape_objects(tmp_path / "lib") == on_tape          # not one record written again
    with Catalog.open(cat_path) as cat:
        rec = queued_job(cat, 7)
        assert rec is not None and rec["node"] == "node-b" and rec["attempt"] == 2 and rec["status"] == "ok"
        assert rec["result"]["recorded_by_an_earlier_attempt"] and rec["result"]["files"] == 3
        assert [s["destination"] for s in rec["result"]["sessions"]] == ["RAA001L9"]
        assert cat.counts()["jobs"] == 1 and cat.counts()["copies"] == 3
        assert cat.conn.execute("SELECT queue_job FROM jobs").fetchall() == [(7,)]
    # a job whose result the catalog holds is not run again at all, by any node
    run_job(QueueNode(catalog=str(cat_path), library=spec, name="node-c"), 7, "write", args)
    with Catalog.open(cat_path) as cat:
        assert queued_job(cat, 7)["node"] == "node-b"  # type: ignore[index]
    assert tape_objects(tmp_path / "lib") == on_tape
    # the session on tape names its queued job too
    listed = lto_archive.list_files(spec)
    assert [t.manifest.session.queue_job for t in listed.raw.tape_files] == [7]


def test_a_queue_needs_the_shared_postgresql_catalog(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["submit", "verify", "--catalog", str(tmp_path / "c.sqlite")])
    assert res.exit_code == 2 and "shared PostgreSQL catalog" in res.output
    res = CliRunner().invoke(cli, ["worker", "--catalog", str(tmp_path / "c.sqlite"), "--device", "vtape:x"])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_a_waiting_job_can_be_cancelled_and_is_never_run(tmp_path: Path, pg_url: str) -> None:
    spec = library(tmp_path / "lib", "CAA")
    job = lto("submit", "write", str(card(tmp_path / "media", "A001", 1, 1000, seed=1)), "--catalog", pg_url)["job"]
    assert lto("jobs", "cancel", str(job), "--catalog", pg_url)["state"] == "cancelled"
    res = CliRunner().invoke(cli, ["jobs", "cancel", str(job), "--catalog", pg_url])
    assert res.exit_code == 2 and "not waiting" in res.output
    w = start_worker(pg_url, spec, "n", "--once")
    assert w.wait(timeout=WAIT_S) == 0
    with Catalog.open(pg_url) as cat:
        assert cat.counts()["files"] == 0 and queued_job(cat, job) is None


def test_a_restore_retried_after_its_node_died_keeps_what_the_first_attempt_placed(tmp_path: Path) -> None:
    spec, cat_path = library(tmp_path / "lib", "RST"), tmp_path / "catalog.sqlite"
    src = card(tmp_path / "media", "A001", 3, 7000, seed=11)
    assert lto_archive.write([src], spec, catalog=cat_path, log_dir=False).status == "ok"
    dest = tmp_path / "restored"
    args = {"dest": str(dest), "barcode": "RST001L9"}
    node = QueueNode(catalog=str(cat_path), library=spec, name="node-a")
    run_job(node, 9, "restore", args)
    with Catalog.open(cat_path) as cat:
        assert queued_job(cat, 9)["status"] == "ok"  # type: ignore[index]

    def died_mid_restore() -> None:          # the queue hands the job out again
        with Catalog.open(cat_path) as cat, cat.transaction():
            cat.conn.execute("UPDATE queued_jobs SET status = 'running', finished = NULL WHERE job_id = 9")

    # node-a died after placing two of the three clips (a file is placed only whole and proven)
    (dest / "A001" / "A001C002.mov").unlink()
    died_mid_restore()
    run_job(QueueNode(catalog=str(cat_path), library=spec, name="node-b"), 9, "restore", args)
    with Catalog.open(cat_path) as cat:
        rec = queued_job(cat, 9)
    assert rec is not None and (rec["node"], rec["attempt"], rec["status"]) == ("node-b", 2, "ok"), rec["result"]
    (tf,) = rec["result"]["tape_files"]
    assert tf["refused"] == [] and rec["result"]["already_restored"] == len(tf["already_restored"])
    clips = {p for p in tf["already_restored"] if not p.startswith(".lto-archive/")}
    assert clips == {"A001/A001C000.mov", "A001/A001C001.mov"}    # the missing clip was restored now
    for f in sorted(src.iterdir()):
        assert (dest / "A001" / f.name).read_bytes() == f.read_bytes()
    # a file in DEST whose bytes are not the tape's is never replaced by a retry: refused, as on a first attempt
    (dest / "A001" / "A001C001.mov").write_bytes(b"someone else's file")
    died_mid_restore()
    run_job(node, 9, "restore", args)
    with Catalog.open(cat_path) as cat:
        rec = queued_job(cat, 9)
    assert rec is not None and rec["attempt"] == 3 and rec["status"] == "refused"
    assert [r["path"] for r in rec["result"]["tape_files"][0]["refused"]] == ["A001/A001C001.mov"]
    assert (dest / "A001" / "A001C001.mov").read_bytes() == b"someone else's file"
