"""The LTFS volume layer on a virtual cartridge: the exact on-tape layout of format and of a write
session, the labels, the cartridge memory (MAM) coherency data, and opening volumes."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive
from lto_archive.formats.ltfs.index import parse_index
from lto_archive.formats.ltfs.label import Label, parse_vol1
from lto_archive.formats.ltfs.volume import format_volume, open_volume
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape, create_vtape, mam

from ..tape_helpers import cartridge_objects

MiB = 1 << 20
BS = 4096
UUID_LEN = 36


def new_volume(tmp_path: Path, *, bs: int = BS, serial: str | None = "ABC123", name: str = "Vol",
               partitions: int = 2) -> tuple[VirtualTape, Path]:
    cart = tmp_path / "tape"
    dev = create_vtape(cart, "LTO-9", capacity=64 * MiB, partitions=partitions)
    format_volume(dev, creator="t", serial=serial, volume_name=name, block_size=bs)
    return dev, cart


def ltfs_opts(**kw) -> WriteOptions:  # type: ignore[no-untyped-def]
    base = dict(format="ltfs", index_every_bytes=None, index_every_seconds=None, chunk_size=16384)
    base.update(kw)
    return WriteOptions(**base)


def make_tree(root: Path, seed: int, sizes: list[int]) -> dict[str, bytes]:
    rng = random.Random(seed)
    out = {}
    for i, size in enumerate(sizes):
        p = root / (f"sub{i % 2}" if i % 3 else "") / f"f{i}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size)
        p.write_bytes(data)
        out[str(p.relative_to(root.parent))] = data
    return out


def records(cart: Path, part: int, first: int, last: int) -> list[bytes]:
    return [(cart / f"{part}_{b}_R").read_bytes() for b in range(first, last + 1)]


def index_run(objs: list[tuple[int, str]], start: int) -> int:
    """The last block of the run of records starting at `start` (before the next filemark)."""
    kinds = dict(objs)
    b = start
    assert kinds[b] == "R"
    while kinds.get(b + 1) == "R":
        b += 1
    return b


def attr_value(cart: Path, part: int, attr_id: int) -> bytes:
    a = mam.decode((cart / mam.filename(part, attr_id)).read_bytes())
    assert a.id == attr_id
    return a.value


def coherency(cart: Path, part: int) -> mam.VolumeCoherency:
    return mam.VolumeCoherency.decode_value(attr_value(cart, part, mam.VOLUME_COHERENCY_INFORMATION))


def vcr(cart: Path) -> int:
    return int.from_bytes(attr_value(cart, 0, mam.VOLUME_CHANGE_REFERENCE), "big")


# --- format ------------------------------------------------------------------------------------

REFERENCE_LAYOUT = [(0, "R"), (1, "F"), (2, "R"), (3, "F"), (4, "F"), (5, "R"), (6, "F")]


def test_format_writes_the_reference_layout(tmp_path: Path) -> None:
    dev, cart = new_volume(tmp_path)
    dev.close()
    for part in (0, 1):
        assert cartridge_objects(cart, part) == REFERENCE_LAYOUT
        assert (cart / f"{part}_7_E").exists()
        assert not [n for n in os.listdir(cart) if n.startswith(f"{part}_") and n not in
                    {f"{part}_{b}_{k}" for b, k in REFERENCE_LAYOUT} | {f"{part}_7_E"}]
        for b, k in REFERENCE_LAYOUT:
            if k == "F":
                assert (cart / f"{part}_{b}_F").stat().st_size == 0
    # the empty reference volume has exactly the same objects
    ref = Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference" / "empty-lto9"
    for part in (0, 1):
        assert cartridge_objects(ref, part) == cartridge_objects(cart, part)

    # VOL1: 80 ASCII bytes, same serial on both partitions
    vol1 = (cart / "0_0_R").read_bytes()
    assert vol1 == (cart / "1_0_R").read_bytes()
    assert len(vol1) == 80
    assert vol1[0:4] == b"VOL1" and vol1[4:10] == b"ABC123" and vol1[10:11] == b"L"
    assert vol1[24:28] == b"LTFS" and vol1[79:80] == b"4"
    assert set(vol1[11:24] + vol1[28:79]) == {0x20}
    assert parse_vol1(vol1) == "ABC123"

    # labels: identical but for location/partition
    la, lb = Label.from_xml((cart / "0_2_R").read_bytes()), Label.from_xml((cart / "1_2_R").read_bytes())
    assert (la.partition, lb.partition) == ("a", "b")
    assert la.with_partition("b") == lb
    assert la.blocksize == BS and (la.index_partition, la.data_partition) == ("a", "b")
    assert len(la.volume_uuid) == UUID_LEN
    assert len((cart / "0_2_R").read_bytes()) <= 4096

    # index generation 1 on both partitions; the index partition's points back to the data partition's
    ia = parse_index([(cart / "0_5_R").read_bytes()])
    ib = parse_index([(cart / "1_5_R").read_bytes()])
    assert (ia.generation, ia.location, ia.previous) == (1, ("a", 5), ("b", 5))
    assert (ib.generation, ib.location, ib.previous) == (1, ("b", 5), None)
    assert ia.volume_uuid == ib.volume_uuid == la.volume_uuid
    assert ia.root.name == ib.root.name == "Vol"
    assert list(ia.walk()) == [] and list(ib.walk()) == []

    # cartridge memory: coherency per partition, with the drive's volume change reference
    for part in (0, 1):
        c = coherency(cart, part)
        assert (c.generation, c.block) == (1, 5)
        assert c.volume_change_reference == vcr(cart)
        assert c.application == b"LTFS\x00" + la.volume_uuid.encode() + b"\x00\x01"
        assert c.ltfs_volume_uuid == la.volume_uuid
    assert attr_value(cart, 0, mam.APPLICATION_FORMAT_VERSION).rstrip(b" \x00") == b"2.4.0"
    assert attr_value(cart, 0, mam.USER_MEDIUM_TEXT_LABEL).rstrip(b"\x00") == b"Vol"


def test_format_without_serial_and_on_a_one_partition_cartridge(tmp_path: Path) -> None:
    dev, cart = new_volume(tmp_path, serial=None, partitions=1)
    assert dev.partitions == 2
    state = open_volume(dev)
    dev.close()
    assert state.serial is None and state.consistent and state.index.generation == 1
    assert (cart / "0_0_R").read_bytes()[4:10] == b" " * 6
    for part in (0, 1):
        assert cartridge_objects(cart, part) == REFERENCE_LAYOUT


def test_freshly_formatted_volume_opens_consistent(tmp_path: Path) -> None:
    dev, _ = new_volume(tmp_path, bs=65536)
    state = open_volume(dev)
    assert state.consistent and state.source == "index partition" and state.notes == []
    assert state.block_size == 65536 and state.serial == "ABC123"
    assert (state.ip.block, state.dp.block, state.dp.end, state.dp_eod) == (5, 5, 7, 7)
    assert state.unindexed_blocks == 0 and not state.stale_index_partition
    dev.close()


def test_blank_and_tar_cartridges_are_not_ltfs(tmp_path: Path) -> None:
    blank = create_vtape(tmp_path / "blank", "LTO-9", capacity=64 * MiB, partitions=2)
    with pytest.raises(CorruptArchive, match="blank or not LTFS"):
        open_volume(blank)
    blank.close()
    tar = create_vtape(tmp_path / "tar", "LTO-9", capacity=64 * MiB)
    src = tmp_path / "src"
    make_tree(src, 1, [100])
    assert write_archive([src], tar, WriteOptions(record_size=16384)).status == "ok"
    with pytest.raises(CorruptArchive, match="one partition"):
        open_volume(tar)
    with pytest.raises(CorruptArchive, match="format"):
        write_archive([src], tar, ltfs_opts())
    tar.close()


# --- a write session ---------------------------------------------------------------------------------

def test_session_layout_indexes_and_coherency(tmp_path: Path) -> None:
    dev, cart = new_volume(tmp_path)
    vcr_formatted = vcr(cart)
    src = tmp_path / "src"
    # sizes: short, exactly one block, one block + 1, several blocks, empty
    files = make_tree(src, 2, [1000, BS, BS + 1, 3 * BS + 7, 0, 20_000])
    res = write_archive([src], dev, ltfs_opts())
    assert res.status == "ok", [(f.path, f.status, f.message) for f in res.problems]
    dev.close()

    dp = cartridge_objects(cart, 1)
    ip = cartridge_objects(cart, 0)
    # the data partition keeps format's objects, then file data from b/7, then FM, index, FM, EOD
    assert dp[:7] == REFERENCE_LAYOUT
    assert dp[-1][1] == "F"
    kinds = dict(dp)
    last_fm_before = max(b for b, k in dp[:-1] if k == "F")
    dp_index = last_fm_before + 1
    assert index_run(dp, dp_index) == dp[-2][0]
    assert (cart / f"1_{dp[-1][0] + 1}_E").exists()
    # every file: its records in a row from its start block, full-size but the last; no padding
    state_ix = parse_index(records(cart, 1, dp_index, dp[-2][0]))
    assert state_ix.location == ("b", dp_index) and state_ix.previous == ("b", 5)
    seen_blocks: set[int] = set()
    by_path = {r.path: r for r in res.files}
    assert set(by_path) == set(files)
    for path, data in files.items():
        rec = by_path[path]
        node = state_ix.lookup(path)
        assert node is not None and node.length == len(data) == rec.size
        if not data:
            assert node.extents == [] and rec.block is None
            continue
        (ext,) = node.extents
        assert (ext.file_offset, ext.partition, ext.start_block, ext.byte_offset, ext.byte_count) == \
            (0, "b", rec.block, 0, len(data))
        n = -(-len(data) // BS)
        recs = records(cart, 1, ext.start_block, ext.start_block + n - 1)
        assert b"".join(recs) == data
        assert all(len(r) == BS for r in recs[:-1]) and 0 < len(recs[-1]) <= BS
        assert all(kinds[b] == "R" for b in range(ext.start_block, ext.start_block + n))
        assert not seen_blocks & set(range(ext.start_block, ext.start_block + n))
        seen_blocks |= set(range(ext.start_block, ext.start_block + n))
    assert min(seen_blocks) == 7
    # the index records: full block size except the last
    idx_recs = records(cart, 1, dp_index, dp[-2][0])
    assert all(len(r) == BS for r in idx_recs[:-1])

    # the index partition: rewritten from a/4, exactly one index, same generation as the data partition's
    assert ip[:5] == REFERENCE_LAYOUT[:5] and ip[-1] == (ip[-2][0] + 1, "F")
    assert index_run(ip, 5) == ip[-2][0]
    assert sum(1 for _, k in ip if k == "F") == 4
    ia = parse_index(records(cart, 0, 5, ip[-2][0]))
    assert ia.generation == state_ix.generation == 2
    assert ia.location == ("a", 5) and ia.previous == ("b", dp_index)
    assert {p for p, _ in ia.files()} == {p for p, _ in state_ix.files()}

    # coherency: both partitions name this generation and where its index starts; VCR is the drive's
    assert vcr(cart) == vcr_formatted          # the same load: the drive bumps it once per load
    assert (coherency(cart, 0).generation, coherency(cart, 0).block) == (2, 5)
    assert (coherency(cart, 1).generation, coherency(cart, 1).block) == (2, dp_index)
    for part in (0, 1):
        assert coherency(cart, part).volume_change_reference == vcr(cart)


def test_second_session_chains_indexes_and_bumps_the_volume_change_reference(tmp_path: Path) -> None:
    dev, cart = new_volume(tmp_path)
    make_tree(tmp_path / "one", 3, [5000, 6000])
    assert write_archive([tmp_path / "one"], dev, ltfs_opts()).status == "ok"
    first = open_volume(dev)
    dev.close()
    vcr1 = vcr(cart)
    dev = VirtualTape(cart)                    # a new load
    make_tree(tmp_path / "two", 4, [7000])
    assert write_archive([tmp_path / "two"], dev, ltfs_opts()).status == "ok"
    second = open_volume(dev)
    dev.close()
    assert vcr(cart) == vcr1 + 1
    assert second.index.generation == first.index.generation + 1 == 3
    assert second.dp.index.previous == first.dp.index.location
    assert second.ip.index.previous == second.dp.index.location
    # the first session's data-partition index is still on tape, unchanged, and still readable
    objs = cartridge_objects(cart, 1)
    old = parse_index(records(cart, 1, first.dp.block, index_run(objs, first.dp.block)))
    assert old.generation == 2 and {p for p, _ in old.files()} == {p for p, _ in first.index.files()}
    c0, c1 = coherency(cart, 0), coherency(cart, 1)
    assert (c0.generation, c0.block, c1.generation, c1.block) == (3, 5, 3, second.dp.block)
    assert c0.volume_change_reference == c1.volume_change_reference == vcr(cart)
    assert set(p for p, _ in second.index.files()) >= {"one/f0.bin", "one/sub1/f1.bin", "two/f0.bin"}


def test_periodic_checkpoint_indexes_chain(tmp_path: Path) -> None:
    """index_every_bytes: intermediate data-partition indexes, each pointing at the one before."""
    dev, cart = new_volume(tmp_path)
    make_tree(tmp_path / "src", 5, [9000] * 8)
    res = write_archive([tmp_path / "src"], dev, ltfs_opts(index_every_bytes=20_000))
    assert res.status == "ok"
    dev.close()
    objs = cartridge_objects(cart, 1)
    kinds = dict(objs)
    starts = [b + 1 for b, k in objs if k == "F" and b >= 4 and kinds.get(b + 1) == "R"
              and (cart / f"1_{b + 1}_R").read_bytes().startswith(b"<?xml")]
    chain = [parse_index(records(cart, 1, s, index_run(objs, s))) for s in starts]
    assert starts[0] == 5 and len(chain) >= 4            # format's, >= 2 checkpoints, the final one
    for prev, cur, s in zip(chain, chain[1:], starts[1:]):
        assert cur.location == ("b", s) and cur.previous == prev.location
        assert cur.generation == prev.generation + 1
        # a checkpoint never loses a file an earlier one had
        assert {p for p, _ in prev.files()} <= {p for p, _ in cur.files()}
