"""Property: any tree written with write_archive verifies and restores byte for byte."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import create_vtape
from tests.tape_helpers import tree_snapshot

KiB = 1024
ALPHABET = "abcXYZ019 :%-_.éèüñÅ日本語"

name = st.text(ALPHABET, min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
record_size = st.integers(8, 2048).map(lambda k: k * 512)          # 4K .. 1M, multiples of 512


@st.composite
def trees(draw, rs: int) -> dict[str, tuple[int, int] | None]:
    """rel path -> (size, seed) for files, None for (empty) folders."""
    out: dict[str, tuple[int, int] | None] = {}
    for _ in range(draw(st.integers(1, 5))):
        depth = draw(st.integers(1, 3))
        parts = draw(st.lists(name, min_size=depth, max_size=depth))
        rel = "/".join(parts)
        # a path may not be both a folder and a file
        if any(rel == k or rel.startswith(k + "/") or k.startswith(rel + "/") for k in out):
            continue
        if draw(st.integers(0, 9)) == 0:
            out[rel] = None
            continue
        size = draw(st.one_of(st.sampled_from([0, 1, 511, 512, 513, rs - 512, rs - 1, rs, rs + 1, 2 * rs,
                                               3 * rs - 1024]),
                              st.integers(0, 3 * rs)))
        out[rel] = (max(0, size), draw(st.integers(0, 2**32)))
    return out


def build(root: Path, tree: dict) -> None:
    root.mkdir(parents=True)
    for rel, spec in tree.items():
        p = root / rel
        if spec is None:
            p.mkdir(parents=True, exist_ok=True)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        size, seed = spec
        p.write_bytes(random.Random(seed).randbytes(size))


def files_of(snapshot: dict) -> dict:
    return {k: v[:2] for k, v in snapshot.items()}


@st.composite
def jobs(draw):
    sessions = []
    for _ in range(draw(st.integers(1, 3))):
        rs = draw(record_size)
        sessions.append((rs, draw(trees(rs))))
    return sessions


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(jobs())
def test_write_verify_restore_round_trip(sessions) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tape = create_vtape(tmp / "tape", "LTO-9", capacity=1024**3)
        sources = []
        for i, (rs, tree) in enumerate(sessions):
            src = tmp / "src" / f"s{i}"
            build(src, tree)
            sources.append(src)
            result = write_archive([src], tape, WriteOptions(record_size=rs))
            assert result.status == "ok"
            assert result.manifest.session.tape_file == i
        nfiles = [sum(1 for v in tree.values() if v is not None) for _rs, tree in sessions]

        ver = verify_tape(tape)
        assert ver.status == "ok", ver.to_dict()
        assert [len(t.verified) for t in ver.tape_files] == nfiles
        assert all(t.manifest is not None for t in ver.tape_files)

        listed = list_tape(tape)
        for t, src in zip(listed.tape_files, sources):
            want = {src.name} | {f"{src.name}/{k}" for k in tree_snapshot(src)}
            assert {m.path for m in t.members} == want

        dest = tmp / "restore"
        res = restore_tape(tape, dest)
        assert res.status == "ok", res.to_dict()
        for src in sources:
            assert files_of(tree_snapshot(dest / src.name)) == files_of(tree_snapshot(src))
        assert sorted(p.name for p in dest.iterdir()) == sorted([s.name for s in sources] + [".lto-archive"])
        tape.close()


@pytest.mark.parametrize("rs,chunk", [(4 * KiB, 8 * KiB), (16 * KiB, 16 * KiB), (8 * KiB, 40 * KiB)])
def test_files_larger_than_the_chunk_and_on_boundaries(tmp_path: Path, rs: int, chunk: int) -> None:
    chunk_size = max(1, chunk // rs) * rs        # what RecordStream makes of it
    sizes = sorted({0, 1, 511, 512, rs - 512, rs - 1, rs, rs + 1, chunk_size - 512, chunk_size - 1, chunk_size,
                    chunk_size + 1, 2 * chunk_size, 2 * chunk_size + 512, 5 * chunk_size - 512, 7 * chunk_size + 3})
    src = tmp_path / "card"
    src.mkdir()
    for i, size in enumerate(sizes):
        (src / f"{i:02d}_{size}.bin").write_bytes(os.urandom(size))
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    result = write_archive([src], tape, WriteOptions(record_size=rs, chunk_size=chunk))
    assert result.status == "ok"
    assert {f.path: f.size for f in result.files} == {f"card/{i:02d}_{s}.bin": s for i, s in enumerate(sizes)}
    # members start wherever the previous one ended: some of them exactly on record starts
    ver = verify_tape(tape)
    assert ver.status == "ok" and len(ver.tape_files[0].verified) == len(sizes)
    res = restore_tape(tape, tmp_path / "restore")
    assert res.status == "ok"
    assert files_of(tree_snapshot(tmp_path / "restore" / "card")) == files_of(tree_snapshot(src))


def whole_seconds(src: Path) -> None:
    """mtimes without a fraction: no pax header, so the header layout is the same every time."""
    for p in (src / "a.bin", src):
        os.utime(p, ns=(1_600_000_000 * 10**9, 1_600_000_000 * 10**9))


@pytest.mark.parametrize("rs", [4 * KiB, 8 * KiB])
def test_member_ending_exactly_on_a_chunk_boundary(tmp_path: Path, rs: int) -> None:
    """Sizes chosen so that a file's data ends exactly where a chunk (and a record) ends."""
    chunk = 2 * rs
    src = tmp_path / "card"
    src.mkdir()
    # session.json header + data come first; find how far the stream is before our file by writing once
    probe = create_vtape(tmp_path / "probe", "LTO-9", capacity=1024**3)
    (src / "a.bin").write_bytes(b"")
    whole_seconds(src)
    first = write_archive([src], probe, WriteOptions(record_size=rs, chunk_size=chunk))
    rec = next(f for f in first.manifest.files if f.path == "card/a.bin")
    header_end = rec.header_offset + 512          # short ASCII name: one ustar header
    for k in (1, 2, 5):
        size = k * chunk - header_end % chunk + chunk
        (src / "a.bin").write_bytes(os.urandom(size))
        whole_seconds(src)
        tape = create_vtape(tmp_path / f"tape{k}", "LTO-9", capacity=1024**3)
        result = write_archive([src], tape, WriteOptions(record_size=rs, chunk_size=chunk))
        f = next(f for f in result.files if f.path == "card/a.bin")
        assert (f.header_offset + 512 + size) % chunk == 0
        res = restore_tape(tape, tmp_path / f"restore{k}")
        assert res.status == "ok" and res.tape_files[0].verified == ["card/a.bin"]
        assert (tmp_path / f"restore{k}" / "card" / "a.bin").read_bytes() == (src / "a.bin").read_bytes()
