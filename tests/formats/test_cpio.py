"""CPIO (newc, crc; odc read-only): writer and reader, alone and through the jobs.

Archives for the reader are built here byte by byte (`newc_bytes`, `odc_bytes`),
independently of CpioWriter, so the writer is never only checked by itself.
GNU cpio itself is in tests/test_cpio_interop.py.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import random
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import ArchiveError, CorruptArchive, SourceError, UnstorableName
from lto_archive.formats import cpio_writer
from lto_archive.formats.cpio_reader import CpioMember, CpioReader
from lto_archive.formats.cpio_writer import (CRC_MAGIC, HEADER_SIZE, MAX_FILE_SIZE, NEWC_MAGIC, CpioLimitError,
                                             CpioWriter, byte_sum, member_overhead, preflight)
from lto_archive.formats.registry import detect_format, get_format, names
from lto_archive.formats.tapefile import TapeFileReader
from lto_archive.hashing import MultiHasher
from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import MANIFEST_MEMBER, OK, READ_ERROR, SESSION_MEMBER
from lto_archive.streaming import RecordStream
from lto_archive.tape import create_vtape
from tests.bad_input_helpers import restored_files, run, snapshot, write_raw_tape_file
from tests.tape_helpers import tape_file_bytes, tree_snapshot

from .fake_tape import FILEMARK, FakeTape, split_records

KiB = 1024
MTIME = 1_700_000_000


# --- archives built by hand ------------------------------------------------------------

def newc_member(name: str | bytes, *, mode: int = 0o100644, data: bytes = b"", ino: int = 1, nlink: int = 1,
                mtime: int = MTIME, magic: bytes = b"070701", check: int | None = None, dev: int = 0,
                size: int | None = None, offset: int = 0) -> bytes:
    """One newc/crc member starting at archive offset `offset` (a multiple of 4)."""
    raw = (name.encode() if isinstance(name, str) else name) + b"\0"
    if check is None:
        check = sum(data) & 0xFFFFFFFF if magic == b"070702" and stat.S_ISREG(mode) else 0
    fields = (ino, mode, 0, 0, nlink, mtime, len(data) if size is None else size, dev, 0, 0, 0, len(raw), check)
    head = magic + b"".join(b"%08X" % v for v in fields)      # upper case: GNU writes lower, both are valid
    out = head + raw
    out += bytes(-(offset + len(out)) % 4)
    out += data + bytes(-len(data) % 4)
    return out


def newc_bytes(members: list[dict], magic: bytes = b"070701", trailer: bool = True, block: int = 512) -> bytes:
    out = b""
    for m in members:
        out += newc_member(offset=len(out), magic=magic, **m)
    if trailer:
        out += newc_member("TRAILER!!!", mode=0, ino=0, mtime=0, magic=magic, offset=len(out))
        out += bytes(-len(out) % block)
    return out


def odc_member(name: str, *, mode: int = 0o100644, data: bytes = b"", ino: int = 1, nlink: int = 1,
               mtime: int = MTIME, dev: int = 0) -> bytes:
    raw = name.encode() + b"\0"
    head = (b"070707" + b"%06o" % dev + b"%06o" % ino + b"%06o" % mode + b"%06o" % 0 + b"%06o" % 0
            + b"%06o" % nlink + b"%06o" % 0 + b"%011o" % mtime + b"%06o" % len(raw) + b"%011o" % len(data))
    assert len(head) == 76
    return head + raw + data


def odc_bytes(members: list[dict]) -> bytes:
    out = b"".join(odc_member(**m) for m in members)
    out += odc_member("TRAILER!!!", mode=0, ino=0, mtime=0)
    return out + bytes(-len(out) % 512)


def read_all(data: bytes, *, record: int | None = None, want_data: bool = True) -> list[tuple[CpioMember, bytes]]:
    """Members and their data, through a TapeFileReader over fake records (or BytesIO)."""
    if record is None:
        reader = CpioReader(io.BytesIO(data))
    else:
        reader = CpioReader(TapeFileReader(FakeTape(split_records(data, record) + [FILEMARK])))
    out = []
    for m in reader:
        out.append((m, reader.read_data(m) if want_data else b""))
    return out


def members_until_error(data: bytes, record: int = 4096) -> tuple[list[str], Exception | None]:
    reader = CpioReader(TapeFileReader(FakeTape(split_records(data, record) + [FILEMARK])))
    seen: list[str] = []
    try:
        for m in reader:
            reader.read_data(m)
            seen.append(m.path)
        reader.check_damage()     # damage read past (the reader goes on to the next magic)
    except ArchiveError as e:
        return seen, e
    return seen, None


def fake_st(size: int = 0, mode: int = 0o100644, mtime_ns: int = MTIME * 10**9) -> SimpleNamespace:
    return SimpleNamespace(st_size=size, st_mode=mode, st_mtime_ns=mtime_ns, st_uid=1000, st_gid=1000)


def write_with(fn, *, crc: bool = False, rs: int = 4 * KiB, chunk: int | None = None) -> tuple[bytes, list]:
    """Run fn(writer) on a fresh CpioWriter over a fake tape; the tape file's bytes and the records."""
    tape = FakeTape()
    stream = RecordStream(tape, rs, chunk_size=chunk or rs * 2, chunks=2)
    writer = CpioWriter(stream, crc=crc)
    fn(writer)
    writer.close()
    stream.close()
    records = list(tape.objects)
    for r in records:
        assert len(r) == rs          # block-aligned: every record whole
    return b"".join(records), records


# --- registry ----------------------------------------------------------------------------

