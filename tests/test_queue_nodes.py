"""Several workers on one library, and jobs routed to the library that holds their cartridge (api/queue.py,
library/leases.py, catalog/leases.py): real worker processes, one real PostgreSQL (tests/pg_helpers.py).

Two workers on one virtual library never use one drive or one cartridge at once, whatever the jobs name
(a barcode, "whatever is loaded", the cartridges a span picks): measured from the lease events the catalog
recorded, in the order they happened, and from the jobs themselves (each ran once, none failed because of
the other worker). No outcome depends on timing: the test holds the drive itself until both workers wait
for it, so both are certain to contend."""

from __future__ import annotations

import os
import time
from pathlib import Path

import lto_archive
from lto_archive.api.queue import library_queue
from lto_archive.catalog import Catalog
from lto_archive.catalog.leases import Leases, lease_events
from lto_archive.catalog.queued import queued_job

from .test_queue import WAIT_S, card, library, lto, start_worker


def wait_for(what: str, check, deadline_s: float = WAIT_S):  # type: ignore[no-untyped-def]
    """Poll `check()` until it gives something truthy (a state, never a measured time)."""
    deadline = time.monotonic() + deadline_s
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def waiting_nodes(url: str, ids: list[int]) -> set[str]:
    with Catalog.open(url) as cat:
        recs = [queued_job(cat, i) for i in ids]
    return {r["node"] for r in recs if r and r["status"] == "running" and r["progress"].get("phase") == "waiting"}


def check_alternation(events: list[dict]) -> dict[str, list[tuple[int, int, int | None]]]:  # type: ignore[type-arg]
    """Per resource, the events alternate taken / given back by the same holder (no lapse: nobody died);
    the windows (first id, last id, job) of each resource, in order."""
    windows: dict[str, list[tuple[int, int, int | None]]] = {}
    open_: dict[str, dict] = {}  # type: ignore[type-arg]
    for e in events:
        r = e["resource"]
        assert e["event"] != "lapsed", e
        if e["event"] == "taken":
            assert r not in open_, (f"{r} taken by job {e['job_id']} ({e['node']}) while job "
                                    f"{open_[r]['job_id']} ({open_[r]['node']}) held it")
            open_[r] = e
        else:
            start = open_.pop(r)
            assert (start["node"], start["job_id"]) == (e["node"], e["job_id"]), (start, e)
            windows.setdefault(r, []).append((start["id"], e["id"], e["job_id"]))
    assert not open_, f"leases never given back: {open_}"
    return windows


def run_contending(pg_url: str, spec: str, place: str, ids: list[int]) -> dict[int, dict]:  # type: ignore[type-arg]
    """Two workers run the queued jobs `ids`; the drive is held (as another job would hold it) until both
    have taken a job and wait for it, so both are certain to contend. Every job's record, by id."""
    holder = Leases(pg_url, node="test", job_id=None, library=place)
    assert holder.try_claim([f"drive:{place}:0"]) == [f"drive:{place}:0"]
    workers = [start_worker(pg_url, spec, name, "--once") for name in ("node-a", "node-b")]
    try:
        wait_for("both workers waiting for the drive", lambda: waiting_nodes(pg_url, ids) == {"node-a", "node-b"})
    finally:
        holder.close()
    for w in workers:
        out, err = w.communicate(timeout=WAIT_S)
        assert w.returncode == 0, err.decode()
    jobs = {j["id"]: j for j in lto("jobs", "list", "--catalog", pg_url)["jobs"] if j["id"] in ids}
    assert sorted(jobs) == sorted(ids)
    for j in jobs.values():      # none failed because of the other worker; each ran once
        assert j["state"] == "succeeded" and j["attempts"] == 1 and j["status"] == "ok", (j, j["result"])
    assert {j["node"] for j in jobs.values()} == {"node-a", "node-b"}
    return jobs


