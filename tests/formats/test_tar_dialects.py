"""Every TAR dialect GNU tar restores, read byte-exact: archives made by real GNU tar and bsdtar where
they can make them, handcrafted (tarfile, struct) for the rest."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive
from lto_archive.formats.tar_reader import TarReader
from tests.conftest import require_tool

DEEP = "d" * 60 + "/" + "e" * 60          # > 100 bytes: ustar needs its prefix field


def source(root: Path, *, long_names: bool) -> dict[str, bytes]:
    files = {"top/a.txt": b"alpha\n", "top/sub/b.bin": bytes(range(256)) * 9, "top/empty": b""}
    if long_names:
        files[f"top/{DEEP}/deep.txt"] = b"deep\n"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    os.symlink("a.txt", root / "top/link")
    os.link(root / "top/a.txt", root / "top/hard")
    return files


def read(raw: bytes) -> tuple[dict[str, bytes], dict[str, tuple[str, str]], TarReader]:
    r = TarReader(io.BytesIO(raw))
    data, kinds = {}, {}
    for m in r:
        kinds[m.path] = (m.kind, m.linkname)
        if m.kind == "file":
            data[m.path] = r.read_data(m)
    assert r.ended_cleanly and r.skipped == [] and r.damaged == []
    return data, kinds, r


GNU = {"v7": False, "oldgnu": True, "gnu": True, "ustar": True, "pax": True, "posix": True}
BSD = {"ustar": True, "pax": True, "gnutar": True, "v7": False}


def check(files: dict[str, bytes], data: dict[str, bytes], kinds: dict[str, tuple[str, str]]) -> None:
    """The files byte-exact; of the hard-linked pair a.txt/hard, the first holds the data, the other links."""
    first, second = ("top/a.txt", "top/hard") if kinds["top/a.txt"][0] == "file" else ("top/hard", "top/a.txt")
    assert kinds[second] == ("hardlink", first)
    assert data.pop(first) == files["top/a.txt"]
    assert data == {k: v for k, v in files.items() if k != "top/a.txt"}
    assert kinds["top/link"] == ("symlink", "a.txt")
    assert kinds["top/sub"][0] == "dir"


@pytest.mark.parametrize("fmt", list(GNU))
def test_gnu_tar_formats(fmt: str, tmp_path: Path) -> None:
    tar = require_tool("tar")
    files = source(tmp_path, long_names=GNU[fmt])
    out = tmp_path / "a.tar"
    subprocess.run([tar, f"--format={fmt}", "-cf", str(out), "-C", str(tmp_path), "top"], check=True)
    data, kinds, _ = read(out.read_bytes())
    check(files, data, kinds)


@pytest.mark.parametrize("fmt", list(BSD))
def test_bsdtar_formats(fmt: str, tmp_path: Path) -> None:
    bsdtar = require_tool("bsdtar")
    files = source(tmp_path, long_names=BSD[fmt])
    out = tmp_path / "a.tar"
    subprocess.run([bsdtar, "--format", fmt, "-cf", str(out), "-C", str(tmp_path), "top"], check=True)
    data, kinds, _ = read(out.read_bytes())
    check(files, data, kinds)


def _header(name: str, *, typeflag: bytes = b"0", size: int = 0, magic: bytes = b"ustar\x0000",
            prefix: bytes = b"", star: bool = False) -> bytes:
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"14720000000\0"
    h[156:157] = typeflag
    h[257:265] = magic
    h[345:345 + len(prefix)] = prefix
    if star:
        h[476:488] = b"14720000000\0"
        h[508:512] = b"tar\0"
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def _data(b: bytes) -> bytes:
    return b + bytes(-len(b) % 512)


def test_star_prefix_and_directory_with_a_size() -> None:
    prefix = b"p" * 131                          # star's prefix fills its 131 bytes, atime follows
    raw = (_header("f.txt", size=3, prefix=prefix, star=True) + _data(b"abc")
           + _header("dir/", typeflag=b"5", size=4096)   # a directory that says it has a size: no data follows
           + _header("g.txt", size=2) + _data(b"gg") + bytes(1024))
    data, kinds, _ = read(raw)
    assert data == {f"{'p' * 131}/f.txt": b"abc", "g.txt": b"gg"}
    assert kinds["dir"] == ("dir", "")


def test_v7_directory_is_a_name_ending_in_slash() -> None:
    raw = _header("old/", typeflag=b"\0", magic=bytes(8)) + _header("old/x", typeflag=b"\0", size=1, magic=bytes(8))
    data, kinds, _ = read(raw + _data(b"x") + bytes(1024))
    assert kinds["old"][0] == "dir" and data == {"old/x": b"x"}


def test_old_gnu_base_256_numbers_and_long_names() -> None:
    buf = io.BytesIO()
    long = "L" * 150 + "/name.txt"
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        ti = tarfile.TarInfo(long)
        ti.size, ti.uid, ti.mtime = 5, 2**40, -1_000_000     # base-256 uid and a negative time
        tf.addfile(ti, io.BytesIO(b"hello"))
        link = tarfile.TarInfo("s")
        link.type, link.linkname = tarfile.SYMTYPE, "T" * 200
        tf.addfile(link)
    raw = buf.getvalue()
    assert b"././@LongLink" in raw and raw[512 * 2 + 108] & 0x80     # 'L' record, base-256 uid
    r = TarReader(io.BytesIO(raw))
    m = r.next()
    assert (m.path, m.uid, m.mtime_ns, r.read_data(m)) == (long, 2**40, -1_000_000 * 10**9, b"hello")
    s = r.next()
    assert (s.kind, s.linkname) == ("symlink", "T" * 200)


def test_pax_global_headers_and_binary_names() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"uname": "film"}) as tf:
        ti = tarfile.TarInfo("x")
        ti.size = 1
        ti.pax_headers = {"hdrcharset": "BINARY"}
        tf.addfile(ti, io.BytesIO(b"1"))
    raw = bytearray(buf.getvalue())
    rec = b"path=cafe\xe9123.mov\n"
    rec = b"%d " % (len(rec) + 3) + rec
    i = raw.index(b"21 hdrcharset=BINARY\n")
    raw[i:i + 21] = rec[:21]                   # same length: keep the header's size right
    assert len(rec) == 21
    r = TarReader(io.BytesIO(bytes(raw)))
    m = r.next()
    assert os.fsencode(m.path) == b"cafe\xe9123.mov" and m.uname == "film" and r.global_pax == {"uname": "film"}


def test_malformed_pax_records_are_reported_not_fatal() -> None:
    bad = b"8 nokey\n"                         # no '='
    raw = (_header("PaxHeaders/a", typeflag=b"x", size=len(bad)) + _data(bad)
           + _header("a", size=1) + _data(b"a") + _header("b", size=1) + _data(b"b") + bytes(1024))
    r = TarReader(io.BytesIO(raw))
    got = {m.path: r.read_data(m) for m in r}
    assert got == {"a": b"a", "b": b"b"}
    assert [d.offset for d in r.damaged] == [0] and "no keyword or no '='" in r.damaged[0].reason
    with pytest.raises(CorruptArchive, match="1 damaged region"):
        r.check_damage()