def test_registered_formats_and_detection() -> None:
    assert {"tar", "cpio", "cpio-crc"} <= set(names())
    assert get_format("cpio").preflight is preflight and get_format("cpio-crc").preflight is preflight
    assert detect_format(b"070701" + bytes(100)).name == "cpio"
    assert detect_format(b"070707" + bytes(100)).name == "cpio"
    assert detect_format(b"070702" + bytes(100)).name == "cpio-crc"
    assert detect_format(b"\xc7\x71" + bytes(100)).name == "cpio"     # old binary: recognised, then refused
    assert detect_format(bytes(512)) is None
    tar = io.BytesIO()
    import tarfile
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.addfile(tarfile.TarInfo("070701"))   # a tar whose first name looks like a cpio magic
    assert detect_format(tar.getvalue()).name == "tar"
    assert get_format("cpio").member_overhead("card/a.bin", 5, 4096) == member_overhead("card/a.bin", 5)


# --- the writer --------------------------------------------------------------------------

def parse_newc(data: bytes) -> list[dict]:
    """A minimal independent parser of the writer's output (checks every alignment)."""
    out, pos = [], 0
    while True:
        assert pos % 4 == 0
        h = data[pos:pos + 110]
        assert h[:6] in (NEWC_MAGIC, CRC_MAGIC), (pos, h[:6])
        assert h[6:] == h[6:].lower()
        f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        ns = f[11]
        name = data[pos + 110:pos + 110 + ns]
        assert name.endswith(b"\0") and b"\0" not in name[:-1]
        dpos = pos + 110 + ns
        dpos += -dpos % 4
        size = f[6]
        out.append({"magic": h[:6], "name": name[:-1].decode("utf-8", "surrogateescape"), "ino": f[0],
                    "mode": f[1], "uid": f[2], "gid": f[3], "nlink": f[4], "mtime": f[5], "size": size,
                    "check": f[12], "offset": pos, "data": data[dpos:dpos + size]})
        pos = dpos + size
        pos += -pos % 4
        if name == b"TRAILER!!!\0":
            assert not data[pos:].strip(b"\0")
            return out


def test_writer_layout_is_gnu_newc() -> None:
    st_dir = fake_st(mode=0o40755)
    st_link = fake_st(mode=0o120777)

    def fill(w: CpioWriter) -> None:
        assert w.add_directory("card/", st_dir) == 0
        w.add_symlink("card/link", "clips/a.mov", st_link)
        p = w.add_file("card/a.bin", io.BytesIO(b"hello"), fake_st(5, 0o100640))
        assert (p.copied, p.size, p.read_error) == (5, 5, None)
        assert p.data_offset - p.header_offset == HEADER_SIZE + len("card/a.bin") + 1 + (-(HEADER_SIZE + 11) % 4)
        w.add_bytes(".lto-archive/manifest.json", b"{}", (MTIME + 1) * 10**9 + 5)

    data, records = write_with(fill)
    ms = parse_newc(data)
    assert [m["name"] for m in ms] == ["card", "card/link", "card/a.bin", ".lto-archive/manifest.json", "TRAILER!!!"]
    d, ln, f, man, tr = ms
    assert d["mode"] == 0o40755 and d["nlink"] == 2 and d["size"] == 0
    assert ln["mode"] == 0o120777 and ln["data"] == b"clips/a.mov" and ln["check"] == 0
    assert f["mode"] == 0o100640 and f["data"] == b"hello" and f["mtime"] == MTIME and f["uid"] == 1000
    assert man["mtime"] == MTIME + 1 and man["mode"] == 0o100644
    assert len({m["ino"] for m in ms[:-1]}) == 4 and all(m["nlink"] == 1 for m in (ln, f, man))
    assert (tr["ino"], tr["mode"], tr["nlink"], tr["size"]) == (0, 0, 1, 0)
    assert all(m["magic"] == NEWC_MAGIC and m["check"] == 0 for m in ms)
    assert len(data) % 4096 == 0 and len(records) == 1


def test_crc_writer_puts_the_byte_sum_in_the_header() -> None:
    payload = os.urandom(10_000)

    def fill(w: CpioWriter) -> None:
        w.add_file("a.bin", io.BytesIO(payload), fake_st(len(payload)))
        w.add_bytes("m.json", b"\xff\xff", MTIME * 10**9)
        w.add_symlink("s", "a.bin", fake_st(mode=0o120777))
        w.add_file("empty", io.BytesIO(b""), fake_st(0))

    data, _ = write_with(fill, crc=True)
    ms = parse_newc(data)
    assert all(m["magic"] == CRC_MAGIC for m in ms)
    assert ms[0]["check"] == sum(payload) & 0xFFFFFFFF and ms[0]["data"] == payload
    assert ms[1]["check"] == 0x1FE and ms[2]["check"] == 0 and ms[3]["check"] == 0


@pytest.mark.parametrize("path", ["fd", "spool"])
def test_crc_two_pass_for_large_files(monkeypatch, tmp_path: Path, path: str) -> None:
    monkeypatch.setattr(cpio_writer, "CRC_BUFFER_LIMIT", 1000)
    monkeypatch.setattr(cpio_writer, "PRESUM_BUFFER", 4096)
    payload = os.urandom(50_000)
    src = tmp_path / "a.bin"
    src.write_bytes(payload)
    hashes = {}

    def fill(w: CpioWriter) -> None:
        with open(src, "rb", buffering=0) as raw:
            source = raw if path == "fd" else _NoFd(raw)
            h = MultiHasher(("md5",))
            p = w.add_file("a.bin", source, os.fstat(raw.fileno()), h)
            assert (p.copied, p.size, p.read_error) == (50_000, 50_000, None)
            assert p.check == sum(payload) & 0xFFFFFFFF
            w.stream.flush_hashes()
            hashes.update(h.hexdigests())

    data, _ = write_with(fill, crc=True, rs=4 * KiB, chunk=8 * KiB)
    ms = parse_newc(data)
    assert ms[0]["data"] == payload and ms[0]["check"] == sum(payload) & 0xFFFFFFFF
    assert hashes["md5"] == hashlib.md5(payload).hexdigest()


class _NoFd:
    """A source with readinto only: no descriptor to pre-read."""

    def __init__(self, raw) -> None:  # type: ignore[no-untyped-def]
        self._inner = raw

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        return self._inner.readinto(b)


