"""The session's metadata files made chunk by chunk (jobs/spool.py) are the bytes the whole-document
builders make: names, order and contents (10^6-file jobs stream them; the tape's bytes do not change)."""

from __future__ import annotations

import random

from lto_archive.jobs.spool import Spooled, session_file_chunks
from lto_archive.manifest import FileRecord, Manifest, SessionInfo
from lto_archive.paperwork import session_files


def _manifest(n: int = 3000, seed: int = 15, plain: bool = False) -> Manifest:
    rng = random.Random(seed)
    info = SessionInfo("20260101T000000Z-0000abcd", "lto-archive test", "tar", ["xxh128", "md5", "xxh3"], 524288,
                       "op", "host", ["/src"], "vtape:/t", None, "LTO-9", 0, 0, 0, "2026-01-01T00:00:00.000000Z",
                       production=rng.choice(["", "prod"]))
    files = []
    for i in range(n):
        name = ("A001/CLIP/frame." if plain else rng.choice(["a/b", "b\\c", "d\ne", "x\udcff y", "z\rq", "plain"])) + f"{i}"
        hashes = {"xxh128": f"{rng.getrandbits(128):032x}", "md5": f"{rng.getrandbits(128):032x}",
                  "xxh3": f"{rng.getrandbits(64):016x}"} if rng.random() < 0.95 else {"md5": "00"}
        part = {"file_hashes": {"md5": "11" * 16}} if rng.random() < 0.05 else None
        files.append(FileRecord(name, rng.choice(["file"] * 8 + ["dir", "symlink"]), rng.randint(0, 10**9),
                                "2026-01-01T00:00:00.000000Z", 0o644, hashes,
                                rng.choice(["ok"] * 5 + ["changed", "lost"]), rng.choice(["", "why"]), part=part))
    return Manifest(info, files)


def test_session_file_chunks_are_session_files() -> None:
    m = _manifest()
    whole = session_files(m)
    parts = [(name, b"".join(make())) for name, make in session_file_chunks(m)]
    assert [n for n, _ in parts] == list(whole)
    assert dict(parts) == whole


def test_small_parts_join_to_the_same_lists() -> None:
    m = _manifest()
    lists = m.checksum_lists()
    for algo, name in m.checksum_names():
        assert b"".join(m.checksum_chunks(algo, lines=7)) == lists[name]
    assert b"".join(m.copy_log_chunks()).decode("utf-8", "surrogateescape") == m.copy_log_text()


def test_manifest_parts_join_to_the_same_json() -> None:
    """The manifest's JSON made a part of records at a time: whatever the part size, the same bytes, one
    record a line, and they are the manifest's to_dict."""
    import json
    for n in (0, 1, 3000):
        m = _manifest(n)
        whole = m.to_json()
        assert b"".join(m.json_chunks(chunk_size=700)) == b"".join(m.json_chunks(chunk_size=1)) == whole
        assert json.loads(whole.decode("utf-8", "surrogateescape")) == m.to_dict()
        assert whole.count(b"\n") == max(n, 1) + 2     # the head, a line a record (or an empty one), the end


def test_spooled_gives_its_bytes_and_size_again() -> None:
    data = [bytes([i]) * (i * 1000) for i in range(40)]
    with Spooled(iter(data)) as sp:
        assert sp.size == sum(map(len, data))
        assert b"".join(sp.chunks()) == b"".join(data)
        assert b"".join(sp.chunks()) == b"".join(data)      # again, from the start


class _CountingWriter:
    """A FormatWriter's add_chunks that only counts what it is given (as a tape would take it)."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}

    def add_chunks(self, name: str, chunks, mtime_ns: int, mode: int = 0o644, size: int | None = None):  # type: ignore[no-untyped-def]
        got = sum(len(c) for c in chunks)
        assert size is None or size == got
        self.sizes[name] = got


def _metadata_peak(n: int) -> tuple[int, int]:
    """tracemalloc's peak over what `n` records hold, while their session files go to a writer; and
    the bytes written."""
    import tracemalloc
    from lto_archive.jobs.spool import add_member
    m = _manifest(n, plain=True)
    writer = _CountingWriter()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for name, make in session_file_chunks(m):
            add_member(writer, name, make, 0)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, sum(writer.sizes.values())


def test_metadata_members_are_streamed_not_held() -> None:
    """The manifest, copy log and checksum lists reach the writer a few chunks at a time: from 10,000
    to 40,000 files they grow by ~15 MB, what is held to write them by far less (building the
    manifest's chunks into a list first, as before, held all of them)."""
    peak1, size1 = _metadata_peak(10_000)
    peak2, size2 = _metadata_peak(40_000)
    assert size2 - size1 > 12 << 20
    assert peak2 - peak1 < (size2 - size1) // 4, (peak1, peak2, size1, size2)


def test_a_spool_that_fails_falls_back_to_memory(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A temporary folder that is full (ENOSPC part-way) costs memory, never the session's metadata."""
    import errno
    import tempfile
    from lto_archive.jobs import spool

    class Full:
        def __init__(self, *a, **k) -> None:  # type: ignore[no-untyped-def]
            pass

        def write(self, data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            pass

    class Bytes:
        def __init__(self) -> None:
            self.got: dict[str, bytes] = {}

        def add_chunks(self, *a, **k):  # type: ignore[no-untyped-def]
            raise AssertionError("not from a failed spool")

        def add_bytes(self, name: str, data: bytes, mtime_ns: int) -> None:
            self.got[name] = data

    m = _manifest(3000)
    monkeypatch.setattr(tempfile, "TemporaryFile", Full)
    assert spool.spooled(m.json_chunks) is None
    writer = Bytes()
    for name, make in session_file_chunks(m):
        spool.add_member(writer, name, make, 0)
    assert writer.got == session_files(m)


def test_session_files_are_made_once_and_give_the_same_bytes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SessionFiles (the commit of a write) spools each session file once: the same names, order and bytes as
    session_file_chunks, again and again, their SHA-256 the bytes' own; the manifest's JSON is made once."""
    import hashlib
    from lto_archive.jobs.spool import SessionFiles, add_member
    m = _manifest(2000)
    whole = session_files(m)
    made = 0
    real = m.json_chunks

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        nonlocal made
        made += 1
        return real(*a, **k)

    monkeypatch.setattr(m, "json_chunks", counted)
    with SessionFiles(m) as files:
        for _ in range(2):
            assert [(n, b"".join(make())) for n, make in files.items()] == list(whole.items())
        name = next(n for n in whole if n.endswith("/manifest.json"))
        assert files.manifest.sha256() == hashlib.sha256(whole[name]).hexdigest()
        writer = _CountingWriter()
        add_member(writer, "m", files.manifest, 0)
        assert writer.sizes["m"] == len(whole[name])
    assert made == 1


def test_session_files_without_a_spool_are_made_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A temporary folder that cannot take the spool: each use makes the bytes again (the same bytes)."""
    import hashlib
    import tempfile
    from lto_archive.jobs.spool import SessionFiles

    def full(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    m = _manifest(500)
    whole = session_files(m)
    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    with SessionFiles(m) as files:
        assert [(n, b"".join(make())) for n, make in files.items()] == list(whole.items())
        name = next(n for n in whole if n.endswith("/copy-log.txt"))
        assert files.copy_log.sha256() == hashlib.sha256(whole[name]).hexdigest()
