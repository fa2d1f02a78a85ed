"""What write_archive puts on tape is read by GNU tar, bsdtar and the checksum tools.

The tape file is taken from the cartridge folder as `dd` would take it from a
drive (its records in block order, between filemarks), then extracted with
the outside tools and compared byte for byte with the source.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from lto_archive.formats.tar_reader import parse_pax_records
from lto_archive.jobs.read import restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import META_DIR
from lto_archive.tape import create_vtape
from tests.conftest import require_tool
from tests.tape_helpers import dump_tape_file, record_path, run, tape_file_bytes, tree_snapshot

pytestmark = pytest.mark.interop

KiB = 1024
NON_ASCII = "Café Crème 日本 clip.mov"
LONG_NAME = "L" * 140 + ".mxf"                                   # one name over 100 bytes
LONG_PATH = "deep/" + "a" * 100 + "/" + "b" * 100 + "/" + "c" * 80 + ".dat"   # whole path over 255 bytes
NS = 1_600_000_000


def make_tree(root: Path, name: str = "card") -> Path:
    """A camera-card-like tree with every awkward case; returns its top folder."""
    src = root / name
    src.mkdir(parents=True)
    files = {
        NON_ASCII: os.urandom(70_000),
        LONG_NAME: os.urandom(1_234),
        LONG_PATH: os.urandom(40_000),
        "with spaces/and more spaces.txt": b"spaces\n" * 100,
        "clips/big.bin": os.urandom(700_000),             # spans 16K and 512K records
        "clips/exact.bin": os.urandom(16 * KiB),
        "empty.txt": b"",
        "run.sh": b"#!/bin/sh\necho hi\n",
    }
    for i, (rel, data) in enumerate(sorted(files.items())):
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.chmod(p, 0o755 if rel.endswith(".sh") or rel.endswith(".bin") else 0o640)
        os.utime(p, ns=(NS * 10**9 + 123_456_789 + i, NS * 10**9 + 987_654_321 + i * 1_000_000_007))
    (src / "empty dir").mkdir()
    os.symlink("clips/big.bin", src / "link to big")
    assert len(str(LONG_PATH).encode()) > 255 and len(LONG_NAME.encode()) > 100
    # folders last: creating their children changed their mtimes
    for dirpath, _dirs, _files in sorted(os.walk(src), key=lambda t: -len(t[0])):
        os.utime(dirpath, ns=(NS * 10**9, NS * 10**9 + 555_000_001))
    return src


def new_tape(path: Path):
    return create_vtape(path, "LTO-9", capacity=2 * 1024**3, barcode="TST001L9")


def check_extracted(src: Path, dest_root: Path, *, dir_mtimes: bool = True) -> None:
    want = tree_snapshot(src)
    got = tree_snapshot(dest_root / src.name)
    if not dir_mtimes:
        want = {k: (v[:3] if v[0] == "dir" else v) for k, v in want.items()}
        got = {k: (v[:3] if v[0] == "dir" else v) for k, v in got.items()}
    assert got == want
    assert (dest_root / src.name / "empty dir").is_dir()
    assert os.readlink(dest_root / src.name / "link to big") == "clips/big.bin"
    assert os.lstat(dest_root / src.name / "run.sh").st_mode & 0o777 == 0o755
    assert os.lstat(dest_root / src.name / "empty.txt").st_mode & 0o777 == 0o640


def check_lists(where: Path, meta: str, algorithms: tuple[str, ...]) -> None:
    tools = {"md5": ("md5sum", "checksums.md5"), "sha1": ("sha1sum", "checksums.sha1"),
             "sha256": ("sha256sum", "checksums.sha256"), "xxh64": ("xxhsum", "checksums.xxh64"),
             "xxh3": ("xxhsum", "checksums.xxh3"), "xxh128": ("xxhsum", "checksums.xxh128")}
    for algo in algorithms:
        tool, name = tools[algo]
        require_tool(tool)
        listing = where / meta / name
        lines = listing.read_bytes().decode().splitlines()
        assert len(lines) == 8, (algo, lines)          # every regular file of make_tree
        proc = run([tool, "-c", f"{meta}/{name}"], cwd=where)
        assert proc.returncode == 0


@pytest.mark.parametrize("record_size", [16 * KiB, 512 * KiB])
def test_gnu_tar_and_bsdtar_extract_what_we_wrote(tmp_path: Path, record_size: int) -> None:
    gnutar = require_tool("tar")
    bsdtar = require_tool("bsdtar")
    require_tool("md5sum")
    require_tool("xxhsum")
    src = make_tree(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    result = write_archive([src], tape, WriteOptions(record_size=record_size))
    assert result.status == "ok"
    assert result.manifest.session.tape_file == 0

    archive = dump_tape_file(tmp_path / "tape", 0, tmp_path / "file0.tar")
    assert archive.stat().st_size % record_size == 0

    listing = run([gnutar, "-tvf", str(archive)]).stdout.decode()
    for rel in ("card/with spaces/and more spaces.txt", f"card/{NON_ASCII}", f"card/{LONG_NAME}",
                f"card/{LONG_PATH}", "card/link to big -> clips/big.bin", f"{META_DIR}/manifest.json",
                f"{META_DIR}/checksums.md5", f"{META_DIR}/checksums.xxh128"):
        assert rel in listing, rel
    assert "700000" in listing

    commands = {"gnu": [gnutar, "-xf", str(archive)], "bsdtar": [bsdtar, "-xf", str(archive)]}
    if record_size == 512 * KiB:
        commands["gnu-b1024"] = [gnutar, "-b", "1024", "-xf", str(archive)]
    for label, cmd in commands.items():
        dest = tmp_path / f"x-{label}"
        dest.mkdir()
        run(cmd, cwd=dest)
        check_extracted(src, dest)
        check_lists(dest, META_DIR, ("md5", "xxh128"))


def test_every_hash_list_is_accepted_by_its_tool(tmp_path: Path) -> None:
    gnutar = require_tool("tar")
    algorithms = ("xxh64", "xxh3", "sha1", "sha256")
    src = make_tree(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    result = write_archive([src], tape, WriteOptions(record_size=16 * KiB, algorithms=algorithms))
    assert result.status == "ok"
    archive = dump_tape_file(tmp_path / "tape", 0, tmp_path / "file0.tar")
    dest = tmp_path / "x"
    dest.mkdir()
    run([gnutar, "-xf", str(archive)], cwd=dest)
    check_extracted(src, dest)
    check_lists(dest, META_DIR, algorithms)
    assert not (dest / META_DIR / "checksums.md5").exists()


@pytest.mark.parametrize("algorithms", [("md5", "xxh128"), ("xxh64", "xxh3", "sha1", "sha256")])
def test_checksum_lists_after_our_restore(tmp_path: Path, algorithms: tuple[str, ...]) -> None:
    src = make_tree(tmp_path / "src")
    tape = new_tape(tmp_path / "tape")
    assert write_archive([src], tape, WriteOptions(record_size=16 * KiB, algorithms=algorithms)).status == "ok"
    dest = tmp_path / "restore"
    res = restore_tape(tape, dest)
    assert res.status == "ok", res.to_dict()
    assert len(res.tape_files[0].verified) == 8
    check_extracted(src, dest)
    check_lists(dest, f"{META_DIR}/tape-file-0", algorithms)


def _member_at(cart: Path, tape_file: int, start_block: int, rec, data: bytes):
    """Parse the header the manifest points at, from the record file; follow a pax header."""
    raw = record_path(cart, rec.block, rec.partition).read_bytes()
    block = raw[rec.offset:rec.offset + 512]
    assert len(block) == 512 and rec.offset % 512 == 0
    # the same bytes sit at header_offset of the tape file, as `dd` sees them
    rs = len(record_path(cart, start_block).read_bytes())
    assert (rec.block - start_block) * rs + rec.offset == rec.header_offset
    assert data[rec.header_offset:rec.header_offset + 512] == block
    info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    pax: dict[str, str] = {}
    if info.type == tarfile.XHDTYPE:
        start = rec.header_offset + 512
        pax = parse_pax_records(data[start:start + info.size])
        nxt = start + info.size + (-info.size % 512)
        info = tarfile.TarInfo.frombuf(data[nxt:nxt + 512], "utf-8", "surrogateescape")
    name = pax.get("path", info.name).rstrip("/")
    size = int(pax.get("size", info.size))
    return name, info, size


def test_two_sessions_and_manifest_positions(tmp_path: Path) -> None:
    gnutar = require_tool("tar")
    bsdtar = require_tool("bsdtar")
    cart = tmp_path / "tape"
    tape = new_tape(cart)
    src1 = make_tree(tmp_path / "one", "card1")
    src2 = make_tree(tmp_path / "two", "card2")
    r1 = write_archive([src1], tape, WriteOptions(record_size=16 * KiB))
    r2 = write_archive([src2], tape, WriteOptions(record_size=32 * KiB))
    assert r1.status == r2.status == "ok"
    assert (r1.manifest.session.tape_file, r2.manifest.session.tape_file) == (0, 1)
    assert r2.manifest.session.start_block > r1.manifest.session.start_block

    for n, src in ((0, src1), (1, src2)):
        archive = dump_tape_file(cart, n, tmp_path / f"file{n}.tar")
        for label, cmd in (("gnu", [gnutar, "-xf", str(archive)]), ("bsd", [bsdtar, "-xf", str(archive)])):
            dest = tmp_path / f"x{n}-{label}"
            dest.mkdir()
            run(cmd, cwd=dest)
            check_extracted(src, dest)
            assert sorted(p.name for p in dest.iterdir()) == sorted([src.name, META_DIR])
            check_lists(dest, META_DIR, ("md5", "xxh128"))

    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}
    for n, result in ((0, r1), (1, r2)):
        data = tape_file_bytes(cart, n)
        session = result.manifest.session
        placed = [f for f in result.manifest.files if f.status == "ok"]
        assert len(placed) == len(result.manifest.files) == 16
        for rec in placed:
            assert rec.tape_file == n and rec.partition == session.partition
            assert rec.block >= session.start_block
            name, info, size = _member_at(cart, n, session.start_block, rec, data)
            assert name == rec.path
            assert info.type == kinds[rec.kind]
            assert size == rec.size
            if rec.kind == "symlink":
                assert rec.linkname == "clips/big.bin"

    res = verify_tape(tape)
    assert res.status == "ok"
    assert [len(t.verified) for t in res.tape_files] == [8, 8]
