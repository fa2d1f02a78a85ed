"""Capacity accounting (issue 15): a record costs its length plus RECORD_OVERHEAD, and every writer's
room estimate matches it — a cartridge that fills up on tiny files is filled to within a few percent,
the files that did not fit are reported not written, and no record ever runs into hard end of medium."""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.errors import EndOfMedium
from lto_archive.formats.ltfs.volume import format_volume, open_volume
from lto_archive.jobs.read import restore_tape, verify_tape
from lto_archive.jobs.room import LABEL_BLOCKS_COST, index_partition_room
from lto_archive.jobs.write import WriteOptions, WriteResult, write_archive
from lto_archive.manifest import NOT_WRITTEN, OK
from lto_archive.paperwork import check_packed
from lto_archive.tape import VirtualTape, WriteFlags, create_vtape, mam
from lto_archive.tape.blocks import RECORD_OVERHEAD, BlockTable, records_cost, warning_points

from .bad_input_helpers import run
from .tape_helpers import tape_file_bytes

MiB = 1 << 20
NO_WARNINGS = {"early_warning_bytes": 0, "programmable_early_warning_bytes": 0}   # only the estimate stops a job


def tiny_files(root: Path, count: int, seed: int, low: int = 1024, high: int = 4096, top: str = "card"
               ) -> dict[str, bytes]:
    """`count` files of low..high bytes in folders of 250 (seeded): {'card/dNN/fNNNNN.bin': bytes}."""
    rnd = random.Random(seed)
    out = {}
    for i in range(count):
        rel = f"{top}/d{i // 250:02d}/f{i:05d}.bin"
        data = rnd.randbytes(rnd.randint(low, high))
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[rel] = data
    return out


def used(dev: VirtualTape, p: int) -> int:
    """Bytes of tape partition p has taken (records' bytes plus their overhead)."""
    dev.locate(p, 0)
    return dev.partition_capacity(p) - dev.medium().remaining


def check_job(dev: VirtualTape, res: WriteResult, files: dict[str, bytes], tmp_path: Path) -> list[str]:
    """Some files written, the rest not written (no room), everything written verifies and restores."""
    assert res.error is None, res.error                  # never hard end of medium
    recs = [r for r in res.manifest.files if r.kind == "file"]
    written = [r.path for r in recs if r.status == OK]
    assert 0 < len(written) < len(files)
    assert {r.status for r in recs} == {OK, NOT_WRITTEN}
    assert all("no room left" in r.message for r in recs if r.status == NOT_WRITTEN)
    assert written == sorted(written) and written == sorted(files)[:len(written)]   # no gap: stops once full
    v = verify_tape(dev)
    assert not v.failed and set(written) <= {p for t in v.tape_files for p in t.verified}
    r = restore_tape(dev, tmp_path / "restored", patterns=["card"])
    assert not r.failed
    for rel in written:
        assert (tmp_path / "restored" / rel).read_bytes() == files[rel]
    return written


def further_write_is_full(dev: VirtualTape, tmp_path: Path, opts: WriteOptions) -> None:
    """Another job on the full cartridge ends cleanly: what still fits (the first job's metadata reserve
    was an upper bound) is written, the rest is not written, and the whole tape still verifies."""
    more = tmp_path / "more"
    tiny_files(more, 400, seed=99, top="more")
    before = sorted(p.name for p in dev.path.iterdir())
    try:
        res = write_archive([more / "more"], dev, opts)
    except EndOfMedium as exc:              # not even the new session's metadata fits: refused up front
        assert "nothing was written" in exc.message
        assert sorted(p.name for p in dev.path.iterdir()) == before
    else:
        assert res.error is None, res.error
        statuses = [r.status for r in res.manifest.files if r.kind == "file"]
        assert NOT_WRITTEN in statuses and set(statuses) <= {OK, NOT_WRITTEN}
    assert not verify_tape(dev).failed