class _ChangesUnderUs:
    """Has the real descriptor (the pre-pass reads it), then rewrites the file before the copy reads it."""

    def __init__(self, raw, path: Path) -> None:  # type: ignore[no-untyped-def]
        self.raw, self.path, self.done = raw, path, False

    def fileno(self) -> int:
        return self.raw.fileno()

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if not self.done:
            self.done = True
            fd = os.open(self.path, os.O_WRONLY)
            os.pwrite(fd, b"\x01" * 100, 1000)     # same size, other bytes
            os.close(fd)
        return self.raw.readinto(b)


def test_crc_file_changed_between_the_two_reads_is_a_read_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cpio_writer, "CRC_BUFFER_LIMIT", 1000)
    src = tmp_path / "a.bin"
    src.write_bytes(bytes(20_000))
    got = {}

    def fill(w: CpioWriter) -> None:
        with open(src, "rb", buffering=0) as raw:
            got["p"] = w.add_file("a.bin", _ChangesUnderUs(raw, src), os.fstat(raw.fileno()))

    data, _ = write_with(fill, crc=True)
    p = got["p"]
    assert p.copied == p.size == 20_000 and p.check == 0
    assert isinstance(p.read_error, OSError) and p.read_error.errno == errno.EIO
    assert "checksum pass" in p.read_error.strerror
    # the archive is still well formed; its crc honestly disagrees with the data, and our reader says so
    reader = CpioReader(io.BytesIO(data))
    m = reader.next()
    assert reader.read_data(m) == open(src, "rb").read()
    with pytest.raises(CorruptArchive, match="crc checksum mismatch in 1 member.*'a.bin'"):
        reader.next()


class _Flaky:
    def __init__(self, data: bytes, fail_after: int | None) -> None:
        self.buf, self.fail_after, self.pos = data, fail_after, 0

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if self.fail_after is not None and self.pos >= self.fail_after:
            raise OSError(errno.EIO, "Input/output error")
        n = min(len(b), len(self.buf) - self.pos, 3000)
        b[:n] = self.buf[self.pos:self.pos + n]
        self.pos += n
        return n


@pytest.mark.parametrize("crc", [False, True])
@pytest.mark.parametrize("fail_after", [None, 6000])
def test_short_or_failing_source_is_zero_filled_never_truncated(crc: bool, fail_after: int | None) -> None:
    declared = 10_000
    src = os.urandom(7_000 if fail_after is None else declared)
    got = {}

    def fill(w: CpioWriter) -> None:
        got["p"] = w.add_file("a.bin", _Flaky(src, fail_after), fake_st(declared))
        w.add_bytes("after.txt", b"after", MTIME * 10**9)

    data, _ = write_with(fill, crc=crc)
    p = got["p"]
    want_copied = 7_000 if fail_after is None else 6_000
    assert p.copied == want_copied and p.size == declared
    assert (p.read_error is None) == (fail_after is None)
    members = read_all(data)
    assert [(m.path, len(d)) for m, d in members] == [("a.bin", declared), ("after.txt", 5)]
    assert members[0][1] == src[:want_copied] + bytes(declared - want_copied)


def test_a_file_too_big_for_newc_is_never_written() -> None:
    got = {}

    def fill(w: CpioWriter) -> None:
        before = w.stream.offset
        got["p"] = w.add_file("huge.mov", io.BytesIO(b""), fake_st(MAX_FILE_SIZE + 1))
        assert w.stream.offset == before
        w.add_bytes("after.txt", b"x", MTIME * 10**9)

    data, _ = write_with(fill)
    p = got["p"]
    assert p.copied == 0 and p.read_error.errno == errno.EFBIG
    assert "--format tar" in p.read_error.strerror
    assert [m.path for m, _ in read_all(data)] == ["after.txt"]


def test_member_overhead_is_exact() -> None:
    for name in ["a", "ab", "abc", "abcd", "card/Café 日本/x y.txt", "n" * 300]:
        for size in (0, 1, 2, 3, 4, 5, 1000):
            def fill(w: CpioWriter, name=name, size=size) -> None:
                p = w.add_file(name, io.BytesIO(bytes(size)), fake_st(size))
                assert p.end_offset - p.header_offset == member_overhead(name, size) + size
                assert w.stream.offset == p.end_offset
            write_with(fill)


def test_trailer_name_is_refused() -> None:
    tape = FakeTape()
    stream = RecordStream(tape, 4096, chunk_size=4096, chunks=2)
    w = CpioWriter(stream)
    with pytest.raises(UnstorableName):
        w.add_bytes("TRAILER!!!", b"", 0)
    assert stream.offset == 0
    stream.abort()


def test_byte_sum_with_and_without_numpy(monkeypatch) -> None:
    data = os.urandom(100_000)
    want = sum(data)
    assert byte_sum(data) == want and byte_sum(memoryview(data)[5:]) == sum(data[5:]) and byte_sum(b"") == 0
    monkeypatch.setattr(cpio_writer, "_np", None)
    assert byte_sum(data) == want and byte_sum(memoryview(bytearray(data))) == want


# --- preflight -------------------------------------------------------------------------------

def entry(name: str, kind: str = "file", size: int = 0, mtime_s: int = MTIME) -> SimpleNamespace:
    return SimpleNamespace(name=name, path=Path("/media") / name, kind=kind, size=size,
                           st=fake_st(size, mtime_ns=mtime_s * 10**9))


