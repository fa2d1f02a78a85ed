"""scan.SourceEntry keeps the stat packed: what it gives back is the stat os.lstat gave."""

from __future__ import annotations

import os
import random
from pathlib import Path

from lto_archive.scan import pack_stat, scan_sources, unpack_stat


def _same(a: os.stat_result, b: os.stat_result, skip: str = "-") -> None:
    for f in dir(a):
        if f.startswith("st_") and not f.startswith(skip):
            assert getattr(a, f) == getattr(b, f), f


def test_packed_stat_is_the_same_stat_for_any_time(tmp_path: Path) -> None:
    rng = random.Random(15)
    p = tmp_path / "f"
    p.write_bytes(b"x" * 1234)
    for i in range(400):
        # within int64 nanoseconds (packed) and beyond it (kept as it is), before and after 1970
        span = 2**62 if i % 2 else 10**19
        os.utime(p, ns=(rng.randrange(-span, span), rng.randrange(-span, span)))
        st = os.lstat(p)
        _same(st, unpack_stat(pack_stat(st)))
    _same(os.lstat(tmp_path), unpack_stat(pack_stat(os.lstat(tmp_path))))


def test_scan_entries_give_paths_and_stats(tmp_path: Path) -> None:
    (tmp_path / "card" / "clips").mkdir(parents=True)
    (tmp_path / "card" / "clips" / "a.mov").write_bytes(b"a" * 10)
    os.symlink("clips/a.mov", tmp_path / "card" / "link")
    entries = scan_sources([tmp_path / "card"])
    assert [(e.name, e.kind, e.size) for e in entries] == [
        ("card", "dir", 0), ("card/clips", "dir", 0), ("card/clips/a.mov", "file", 10), ("card/link", "symlink", 0)]
    for e in entries:
        assert isinstance(e.path, Path) and e.path == tmp_path / e.name
        _same(e.st, os.lstat(tmp_path / e.name), skip="st_atime")   # listing a folder reads it
    clip = tmp_path / "card" / "clips" / "a.mov"
    assert scan_sources([clip]) == scan_sources([clip]) and len(set(entries)) == 4


def test_manifest_json_in_chunks_is_the_same_document() -> None:
    from lto_archive.manifest import FileRecord, Manifest, SessionInfo
    info = SessionInfo("s1", "t", "tar", ["xxh128"], 524288, "op", "h", ["src"], "vtape:x", None, "LTO-9", 1, 0, 5, "x")
    for n in (0, 1, 3, 500):
        m = Manifest(info, [FileRecord(path=f"a/é\udcfe{i}\n\"", size=i, hashes={"xxh128": f"{i:032x}"})
                            for i in range(n)])
        whole = m.to_json()
        for size in (1, 50, 1 << 20):
            assert b"".join(m.json_chunks(size)) == whole
        assert Manifest.from_json(whole).to_dict() == m.to_dict()


def test_scan_order_is_depth_first_in_name_order(tmp_path: Path) -> None:
    names = ["a", "a-x", "a.b", "ab", "a b", "é", "Z", "a/b", "a/b-c", "a/b/c", "a-x/y", "ab/\udcff"]
    for n in names:
        if n in ("a", "a/b", "a-x", "ab"):
            (tmp_path / "src" / n).mkdir(parents=True, exist_ok=True)
    for n in names:
        p = tmp_path / "src" / n
        if not p.exists():
            p.write_bytes(b"")
    got = [e.name for e in scan_sources([tmp_path / "src"])]
    assert got == sorted(got, key=lambda n: n.split("/")) and len(got) == len(names) + 1