def test_two_workers_on_one_library_never_share_a_drive_or_a_cartridge(tmp_path: Path, pg_url: str) -> None:
    lib_dir = tmp_path / "lib"
    lto_archive.create_vlib(lib_dir, drives=1, slots=4, prefix="SHR", capacity="400M")
    spec = f"vlib:{lib_dir}"
    with lto_archive.open_library(spec) as lib:
        lib.load_barcode("SHR001L9")
    first = lto_archive.write([card(tmp_path / "media", "C100", 3, 1000, seed=19)], spec, catalog=pg_url, log_dir=False)
    assert first.status == "ok"              # every cartridge a verify may find loaded holds something
    cards = [card(tmp_path / "media", f"C00{i}", 3, 30_000 + i, seed=20 + i) for i in range(5)]
    submits = [("write", str(cards[0])), ("write", str(cards[1]), "--barcode", "SHR002L9"), ("verify",),
               ("verify", "--barcode", "SHR001L9"), ("write", str(cards[2])), ("restore", str(tmp_path / "out"),
               "--barcode", "SHR002L9"), ("write", str(cards[3]), "--barcode", "SHR003L9"), ("verify",),
               ("verify", "--barcode", "SHR002L9")]
    place = f"vlib:{os.path.realpath(lib_dir)}"
    ids = [lto("submit", *s, "--catalog", pg_url)["job"] for s in submits]
    jobs = run_contending(pg_url, spec, place, ids)
    # then a span set (it leaves the drive empty when it is done, so no job of "whatever is loaded" may come
    # after it) against a job that names a cartridge the span also wants
    more = [lto("submit", *s, "--catalog", pg_url)["job"]
            for s in (("write", str(cards[4]), "--span", "SHR*"), ("verify", "--barcode", "SHR001L9"))]
    jobs.update(run_contending(pg_url, spec, place, more))
    with Catalog.open(pg_url) as cat:
        events = lease_events(cat)
        assert cat.counts()["files"] == 18 and cat.counts()["copies"] == 18
    windows = check_alternation([e for e in events if not e["resource"].startswith("robot:")])
    check_alternation([e for e in events if e["resource"].startswith("robot:")])
    drive = windows[f"drive:{place}:0"]
    held_by_test = [i for i, w in enumerate(drive) if w[2] is None]
    assert len(held_by_test) == 2 and sorted(w[2] for w in drive if w[2] is not None) == sorted(ids + more)
    for a, b in zip(drive, drive[1:]):
        assert a[1] < b[0]           # one job's use of the drive ends before the next one's begins
    # every cartridge a job used, as its result says, was leased to that job
    used = {(r, w[2]) for r, ws in windows.items() if r.startswith("cartridge:") for w in ws}
    for j in jobs.values():
        for barcode in result_barcodes(j["result"]):
            assert (f"cartridge:{barcode}", j["id"]) in used, (j["id"], barcode, sorted(used))


def result_barcodes(doc: dict) -> set[str]:  # type: ignore[type-arg]
    """The cartridges a job's result names (its destinations, the tape it read)."""
    found: set[str] = set()

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "barcode" and isinstance(x, str) and x.startswith("SHR"):
                    found.add(x)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(doc)
    return found


def test_a_job_goes_to_the_node_whose_library_holds_its_cartridge(tmp_path: Path, pg_url: str) -> None:
    libs = {"node-a": library(tmp_path / "libA", "RTA"), "node-b": library(tmp_path / "libB", "RTB")}
    wrote = lto_archive.write([card(tmp_path / "media", "A001", 2, 5000, seed=31)], libs["node-b"], catalog=pg_url,
                              log_dir=False)
    assert wrote.status == "ok"
    queue_b = library_queue(f"vlib:{os.path.realpath(tmp_path / 'libB')}")
    for name, spec in libs.items():      # each node says what its library holds when it starts
        w = start_worker(pg_url, spec, name, "--once")
        w.communicate(timeout=WAIT_S)
        assert w.returncode == 0
    # (jobs naming one cartridge run in the order submitted: procrastinate's lock)
    forced = lto("submit", "verify", "--barcode", "RTB001L9", "--catalog", pg_url, "--queue", "archive")
    assert forced["queue"] == "archive"                        # --queue still decides
    routed = lto("submit", "verify", "--barcode", "RTB001L9", "--catalog", pg_url)
    assert routed["queue"] == queue_b                          # submit picks it from the catalog
    unknown = lto("submit", "verify", "--barcode", "NOWHERE1", "--catalog", pg_url)
    assert unknown["queue"] == "archive"                       # no node has seen it: the shared queue
    lto("jobs", "cancel", str(unknown["job"]), "--catalog", pg_url)
    a = start_worker(pg_url, libs["node-a"], "node-a", "--once")    # node-a polls first
    a.communicate(timeout=WAIT_S)
    assert a.returncode == 0
    j = lto("jobs", "show", str(forced["job"]), "--catalog", pg_url)
    assert (j["state"], j["queue"], j["node"]) == ("todo", queue_b, None)     # handed on to library B's queue
    with Catalog.open(pg_url) as cat:
        assert queued_job(cat, routed["job"]) is None and queued_job(cat, forced["job"]) is None   # never started
    b = start_worker(pg_url, libs["node-b"], "node-b", "--once")
    out, err = b.communicate(timeout=WAIT_S)
    assert b.returncode == 0, err.decode()
    for job, attempts in ((forced["job"], 2), (routed["job"], 1)):        # the hand-on counted as an attempt
        j = lto("jobs", "show", str(job), "--catalog", pg_url)
        assert (j["state"], j["status"], j["node"], j["attempts"]) == ("succeeded", "ok", "node-b", attempts), j