def test_preflight_refuses_what_newc_cannot_hold() -> None:
    preflight([entry("card"), entry("card/ok.mov", size=MAX_FILE_SIZE), entry("card/new", mtime_s=2**32 - 1)])
    with pytest.raises(CpioLimitError) as e:
        preflight([entry("card/a.mov", size=10), entry("card/b.mov", size=MAX_FILE_SIZE + 1),
                   entry("card/c.mov", size=5 << 30)])
    assert isinstance(e.value, SourceError) and e.value.exit_code == 2
    msg = e.value.message
    assert "/media/card/b.mov" in msg and "/media/card/c.mov" in msg and "a.mov" not in msg
    assert "4 GiB" in msg and "--format tar" in msg and "--format ltfs" in msg
    assert e.value.data["files"] == ["/media/card/b.mov", "/media/card/c.mov"]
    with pytest.raises(UnstorableName, match="TRAILER"):
        preflight([entry("TRAILER!!!")])
    with pytest.raises(CpioLimitError, match="1970"):
        preflight([entry("card/old", mtime_s=-1)])
    with pytest.raises(CpioLimitError, match="2106"):
        preflight([entry("card/future", kind="dir", mtime_s=2**32)])


# --- the reader ------------------------------------------------------------------------------

def test_reader_reads_hand_built_newc_crc_and_odc() -> None:
    payload = os.urandom(5000)
    members = [
        dict(name=".", mode=0o40755, ino=1, nlink=2),
        dict(name="./dir/", mode=0o40700, ino=2, nlink=2),
        dict(name="./dir/f.bin", data=payload, ino=3, mode=0o100600),
        dict(name="./dir/link", mode=0o120777, data=b"f.bin", ino=4),
        dict(name="./fifo", mode=0o10644, ino=5),
        dict(name="./Café 日本 x.txt", data=b"x", ino=6),
    ]
    for magic in (b"070701", b"070702"):
        data = newc_bytes(members, magic=magic)
        got = read_all(data, record=1024)
        assert [(m.path, m.kind, m.size) for m, _ in got] == [
            (".", "dir", 0), ("./dir", "dir", 0), ("./dir/f.bin", "file", 5000), ("./dir/link", "symlink", 0),
            ("./fifo", "other", 0), ("./Café 日本 x.txt", "file", 1)]
        f = got[2][0]
        assert got[2][1] == payload and f.mode == 0o600 and f.mtime == MTIME and f.mtime_ns == MTIME * 10**9
        assert data[f.header_offset:f.header_offset + 6] == magic
        assert data[f.data_offset:f.data_offset + 5000] == payload
        assert got[3][0].linkname == "f.bin"
        assert got[0][0].extra.format == ("newc" if magic == b"070701" else "crc")
    odc = odc_bytes([dict(name="d", mode=0o40755), dict(name="d/f.bin", data=payload, ino=2),
                     dict(name="d/s", mode=0o120777, data=b"f.bin", ino=3)])
    got = read_all(odc, record=700)
    assert [(m.path, m.kind, m.size, m.linkname) for m, _ in got] == [
        ("d", "dir", 0, ""), ("d/f.bin", "file", 5000, ""), ("d/s", "symlink", 0, "f.bin")]
    assert got[1][1] == payload and got[1][0].extra.format == "odc"


def test_newc_hard_links_as_gnu_cpio_writes_them() -> None:
    """GNU cpio: the links with size 0 first, the data with the last one; an empty file: all size 0."""
    data = newc_bytes([
        dict(name="d", mode=0o40755, ino=1, nlink=2),
        dict(name="d/e2", ino=9, nlink=2),
        dict(name="d/e", ino=9, nlink=2),
        dict(name="d/b", ino=7, nlink=3),
        dict(name="d/c", ino=7, nlink=3),
        dict(name="d/a", ino=7, nlink=3, data=b"hello"),
        dict(name="d/z", ino=7, nlink=3, data=b"hello"),     # a second copy with data: a file of its own
        dict(name="d/y", ino=7, nlink=3),                    # data already seen: a link at once
    ])
    got = read_all(data)
    assert [(m.path, m.kind, m.linkname, m.size, d) for m, d in got] == [
        ("d", "dir", "", 0, b""),
        ("d/a", "file", "", 5, b"hello"),
        ("d/b", "hardlink", "d/a", 0, b""),
        ("d/c", "hardlink", "d/a", 0, b""),
        ("d/z", "file", "", 5, b"hello"),
        ("d/y", "hardlink", "d/a", 0, b""),
        ("d/e2", "file", "", 0, b""),
        ("d/e", "hardlink", "d/e2", 0, b""),
    ]
    # held-back members keep their own header offsets
    b = got[2][0]
    assert data[b.header_offset:b.header_offset + 6] == b"070701" and b.header_offset < got[1][0].header_offset


def test_odc_hard_links_point_at_the_first() -> None:
    data = odc_bytes([dict(name="a", data=b"same", ino=5, nlink=2), dict(name="b", data=b"same", ino=5, nlink=2),
                      dict(name="c", data=b"other", ino=6)])
    got = read_all(data)
    assert [(m.path, m.kind, m.linkname, m.size, d) for m, d in got] == [
        ("a", "file", "", 4, b"same"), ("b", "hardlink", "a", 0, b""), ("c", "file", "", 5, b"other")]


def test_skipping_data_keeps_the_stream_in_step() -> None:
    members = [dict(name=f"f{i}", data=os.urandom(i * 37), ino=i + 1) for i in range(12)]
    for magic in (b"070701", b"070702"):
        data = newc_bytes(members, magic=magic)
        got = read_all(data, record=512, want_data=False)
        assert [(m.path, m.size) for m, _ in got] == [(f"f{i}", i * 37) for i in range(12)]
    got = read_all(odc_bytes(members), record=512, want_data=False)
    assert [(m.path, m.size) for m, _ in got] == [(f"f{i}", i * 37) for i in range(12)]


def test_reader_drains_the_record_padding_and_leaves_the_tape_at_the_next_file() -> None:
    a = newc_bytes([dict(name="a", data=b"A")], block=8192)
    b = newc_bytes([dict(name="b", data=b"B")], block=8192)
    tape = FakeTape.from_files(a, b, record_size=4096)
    r1 = CpioReader(TapeFileReader(tape))
    assert [m.path for m in r1] == ["a"] and r1.ended_cleanly and r1.trailing_bytes > 0
    r2 = CpioReader(TapeFileReader(tape))
    assert [m.path for m in r2] == ["b"]


