"""tar_fast (the plain member taken from the tape record in one step, a small member's data as one view)
gives exactly what the general TarReader gives: the same members, data, offsets, damage and errors, on
seeded archives of every kind of member, read through tape records of many sizes, whole and damaged."""

from __future__ import annotations

import io
import random
import tarfile

import pytest

from lto_archive.errors import ArchiveError
from lto_archive.formats import tar_fast
from lto_archive.formats.tapefile import TapeFileReader
from lto_archive.formats.tar_reader import TarReader

from .fake_tape import FakeTape

RECORD_SIZES = [512, 1024, 4096, 10240, 65536, 524288, [1536, 512, 7680], [2560, 11264]]


def _archive(rng: random.Random, n: int) -> bytes:
    """A pax archive as lto-archive writes it (mostly), with the odd cases mixed in."""
    buf = io.BytesIO()
    fmt = rng.choice([tarfile.PAX_FORMAT] * 4 + [tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        if fmt == tarfile.PAX_FORMAT and rng.random() < 0.1:
            tf.pax_headers = {"comment": "a global header"}
        for i in range(n):
            kind = rng.choice(["file"] * 8 + ["dir", "symlink", "hardlink", "long", "fifo"])
            name = f"d{i % 3}/frame.{i:07d}.dpx"
            if kind == "long":
                name = "x" * rng.choice([99, 100, 101, 150] + ([300] if fmt != tarfile.USTAR_FORMAT else [])) + f"/{i}"
            info = tarfile.TarInfo(name)
            info.mtime = rng.choice([1_700_000_000, 1_700_000_000.5, 1_796_688_827.233125648,
                                     1_700_000_000 + rng.random(), 0])
            info.mode = rng.choice([0o644, 0o755, 0o400])
            info.uid, info.gid = rng.choice([(0, 0), (1000, 1000)])
            info.uname, info.gname = rng.choice([("", ""), ("root", "root"), ("film", "post")])
            if fmt == tarfile.PAX_FORMAT and rng.random() < 0.05:
                info.pax_headers = rng.choice([{"path": name + ".p"}, {"uname": "é"}, {"mtime": "-1.5"},
                                               {"mtime": "1700000000.1234567891"}, {"mtime": ""}])
            data = b""
            if kind in ("file", "long"):
                size = rng.choice([0, 1, 511, 512, 513, 12288, 40000, rng.randrange(200_000)])
                data = rng.randbytes(size)
                info.size = size
            elif kind == "dir":
                info.type, info.name = tarfile.DIRTYPE, f"dir{i}/"
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "../target"
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, "d0/frame.0000000.dpx"
            else:
                info.type = tarfile.FIFOTYPE
            tf.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def _read(raw: bytes, record_size, fast: bool) -> tuple[list, object, list, list, int]:
    """Every member with its data, the error met (its type and message), damage and skips, and how many
    members were whole data views."""
    tfr = TapeFileReader(FakeTape.from_files(raw, record_size=record_size))
    reader = TarReader(tfr)
    if not fast:
        reader._peek = None
    out, views = [], 0
    error: object = None
    try:
        for m in reader:
            view = reader.whole_data(m) if fast and m.kind == "file" and m.size % 3 else None
            if view is not None:
                views += 1
                data = bytes(view)
            else:
                data = b"".join(bytes(c) for c in reader.iter_data(m))
            out.append((m, data))
        reader.check_damage()
    except ArchiveError as exc:
        error = (type(exc).__name__, exc.message)
    return out, error, [str(d) for d in reader.damaged], [str(s) for s in reader.skipped], views


def test_same_members_as_the_general_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(1515)
    calls = {"plain": 0}
    real = tar_fast.plain_member

    def counting(reader, peek):
        m = real(reader, peek)
        calls["plain"] += m is not None
        return m
    monkeypatch.setattr("lto_archive.formats.tar_reader.plain_member", counting)
    views = 0
    for _ in range(40):
        raw = _archive(rng, rng.randrange(1, 60))
        for size in RECORD_SIZES:
            fast = _read(raw, size, True)
            assert fast[:4] == _read(raw, size, False)[:4]
            assert fast[1] is None
            views += fast[4]
    assert calls["plain"] > 1000 and views > 300     # the fast paths were taken, often


def test_same_outcome_on_damaged_archives() -> None:
    rng = random.Random(2626)
    damaged = 0
    for _ in range(150):
        raw = bytearray(_archive(rng, rng.randrange(2, 25)))
        for _ in range(rng.choice([1, 1, 3])):
            at = rng.randrange(len(raw))
            if rng.random() < 0.5:
                at -= at % 512 - rng.choice([0, 100, 124, 148, 156, 257, 345])   # into a header's fields
                at = min(at, len(raw) - 1)
            raw[at] = rng.randrange(256)
        if rng.random() < 0.2:
            raw = raw[:rng.randrange(len(raw))]        # cut short
        size = rng.choice(RECORD_SIZES)
        fast, slow = _read(bytes(raw), size, True), _read(bytes(raw), size, False)
        assert fast[:4] == slow[:4]
        damaged += fast[1] is not None
    assert damaged > 30


def test_mtime_record_declines_what_it_does_not_take() -> None:
    rec = tar_fast._mtime_record
    assert rec(b"30 mtime=1796688827.233125648\n") == ("1796688827.233125648", 1796688827233125648)
    assert rec(b"20 mtime=1700000000\n") == ("1700000000", 1700000000 * 10**9)
    assert rec(b"22 mtime=1700000000.5\n") == ("1700000000.5", 1700000000_500000000)
    for bad in (b"21 mtime=1700000000\n", b"23 mtime=-1700000000.5\n", b"21 mtime=1700000000.\n",
                b"31 mtime=1700000000.1234567891\n", b"20 atime=1700000000\n", b"020 mtime=170000000\n",
                b"20 mtime=1700000000\n20 mtime=1700000000\n", b"11 mtime=\n", b"20 mtime=1700000000"):
        assert rec(bad) is None, bad
