"""GNU sparse files, as real GNU tar writes them in all four variants, restored from a tape as GNU tar does
(holes as zeros), and a member lto-archive does not restore never ends the tape file."""

from __future__ import annotations

import io
import random
import subprocess
import tarfile
from pathlib import Path

import pytest

from lto_archive.errors import ArchiveError
from lto_archive.formats.tar_reader import TarReader
from lto_archive.formats.tar_sparse import SparseMap, expand
from tests.conftest import require_tool
from tests.formats.foreign_tape import restore_archives

VARIANTS = {
    "oldgnu": ["--format=gnu"],
    "pax-0.0": ["--format=pax", "--sparse-version=0.0"],
    "pax-0.1": ["--format=pax", "--sparse-version=0.1"],
    "pax-1.0": ["--format=pax", "--sparse-version=1.0"],
}


def sparse_source(root: Path) -> Path:
    """A file with 30 data runs between holes (old GNU needs extension blocks for its map), a file of
    holes only, and files before and after them."""
    src = root / "src"
    src.mkdir(parents=True)
    rnd = random.Random(14)
    (src / "a-before.txt").write_bytes(b"before\n")
    with open(src / "b-holes.img", "wb") as fh:
        fh.truncate(64 << 20)
        for i in range(30):
            fh.seek(i * (2 << 20) + rnd.randrange(0, 1 << 20))
            fh.write(rnd.randbytes(rnd.randrange(1, 9000)))
    with open(src / "c-empty.img", "wb") as fh:
        fh.truncate(3 << 20)
    (src / "d-after.txt").write_bytes(b"after\n")
    return src


def gnu_tar(src: Path, out: Path, opts: list[str]) -> bytes:
    tar = require_tool("tar")
    subprocess.run([tar, *opts, "--sparse", "-b", "20", "-cf", str(out), "-C", str(src.parent), src.name],
                   check=True)
    return out.read_bytes()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_gnu_sparse_read_back_as_gnu_tar_restores(variant: str, tmp_path: Path) -> None:
    src = sparse_source(tmp_path)
    raw = gnu_tar(src, tmp_path / "s.tar", VARIANTS[variant])
    r = TarReader(io.BytesIO(raw))
    got = {m.path: r.read_data(m) for m in r if m.kind == "file"}
    assert got == {f"src/{p.name}": p.read_bytes() for p in src.iterdir()}
    assert r.ended_cleanly and r.skipped == [] and r.damaged == []
    r.check_damage()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_gnu_sparse_restored_from_a_tape(variant: str, tmp_path: Path) -> None:
    src = sparse_source(tmp_path)
    raw = gnu_tar(src, tmp_path / "s.tar", VARIANTS[variant])
    dest = tmp_path / "restore"
    res = restore_archives(tmp_path, [raw, raw], dest, tape_files=[1],   # the second tape file
                           accept_unproven=True)       # a foreign TAR carries no evidence of its own
    assert res.status == "ok", res.to_dict()
    for p in src.iterdir():
        assert (dest / "src" / p.name).read_bytes() == p.read_bytes(), p.name


def _with_type(raw: bytes, at: int, t: bytes) -> bytes:
    out = bytearray(raw)
    h = out[at:at + 512]
    h[156:157] = t
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    out[at:at + 512] = h
    return bytes(out)


def test_an_unsupported_member_never_ends_the_tape_file(tmp_path: Path) -> None:
    """GNU tar restores every other member: so does lto-archive, and says which one it did not restore."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in (("one.txt", b"1" * 700), ("odd.bin", b"o" * 1500), ("three.txt", b"3")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    raw = _with_type(buf.getvalue(), 1536, b"X")     # odd.bin: a Solaris extended header
    dest = tmp_path / "restore"
    res = restore_archives(tmp_path, [raw], dest)
    assert (dest / "one.txt").read_bytes() == b"1" * 700
    assert (dest / "three.txt").read_bytes() == b"3"
    assert not (dest / "odd.bin").exists()
    assert res.status == "damaged"
    [err] = res.errors
    assert isinstance(err, ArchiveError)
    assert "1 member(s) not restored: 'odd.bin' at byte 1536 (a Solaris extended header" in str(err)


def test_old_gnu_sparse_with_a_damaged_map_is_skipped(tmp_path: Path) -> None:
    src = sparse_source(tmp_path)
    raw = bytearray(gnu_tar(src, tmp_path / "s.tar", VARIANTS["oldgnu"]))
    r = TarReader(io.BytesIO(bytes(raw)))
    holes = next(m for m in r if m.path.endswith("b-holes.img"))
    at = holes.header_offset
    raw[at + 386:at + 398] = b"77777777777\0"      # the first segment now lies outside the file
    fixed = _with_type(bytes(raw), at, b"S")          # checksum made valid again
    r = TarReader(io.BytesIO(fixed))
    names = [m.path for m in r]
    assert "src/b-holes.img" not in names and "src/d-after.txt" in names
    assert [s.path for s in r.skipped] == ["src/b-holes.img"]
    assert "map is damaged" in r.skipped[0].reason


def test_expand_fills_holes_with_zeros_in_bounded_chunks() -> None:
    smap = SparseMap(20, [(2, 3), (10, 0), (15, 5)])
    smap.check(8)
    chunks = list(expand(smap, iter([b"abc", b"de", b"fgh"]), 4))
    assert b"".join(chunks) == b"\0\0abc" + bytes(10) + b"defgh"
    assert max(len(c) for c in chunks) <= 4
    for bad, stored in ((SparseMap(20, [(5, 3), (2, 1)]), 4), (SparseMap(4, [(2, 3)]), 3),
                        (SparseMap(20, [(2, 3)]), 4)):
        with pytest.raises(ValueError):
            bad.check(stored)