def _good() -> bytes:
    return newc_bytes([dict(name="one.txt", data=b"1" * 3000, ino=1), dict(name="two.txt", data=b"2" * 3000, ino=2),
                       dict(name="three.txt", data=b"3" * 3000, ino=3)])


def _offset_of(data: bytes, name: str) -> int:
    return data.index(name.encode() + b"\0") - 110


def test_corrupt_magic_names_the_offset_and_keeps_earlier_members() -> None:
    data = bytearray(_good())
    off = _offset_of(data, "two.txt")
    data[off:off + 6] = b"07X701"
    seen, err = members_until_error(bytes(data))
    assert seen == ["one.txt", "three.txt"]
    assert isinstance(err, CorruptArchive)
    assert f"byte {off}" in err.message and "070701" in err.message and "after 'one.txt'" in err.message
    assert err.data["offset"] == off


def test_bad_hex_field_is_corrupt() -> None:
    data = bytearray(_good())
    off = _offset_of(data, "three.txt")
    data[off + 6 + 8 * 6 + 3] = ord("g")       # inside filesize
    seen, err = members_until_error(bytes(data))
    assert seen == ["one.txt", "two.txt"]   # nothing after three.txt but the trailer
    assert isinstance(err, CorruptArchive) and "filesize" in err.message and "hex" in err.message
    assert f"byte {off}" in err.message


@pytest.mark.parametrize("bad", [b"+0000001", b" 0000001", b"0x000001", b"0000_001"])
def test_hex_fields_accept_only_hex_digits(bad: bytes) -> None:
    data = bytearray(_good())
    off = _offset_of(data, "one.txt")
    data[off + 6:off + 14] = bad       # ino
    seen, err = members_until_error(bytes(data))
    assert seen == ["two.txt", "three.txt"] and isinstance(err, CorruptArchive) and "field ino" in err.message


def test_flipped_data_in_crc_archive_is_reported_at_the_end_naming_the_member() -> None:
    data = bytearray(newc_bytes([dict(name="one.txt", data=b"1" * 3000), dict(name="two.txt", data=b"2" * 300),
                                 dict(name="three.txt", data=b"3" * 30)], magic=b"070702"))
    i = data.index(b"1" * 3000) + 10
    data[i] ^= 0x40
    reader = CpioReader(io.BytesIO(bytes(data)))
    m = reader.next()
    assert len(reader.read_data(m)) == 3000             # like GNU cpio: the data is given, then the error
    m2 = reader.next()
    assert m2.path == "two.txt" and reader.read_data(m2) == b"2" * 300
    m3 = reader.next()                                    # skipped data is not checked
    assert m3.path == "three.txt"
    with pytest.raises(CorruptArchive, match="crc checksum mismatch in 1 member.*'one.txt'") as e:
        reader.next()
    assert e.value.data["offset"] == 0 and e.value.data["files"] == ["one.txt"]
    assert reader.crc_mismatches[0]["expected"] == f"{3000 * 0x31:08x}"
    assert reader.ended_cleanly
    with pytest.raises(CorruptArchive):
        reader.next()


@pytest.mark.parametrize("cut_name,where", [("two.txt", 50), ("two.txt", 115), ("two.txt", 1500),
                                            ("three.txt", 3130), ("TRAILER!!!", 0)])
def test_truncated_archives_are_clear_errors(cut_name: str, where: int) -> None:
    data = _good()
    cut = _offset_of(data, cut_name) + where
    seen, err = members_until_error(data[:cut], record=1000)
    assert isinstance(err, CorruptArchive), err
    assert "truncated" in err.message
    assert "one.txt" in seen
    if cut_name == "TRAILER!!!":
        assert seen == ["one.txt", "two.txt", "three.txt"] and "TRAILER!!!" in err.message


def test_zeros_instead_of_a_header_and_other_damage() -> None:
    one = newc_member("one.txt", data=b"1")
    seen, err = members_until_error(one + bytes(1024))
    assert seen == ["one.txt"] and "found zeros" in err.message and "TRAILER" in err.message
    seen, err = members_until_error(b"")
    assert seen == [] and "empty" in err.message
    seen, err = members_until_error(b"hello world, not an archive" + bytes(500))
    assert seen == [] and "not a cpio archive" in err.message
    # a later header with another cpio magic is damage, not a format switch
    odc = odc_member("x", data=b"x")
    seen, err = members_until_error(one + odc + bytes(600))
    assert seen == ["one.txt"] and "070701" in err.message
    # name without its NUL, and an empty name
    bad = bytearray(newc_member("abc", data=b""))
    bad[110 + 3] = ord("d")
    seen, err = members_until_error(bytes(bad) + bytes(600))
    assert seen == [] and "NUL" in err.message
    seen, err = members_until_error(newc_member("", data=b"") + bytes(600))
    assert seen == [] and "empty name" in err.message
    with pytest.raises(ArchiveError, match="binary cpio"):
        list(CpioReader(io.BytesIO(b"\xc7\x71" + bytes(600))))


def test_errors_are_sticky_and_data_only_right_after_the_member() -> None:
    reader = CpioReader(io.BytesIO(_good()))
    a = reader.next()
    b = reader.next()
    with pytest.raises(ValueError):
        reader.read_data(a)
    assert reader.read_data(b) == b"2" * 3000
    bad = CpioReader(io.BytesIO(b"garbage!" * 20))
    with pytest.raises(CorruptArchive) as e1:
        bad.next()
    with pytest.raises(CorruptArchive) as e2:
        bad.next()
    assert e1.value is e2.value


# --- writer + reader round trip (hypothesis) ---------------------------------------------------

NAME_CHARS = "abcXYZ019 :%-_.éèüñÅ日本語🎬'\"\\"
names_st = st.lists(st.text(NAME_CHARS, min_size=1, max_size=40).filter(lambda s: s not in (".", "..")),
                    min_size=1, max_size=4).map("/".join)
long_names = st.integers(100, 600).map(lambda n: "deep/" + "L" * n + ".mxf")


