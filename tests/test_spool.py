"""The session's metadata files made chunk by chunk (jobs/spool.py) are the bytes the whole-document
builders make: names, order and contents (10^6-file jobs stream them; the tape's bytes do not change)."""

from __future__ import annotations

import random

from lto_archive.jobs.spool import Spooled, session_file_chunks
from lto_archive.manifest import FileRecord, Manifest, SessionInfo
from lto_archive.paperwork import session_files


def _manifest(n: int = 3000, seed: int = 15) -> Manifest:
    rng = random.Random(seed)
    info = SessionInfo("20260101T000000Z-0000abcd", "lto-archive test", "tar", ["xxh128", "md5", "xxh3"], 524288,
                       "op", "host", ["/src"], "vtape:/t", None, "LTO-9", 0, 0, 0, "2026-01-01T00:00:00.000000Z",
                       production=rng.choice(["", "prod"]))
    files = []
    for i in range(n):
        name = rng.choice(["a/b", "b\\c", "d\ne", "x\udcff y", "z\rq", "plain"]) + f"{i}"
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
    parts = [(name, b"".join(chunks)) for name, chunks in session_file_chunks(m)]
    assert [n for n, _ in parts] == list(whole)
    assert dict(parts) == whole


def test_small_parts_join_to_the_same_lists() -> None:
    m = _manifest()
    lists = m.checksum_lists()
    for algo, name in m.checksum_names():
        assert b"".join(m.checksum_chunks(algo, lines=7)) == lists[name]
    assert b"".join(m.copy_log_chunks()).decode("utf-8", "surrogateescape") == m.copy_log_text()


def test_spooled_gives_its_bytes_and_size_again() -> None:
    data = [bytes([i]) * (i * 1000) for i in range(40)]
    with Spooled(iter(data)) as sp:
        assert sp.size == sum(map(len, data))
        assert b"".join(sp.chunks()) == b"".join(data)
        assert b"".join(sp.chunks()) == b"".join(data)      # again, from the start