def test_ltfs_fills_on_tiny_files(tmp_path: Path) -> None:
    files = tiny_files(tmp_path / "src", 1500, seed=15)
    dev = create_vtape(tmp_path / "c", "LTO-9", capacity=16 * MiB, partitions=2, **NO_WARNINGS)
    format_volume(dev, creator="t", serial="CAP001")
    opts = WriteOptions(format="ltfs", verify=False, index_every_bytes=None, index_every_seconds=None)
    res = write_archive([tmp_path / "src" / "card"], dev, opts)
    written = check_job(dev, res, files, tmp_path)
    # with 1-4 KiB files the index (~800 bytes a file) fills the index partition (5 %) first
    ip_room = dev.partition_capacity(0) - LABEL_BLOCKS_COST
    assert 0.95 * ip_room <= used(dev, 0) - LABEL_BLOCKS_COST <= ip_room
    assert used(dev, 1) < dev.partition_capacity(1)
    state = open_volume(dev)                              # the final index is on tape: the volume mounts
    on_volume = {p for p, _ in state.index.files()}
    assert set(written) <= on_volume and not set(files) - set(written) & on_volume
    further_write_is_full(dev, tmp_path, opts)
    assert {p for p, _ in open_volume(dev).index.files()} >= set(written)
    ip_left, dp_left = (dev.partition_capacity(p) - used(dev, p) for p in (0, 1))
    dev.close()
    check_info(tmp_path / "c", ip_left, dp_left)


def check_info(cart: Path, ip_left: int, dp_left: int) -> None:
    """`info` reports the data partition's room (issue 16), and both partitions' in --json."""
    doc = json.loads(run("info", "--device", f"vtape:{cart}", "--json", check=0).stdout)
    assert doc["remaining"] == dp_left
    assert doc["partition_room"] == [{"partition": 0, "capacity": doc["partition_room"][0]["capacity"],
                                      "remaining": ip_left},
                                     {"partition": 1, "capacity": doc["partition_room"][1]["capacity"],
                                      "remaining": dp_left}]
    text = run("info", "--device", f"vtape:{cart}", check=0).stdout
    assert "on partition 1 (data)" in text.splitlines()[5] and "on partition 0" in text


def test_ltfs_fills_the_data_partition(tmp_path: Path) -> None:
    """Files of 40-120 KiB: the data partition is what fills (short last records, no padding)."""
    files = tiny_files(tmp_path / "src", 300, seed=16, low=40 * 1024, high=120 * 1024)
    dev = create_vtape(tmp_path / "c", "LTO-9", capacity=16 * MiB, partitions=2, **NO_WARNINGS)
    format_volume(dev, creator="t", serial="CAP002")
    opts = WriteOptions(format="ltfs", verify=False, index_every_bytes=None, index_every_seconds=None)
    res = write_archive([tmp_path / "src" / "card"], dev, opts)
    check_job(dev, res, files, tmp_path)
    largest = max(len(b) for b in files.values())
    assert dev.partition_capacity(1) - 2 * largest - MiB // 2 <= used(dev, 1) <= dev.partition_capacity(1)


@pytest.mark.parametrize("record_size", [65536, 524288])
def test_tar_fills_on_tiny_files(tmp_path: Path, record_size: int) -> None:
    files = tiny_files(tmp_path / "src", 2500, seed=17)
    dev = create_vtape(tmp_path / "c", "LTO-9", capacity=6 * MiB, **NO_WARNINGS)
    opts = WriteOptions(verify=False, record_size=record_size)
    res = write_archive([tmp_path / "src" / "card"], dev, opts)
    check_job(dev, res, files, tmp_path)
    cap = dev.partition_capacity(0)
    # the session's paperwork packs its metadata again (docs/paperwork.md), so the room kept for the metadata
    # counts it twice: its margin may leave up to the paperwork's own size more unused
    paperwork = paperwork_size(tmp_path / "c")
    assert 0 < paperwork < 0.3 * cap
    assert cap - 0.06 * cap - 2 * record_size - paperwork <= used(dev, 0) <= cap    # padded: whole records
    further_write_is_full(dev, tmp_path, opts)


def paperwork_size(cart: Path) -> int:
    """The bytes of the first tape file's paperwork member (and it is a whole 7z)."""
    with tarfile.open(fileobj=io.BytesIO(tape_file_bytes(cart, 0))) as tf:
        data = tf.extractfile(".lto-archive/paperwork.7z").read()    # type: ignore[union-attr]
    assert check_packed(data) == ""
    return len(data)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), ltfs=st.booleans(), big=st.integers(1, 300))
