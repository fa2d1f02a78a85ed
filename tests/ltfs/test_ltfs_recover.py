"""Crashes and damage, and `ltfs check` / `ltfs recover` (the ltfsck equivalents).

A write session that dies (device error, killed process) leaves records after the last index; a
damaged newest index makes the reader fall back; a stale index partition must be noticed and
rewritten. After recovery the volume must be consistent, hold exactly the files that are complete,
restore them bit-exact, and take a new session.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive, MediumError
from lto_archive.formats.ltfs.index import parse_index
from lto_archive.formats.ltfs.recover import LOST_AND_FOUND, check_volume, recover_volume
from lto_archive.formats.ltfs.volume import format_volume, open_volume
from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import LOST, OK
from lto_archive.tape import VirtualTape, create_vtape

from ..tape_helpers import cartridge_objects

MiB = 1 << 20
BS = 4096
META = ".lto-archive"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference"


def ltfs_opts(**kw) -> WriteOptions:  # type: ignore[no-untyped-def]
    base = dict(format="ltfs", index_every_bytes=None, index_every_seconds=None, chunk_size=BS)
    base.update(kw)
    return WriteOptions(**base)


def new_volume(cart: Path) -> VirtualTape:
    dev = create_vtape(cart, "LTO-9", capacity=64 * MiB, partitions=2)
    format_volume(dev, creator="t", serial="ABC123", volume_name="Vol", block_size=BS)
    return dev


def make_source(top: Path, n: int, seed: int, lo: int = 3000, hi: int = 20000) -> dict[str, bytes]:
    """n files of random sizes, none a multiple of the block size (each ends on a short record)."""
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        size = rng.randint(lo, hi)
        if size % BS == 0:
            size += 1
        p = top / f"d{i % 3}" / f"clip{i:03}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size)
        p.write_bytes(data)
        out[str(p.relative_to(top.parent))] = data
    return out


def footage(state) -> set[str]:  # type: ignore[no-untyped-def]
    return {p for p, _ in state.index.files() if not p.startswith((META + "/", LOST_AND_FOUND + "/"))}


def read_back(dev: VirtualTape, dest: Path, patterns: list[str] | None = None) -> dict[str, bytes]:
    r = restore_tape(dev, dest, patterns=patterns or [])
    assert not r.failed and not r.refused, (r.failed, r.refused)
    out = {}
    for dirpath, _, names in os.walk(dest):
        for n in names:
            p = Path(dirpath) / n
            out[str(p.relative_to(dest))] = p.read_bytes()
    return out


def raw_records(cart: Path, first: int, last: int) -> bytes:
    return b"".join((cart / f"1_{b}_R").read_bytes() for b in range(first, last + 1))


def append_and_verify(dev: VirtualTape, tmp: Path, name: str = "after") -> None:
    """A new session on the recovered volume: written, consistent, every file verified."""
    src = make_source(tmp / "new" / name, 3, 99)
    res = write_archive([tmp / "new" / name], dev, ltfs_opts())
    assert res.status == "ok", res.problems
    state = open_volume(dev)
    assert state.consistent
    v = verify_tape(dev)
    assert set(src) <= set(v.tape_files[0].verified)
    assert not v.failed
    got = read_back(dev, tmp / f"dest-{name}", patterns=[name])
    assert {p: got[p] for p in src} == src


def crash_with_device_error(tmp: Path, after_calls: int, files: int = 40):  # type: ignore[no-untyped-def]
    cart = tmp / "tape"
    dev = new_volume(cart)
    src = make_source(tmp / "src" / "card", files, 1)
    dev.faults.write_error_after_calls = after_calls
    res = write_archive([tmp / "src" / "card"], dev, ltfs_opts(index_every_bytes=64 * 1024))
    dev.faults.clear()
    return dev, cart, src, res


# --- (a) a session that dies: device error at various points -----------------------------------------------

@pytest.mark.parametrize("after_calls", [3, 23, 40, 57, 80, 101])
def test_device_error_mid_session_then_recover(tmp_path: Path, after_calls: int) -> None:
    dev, cart, src, res = crash_with_device_error(tmp_path, after_calls)
    assert res.status == "failed" and isinstance(res.error, MediumError)
    ok = {f.path for f in res.files if f.status == OK}
    lost = {f.path for f in res.files if f.status == LOST}
    # (files the job never reached are not in the result at all, as with the TAR job)
    assert ok | lost <= set(src) and not ok & lost and lost
    assert all(f.status in (OK, LOST) for f in res.files)
    assert f"files from {min(lost, key=lambda p: [f.path for f in res.files].index(p))} on" in res.error.message

    report = check_volume(dev)
    assert not report.consistent
    state = open_volume(dev)
    assert not state.consistent
    # what the job says is on the volume is exactly what the current index holds
    assert footage(state) == ok
    runs_blocks = {b for r in report.unindexed for b, _ in r.records}
    objs = dict(cartridge_objects(cart, 1))
    assert runs_blocks == {b for b in range(state.dp.end, state.dp_eod) if objs[b] == "R"}

    rep = recover_volume(dev, creator="t")
    assert rep.consistent and rep.salvaged == [] and rep.actions
    after = open_volume(dev)
    assert after.consistent and after.source == "index partition" and after.unindexed_blocks == 0
    assert after.index.generation == state.index.generation + 1
    assert footage(after) == ok
    # every file the index lists is complete and bit-exact; nothing else is listed
    for p, node in after.index.files():
        if p in src:
            assert node.length == len(src[p])
    got = read_back(dev, tmp_path / "dest")
    assert {p: b for p, b in got.items() if not p.startswith(META)} == {p: src[p] for p in ok}
    # the leftovers were not overwritten: the new index comes after them
    assert after.dp.block > state.dp_eod - 1
    for r in report.unindexed:
        assert all((cart / f"1_{b}_R").exists() for b, _ in r.records)
    append_and_verify(dev, tmp_path)
    dev.close()


def test_device_error_inside_a_checkpoint_index(tmp_path: Path) -> None:
    """The device dies while a checkpoint index is being written: that index is unreadable (said
    loudly), the one before it is used, and recovery still yields a consistent volume."""
    # find a write count that ends inside an index: run once to learn where the indexes are
    probe, cart0, _, _ = crash_with_device_error(tmp_path / "probe", 10_000)
    probe.close()
    objs = cartridge_objects(cart0, 1)
    index_starts = [b for b, k in objs if k == "R" and b > 6 and (cart0 / f"1_{b}_R").read_bytes().startswith(b"<?xml")]
    multi = [s for s in index_starts if dict(objs).get(s + 1) == "R"]
    assert multi, "the checkpoint indexes should span several records at this block size"
    target = multi[1] if len(multi) > 1 else multi[0]
    calls = sum(1 for b, k in objs if k == "R" and 6 < b <= target)     # the index's first record, not its rest
    dev, cart, src, res = crash_with_device_error(tmp_path / "real", calls)
    state = open_volume(dev)
    assert state.dp.problems and any(n.startswith("WARNING") for n in state.notes)
    assert not state.consistent
    ok = {f.path for f in res.files if f.status == OK}
    assert footage(state) == ok
    rep = recover_volume(dev, creator="t")
    assert rep.consistent and open_volume(dev).consistent
    got = read_back(dev, tmp_path / "dest")
    assert {p: b for p, b in got.items() if not p.startswith(META)} == {p: src[p] for p in ok}
    append_and_verify(dev, tmp_path)
    dev.close()


_KILLED_WRITER = """
import sys, time
from lto_archive.tape import VirtualTape
from lto_archive.jobs.write import WriteOptions, write_archive
dev = VirtualTape(sys.argv[1])
opts = WriteOptions(format="ltfs", index_every_bytes=64 * 1024, index_every_seconds=None, chunk_size=4096)
write_archive([sys.argv[2]], dev, opts, progress=lambda p: time.sleep(0.02))
print("FINISHED", flush=True)
"""


def _checkpoint_then_data(cart: Path) -> bool:
    """A complete checkpoint index (FM, index records, FM) after the file data, then >= 3 more records."""
    objs = cartridge_objects(cart, 1)
    kinds = dict(objs)
    for b, k in objs:
        if k != "F" or b < 7 or kinds.get(b + 1) != "R":
            continue
        try:
            if not (cart / f"1_{b + 1}_R").read_bytes().startswith(b"<?xml"):
                continue
        except FileNotFoundError:
            continue
        e = b + 1
        while kinds.get(e) == "R":
            e += 1
        if kinds.get(e) == "F" and all(kinds.get(x) == "R" for x in range(e + 1, e + 4)):
            return True
    return False


def test_writer_killed_mid_session_then_recover(tmp_path: Path) -> None:
    cart = tmp_path / "tape"
    new_volume(cart).close()
    src = make_source(tmp_path / "src" / "card", 150, 3, lo=2000, hi=9000)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(cart), str(tmp_path / "src" / "card")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while not _checkpoint_then_data(cart):
            assert proc.poll() is None, ("the writer ended before it could be killed", proc.communicate())
            assert time.monotonic() < deadline, "no checkpoint index appeared"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL and b"FINISHED" not in out, err

    dev = VirtualTape(cart)
    report = check_volume(dev)
    assert not report.consistent and report.unindexed and report.unindexed_bytes > 0
    state = open_volume(dev)
    assert state.stale_index_partition and state.unindexed_blocks >= 3
    indexed = footage(state)
    assert indexed and indexed < set(src)
    rep = recover_volume(dev, creator="t")
    assert rep.consistent
    after = open_volume(dev)
    assert after.consistent and footage(after) == indexed
    for p, node in after.index.files():
        if p in src:
            assert node.length == len(src[p]) and node.xattrs["ltfs.hash.md5sum"] == hashlib.md5(src[p]).hexdigest()
    got = read_back(dev, tmp_path / "dest")
    assert {p: b for p, b in got.items() if not p.startswith(META)} == {p: src[p] for p in indexed}
    v = verify_tape(dev)
    assert v.status == "ok" and indexed <= set(v.tape_files[0].verified)
    append_and_verify(dev, tmp_path)
    dev.close()


# --- (b) salvage ----------------------------------------------------------------------------------------

def test_salvage_keeps_exactly_the_blocks_after_the_last_index(tmp_path: Path) -> None:
    dev, cart, src, res = crash_with_device_error(tmp_path, 80)
    lost = {f.path for f in res.files if f.status == LOST}
    before = open_volume(dev)
    first, eod = before.dp.end, before.dp_eod
    objs = dict(cartridge_objects(cart, 1))
    leftover = [b for b in range(first, eod) if objs[b] == "R"]
    assert leftover

    rep = recover_volume(dev, creator="t", salvage=True)
    assert rep.consistent
    assert rep.salvaged == [f"{LOST_AND_FOUND}/{r.name()}" for r in rep.unindexed]
    # every record after the last index is in exactly one run
    assert sorted(b for r in rep.unindexed for b, _ in r.records) == leftover
    after = open_volume(dev)
    assert after.consistent
    got = read_back(dev, tmp_path / "dest", patterns=[LOST_AND_FOUND])
    complete = 0
    for r in rep.unindexed:
        name = f"{LOST_AND_FOUND}/{r.name()}"
        node = after.index.lookup(name)
        assert node is not None and node.length == r.bytes
        data = got[name]
        assert data == raw_records(cart, r.first_block, r.last_block)
        assert len(data) == r.bytes
        # with every file ending on a short record, a run is one lost file, the file the device died
        # in (a prefix of it), or a piece of an index
        whole = [p for p in lost if src[p] == data]
        if whole:
            complete += 1
        else:
            assert data.startswith(b"<?xml") or any(src[p].startswith(data) for p in lost), r
    assert complete >= 1
    # salvaged data is unproven: verify never calls it ok
    v = verify_tape(dev)
    assert v.status == "incomplete"
    assert {u["path"] for u in v.unproven} == set(rep.salvaged)
    assert not v.failed
    append_and_verify(dev, tmp_path)
    dev.close()


# --- (c) the reference's crashed cartridge ------------------------------------------------------------------

def _sha256_list(name: str) -> dict[str, str]:
    out = {}
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        digest, path = line.split("  ", 1)
        out[path] = digest
    return out


def test_reference_crashed_cartridge_recover_with_salvage(tmp_path: Path) -> None:
    cart = tmp_path / "cart"
    shutil.copytree(FIXTURES / "crashed-before-unmount-lto5", cart)
    original = {n: (cart / n).read_bytes() for n in os.listdir(cart) if n[:2] == "1_" and not n.endswith("_E")}
    dev = VirtualTape(cart)
    report = check_volume(dev)
    assert not report.consistent and report.source == "data partition"
    assert [(r.first_block, r.last_block, r.bytes) for r in report.unindexed] == [(41, 42, 700001), (43, 43, 1)]
    rep = recover_volume(dev, creator="t", salvage=True)
    assert rep.consistent
    assert rep.salvaged == [f"{LOST_AND_FOUND}/partition1_block41-42_700001bytes",
                            f"{LOST_AND_FOUND}/partition1_block43-43_1bytes"]
    state = open_volume(dev)
    assert state.consistent and state.source == "index partition" and state.index.generation == 3
    got = read_back(dev, tmp_path / "dest")
    sha = {p: hashlib.sha256(b).hexdigest() for p, b in got.items()}
    indexed = _sha256_list("crashed-before-unmount-lto5.indexed.sha256")
    assert {p: sha[p] for p in indexed} == indexed
    after_index = _sha256_list("crashed-before-unmount-lto5.after-last-index.sha256")
    assert sha[f"{LOST_AND_FOUND}/partition1_block41-42_700001bytes"] == after_index["second session 100%.mov"]
    assert sha[f"{LOST_AND_FOUND}/partition1_block43-43_1bytes"] == after_index["deep/er/still/one.byte"]
    assert set(sha) == set(indexed) | set(rep.salvaged)
    # nothing the reference wrote was overwritten
    assert all((cart / n).read_bytes() == b for n, b in original.items())
    dev.close()


def test_reference_crashed_cartridge_recover_without_salvage(tmp_path: Path) -> None:
    cart = tmp_path / "cart"
    shutil.copytree(FIXTURES / "crashed-before-unmount-lto5", cart)
    dev = VirtualTape(cart)
    rep = recover_volume(dev, creator="t")
    assert rep.consistent and rep.salvaged == [] and rep.unindexed_bytes == 700002
    state = open_volume(dev)
    assert state.consistent and set(p for p, _ in state.index.files()) == set(
        _sha256_list("crashed-before-unmount-lto5.indexed.sha256"))
    # a second recover has nothing to do
    again = recover_volume(dev, creator="t")
    assert again.actions == ["nothing to do: the volume is consistent"]
    dev.close()


# --- (d) a damaged newest index ---------------------------------------------------------------------------

def _two_sessions(tmp: Path) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    cart = tmp / "tape"
    dev = new_volume(cart)
    s1 = make_source(tmp / "a" / "s1", 4, 11)
    assert write_archive([tmp / "a" / "s1"], dev, ltfs_opts()).status == "ok"
    s2 = make_source(tmp / "b" / "s2", 4, 12)
    assert write_archive([tmp / "b" / "s2"], dev, ltfs_opts()).status == "ok"
    dev.close()
    return cart, s1, s2


def _damage_index(cart: Path, part: int, start: int) -> None:
    """Overwrite, in place and at the same length, the middle of the index record holding a file entry."""
    objs = dict(cartridge_objects(cart, part))
    b = start
    while objs.get(b) == "R":
        p = cart / f"{part}_{b}_R"
        data = bytearray(p.read_bytes())
        i = data.find(b"<file>", len(data) // 3)
        if i >= 0:
            data[i:i + 120] = b"#" * len(data[i:i + 120])
            p.write_bytes(bytes(data))
            return
        b += 1
    raise AssertionError("no file entry in that index")


def test_damaged_newest_index_falls_back_loudly(tmp_path: Path) -> None:
    cart, s1, s2 = _two_sessions(tmp_path)
    dev = VirtualTape(cart)
    good = open_volume(dev)
    assert good.index.generation == 3
    dp_block = good.dp.block
    dev.close()
    _damage_index(cart, 1, dp_block)
    _damage_index(cart, 0, 5)
    dev = VirtualTape(cart)
    state = open_volume(dev)
    assert state.index.generation == 2 and state.source == "data partition"
    assert state.ip.index is None and state.ip.problems and state.dp.problems
    warnings = [n for n in state.notes if n.startswith("WARNING")]
    assert len(warnings) == 2 and any(f"b/{dp_block}" in w for w in warnings) and any("a/5" in w for w in warnings)
    assert all("not shown" in w for w in warnings)
    assert not state.consistent
    assert footage(state) == set(s1)
    # issue 14: the newest index cannot be used -> damage, not an older generation read as if current
    with pytest.raises(CorruptArchive, match="newest LTFS index cannot be used"):
        verify_tape(dev)
    v = verify_tape(dev, rollback=True)        # asked for: read the older generation, said loudly
    assert v.notes[0].startswith("WARNING: ROLLBACK: reading LTFS index generation 2")
    assert {p for p in v.tape_files[0].verified if not p.startswith(META)} == set(s1)
    assert not {m.path for m in list_tape(dev, generation=2).tape_files[0].members} & (set(s2) | {"s2"})
    # recovery keeps the older index; salvage gives the second session's bytes back, unproven
    rep = recover_volume(dev, creator="t", salvage=True)
    assert rep.consistent
    got = read_back(dev, tmp_path / "dest")
    assert {p: got[p] for p in s1} == s1
    salvaged = {got[p] for p in rep.salvaged}
    assert all(data in salvaged for data in s2.values())
    dev.close()


def test_intact_index_partition_is_used_when_only_the_data_partition_index_is_damaged(tmp_path: Path) -> None:
    cart, s1, s2 = _two_sessions(tmp_path)
    dev = VirtualTape(cart)
    dp_block = open_volume(dev).dp.block
    dev.close()
    _damage_index(cart, 1, dp_block)
    dev = VirtualTape(cart)
    state = open_volume(dev)
    assert any(n.startswith("WARNING") for n in state.notes)
    assert footage(state) == set(s1) | set(s2)
    recover_volume(dev, creator="t")
    assert footage(open_volume(dev)) == set(s1) | set(s2)
    dev.close()


# --- (e) a stale index partition -----------------------------------------------------------------------------

def test_stale_index_partition_is_noticed_and_rewritten(tmp_path: Path) -> None:
    cart = tmp_path / "tape"
    dev = new_volume(cart)
    make_source(tmp_path / "a" / "s1", 3, 21)
    assert write_archive([tmp_path / "a" / "s1"], dev, ltfs_opts()).status == "ok"
    dev.close()
    old_ip = {n: (cart / n).read_bytes() for n in os.listdir(cart) if n.startswith("0_")}
    dev = VirtualTape(cart)
    s2 = make_source(tmp_path / "b" / "s2", 3, 22)
    assert write_archive([tmp_path / "b" / "s2"], dev, ltfs_opts()).status == "ok"
    dev.close()
    # put session 1's index partition back, as if the index partition rewrite never happened
    for n in os.listdir(cart):
        if n.startswith("0_"):
            os.unlink(cart / n)
    for n, b in old_ip.items():
        (cart / n).write_bytes(b)
    dev = VirtualTape(cart)
    state = open_volume(dev)
    assert state.source == "data partition" and state.stale_index_partition and not state.consistent
    assert state.ip.index.generation == 2 and state.index.generation == 3
    assert any("stale" in n for n in state.notes)
    assert set(s2) <= footage(state)
    report = check_volume(dev)
    assert not report.consistent and report.unindexed == []
    rep = recover_volume(dev, creator="t")
    assert rep.consistent and "rewrote the index partition with generation 3" in rep.actions
    after = open_volume(dev)
    assert after.consistent and after.source == "index partition"
    assert after.ip.index.generation == after.dp.index.generation == 3
    assert after.ip.index.previous == after.dp.index.location
    assert footage(after) == footage(state)
    dev.close()
    objs = cartridge_objects(cart, 0)
    assert [k for _, k in objs].count("F") == 4 and parse_index(
        [(cart / f"0_{b}_R").read_bytes() for b, k in objs if b >= 5 and k == "R"]).generation == 3


def test_device_error_during_the_index_partition_rewrite(tmp_path: Path) -> None:
    cart = tmp_path / "tape"
    dev = new_volume(cart)
    src = make_source(tmp_path / "a" / "card", 5, 31)
    dev.faults.write_error_partition = 0
    dev.faults.write_error_at_block = 5
    res = write_archive([tmp_path / "a" / "card"], dev, ltfs_opts())
    dev.faults.clear()
    assert res.status == "failed" and isinstance(res.error, MediumError)
    # the data-partition index was written before the index partition: every file is on the volume
    assert all(f.status == OK for f in res.files)
    state = open_volume(dev)
    assert state.source == "data partition" and state.ip.index is None and not state.consistent
    assert any("index partition has no readable index" in n for n in state.notes)
    assert footage(state) == set(src)
    rep = recover_volume(dev, creator="t")
    assert rep.consistent
    after = open_volume(dev)
    assert after.consistent and after.source == "index partition"
    got = read_back(dev, tmp_path / "dest")
    assert {p: got[p] for p in src} == src
    append_and_verify(dev, tmp_path)
    dev.close()
