"""record_file.py: a session's records on disk (RecordFile, SpooledRecords) and the manifest parsed as it streams
by (parse_manifest_chunks): the same records and the same manifest bytes as the in-memory list, any split of
the bytes, the older indented layout, and damage refused as Manifest.parse refuses it."""

from __future__ import annotations

import copy
import json
import random
import tracemalloc

import pytest

from lto_archive.errors import CorruptArchive
from lto_archive.manifest import OK, FileRecord, Manifest, SessionInfo
from lto_archive import record_file
from lto_archive.record_file import RecordFile, SpooledRecords, parse_manifest_chunks


def _session() -> SessionInfo:
    return SessionInfo("20260101T000000Z-0badcafe", "lto-archive test", "tar", ["xxh128", "md5"], 524288, "op",
                       "host", ["/src/card"], "vtape:x", "LTA001L9", "LTO-9", 1, 0, 10, "2026-01-01T00:00:00.000000Z")


def _records(n: int, seed: int = 15) -> list[FileRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name = rng.choice(["A001C001.mxf", "caf\u00e9.wav", "bad-\udcff-bytes.dpx", 'quote"and\\back.txt'])
        rec = FileRecord(path=f"card/{i:05d}/{name}", size=rng.randrange(1 << 40), mtime="2026-01-01T00:00:00.5Z",
                         hashes={"xxh128": f"{rng.getrandbits(128):032x}", "md5": f"{rng.getrandbits(128):032x}"},
                         tape_file=1, partition=0, block=rng.randrange(1 << 30), offset=rng.randrange(1 << 19),
                         header_offset=rng.randrange(1 << 50))
        if i % 97 == 5:
            rec.kind, rec.hashes = "dir", {}
        if i % 89 == 7:
            rec.status, rec.message = "changed", "changed while it was read"
        if i % 131 == 3:
            rec.part = {"number": 2, "offset": 10, "length": 5, "size": 15, "last": True,
                        "file_hashes": {"xxh128": "0" * 32}}
        out.append(rec)
    return out


def _split(raw: bytes, rng: random.Random) -> list[bytes]:
    """`raw` cut at seeded random places (parts of 1 byte to 64 KiB)."""
    out, at = [], 0
    while at < len(raw):
        n = rng.choice([1, 2, 7, 100, 4096, 65536])
        out.append(raw[at:at + n])
        at += n
    return out


def test_record_file_holds_the_records_and_gives_the_same_manifest_bytes() -> None:
    recs = _records(3000)
    rf = RecordFile(recs)
    assert len(rf) == len(recs) and list(rf) == recs
    assert rf[0] == recs[0] and rf[-1] == recs[-1] and rf[10:13] == recs[10:13]
    with pytest.raises(IndexError):
        rf[len(recs)]
    assert Manifest(_session(), rf).to_json() == Manifest(_session(), recs).to_json()   # type: ignore[arg-type]
    # a change is kept once written back, and only then
    rec = rf[42]
    rec.status, rec.message = "lost", "the device failed"
    assert rf[42].status == OK
    rf[42] = rec
    recs[42] = copy.deepcopy(rec)
    assert rf[42] == rec and list(rf) == recs
    assert Manifest(_session(), rf).to_json() == Manifest(_session(), recs).to_json()   # type: ignore[arg-type]
    twin = copy.deepcopy(rf)
    assert list(twin) == recs and twin is not rf
    rf.close()


def test_record_file_keeps_records_out_of_memory() -> None:
    recs = _records(200)
    rf = RecordFile()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(40_000):
            rf.append(recs[i % 200])
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # two array('q') entries a record (16 bytes) and the write buffer (~1 MiB at most), never the records
    assert held < 40_000 * 24 + (2 << 20), held
    assert len(rf) == 40_000 and rf[39_999] == recs[39_999 % 200]
    rf.close()


def test_spooled_records_keep_the_newest_live_until_settled() -> None:
    recs = _records(50)
    for r in recs:
        r.hashes = {}
    sp = SpooledRecords(lambda r: bool(r.hashes) or r.kind != "file", keep=0)
    for r in recs:
        sp.append(r)
    sp.settle()
    first_file = next(i for i, r in enumerate(recs) if r.kind == "file")
    assert sp[first_file] is recs[first_file]          # not settled: the job's own object, still live
    for r in recs[:20]:
        r.hashes["xxh128"] = "1" * 32                  # the hash thread fills them in, in order
    sp.settle()
    assert sp[5] is not recs[5] and sp[5] == recs[5]   # on disk: a copy
    assert sp[20] is recs[20]                          # the first unsettled one stops the spool
    assert len(sp) == 50 and list(sp) == recs
    rec = sp[3]
    rec.status = "lost"
    sp[3] = rec
    sp[30] = recs[30]
    assert sp[3].status == "lost"
    sp.settle(everything=True)
    assert [r.path for r in sp] == [r.path for r in recs] and sp[-1] == recs[-1]
    recs[3].status = "lost"
    assert Manifest(_session(), sp).to_json() == Manifest(_session(), recs).to_json()   # type: ignore[arg-type]


def test_spooled_records_keep_up_to_keep_as_objects() -> None:
    """Up to `keep` settled records stay the job's own objects (no encode/decode per pass); past it, the
    oldest go to disk, in order."""
    recs = _records(50)
    sp = SpooledRecords(lambda r: True, keep=30)
    for r in recs:
        sp.append(r)
    sp.settle(everything=True)
    assert all(sp[i] is recs[i] for i in range(20, 50)) and sp[19] is not recs[19] and sp[19] == recs[19]
    assert list(sp) == recs and Manifest(_session(), sp).to_json() == Manifest(_session(), recs).to_json()  # type: ignore[arg-type]


def test_a_manifest_parsed_as_it_streams_by_is_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _records(2500)
    m = Manifest(_session(), recs)
    raw = m.to_json()
    rng = random.Random(15)
    for keep, held in ((1000, RecordFile), (10_000, list)):     # past KEEP_IN_MEMORY records: on disk
        monkeypatch.setattr(record_file, "KEEP_IN_MEMORY", keep)
        for _ in range(3):
            got = parse_manifest_chunks(_split(raw, rng), "test")
            assert isinstance(got.files, held)
            assert got.session == m.session and list(got.files) == recs
            assert got.to_json() == raw
    # what earlier versions wrote (indented, one value a line) parses to the same
    old = json.dumps(m.to_dict(), indent=2, ensure_ascii=False).encode("utf-8", "surrogateescape")
    assert list(parse_manifest_chunks(_split(old, rng), "test").files) == recs
    # a document not laid out as ours ("files" before the session) is parsed whole, the same
    doc = m.to_dict()
    moved = json.dumps({"files": doc["files"], **{k: v for k, v in doc.items() if k != "files"}},
                       ensure_ascii=False).encode("utf-8", "surrogateescape")
    assert list(parse_manifest_chunks([moved], "test").files) == recs


def test_a_damaged_manifest_is_refused_as_parse_refuses_it() -> None:
    raw = Manifest(_session(), _records(300)).to_json()
    rng = random.Random(7)
    cuts = sorted(rng.sample(range(1, len(raw) - 3), 40))
    damaged = [raw[:c] for c in cuts]                                  # cut short anywhere
    damaged += [raw[:c] + b"\x00" + raw[c + 1:] for c in cuts[::4]]    # a byte zeroed
    damaged += [raw.replace(b'"size": ', b'"size": "', 1),            # a value of the wrong type
                raw.replace(b'"xxh128", "md5"', b'"xxh128", "crc99"', 1),  # an unknown algorithm
                raw + b"trailing", b"", b"[]", b'{"format": "something else", "files": []}',
                raw.replace(b"},\n {", b"}\n {", 1)]                 # the list broken
    for bad in damaged:
        try:
            Manifest.parse(bad, "x")
        except CorruptArchive:
            old_refuses = True
        else:
            old_refuses = False
        if not old_refuses:
            continue      # (a zero inside a name or a hash is still a manifest)
        with pytest.raises(CorruptArchive) as info:
            parse_manifest_chunks(_split(bad, rng), "x")
        assert info.value.message.startswith("the manifest x is damaged: it cannot be parsed")
    deep = raw.replace(b'"part": null', b'"part": ' + b'{"a": ' * 30 + b"1" + b"}" * 30, 1)
    with pytest.raises(CorruptArchive):
        parse_manifest_chunks([deep], "x")
