"""AXF-style archives written by the write job: verify, list, restore and scan give every file back
byte for byte, for any names, sizes and block sizes; sessions append and the volume footer keeps up."""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.formats.axf import AxfReader, scan_volume
from lto_archive.formats.axf.structures import FrameType
from lto_archive.formats.registry import get_format
from lto_archive.formats.tapefile import TapeFileReader
from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.streaming import RecordStream
from lto_archive.tape import VirtualTape, create_vtape
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
        rel = "/".join(draw(st.lists(name, min_size=depth, max_size=depth)))
        if any(rel == k or rel.startswith(k + "/") or k.startswith(rel + "/") for k in out):
            continue
        if draw(st.integers(0, 9)) == 0:
            out[rel] = None
            continue
        size = draw(st.one_of(st.sampled_from([0, 1, 511, 512, 513, rs - 512, rs - 1, rs, rs + 1, 2 * rs]),
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


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(jobs())
def test_write_verify_restore_scan_round_trip(sessions) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tape = create_vtape(tmp / "tape", "LTO-9", capacity=1024**3)
        sources = []
        for i, (rs, tree) in enumerate(sessions):
            src = tmp / "src" / f"s{i}"
            build(src, tree)
            sources.append(src)
            result = write_archive([src], tape, WriteOptions(format="axf", record_size=rs, chunk_size=2 * rs))
            assert result.status == "ok"
            assert result.manifest.session.tape_file == i
        nfiles = [sum(1 for v in tree.values() if v is not None) for _rs, tree in sessions]

        ver = verify_tape(tape)
        assert ver.status == "ok", ver.to_dict()
        assert [len(t.verified) for t in ver.tape_files] == nfiles

        listed = list_tape(tape)
        for t, src in zip(listed.tape_files, sources):
            assert {m.path for m in t.members} == {src.name} | {f"{src.name}/{k}" for k in tree_snapshot(src)}

        res = restore_tape(tape, tmp / "restore")
        assert res.status == "ok", res.to_dict()
        scanned = scan_volume(tape, dest=tmp / "scan")
        assert scanned.status == "ok", scanned.to_dict()
        assert all(f.proof == "file footer" and f.restored for f in scanned.files)
        for src in sources:
            want = files_of(tree_snapshot(src))
            assert files_of(tree_snapshot(tmp / "restore" / src.name)) == want
            assert files_of(tree_snapshot(tmp / "scan" / src.name)) == want
        tape.close()


@pytest.mark.parametrize("rs,chunk", [(4 * KiB, 8 * KiB), (16 * KiB, 16 * KiB), (8 * KiB, 40 * KiB)])
def test_sizes_around_records_and_chunks(tmp_path: Path, rs: int, chunk: int) -> None:
    chunk_size = max(1, chunk // rs) * rs
    sizes = sorted({0, 1, 511, 512, rs - 512, rs - 1, rs, rs + 1, chunk_size - 1, chunk_size, chunk_size + 1,
                    2 * chunk_size + 512, 7 * chunk_size + 3})
    src = tmp_path / "card"
    src.mkdir()
    for i, size in enumerate(sizes):
        (src / f"{i:02d}_{size}.bin").write_bytes(os.urandom(size))
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    result = write_archive([src], tape, WriteOptions(format="axf", record_size=rs, chunk_size=chunk))
    assert result.status == "ok"
    # every file's data begins on a record boundary, right after its header's record
    for f in result.files:
        assert f.block == f.header_offset // rs
    ver = verify_tape(tape)
    assert ver.status == "ok" and len(ver.tape_files[0].verified) == len(sizes)
    assert restore_tape(tape, tmp_path / "restore").status == "ok"
    assert files_of(tree_snapshot(tmp_path / "restore" / "card")) == files_of(tree_snapshot(src))
    tape.close()


def test_names_xml_cannot_hold_round_trip(tmp_path: Path) -> None:
    """Newlines, control characters and bytes that are not UTF-8: stored as the file system had them."""
    src = tmp_path / "card"
    src.mkdir()
    raw_names = [b"new\nline.bin", b"ctl\x01\x1f.bin", b"latin1-\xe9t\xe9.bin", "日本語.mov".encode()]
    for i, n in enumerate(raw_names):
        with open(os.path.join(os.fsencode(src), n), "wb") as f:
            f.write(bytes([i]) * (100 + i))
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    assert write_archive([src], tape, WriteOptions(format="axf", record_size=4 * KiB)).status == "ok"
    # (the job's manifest.json cannot hold a name that is not UTF-8 - for TAR alike - so `verify`
    # has nothing to compare with; the AXF file footers still prove every file)
    scanned = scan_volume(tape, dest=tmp_path / "r2")
    assert scanned.status == "ok" and {f.path for f in scanned.files} >= {"card/" + os.fsdecode(n) for n in raw_names}
    restore_tape(tape, tmp_path / "r1")
    for dest in (tmp_path / "r1", tmp_path / "r2"):
        assert sorted(os.listdir(os.fsencode(dest / "card"))) == sorted(raw_names)
        for i, n in enumerate(raw_names):
            assert Path(os.fsdecode(os.path.join(os.fsencode(dest / "card"), n))).read_bytes() == bytes([i]) * (100 + i)
    tape.close()


def _tape_file_reader(tape: VirtualTape, n: int) -> AxfReader:
    tape.locate(0, 0)
    if n:
        tape.space_filemarks(n)
    r = AxfReader(TapeFileReader(tape))
    for m in r:
        if m.kind == "file":
            r.read_data(m)
    assert r.ended_cleanly
    return r


def test_object_header_lists_the_plan_and_sessions_append_with_a_cumulative_volume_footer(tmp_path: Path) -> None:
    cards = []
    for k in range(3):
        c = tmp_path / f"card{k}"
        (c / "sub").mkdir(parents=True)
        (c / "sub" / "a.bin").write_bytes(os.urandom(1000 + k))
        (c / "b.bin").write_bytes(b"")
        cards.append(c)
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3, barcode="AXF001L9")
    for c in cards:
        assert write_archive([c], tape, WriteOptions(format="axf", record_size=8 * KiB)).status == "ok"
    readers = [_tape_file_reader(tape, n) for n in range(3)]
    first = readers[0]
    assert first.signature is not None and first.volume_header is not None
    ident = first.volume_header.identity
    assert ident.sequence == 1 and ident.first_tape_file == 0 and ident.label == "AXF001L9"
    assert ident.record_size == 8 * KiB and ident.collection_uuid and ident.previous_volume == ""
    for n, r in enumerate(readers):
        if n:
            assert r.signature is None and r.volume_header is None      # only the first tape file opens the volume
        oh = r.objects[0]
        assert oh.volume is not None and oh.volume.volume_uuid == ident.volume_uuid
        assert oh.tape_file == n and oh.part == 1 and oh.continued_from == ""
        assert [(p.kind, p.path, p.size) for p in oh.planned] == [
            ("dir", f"card{n}", 0), ("file", f"card{n}/b.bin", 0), ("dir", f"card{n}/sub", 0),
            ("file", f"card{n}/sub/a.bin", 1000 + n)]
        assert oh.session["algorithms"] == "xxh128,md5" and oh.sources == [str(cards[n].resolve())]
        vf = r.volume_footer
        assert vf.identity == ident and vf.complete and not vf.continues and vf.tape_file == n
        assert [o.tape_file for o in vf.objects] == list(range(n + 1))    # supersedes the previous footer
        assert [o.object_uuid for o in vf.objects] == [rr.objects[0].object_uuid for rr in readers[:n + 1]]
        of = r.object_footers[0]
        assert [e.path for e in of.entries][0] == ".lto-archive/session.json"
        assert [e.path for e in of.entries][-1] == ".lto-archive/manifest.json"
        a = next(e for e in of.entries if e.path.endswith("a.bin"))
        assert a.size == 1000 + n and a.data_offset % (8 * KiB) == 0 and set(a.checksums) == {"xxh128", "md5"}
    tape.close()


def test_appending_when_the_previous_volume_footer_is_lost(tmp_path: Path) -> None:
    c = tmp_path / "card"
    c.mkdir()
    (c / "a.bin").write_bytes(b"a" * 5000)
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    write_archive([c], tape, WriteOptions(format="axf", record_size=4 * KiB))
    tape.seek_eod()
    last = tape.position().block - 2          # the last record of tape file 0: its volume footer
    tape.close()
    rec = tmp_path / "tape" / f"0_{last}_R"
    rec.write_bytes(bytes(len(rec.read_bytes())))
    tape = VirtualTape(tmp_path / "tape")
    write_archive([c], tape, WriteOptions(format="axf", record_size=4 * KiB))
    r = _tape_file_reader(tape, 1)
    ident0 = scan_volume(tape).volumes[1]      # the volume header of tape file 0
    assert r.volume_footer.identity.volume_uuid == ident0["volume_uuid"]   # identity from the volume header
    assert not r.volume_footer.complete and [o.tape_file for o in r.volume_footer.objects] == [1]
    tape.close()


def test_a_tape_that_begins_with_tar_gets_a_new_axf_volume(tmp_path: Path) -> None:
    c = tmp_path / "card"
    c.mkdir()
    (c / "a.bin").write_bytes(b"a" * 5000)
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    write_archive([c], tape, WriteOptions(format="tar", record_size=4 * KiB))
    write_archive([c], tape, WriteOptions(format="axf", record_size=4 * KiB))
    write_archive([c], tape, WriteOptions(format="axf", record_size=4 * KiB))
    r1, r2 = _tape_file_reader(tape, 1), _tape_file_reader(tape, 2)
    assert r1.signature is not None and r1.volume_header.identity.first_tape_file == 1
    assert r2.signature is None and r2.volume_footer.identity == r1.volume_header.identity
    assert [o.tape_file for o in r2.volume_footer.objects] == [1, 2] and r2.volume_footer.complete
    assert verify_tape(tape).status == "ok"     # TAR and AXF tape files side by side
    rep = scan_volume(tape)
    assert rep.status == "ok" and rep.notes == ["tape file 0 is tar, not AXF-style: skipped"]
    assert [o.tape_file for o in rep.objects] == [1, 2] and rep.tape_files == 3
    tape.close()


def test_writer_api_metadata_and_a_fresh_volume(tmp_path: Path) -> None:
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    stream = RecordStream(tape, 4 * KiB)
    w = get_format("axf").writer(stream, metadata={"production": "Feature X", "reel": "A001"})
    w.add_bytes("notes.txt", b"hello", 1_700_000_000_123_456_789, 0o600)
    st_ = SimpleNamespace(st_mode=0o100644, st_mtime_ns=5, st_uid=0, st_gid=0, st_size=0)
    w.add_symlink("latest", "notes.txt", st_)
    w.close()
    stream.close()
    tape.write_filemarks(1)
    r = _tape_file_reader(tape, 0)
    assert r.objects[0].metadata == {"production": "Feature X", "reel": "A001"}
    assert r.objects[0].planned is None           # no plan given: the footer alone lists the files
    assert [(e.path, e.kind) for e in r.object_footers[0].entries] == [("notes.txt", "file"), ("latest", "symlink")]
    res = scan_volume(tape, dest=tmp_path / "d")
    assert res.status == "ok"
    assert (tmp_path / "d" / "notes.txt").read_bytes() == b"hello"
    assert os.stat(tmp_path / "d" / "notes.txt").st_mtime_ns == 1_700_000_000_123_456_789
    assert os.readlink(tmp_path / "d" / "latest") == "notes.txt"
    tape.close()


def test_cli_write_verify_ls_and_scan(tmp_path: Path) -> None:
    from tests.bad_input_helpers import make_card, new_tape, run
    card = make_card(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    run("write", card, "--device", f"vtape:{tape}", "--format", "axf", "--block-size", "16K",
        "--log-dir", tmp_path / "logs", "--no-progress", check=0)
    doc = json.loads(run("verify", "--device", f"vtape:{tape}", "--json", check=0).stdout)
    assert doc["tape_files"][0]["verified"] == 3
    assert "card/a.bin" in run("ls", "--device", f"vtape:{tape}", check=0).stdout
    doc = json.loads(run("axf", "scan", "--device", f"vtape:{tape}", "--json", check=0).stdout)
    # the card, the job's own members (session, two checksum lists, copy log, paperwork, custody record,
    # manifest) and the card's ASC MHL history (generation + chain)
    assert doc["status"] == "ok" and doc["totals"]["proven"] == 3 + 7 + 2
    out = run("axf", "scan", "--device", f"vtape:{tape}", "--restore", tmp_path / "dest", check=0).stdout
    assert "12 of 12 files proven" in out and "12 restored" in out
    assert (tmp_path / "dest" / "card" / "a.bin").read_bytes() == (card / "a.bin").read_bytes()


def test_frame_types_in_tape_order(tmp_path: Path) -> None:
    """The grammar, as a reader in twenty years will meet it."""
    from tests.formats.test_axf_damage import frames_on_cartridge
    c = tmp_path / "card"
    c.mkdir()
    (c / "a.bin").write_bytes(os.urandom(10000))
    (c / "e.bin").write_bytes(b"")
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    write_archive([c], tape, WriteOptions(format="axf", record_size=4 * KiB))
    tape.close()
    seq = [(t.name, off == 0) for _b, off, t, _s, _tf in frames_on_cartridge(tmp_path / "tape")]
    F = FrameType
    assert seq == [
        (F.VOLUME_SIGNATURE.name, True), (F.VOLUME_HEADER.name, True), (F.OBJECT_HEADER.name, True),
        (F.FILE_HEADER.name, True),           # session.json: the object header is the volume's own record
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # ... card (dir)
        (F.FILE_HEADER.name, False),                                    # card/a.bin
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False), (F.FILE_FOOTER.name, False),   # card/e.bin (empty)
        (F.FILE_HEADER.name, False),                                    # the card's new ASC MHL generation
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # ... and its ascmhl_chain.xml
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # checksums.xxh128
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # checksums.md5
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # copy-log.txt
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # paperwork.7z
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # custody.jsonl
        (F.FILE_FOOTER.name, True), (F.FILE_HEADER.name, False),        # manifest.json
        (F.FILE_FOOTER.name, True),
        (F.OBJECT_FOOTER.name, True), (F.VOLUME_FOOTER.name, True)]
