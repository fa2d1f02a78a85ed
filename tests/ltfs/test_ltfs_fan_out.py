"""One LTFS session to several volumes in one pass: the file records written once to every tape,
each volume with its own blocks, indexes, generations and back pointers; a failing tape is dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.catalog import Catalog, search
from lto_archive.errors import JobIncomplete, MediumError, UsageError
from lto_archive.formats.ltfs.index import Index
from lto_archive.formats.ltfs.recover import check_volume, recover_volume
from lto_archive.formats.ltfs.volume import DATA_PARTITION, format_volume, open_volume, read_index_at
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import OK
from lto_archive.tape import VirtualTape, create_vtape, mam
from lto_archive.tape.vtape import Faults
from lto_archive_cli.main import cli

from ..fan_out_helpers import card, restored

BS = 4096


def opts(**kw) -> WriteOptions:  # type: ignore[no-untyped-def]
    base = dict(format="ltfs", index_every_bytes=None, index_every_seconds=None, chunk_size=4 * BS)
    base.update(kw)
    return WriteOptions(**base)


def volume(path: Path, barcode: str, serial: str) -> VirtualTape:
    dev = create_vtape(path, "LTO-9", capacity=64 << 20, partitions=2, barcode=barcode)
    format_volume(dev, creator="t", serial=serial, volume_name=serial, block_size=BS)
    return dev


def index_chain(dev: VirtualTape) -> list[Index]:
    """Every data-partition index from the newest back along the back pointers (what ltfsck walks)."""
    state = open_volume(dev)
    out = []
    loc = state.dp.index.location if state.dp.index else None
    while loc is not None:
        ix = read_index_at(dev, DATA_PARTITION, loc[1], BS)
        out.append(ix)
        loc = ix.previous
    return out


def extent_bytes(dev: VirtualTape, ix: Index, path: str) -> bytes:
    node = ix.lookup(path)
    data = b""
    for ext in node.extents or []:
        dev.locate(DATA_PARTITION, ext.start_block)
        buf = b""
        while len(buf) < ext.byte_offset + ext.byte_count:
            buf += dev.read_record(1 << 20)
        data += buf[ext.byte_offset:ext.byte_offset + ext.byte_count]
    return data


def test_two_volumes_one_already_used_each_consistent_with_its_own_indexes(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [30_000 + 977 * i for i in range(8)] + [0, 5])
    a = volume(tmp_path / "A", "LTA001L9", "LTA001")
    b = volume(tmp_path / "B", "LTB001L9", "LTB001")
    old = card(tmp_path / "old", [50_000, 12_345])
    assert write_archive([tmp_path / "old"], b, opts()).status == "ok"     # B's data partition goes on further
    gen_b = open_volume(b).index.generation
    r = write_archive([tmp_path / "card"], [a, b], opts(index_every_bytes=60_000), folders=[tmp_path / "shuttle"])
    assert r.status == "ok", r.destinations
    tapes = r.destinations[:2]
    assert [(d["destination"], d["status"], d["verified"]) for d in tapes] == [
        ("LTA001L9", "ok", len(files)), ("LTB001L9", "ok", len(files))]
    assert r.destinations[2]["status"] == "ok" and r.destinations[2]["verified"] == len(files)
    assert tapes[0]["start_block"] != tapes[1]["start_block"]
    assert tapes[0]["volume_uuid"] != tapes[1]["volume_uuid"]
    for dev, name in ((a, "A"), (b, "B")):
        report = check_volume(dev)
        assert report.consistent and not report.unindexed, report.notes
        state = open_volume(dev)
        assert state.consistent and state.source == "index partition"
        # the cartridge memory points at this volume's own newest index
        coh = mam.VolumeCoherency.decode_value(dev.read_attribute(DATA_PARTITION, mam.VOLUME_COHERENCY_INFORMATION))
        assert (coh.generation, coh.block) == (state.index.generation, state.dp.block)
        assert restored(dev, tmp_path / f"out-{name}", "card") == files
    assert restored(b, tmp_path / "old-B", "old") == old          # what B held is still there
    # periodic indexes on both: each volume's own chain of generations, each index's files readable
    chains = {"A": index_chain(a), "B": index_chain(b)}
    assert len(chains["A"]) >= 4
    new_b = [ix for ix in chains["B"] if ix.generation > gen_b]
    assert len(new_b) == len(chains["A"]) - 1          # the same checkpoints (A's chain also has its format index)
    for name, dev in (("A", a), ("B", b)):
        chain = chains[name]
        assert [ix.generation for ix in chain] == list(range(chain[0].generation, chain[0].generation - len(chain), -1))
        assert len({ix.volume_uuid for ix in chain}) == 1
        for ix in chain:
            for p, node in ix.files():
                if p in files:
                    assert extent_bytes(dev, ix, p) == files[p], (name, ix.generation, p)
    intermediate = chains["A"][1]        # a checkpoint index: it already lists some of the card, not all
    listed = {p for p, _ in intermediate.files() if p in files}
    assert listed and listed != set(files)
    # per destination, per file: B's copy told at B's own blocks (its indexes moved them on)
    ix_b = open_volume(b).index
    rb = r.for_destination(1)
    for f in rb.files:
        node = ix_b.lookup(f.path)
        if f.path in files and files[f.path]:
            assert f.block == node.extents[0].start_block
    assert [f.block for f in rb.files if f.path in files] != [f.block for f in r.files if f.path in files]


def test_a_volume_failing_mid_job_is_dropped_and_the_other_completes(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [20_000 + 333 * i for i in range(12)])
    a = volume(tmp_path / "A", "LTA001L9", "LTA001")
    b = volume(tmp_path / "B", "LTB001L9", "LTB001")
    b.faults = Faults(write_error_after_calls=40)
    r = write_archive([tmp_path / "card"], [a, b], opts(index_every_bytes=50_000))
    da, db = r.destinations
    assert da["status"] == "ok" and da["verified"] == len(files)
    assert db["status"] == "failed" and "write error" in db["error"]
    assert r.status == "incomplete" and r.error is None
    assert all(f.status == OK for f in r.files)             # every file is proven on A
    with pytest.raises(JobIncomplete, match="LTB001L9"):
        r.raise_for_status()
    assert check_volume(a).consistent
    assert restored(a, tmp_path / "out-A", "card") == files
    # B keeps exactly what its last index describes; the job named the rest
    b.faults.clear()
    on_b = {p for p, _ in open_volume(b).index.files() if p in files}
    assert on_b and on_b | {f["path"] for f in db["failed"]} == set(files)
    assert not on_b & {f["path"] for f in db["failed"]}
    assert "ltfs recover" in db["error"]
    rep = recover_volume(b, creator="t")
    assert rep.consistent
    got = restored(b, tmp_path / "out-B", "card")
    assert got == {p: files[p] for p in on_b}


def test_a_volume_failing_in_its_index_partition_is_dropped(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [10_000, 20_000, 7])
    a = volume(tmp_path / "A", "LTA001L9", "LTA001")
    b = volume(tmp_path / "B", "LTB001L9", "LTB001")
    b.faults = Faults(write_error_at_block=4, write_error_partition=0)     # the index partition rewrite
    r = write_archive([tmp_path / "card"], [a, b], opts())
    assert [d["status"] for d in r.destinations] == ["ok", "failed"]
    assert r.destinations[1]["failed"] == []     # every file is in B's data-partition index
    assert "was not closed" in r.destinations[1]["error"] and "ltfs recover" in r.destinations[1]["error"]
    assert check_volume(a).consistent and restored(a, tmp_path / "out-A", "card") == files
    b.faults.clear()
    state = open_volume(b)
    assert not state.consistent and state.stale_index_partition       # said loudly: run recover
    assert restored(b, tmp_path / "out-B", "card") == files


def test_every_volume_failing_fails_the_job(tmp_path: Path) -> None:
    card(tmp_path / "card", [20_000] * 6)
    a = volume(tmp_path / "A", "LTA001L9", "LTA001")
    b = volume(tmp_path / "B", "LTB001L9", "LTB001")
    a.faults = Faults(write_error_after_calls=8)
    b.faults = Faults(write_error_after_calls=12)
    r = write_archive([tmp_path / "card"], [a, b], opts(index_every_bytes=30_000))
    assert r.status == "failed" and isinstance(r.error, MediumError)
    assert [d["status"] for d in r.destinations] == ["failed", "failed"]


def test_refused_before_writing_volumes_of_different_block_sizes(tmp_path: Path) -> None:
    card(tmp_path / "card", [1000])
    a = volume(tmp_path / "A", "LTA001L9", "LTA001")
    b = create_vtape(tmp_path / "B", "LTO-9", capacity=64 << 20, partitions=2)
    format_volume(b, creator="t", serial="LTB001", block_size=8192)
    eods = [open_volume(d).dp_eod for d in (a, b)]
    with pytest.raises(UsageError, match="different block sizes"):
        write_archive([tmp_path / "card"], [a, b], opts())
    assert [open_volume(d).dp_eod for d in (a, b)] == eods


def test_cli_two_ltfs_volumes_recorded_in_the_catalog_at_their_own_blocks(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [9000, 15000, 3000])
    a = volume(tmp_path / "A", "LTA001L9", "LTA001")
    b = volume(tmp_path / "B", "LTB001L9", "LTB001")
    card(tmp_path / "old", [40_000])
    assert write_archive([tmp_path / "old"], b, opts()).status == "ok"
    a.close()
    b.close()
    cat = tmp_path / "cat.sqlite"
    res = CliRunner().invoke(cli, ["write", str(tmp_path / "card"), "--format", "ltfs",
                                   "--device", f"vtape:{tmp_path / 'A'}", "--device", f"vtape:{tmp_path / 'B'}",
                                   "--catalog", str(cat), "--log-dir", str(tmp_path / "logs"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [(d["kind"], d["status"], d["verified"]) for d in doc["destinations"]] == [
        ("tape", "ok", 3), ("tape", "ok", 3)]
    b = VirtualTape(tmp_path / "B")
    want = open_volume(b).index.lookup("card/A001/C001.mov").extents[0].start_block
    with Catalog.open(cat, create=False) as c:
        hits = search(c, "*C001.mov")
    copies = {cp.barcode: cp for cp in hits[0].copies}
    assert set(copies) == {"LTA001L9", "LTB001L9"}
    assert copies["LTB001L9"].block == want
    assert copies["LTB001L9"].volume_uuid == open_volume(b).label.volume_uuid
    # the job's read-back of each volume is recorded as that copy's verification
    assert all(cp.verified and cp.last_result == "ok" for cp in copies.values()), copies
    assert files


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(0, 3 * BS + 7), min_size=1, max_size=8),
       old=st.lists(st.integers(0, 2 * BS), min_size=1, max_size=3),
       every=st.sampled_from([None, BS, 3 * BS]))
def test_property_two_volumes_one_prefilled_restore_exactly(tmp_path_factory, sizes, old, every) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("p")
    files = card(tmp / "card", sizes)
    a = volume(tmp / "A", "LTA001L9", "LTA001")
    b = volume(tmp / "B", "LTB001L9", "LTB001")
    card(tmp / "old", old)
    assert write_archive([tmp / "old"], a, opts()).status == "ok"
    r = write_archive([tmp / "card"], [a, b], opts(index_every_bytes=every))
    assert r.status == "ok", r.destinations
    for name, dev in (("A", a), ("B", b)):
        assert check_volume(dev).consistent
        assert restored(dev, tmp / f"out-{name}", "card") == files