@st.composite
def archives(draw):
    rs = draw(st.integers(8, 128).map(lambda k: k * 512))          # 4 KiB .. 64 KiB
    members = []
    used = set()
    for i in range(draw(st.integers(1, 6))):
        name = draw(st.one_of(names_st, long_names))
        if name in used or name == "TRAILER!!!":
            continue
        used.add(name)
        kind = draw(st.sampled_from(["file", "file", "file", "dir", "symlink", "bytes"]))
        size = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 109, 110, 111, rs - 1, rs, rs + 1, 2 * rs + 3]),
                              st.integers(0, 3 * rs)))
        members.append((name, kind, size, draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1))))
    return rs, draw(st.booleans()), draw(st.integers(1, 4)), members


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(archives())
def test_round_trip_names_sizes_block_sizes(spec) -> None:
    rs, crc, chunk_records, members = spec
    expected = []

    def fill(w: CpioWriter) -> None:
        for name, kind, size, seed, mtime in members:
            payload = random.Random(seed).randbytes(size)
            mtime_ns = mtime * 10**9 + seed % 10**9
            st_ = fake_st(size, mtime_ns=mtime_ns)
            if kind == "file":
                h = MultiHasher(("md5",))
                p = w.add_file(name, io.BytesIO(payload), st_, h)
                assert p.copied == size and p.read_error is None
                expected.append((name, "file", payload, mtime, p.header_offset))
            elif kind == "bytes":
                p = w.add_bytes(name, payload, mtime_ns, mode=0o600)
                expected.append((name, "file", payload, mtime, p.header_offset))
            elif kind == "dir":
                off = w.add_directory(name, fake_st(mode=0o40750, mtime_ns=mtime_ns))
                expected.append((name, "dir", b"", mtime, off))
            else:
                target = name[::-1]
                off = w.add_symlink(name, target, fake_st(mode=0o120777, mtime_ns=mtime_ns))
                expected.append((name, "symlink", target, mtime, off))

    data, records = write_with(fill, crc=crc, rs=rs, chunk=rs * chunk_records)
    tape = FakeTape(records + [FILEMARK])
    stream = TapeFileReader(tape)
    reader = CpioReader(stream)
    got = []
    for m in reader:
        payload = reader.read_data(m)
        got.append((m.path, m.kind, m.linkname if m.kind == "symlink" else payload, int(m.mtime), m.header_offset))
        assert m.extra.format == ("crc" if crc else "newc")
        assert stream.block_of(m.header_offset)[0] == m.header_offset // rs
    assert got == expected
    assert reader.ended_cleanly and stream.at_end and len(data) % rs == 0


# --- through the jobs --------------------------------------------------------------------------

def make_card(root: Path) -> Path:
    src = root / "card"
    (src / "clips").mkdir(parents=True)
    (src / "empty dir").mkdir()
    files = {"clips/A001 Café 日本.mov": os.urandom(300_000), "clips/" + "n" * 200 + ".wav": os.urandom(5_000),
             "notes.txt": b"notes\n", "empty.txt": b""}
    for rel, payload in files.items():
        (src / rel).write_bytes(payload)
    os.symlink("clips", src / "link")
    return src


@pytest.mark.parametrize("fmt", ["cpio", "cpio-crc"])
def test_job_write_verify_list_restore(tmp_path: Path, fmt: str, monkeypatch) -> None:
    monkeypatch.setattr(cpio_writer, "CRC_BUFFER_LIMIT", 100_000)     # the clip takes the two-pass path
    src = make_card(tmp_path / "src")
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    r1 = write_archive([src], tape, WriteOptions(format=fmt, record_size=16 * KiB, chunk_size=32 * KiB))
    r2 = write_archive([src], tape, WriteOptions(format="tar", record_size=16 * KiB))
    r3 = write_archive([src], tape, WriteOptions(format=fmt, record_size=64 * KiB))
    assert [r.status for r in (r1, r2, r3)] == ["ok"] * 3, r1.problems
    assert r1.manifest.session.format == fmt and r3.manifest.session.tape_file == 2
    raw = tape_file_bytes(tmp_path / "tape", 0)
    assert raw[:6] == (b"070702" if fmt == "cpio-crc" else b"070701") and len(raw) % (16 * KiB) == 0
    # the manifest's positions point at the headers
    for rec in r1.manifest.files:
        if rec.status == OK and rec.header_offset is not None:
            assert raw[rec.header_offset:rec.header_offset + 6] == raw[:6]

    ver = verify_tape(tape)
    assert ver.status == "ok", ver.to_dict()
    assert [len(t.verified) for t in ver.tape_files] == [4, 4, 4]
    assert all(t.manifest is not None and t.manifest_source == "tape" for t in ver.tape_files)

    listed = list_tape(tape)
    want = {"card"} | {f"card/{k}" for k in tree_snapshot(src)}
    for t in listed.tape_files:
        assert {m.path for m in t.members} == want
    link = next(m for m in listed.tape_files[0].members if m.path == "card/link")
    assert (link.kind, link.linkname) == ("symlink", "clips")

    dest = tmp_path / "dest"
    res = restore_tape(tape, dest, tape_files=[0])
    assert res.status == "ok" and len(res.tape_files[0].verified) == 4
    snap = lambda p: {k: v[:2] for k, v in tree_snapshot(p).items()}   # noqa: E731
    assert snap(dest / "card") == snap(src)
    assert json.loads((dest / ".lto-archive" / "tape-file-0" / "manifest.json").read_bytes())
    tape.close()


def test_job_session_and_manifest_members_first_and_last(tmp_path: Path) -> None:
    src = make_card(tmp_path / "src")
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    assert write_archive([src], tape, WriteOptions(format="cpio", record_size=8 * KiB)).status == "ok"
    tape.close()
    names_ = [m.path for m, _ in read_all(tape_file_bytes(tmp_path / "tape", 0))]
    assert names_[0] == SESSION_MEMBER and names_[-1] == MANIFEST_MEMBER