def test_estimate_never_lets_a_record_hit_hard_end(tmp_path_factory: pytest.TempPathFactory, seed: int,
                                                    ltfs: bool, big: int) -> None:
    """Mixed sizes (0 bytes up to several records), no early warning: only the estimate stops the job,
    and it stops before any record meets end of medium; the index and metadata always fit."""
    tmp = tmp_path_factory.mktemp("mix")
    rnd = random.Random(seed)
    for i in range(rnd.randint(20, 120)):
        p = tmp / "src" / "card" / f"d{i % 3}" / f"f{i:04d}"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rnd.randbytes(rnd.choice([0, 1, 511, 4096, rnd.randint(1, big * 1024)])))
    dev = create_vtape(tmp / "c", "LTO-9", capacity=rnd.randint(2, 6) * MiB, partitions=2 if ltfs else 1,
                       **NO_WARNINGS)
    if ltfs:
        format_volume(dev, creator="t", block_size=rnd.choice([4096, 65536, 524288]))
        opts = WriteOptions(format="ltfs", verify=False, index_every_bytes=256 * 1024, index_every_seconds=None)
    else:
        opts = WriteOptions(verify=False, record_size=rnd.choice([10240, 65536, 262144]))
    res = write_archive([tmp / "src" / "card"], dev, opts)
    assert res.error is None, res.error
    check = verify_tape(dev)
    assert not check.failed and not check.errors       # the session's paperwork and custody record are whole too
    if ltfs:
        open_volume(dev)


# --- the block table's accounting --------------------------------------------------------

ops = st.lists(st.one_of(st.integers(0, 5000), st.just(-1), st.tuples(st.just("back"), st.integers(0, 40))),
               max_size=60)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(capacity=st.integers(1, 60_000), ew=st.integers(0, 3000), pew=st.integers(0, 6000), script=ops)
def test_block_table_charges_length_plus_overhead(capacity: int, ew: int, pew: int, script: list) -> None:
    """A record of n bytes costs n + RECORD_OVERHEAD, a filemark RECORD_OVERHEAD: a write fits exactly
    when the charge stays within the capacity; room left and early warnings follow the charge."""
    t = BlockTable(capacity, 1, describe=lambda: "cartridge T", early_warning_bytes=ew,
                   programmable_early_warning_bytes=pew)
    pew_point, ew_point = warning_points(capacity, ew, pew)
    model: list[int] = []          # the objects' sizes (-1: a filemark)
    for op in script:
        if isinstance(op, tuple):
            t.locate(0, min(op[1], len(model)))
            continue
        del model[t.block:]
        charge = sum(max(n, 0) + RECORD_OVERHEAD for n in model)
        if op < 0:
            t.write_filemark()
            model.append(-1)
        elif charge + op + RECORD_OVERHEAD > capacity:
            with pytest.raises(EndOfMedium):
                t.check_room(op)
            continue
        else:
            t.check_room(op)
            flags = t.write_record(op)
            model.append(op)
            after = charge + op + RECORD_OVERHEAD
            assert bool(flags & WriteFlags.PROGRAMMABLE_EARLY_WARNING) == (after > pew_point)
            assert bool(flags & WriteFlags.EARLY_WARNING) == (after > ew_point)
        charge = sum(max(n, 0) + RECORD_OVERHEAD for n in model)
        assert t.charged(0) == charge and t.used(0) == sum(n for n in model if n > 0)
        assert t.remaining(0) == max(0, capacity - charge)
        assert t.eod[0] == len(model)


def test_records_cost_matches_the_table() -> None:
    rnd = random.Random(5)
    for _ in range(200):
        size, rs = rnd.randint(0, 3 * MiB), rnd.choice([512, 4096, 65536, 524288])
        t = BlockTable(None, 1, describe=lambda: "unlimited")
        for off in range(0, size, rs):
            t.write_record(min(rs, size - off))
        assert records_cost(size, rs) == t.charged(0)


def test_index_partition_room_from_cartridge_memory() -> None:
    """A real drive has no partition_capacity: the index partition's size comes from its cartridge memory
    (an LTFS index partition is far smaller than 5 % of an LTO-9)."""
    class Drive:
        def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
            if (partition, attr_id) == (0, mam.MAXIMUM_CAPACITY_IN_PARTITION):
                return (37_000).to_bytes(8, "big")     # MiB
            return None

    assert index_partition_room(Drive()) == 37_000 * MiB - LABEL_BLOCKS_COST  # type: ignore[arg-type]
