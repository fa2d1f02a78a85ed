"""Our TarReader reads what GNU tar and bsdtar write."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from lto_archive.errors import CorruptArchive
from lto_archive.formats.tapefile import TapeFileReader
from lto_archive.formats.tar_reader import TarReader
from tests.conftest import require_tool

from .fake_tape import FakeTape

pytestmark = pytest.mark.interop

RECORD = 512 * 1024
NON_ASCII = "Café Crème 日本語 🎬.mov"
LONG_PATH = "nested/" + "d" * 80 + "/" + "f" * 90 + ".mov"      # > 100 bytes, fits ustar's prefix
LONG_COMPONENT = "x" * 200 + ".wav"                            # too long for ustar


def make_source(root: Path, *, ustar: bool) -> Path:
    src = root / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "emptydir").mkdir()
    files = {
        NON_ASCII: os.urandom(70_000),
        LONG_PATH: os.urandom(1_234),
        "nested/deeper/leaf.bin": os.urandom(600_000),     # spans records
        "empty.txt": b"",
        "spaces and: colons % percent.txt": b"odd name\n",
    }
    if not ustar:
        files[LONG_COMPONENT] = os.urandom(513)
    for rel, data in files.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    os.symlink("nested/deeper/leaf.bin", src / "link_to_leaf")
    return src


def expected_tree(src: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(src):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = p.relative_to(src).as_posix()
            if p.is_symlink():
                out[rel] = ("symlink", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", None)
            else:
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size)
    return out


def read_tree(reader: TarReader) -> tuple[dict[str, tuple], dict[str, tuple[int, bool]]]:
    out: dict[str, tuple] = {}
    mtimes: dict[str, tuple[int, bool]] = {}
    for m in reader:
        path = m.path[2:] if m.path.startswith("./") else m.path
        if path in (".", ""):
            continue
        mtimes[path] = (m.mtime_ns, "mtime" in m.extra.pax)
        if m.kind == "file":
            h = hashlib.sha256()
            n = 0
            for chunk in reader.iter_data(m):
                h.update(chunk)
                n += len(chunk)
            assert n == m.size
            out[path] = ("file", h.hexdigest(), m.size)
        elif m.kind == "symlink":
            out[path] = ("symlink", m.linkname)
        else:
            out[path] = (m.kind, None)
    return out, mtimes


VARIANTS = {
    "gnu-pax": (["tar", "-b", "1024", "--format=pax"], "C.UTF-8"),
    "gnu-gnu": (["tar", "-b", "1024", "--format=gnu"], "C.UTF-8"),
    "gnu-ustar": (["tar", "-b", "1024", "--format=ustar"], "C.UTF-8"),
    "bsdtar-default": (["bsdtar"], "C.UTF-8"),
    "bsdtar-pax": (["bsdtar", "--format", "pax"], "C.UTF-8"),
    "bsdtar-pax-binary": (["bsdtar", "--format", "pax"], "C"),   # writes hdrcharset=BINARY
}


def build(variant: str, tmp_path: Path) -> tuple[Path, Path]:
    cmd, lang = VARIANTS[variant]
    require_tool(cmd[0])
    src = make_source(tmp_path, ustar=variant.endswith("ustar"))
    out = tmp_path / "out.tar"
    names = sorted(os.listdir(src))
    env = {**os.environ, "LC_ALL": lang}
    proc = subprocess.run([*cmd, "-cf", str(out), "-C", str(src), *names], env=env, capture_output=True)
    if variant != "bsdtar-pax-binary":   # that one warns (on purpose) about the C locale
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert out.stat().st_size > 0
    return src, out


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_read_archives_from_other_tools(variant, tmp_path):
    src, out = build(variant, tmp_path)
    with open(out, "rb") as f:
        r = TarReader(f)
        got, mtimes = read_tree(r)
    assert r.ended_cleanly
    assert got == expected_tree(src)
    for rel in got:
        ns, from_pax = mtimes[rel]
        want = os.lstat(src / rel).st_mtime_ns
        if "pax" in variant:
            assert from_pax, rel          # pax writers keep nanoseconds for every member
        assert ns == (want if from_pax else want // 10**9 * 10**9), rel


@pytest.mark.parametrize("variant", ["gnu-pax", "gnu-gnu", "gnu-ustar"])
def test_gnu_tar_output_through_tape_records(variant, tmp_path):
    src, out = build(variant, tmp_path)
    raw = out.read_bytes()
    assert len(raw) % RECORD == 0          # -b 1024: whole 512 KiB records
    dev = FakeTape.from_files(raw, b"next tape file", record_size=RECORD)
    tfr = TapeFileReader(dev)
    r = TarReader(tfr)
    got, _ = read_tree(r)
    assert got == expected_tree(src)
    assert tfr.ended_at_filemark and tfr.records_read == len(raw) // RECORD
    assert dev.read_record() == b"next tape file"


@pytest.mark.parametrize("variant", ["gnu-pax", "gnu-gnu", "bsdtar-pax"])
def test_names_match_the_tools_own_listing(variant, tmp_path):
    tool = VARIANTS[variant][0][0]
    _, out = build(variant, tmp_path)
    listing = subprocess.run([tool, "-tf", str(out)], capture_output=True, check=True,
                             env={**os.environ, "LC_ALL": "C.UTF-8"}).stdout
    theirs = [os.fsdecode(n).rstrip("/") for n in listing.split(b"\n") if n]
    with open(out, "rb") as f:
        ours = [m.path for m in TarReader(f)]
    assert ours == theirs


def test_truncated_gnu_tar_output_is_reported(tmp_path):
    require_tool("tar")
    src = tmp_path / "s"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(100_000))
    (src / "clip.mov").write_bytes(os.urandom(300_000))
    out = tmp_path / "t.tar"
    subprocess.run(["tar", "-b", "1024", "--format=pax", "-cf", str(out), "-C", str(src), "a.bin", "clip.mov"],
                   check=True)
    raw = out.read_bytes()
    with open(out, "rb") as f:
        offsets = {m.path: m.data_offset for m in TarReader(f)}
    cut = offsets["clip.mov"] + 200_000
    dev = FakeTape.from_files(raw[:cut], record_size=65536, filemark_after_last=False)
    tfr = TapeFileReader(dev)
    r = TarReader(tfr)
    done = []
    with pytest.raises(CorruptArchive) as ei:
        for m in r:
            n = sum(len(c) for c in r.iter_data(m))
            done.append((m.path, n))
    assert done == [("a.bin", 100_000)]
    assert "ends inside 'clip.mov' after 200000 of 300000 bytes" in str(ei.value)
    assert tfr.ended_at_eod


def test_gnu_volume_label_is_not_a_member(tmp_path):
    require_tool("tar")
    (tmp_path / "f").write_bytes(b"data")
    out = tmp_path / "v.tar"
    subprocess.run(["tar", "--format=gnu", "-V", "REEL 7", "-cf", str(out), "-C", str(tmp_path), "f"], check=True)
    with open(out, "rb") as fh:
        r = TarReader(fh)
        members = [(m.path, r.read_data(m)) for m in r]
    assert members == [("f", b"data")]
    assert r.volume_label == "REEL 7"


@pytest.mark.parametrize("fmt", ["gnu", "pax"])
def test_gnu_sparse_files_are_restored_with_their_holes(fmt, tmp_path):
    require_tool("tar")
    (tmp_path / "before.txt").write_bytes(b"fine")
    with open(tmp_path / "holes.img", "wb") as fh:
        fh.truncate(8 << 20)
        fh.seek(4 << 20)
        fh.write(b"x" * 4096)
    out = tmp_path / "s.tar"
    subprocess.run(["tar", f"--format={fmt}", "--sparse", "-cf", str(out), "-C", str(tmp_path),
                    "before.txt", "holes.img"], check=True)
    with open(out, "rb") as fh:
        r = TarReader(fh)
        got = {m.path: r.read_data(m) for m in r}
    assert got == {"before.txt": b"fine", "holes.img": (tmp_path / "holes.img").read_bytes()}
    assert r.skipped == [] and r.damaged == []