def test_job_refuses_a_4gib_file_before_writing_anything(tmp_path: Path) -> None:
    src = tmp_path / "card"
    src.mkdir()
    (src / "small.mov").write_bytes(b"x" * 100)
    big = src / "huge.mov"
    with open(big, "wb") as f:
        f.truncate(4 * 1024**3)            # sparse: costs nothing on disk
    tape_dir = tmp_path / "tape"
    create_vtape(tape_dir, "LTO-9", capacity=1024**3).close()
    before = sorted(os.listdir(tape_dir))
    cp = run("write", src, "--device", f"vtape:{tape_dir}", "--format", "cpio", "--no-progress",
             "--log-dir", tmp_path / "logs")
    assert cp.returncode == 2, (cp.stdout, cp.stderr)
    assert str(big) in cp.stderr and "4 GiB" in cp.stderr and "--format tar" in cp.stderr
    assert "--format ltfs" in cp.stderr and "small.mov" not in cp.stderr
    assert sorted(os.listdir(tape_dir)) == before      # nothing written
    # 4 GiB - 1 fits
    with open(big, "r+b") as f:
        f.truncate(4 * 1024**3 - 1)
    preflight([SimpleNamespace(name="card/huge.mov", path=big, kind="file", size=big.stat().st_size,
                               st=big.stat())])


def test_job_reports_a_crc_file_that_changed_between_reads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cpio_writer, "CRC_BUFFER_LIMIT", 1000)
    src = tmp_path / "card"
    src.mkdir()
    (src / "a.bin").write_bytes(bytes(50_000))
    (src / "b.bin").write_bytes(b"b" * 10)
    real = CpioWriter._presum_fd

    def presum_then_change(self, fd, size):  # type: ignore[no-untyped-def]
        out = real(self, fd, size)
        if size == 50_000:
            with open(src / "a.bin", "r+b") as f:      # same size, same mtime: only the bytes differ
                st_ = os.fstat(f.fileno())
                f.seek(100)
                f.write(b"\x07" * 10)
                f.flush()
                os.utime(f.fileno(), ns=(st_.st_atime_ns, st_.st_mtime_ns))
        return out

    monkeypatch.setattr(CpioWriter, "_presum_fd", presum_then_change)
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    result = write_archive([src], tape, WriteOptions(format="cpio-crc", record_size=8 * KiB))
    st_ = {f.path: f.status for f in result.files}
    assert st_ == {"card/a.bin": READ_ERROR, "card/b.bin": OK}
    assert "checksum pass" in next(f.message for f in result.files if f.path == "card/a.bin")
    ver = verify_tape(tape)
    assert ver.status in ("damaged", "incomplete")
    assert "card/b.bin" in ver.tape_files[0].verified
    tape.close()


# --- hostile, corrupt and truncated archives on restore (the real command) ------------------------

def test_hostile_cpio_archives_restore_nothing_outside_dest(tmp_path: Path) -> None:
    box = tmp_path / "box"
    dest, sentinel = box / "dest", box / "sentinel"
    sentinel.mkdir(parents=True)
    (sentinel / "keep.txt").write_bytes(b"keep me")
    outside = tmp_path / "outside"
    outside.mkdir()
    tape = tmp_path / "tape"
    create_vtape(tape, "LTO-9", capacity=64 * 1024**2).close()
    L = 0o120777
    archives_ = [
        [dict(name="safe1.txt", data=b"one", ino=1), dict(name="../evil", data=b"EVIL", ino=2),
         dict(name="../sentinel/evil", data=b"EVIL", ino=3), dict(name="a/../../evil2", data=b"EVIL", ino=4)],
        [dict(name="/abs/evil", data=b"EVIL", ino=1), dict(name=str(sentinel / "abs_evil"), data=b"EVIL", ino=2),
         dict(name="safe2.txt", data=b"two", ino=3)],
        [dict(name="tmplink", mode=L, data=str(outside).encode(), ino=1),
         dict(name="tmplink/evil", data=b"EVIL", ino=2), dict(name="safe3.txt", data=b"three", ino=3)],
        [dict(name="esc", mode=L, data=b"../sentinel", ino=1), dict(name="esc/evil", data=b"EVIL", ino=2),
         dict(name="up/deep", mode=L, data=b"../../../outside", ino=3), dict(name="safe4.txt", data=b"four", ino=4)],
        # a hard link whose data member lies outside: both refused
        [dict(name="inside", ino=9, nlink=2), dict(name="../linked_evil", data=b"EVIL", ino=9, nlink=2),
         dict(name="safe5.txt", data=b"five", ino=10)],
    ]
    for i, members in enumerate(archives_):
        write_raw_tape_file(tape, newc_bytes(members, magic=b"070702" if i % 2 else b"070701"))
    before_sentinel, before_outside, before_box = snapshot(sentinel), snapshot(outside), set(os.listdir(box))

    cp = run("restore", "--device", f"vtape:{tape}", dest, "--no-progress", "--json")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    assert doc["error"] == "UnsafePath"
    refused = {r["path"] for t in doc["result"]["tape_files"] for r in t["refused"]}
    for name in ("../evil", "../sentinel/evil", "a/../../evil2", "/abs/evil", str(sentinel / "abs_evil"),
                 "tmplink", "esc", "up/deep", "../linked_evil", "inside"):
        assert name in refused, (name, refused)
    through = {n for n in ("tmplink/evil", "esc/evil") if n not in refused}
    assert snapshot(sentinel) == before_sentinel and snapshot(outside) == before_outside
    assert set(os.listdir(box)) == before_box | {"dest"}
    assert not Path("/abs/evil").exists() and not (tmp_path / "linked_evil").exists()
    assert restored_files(dest) == {"safe1.txt": b"one", "safe2.txt": b"two", "safe3.txt": b"three",
                                    "safe4.txt": b"four", "safe5.txt": b"five", **{n: b"EVIL" for n in through}}
    for n in through:
        assert not (dest / n).parent.is_symlink() and (dest / n).parent.is_dir()
    for p in dest.rglob("*"):
        assert not p.is_symlink() or p.resolve().is_relative_to(dest.resolve()), p


