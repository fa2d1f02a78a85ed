"""The record stream: exact records, hashes of exactly the file bytes, bounded pool, device failures."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from hypothesis import given, settings, strategies as st

from lto_archive.errors import EndOfData, EndOfMedium, UsageError
from lto_archive.generations import by_name
from lto_archive.hashing import MultiHasher, checksum_line, parse_algorithms
from lto_archive.streaming import RecordStream, check_record_size
from lto_archive.tape import NullTape, create_vtape


def _records(tape) -> list[bytes]:
    """Records of the first tape file (up to a filemark or end of data)."""
    tape.rewind()
    out = []
    try:
        while rec := tape.read_record():
            out.append(rec)
    except EndOfData:
        pass
    return out


@settings(max_examples=30, deadline=None)
@given(parts=st.lists(st.binary(max_size=20000), max_size=8),
       record_size=st.sampled_from([4096, 8192, 65536]),
       chunk_records=st.integers(1, 4))
def test_any_stream_becomes_whole_records(tmp_path_factory, parts, record_size, chunk_records):
    tape = create_vtape(tmp_path_factory.mktemp("t") / "c", by_name("LTO-9"), capacity=64 << 20)
    stream = RecordStream(tape, record_size, chunk_size=record_size * chunk_records, chunks=2)
    hashers = []
    for i, p in enumerate(parts):
        if i % 2:
            stream.write(p)
        else:
            h = MultiHasher(["md5"])
            copied, err = stream.copy_from(io.BytesIO(p), len(p), h)
            assert (copied, err) == (len(p), None)
            hashers.append((p, h))
    stats = stream.close()
    tape.write_filemarks(1)
    data = b"".join(parts)
    recs = _records(tape)
    assert all(len(r) == record_size for r in recs)
    assert b"".join(recs) == data + bytes(-len(data) % record_size)
    assert stats.bytes_written == len(data) + (-len(data) % record_size)
    for p, h in hashers:
        assert h.hexdigests()["md5"] == hashlib.md5(p).hexdigest()
    tape.close()


def test_fan_out_keeps_the_good_device_when_one_fails(tmp_path):
    good = create_vtape(tmp_path / "good", by_name("LTO-9"), capacity=64 << 20)
    bad = create_vtape(tmp_path / "bad", by_name("LTO-9"), capacity=64 << 20)
    bad.faults.end_of_medium_at = 3 * 4096
    stream = RecordStream([good, bad], 4096, chunk_size=8192, chunks=2)
    payload = os.urandom(40000)
    stream.write(payload)
    stream.close()   # one device is still alive: no exception
    assert isinstance(stream.status[1].error, EndOfMedium)
    assert stream.status[0].error is None
    assert stream.status[1].records_written == 3
    assert b"".join(_records(good)).startswith(payload)
    assert b"".join(_records(bad)) == payload[:3 * 4096]   # what reached the failing tape is intact
    good.close(), bad.close()


def test_the_last_device_failing_raises_to_the_producer(tmp_path):
    tape = create_vtape(tmp_path / "c", by_name("LTO-9"), capacity=64 << 20)
    tape.faults.end_of_medium_at = 4096
    stream = RecordStream(tape, 4096, chunk_size=4096, chunks=2)
    with pytest.raises(EndOfMedium):
        for _ in range(50):
            stream.write(bytes(4096))
        stream.close()
    stream.abort()
    tape.close()


def test_short_source_is_reported_not_hidden():
    stream = RecordStream(NullTape(), 4096)
    copied, err = stream.copy_from(io.BytesIO(b"x" * 10), 100, None)
    assert (copied, err) == (10, None)
    stream.close()


@pytest.mark.parametrize("size", [0, 1000, 4095, 2 * 1024 * 1024, 3 << 20])
def test_record_size_limits(size):
    with pytest.raises(UsageError):
        check_record_size(size)


def test_hash_names_and_checksum_lines():
    assert parse_algorithms("XXH128, md5,md5") == ("xxh128", "md5")
    with pytest.raises(UsageError):
        parse_algorithms("crc32")
    assert checksum_line("md5", "ab", "a\\b") == "\\ab  a\\\\b\n"
    assert checksum_line("xxh3", "ab", "x y") == "XXH3 (x y) = ab\n"
    assert checksum_line("xxh128", "ab", "new\nline") is None


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.one_of(st.binary(min_size=1, max_size=9000), st.binary(min_size=1, max_size=20000).map(
           lambda b: ("copy", b)), st.just("end"), st.just("fm")), max_size=30),
       record_size=st.sampled_from([4096, 8192]), chunk_records=st.integers(1, 4))
def test_short_records_and_filemarks_keep_addresses_exact(tmp_path_factory, ops, record_size, chunk_records):
    """end_record/filemark: every slot is one tape address; only real bytes reach the tape. Short records take
    only their bytes in a chunk (the records after one start where it ends), and every file copied in (then its
    record ended, as LTFS does) is hashed exactly."""
    tape = create_vtape(tmp_path_factory.mktemp("t") / "c", by_name("LTO-9"), capacity=64 << 20)
    stream = RecordStream(tape, record_size, chunk_size=record_size * chunk_records, chunks=2)
    expected: list[bytes] = []
    pending = bytearray()
    hashed = []

    def cut() -> None:
        for i in range(0, len(pending), record_size):
            expected.append(bytes(pending[i:i + record_size]))
        pending.clear()

    for op in ops:
        if op == "end":
            stream.end_record()
            cut()
        elif op == "fm":
            stream.filemark()
            cut()
            expected.append(b"")
        elif isinstance(op, tuple):
            h = MultiHasher(["md5"])
            assert stream.copy_from(io.BytesIO(op[1]), len(op[1]), h) == (len(op[1]), None)
            hashed.append((op[1], h))
            pending += op[1]
            stream.end_record()       # as LTFS ends every file's last record
            cut()
        else:
            stream.write(op)
            pending += op
        assert stream.record_number == len(expected) + len(pending) // record_size
    stream.end_record()
    cut()
    stream.close()
    tape.rewind()
    assert [tape.read_record() for _ in expected] == expected
    assert tape.position().eod
    assert all(h.hexdigests()["md5"] == hashlib.md5(data).hexdigest() for data, h in hashed)
    tape.close()


def test_many_short_records_go_in_few_chunks(tmp_path, monkeypatch) -> None:
    """100 files of 100 bytes, each ending its record (LTFS), are handed to the device threads in a few
    chunks, not one chunk for every `chunk_records` records as when each took a whole record's room."""
    handed = []
    original = RecordStream._submit

    def submit(self, final: bool = False) -> None:  # type: ignore[no-untyped-def]
        handed.append(self._cur.fill)
        original(self, final)

    monkeypatch.setattr(RecordStream, "_submit", submit)
    tape = create_vtape(tmp_path / "c", by_name("LTO-9"), capacity=64 << 20)
    stream = RecordStream(tape, 4096, chunk_size=2 * 4096, chunks=2)
    for i in range(100):
        stream.write(bytes([i]) * 100)
        stream.end_record()
    stream.close()
    tape.rewind()
    assert [tape.read_record() for _ in range(100)] == [bytes([i]) * 100 for i in range(100)]
    assert len(handed) <= 100 * 100 // 4096 + 2, len(handed)
    tape.close()
