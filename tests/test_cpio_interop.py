"""CPIO both ways with GNU cpio.

- What `write_archive --format cpio` / `cpio-crc` puts on tape, taken from the
  cartridge folder as `dd` would take it from a drive (the tape file's
  records concatenated), is extracted by `cpio -idv` byte for byte, listed
  by `cpio -t` with our names, and passes `cpio --only-verify-crc`.
- What `find . | cpio -o -H newc` (and `-H odc`, `-H crc`) writes, put on a
  virtual tape as records of various sizes (as `dd bs=N` would), is listed
  and restored by our jobs byte for byte, hard links included.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from lto_archive.formats import cpio_writer
from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import META_DIR
from lto_archive.tape import VirtualTape, create_vtape
from tests.conftest import require_tool
from tests.tape_helpers import TOOL_ENV, dump_tape_file, run, tape_file_blocks, tape_file_bytes, tree_snapshot

pytestmark = pytest.mark.interop

KiB = 1024
NS = 1_600_000_000
NON_ASCII = "Café Crème 日本 clip 🎬.mov"
LONG_NAME = "L" * 200 + ".mxf"
LONG_PATH = "deep/" + "a" * 100 + "/" + "b" * 100 + "/" + "c" * 80 + ".dat"


def make_tree(root: Path, name: str = "card", *, hardlinks: bool = False) -> Path:
    src = root / name
    src.mkdir(parents=True)
    files = {
        NON_ASCII: os.urandom(70_000),
        LONG_NAME: os.urandom(1_234),
        LONG_PATH: os.urandom(40_000),
        "with spaces/and: more % spaces.txt": b"spaces\n" * 100,
        "clips/big.bin": os.urandom(700_000),           # spans 16K, 64K and 512K records
        "clips/odd.bin": os.urandom(4097),
        "empty.txt": b"",
        "run.sh": b"#!/bin/sh\necho hi\n",
    }
    for i, (rel, data) in enumerate(sorted(files.items())):
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.chmod(p, 0o755 if rel.endswith((".sh", ".bin")) else 0o640)
        os.utime(p, ns=(NS * 10**9, (NS + i) * 10**9 + 123_456_789))
    (src / "empty dir").mkdir()
    os.symlink("clips/big.bin", src / "link to big")
    if hardlinks:
        os.link(src / "clips" / "odd.bin", src / "clips" / "odd hardlink.bin")
        os.link(src / "clips" / "odd.bin", src / "second link.bin")
        os.link(src / "empty.txt", src / "empty link.txt")
    return src


def files_and_links(root: Path) -> dict:
    """rel path -> (kind, sha256 or link target, mode) for files and links (what cpio -i must reproduce)."""
    return {k: v[:3] for k, v in tree_snapshot(root).items() if v[0] != "dir"}


# --- ours -> GNU cpio ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,rs", [("cpio", 16 * KiB), ("cpio", 512 * KiB), ("cpio-crc", 64 * KiB)])
def test_gnu_cpio_extracts_what_we_write(tmp_path: Path, fmt: str, rs: int, monkeypatch) -> None:
    cpio = require_tool("cpio")
    monkeypatch.setattr(cpio_writer, "CRC_BUFFER_LIMIT", 100_000)   # big.bin takes the crc two-pass path
    src = make_tree(tmp_path / "src")
    cart = tmp_path / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=2 * 1024**3)
    result = write_archive([src], tape, WriteOptions(format=fmt, record_size=rs, chunk_size=2 * rs))
    assert result.status == "ok", result.problems
    tape.close()
    archive = dump_tape_file(cart, 0, tmp_path / "tape-file-0.cpio")
    assert archive.stat().st_size % rs == 0

    out = tmp_path / "out"
    out.mkdir()
    with open(archive, "rb") as f:
        proc = run_stdin([cpio, "-idvm", "--no-absolute-filenames"], f, cwd=out)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "checksum error" not in stderr and "warning" not in stderr.lower(), stderr
    assert files_and_links(out / "card") == files_and_links(src)
    # mtimes of files in whole seconds (cpio keeps no fraction); folders are made before their files
    want = {k: v[3] for k, v in tree_snapshot(src).items() if v[0] == "file"}
    got = {k: v[3] for k, v in tree_snapshot(out / "card").items() if v[0] == "file"}
    assert got == want
    assert (out / "card" / "empty dir").is_dir()
    assert os.readlink(out / "card" / "link to big") == "clips/big.bin"
    assert stat.S_IMODE(os.lstat(out / "card" / "run.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(out / "card" / "empty.txt").st_mode) == 0o640

    # cpio -t lists exactly our members, in our order
    with open(archive, "rb") as f:
        listed = run_stdin([cpio, "-t"], f).stdout.decode("utf-8").splitlines()
    ours = [".lto-archive/session.json"] + [r.path for r in result.manifest.files]
    assert listed[:len(ours)] == ours
    rest = set(listed[len(ours):])
    mhl = {p for p in rest if p.startswith(f"{META_DIR}/mhl/card/ascmhl/")}   # the card's ASC MHL history
    assert len(mhl) == 2 and any(p.endswith("/ascmhl_chain.xml") for p in mhl)
    assert rest - mhl == {f"{META_DIR}/{n}" for n in
                          ("checksums.md5", "checksums.xxh128", "copy-log.txt", "paperwork.7z", "custody.jsonl",
                           "manifest.json")}
    assert listed[-3:] == [f"{META_DIR}/{n}" for n in ("paperwork.7z", "custody.jsonl", "manifest.json")]

    # the checksum lists on tape check out with the standard tools, in the extracted tree
    if fmt == "cpio":
        md5sum = require_tool("md5sum")
        run([md5sum, "--quiet", "-c", f"{META_DIR}/checksums.md5"], cwd=out)
    if fmt == "cpio-crc":
        with open(archive, "rb") as f:
            proc = run_stdin([cpio, "-i", "--only-verify-crc"], f, cwd=out)
        assert "checksum error" not in proc.stderr.decode("utf-8", "replace")


def test_gnu_cpio_reports_the_crc_of_a_file_that_changed_between_our_reads(tmp_path: Path, monkeypatch) -> None:
    """The case where our crc header cannot match: GNU cpio says so too, and our job never called it good."""
    cpio = require_tool("cpio")
    monkeypatch.setattr(cpio_writer, "CRC_BUFFER_LIMIT", 1000)
    src = tmp_path / "card"
    src.mkdir()
    (src / "a.bin").write_bytes(bytes(50_000))
    real = cpio_writer.CpioWriter._presum_fd

    def presum_then_change(self, fd, size):  # type: ignore[no-untyped-def]
        out = real(self, fd, size)
        wfd = os.open(src / "a.bin", os.O_WRONLY)
        try:
            os.pwrite(wfd, b"\x09" * 4, 10)      # same size: only the bytes differ
        finally:
            os.close(wfd)
        return out

    monkeypatch.setattr(cpio_writer.CpioWriter, "_presum_fd", presum_then_change)
    tape = create_vtape(tmp_path / "tape", "LTO-9", capacity=1024**3)
    result = write_archive([src], tape, WriteOptions(format="cpio-crc", record_size=8 * KiB))
    assert [f.status for f in result.files] == ["read-error"]
    tape.close()
    archive = dump_tape_file(tmp_path / "tape", 0, tmp_path / "t.cpio")
    with open(archive, "rb") as f:
        proc = run_stdin([cpio, "-i", "--only-verify-crc"], f, cwd=tmp_path, check=False)
    assert "card/a.bin" in proc.stderr.decode() and "checksum error" in proc.stderr.decode()


# --- GNU cpio -> ours -----------------------------------------------------------------------------

def gnu_cpio_archive(cpio: str, src: Path, fmt: str, *, find_root: str = ".", block: list[str] = ()) -> bytes:
    """`find ROOT | cpio -o -H FMT`, run in src's folder (ROOT '.') or its parent (ROOT the card's name)."""
    cwd = src if find_root == "." else src.parent
    top = cwd / find_root
    paths = sorted(str(p.relative_to(cwd)) if p != cwd else "." for p in [top, *top.rglob("*")])
    proc = run_stdin([cpio, "-o", "-H", fmt, *block], "\n".join(paths).encode() + b"\n", cwd=cwd)
    return proc.stdout


def put_archive(tape: VirtualTape, data: bytes, record: int) -> None:
    """As `dd bs=RECORD` + `mt weof 1` would: records of `record` bytes (the last may be short), a filemark."""
    tape.seek_eod()
    for i in range(0, len(data), record):
        tape.write_record(data[i:i + record])
    tape.write_filemarks(1)


CASES = [("newc", ".", 10 * KiB, []), ("newc", "card", 512 * KiB, ["-B"]), ("odc", ".", 4 * KiB, []),
         ("odc", "card", 64 * KiB, []), ("crc", ".", 512, []), ("crc", "card", 16 * KiB, ["--block-size=64"])]


@pytest.mark.parametrize("fmt,root,record,block", CASES)
def test_we_read_and_restore_what_gnu_cpio_writes(tmp_path: Path, fmt: str, root: str, record: int,
                                                  block: list[str]) -> None:
    cpio = require_tool("cpio")
    src = make_tree(tmp_path / "src", hardlinks=True)
    data = gnu_cpio_archive(cpio, src, fmt, find_root=root, block=block)
    magic = {"newc": b"070701", "odc": b"070707", "crc": b"070702"}[fmt]
    assert data[:6] == magic
    cart = tmp_path / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=1024**3)
    put_archive(tape, data, record)
    assert tape_file_bytes(cart, 0) == data
    prefix = "" if root == "." else "card/"

    listed = list_tape(tape)
    assert listed.status == "ok", listed.to_dict()
    members = {m.path: m for m in listed.tape_files[0].members}
    want = {prefix + k for k in tree_snapshot(src)} | ({"."} if root == "." else {"card"})
    assert set(members) == want
    assert members[prefix + "link to big"].kind == "symlink"
    assert members[prefix + "link to big"].linkname == "clips/big.bin"
    assert members[prefix + "clips/big.bin"].size == 700_000
    links = {p for p, m in members.items() if m.kind == "hardlink"}
    assert len(links) == 3      # of 3 + 2 names for two inodes, one name each holds the file

    dest = tmp_path / "dest"
    res = restore_tape(tape, dest)
    # no manifest: a "crc" archive's files are proven by their crc; newc and odc carry no evidence (issue 14)
    assert res.status == ("ok" if fmt == "crc" else "incomplete"), res.to_dict()
    assert res.failed == [] and res.errors == [] and res.refused == []
    top = dest if root == "." else dest / "card"
    assert files_and_links(top) == files_and_links(src)
    assert (top / "empty dir").is_dir()
    ino = lambda *p: os.stat(top.joinpath(*p)).st_ino   # noqa: E731
    assert ino("clips", "odd.bin") == ino("clips", "odd hardlink.bin") == ino("second link.bin")
    assert ino("empty.txt") == ino("empty link.txt")
    assert not (dest / ".lto-archive").exists()

    ver = verify_tape(tape)   # no manifest: read through, honestly unproven (crc: proven by its crc)
    assert ver.errors == [] and ver.failed == []
    if fmt == "crc":
        assert ver.status == "ok" and set(ver.tape_files[0].proven_by.values()) == {"cpio crc"}
    else:
        assert ver.status == "incomplete" and "no evidence: unproven" in ver.unproven[0]["reason"]
        assert "no lto-archive manifest" in ver.unproven[0]["reason"]
        assert verify_tape(tape, accept_unproven=True).status == "ok"
    tape.close()


def test_gnu_cpio_archive_between_ours_on_one_tape(tmp_path: Path) -> None:
    cpio = require_tool("cpio")
    ours = make_tree(tmp_path / "a", "ours")
    theirs = make_tree(tmp_path / "b", "card")
    gnu = gnu_cpio_archive(cpio, theirs, "newc", find_root="card")
    cart = tmp_path / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=1024**3)
    assert write_archive([ours], tape, WriteOptions(format="cpio", record_size=32 * KiB)).status == "ok"
    put_archive(tape, gnu, 5120)
    assert write_archive([ours], tape, WriteOptions(format="tar", record_size=64 * KiB)).status == "ok"
    assert write_archive([ours], tape, WriteOptions(format="cpio-crc", record_size=16 * KiB)).status == "ok"
    assert tape_file_bytes(cart, 1) == gnu

    ver = verify_tape(tape)
    assert [len(t.verified) for t in ver.tape_files] == [8, 0, 8, 8]
    assert {u["tape_file"] for u in ver.unproven} == {1} and ver.failed == [] and ver.errors == []
    listed = list_tape(tape)
    assert {m.path for m in listed.tape_files[1].members} == {"card"} | {f"card/{k}" for k in tree_snapshot(theirs)}
    # the foreign archive's first member sits at the tape file's first block
    first = listed.tape_files[1].members[0]
    assert first.offset == 0 and first.block == tape_blocks(cart, 0) + 1     # past tape file 0 and its filemark
    dest = tmp_path / "dest"
    res = restore_tape(tape, dest, tape_files=[1])
    assert res.status == "incomplete" and res.failed == []       # newc: no evidence of its own (issue 14)
    assert restore_tape(tape, tmp_path / "dest2", tape_files=[1], accept_unproven=True).status == "ok"
    assert files_and_links(dest / "card") == files_and_links(theirs)
    tape.close()


def tape_blocks(cart: Path, n: int) -> int:
    return len(tape_file_blocks(cart, n))


# --- helpers --------------------------------------------------------------------------------------

def run_stdin(args: list[str], stdin, cwd: Path | None = None, check: bool = True):  # type: ignore[no-untyped-def]
    """Like tape_helpers.run, with stdin from a file object or bytes."""
    kw = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    proc = subprocess.run(args, cwd=cwd, env=TOOL_ENV, capture_output=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stderr: {proc.stderr.decode(errors='replace')[-3000:]}")
    return proc