def _written_cpio_tape(tmp_path: Path, fmt: str = "cpio") -> tuple[Path, dict, dict[str, bytes]]:
    card = tmp_path / "src" / "card"
    card.mkdir(parents=True)
    want = {}
    for i, n in enumerate(("a.bin", "b.bin", "c.bin")):
        want[f"card/{n}"] = random.Random(i).randbytes(20 * KiB + i * 1000)
        (card / n).write_bytes(want[f"card/{n}"])
    tape = tmp_path / "tape"
    create_vtape(tape, "LTO-9", capacity=64 * 1024**2).close()
    cp = run("write", card, "--device", f"vtape:{tape}", "--format", fmt, "--block-size", "16K",
             "--log-dir", tmp_path / "logs", "--no-progress")
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    log = json.loads(next((tmp_path / "logs").glob("*.json")).read_text())
    return tape, {f["path"]: f for f in log["files"]}, want


@pytest.mark.parametrize("fmt", ["cpio", "cpio-crc"])
def test_flipped_header_byte_is_corrupt_exit_6_with_earlier_members_listed(tmp_path: Path, fmt: str) -> None:
    tape, files, want = _written_cpio_tape(tmp_path, fmt)
    c = files["card/c.bin"]
    rec = tape / f"0_{c['block']}_R"
    buf = bytearray(rec.read_bytes())
    buf[c["offset"] + 6 + 8 * 6 + 2] = ord("z")      # a hex digit of c.bin's filesize
    rec.write_bytes(bytes(buf))
    cp = run("verify", "--device", f"vtape:{tape}")
    # the reader reads on past the damage to the manifest: c.bin, whose header was lost, FAILED (exit 3 first)
    assert cp.returncode == 3, (cp.stdout, cp.stderr)
    assert "card/c.bin: missing from the tape file" in cp.stdout and "filesize" in cp.stdout
    cp = run("ls", "--device", f"vtape:{tape}")
    assert cp.returncode == 6 and "card/a.bin" in cp.stdout and "card/b.bin" in cp.stdout
    dest = tmp_path / "dest"
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--no-progress")
    assert cp.returncode == 3 and "card/c.bin" in cp.stderr
    assert restored_files(dest) == {"card/a.bin": want["card/a.bin"], "card/b.bin": want["card/b.bin"]}


def test_flipped_data_byte_in_crc_archive_fails_verification(tmp_path: Path) -> None:
    tape, files, want = _written_cpio_tape(tmp_path, "cpio-crc")
    b = files["card/b.bin"]
    rec = tape / f"0_{b['block']}_R"
    buf = bytearray(rec.read_bytes())
    i = buf.index(want["card/b.bin"][:64])
    buf[i + 5] ^= 1
    rec.write_bytes(bytes(buf))
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode in (3, 6), (cp.stdout, cp.stderr)
    assert "card/b.bin" in cp.stderr


def test_truncated_cpio_archive_is_exit_6_and_earlier_files_restore(tmp_path: Path) -> None:
    tape, files, want = _written_cpio_tape(tmp_path)
    cut = files["card/c.bin"]["block"] + 1
    for p in list(tape.iterdir()):
        parts = p.name.split("_")
        if len(parts) == 3 and parts[0] == "0" and int(parts[1]) >= cut:
            p.unlink()
    cp = run("verify", "--device", f"vtape:{tape}")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    assert "truncated" in cp.stderr and "tape file 0" in cp.stderr
    dest = tmp_path / "dest"
    cp = run("restore", "--device", f"vtape:{tape}", dest, "--no-progress")
    assert cp.returncode == 6
    assert restored_files(dest) == {"card/a.bin": want["card/a.bin"], "card/b.bin": want["card/b.bin"]}
    assert not (dest / "card" / "c.bin").exists()       # never half-written


# --- the whole job, property-based -----------------------------------------------------------------

job_names = st.text("abcXYZ019 :%-_.éèüñÅ日本語", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))


@st.composite
def job_trees(draw):
    rs = draw(st.integers(8, 128).map(lambda k: k * 512))
    tree: dict[str, tuple[int, int] | None] = {}
    for _ in range(draw(st.integers(1, 5))):
        parts = draw(st.lists(job_names, min_size=1, max_size=3))
        rel = "/".join(parts)
        if any(rel == k or rel.startswith(k + "/") or k.startswith(rel + "/") for k in tree):
            continue
        if draw(st.integers(0, 9)) == 0:
            tree[rel] = None
            continue
        size = draw(st.one_of(st.sampled_from([0, 1, 3, 4, 5, rs - 1, rs, rs + 1, 2 * rs + 2]), st.integers(0, 3 * rs)))
        tree[rel] = (size, draw(st.integers(0, 2**32)))
    return rs, draw(st.sampled_from(["cpio", "cpio-crc"])), tree


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(job_trees())
def test_job_round_trip_property(spec) -> None:
    rs, fmt, tree = spec
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "src" / "card"
        src.mkdir(parents=True)
        for rel, f in tree.items():
            p = src / rel
            if f is None:
                p.mkdir(parents=True, exist_ok=True)
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(random.Random(f[1]).randbytes(f[0]))
        tape = create_vtape(tmp / "tape", "LTO-9", capacity=1024**3)
        result = write_archive([src], tape, WriteOptions(format=fmt, record_size=rs))
        assert result.status == "ok"
        ver = verify_tape(tape)
        assert ver.status == "ok" and len(ver.tape_files[0].verified) == sum(v is not None for v in tree.values())
        res = restore_tape(tape, tmp / "dest")
        assert res.status == "ok", res.to_dict()
        snap = lambda p: {k: v[:2] for k, v in tree_snapshot(p).items()}   # noqa: E731
        assert snap(tmp / "dest" / "card") == snap(src)
        tape.close()
