"""Every volume of a span set carries its own paperwork .7z and custody record (issue 17, span/evidence.py):
in its metadata archive before the manifest (TAR, CPIO, AXF-style), under `.lto-archive/<job>-volN/` on an
LTFS volume. Read back with GNU tar, cpio, 7z, `paperwork list` and `custody verify`; damage to them is the
volume's damage (exit 6) and never changes a file's proof; the reserve bounds what they take."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive.formats.ltfs.volume import open_volume
from lto_archive.jobs.write import WriteOptions
from lto_archive.span import evidence
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from lto_archive_cli.main import cli
from tests.conftest import require_tool
from tests.span.helpers import MiB, RS, cartridge_folder, make_card, make_library
from tests.span.ltfs_helpers import ltfs_library, write_ltfs_set
from tests.tape_helpers import dump_tape_file, record_path, tape_file_blocks, tape_file_bytes

SIZES = {"a.mov": 3_000_000, "b.mov": 4_000_000, "big.mov": 11_000_000, "c.mov": 100_000}
END = [".lto-archive/copy-log.txt", ".lto-archive/paperwork.7z", ".lto-archive/custody.jsonl",
       ".lto-archive/manifest.json"]


def _set(tmp_path: Path, fmt: str = "tar", **kw):  # type: ignore[no-untyped-def]
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=4, capacity=8 * MiB, slots=5)
    result = write_span([card], LibrarySupply(lib, "LTA*"),
                        WriteOptions(format=fmt, record_size=RS, log_dir=tmp_path / "logs", **kw))
    result.raise_for_status()
    assert len(result.volumes) >= 3
    return card, lib, result


def _seven(*args: str) -> subprocess.CompletedProcess:
    require_tool("7z")
    return subprocess.run(["7z", *args], capture_output=True, text=True)


def _check_members(folder: Path, sids: list[str], tmp: Path, password: str | None = None) -> None:
    """The volume's paperwork (at `folder`) holds its own files and the earlier volumes' manifests and copy
    logs (`sids`: the set so far, this volume last); `7z t`, `paperwork list` and `custody verify` pass."""
    seven = folder / "paperwork.7z"
    pw = [f"-p{password}"] if password else []
    t = _seven("t", *pw, str(seven))
    assert t.returncode == 0 and "Everything is Ok" in t.stdout, t.stdout + t.stderr
    pwfile = tmp / "pw"
    if password:
        pwfile.write_text(password + "\n")
    r = CliRunner().invoke(cli, ["paperwork", "list", str(seven), "--json"]
                           + (["--password-file", str(pwfile)] if password else []))
    assert r.exit_code == 0, r.output
    for sid in sids:
        assert f".lto-archive/{sid}/manifest.json" in r.output and f".lto-archive/{sid}/copy-log.txt" in r.output
    files = lto_archive.open_paperwork(seven, password_file=pwfile if password else None)
    assert files[f".lto-archive/{sids[-1]}/manifest.json"] == (folder / "manifest.json").read_bytes()
    assert f".lto-archive/{sids[-1]}/custody.jsonl" in files
    r = CliRunner().invoke(cli, ["custody", "verify", str(folder / "custody.jsonl")])
    assert r.exit_code == 0 and "custody log ok: 5 entries, 2 checkpoints" in r.output, r.output
    entries = [json.loads(line) for line in (folder / "custody.jsonl").read_text().splitlines()]
    assert [e["data"].get("phase", e["event"]) for e in entries] == [
        "started", "written", "checkpoint", "paperwork", "checkpoint"]
    assert all(e["subject"] == sids[-1] for e in entries)
    assert entries[0]["data"]["span"]["sequence"] == len(sids)


@pytest.mark.parametrize("fmt,tool", [("tar", "tar"), ("cpio", "cpio")])
def test_each_volume_ends_with_its_paperwork_gnu_tools_and_7z_read_it(tmp_path: Path, fmt: str, tool: str) -> None:
    _, lib, result = _set(tmp_path, fmt)
    require_tool(tool)
    sids = [v.manifest.session.session_id for v in result.volumes]
    for i, (barcode, vol) in enumerate(zip(result.barcodes, result.volumes)):
        n = vol.manifest.session.span["manifest_tape_file"]
        tf = dump_tape_file(cartridge_folder(lib, barcode), n, tmp_path / f"meta{i}")
        cmd = ["tar", "-tf", str(tf)] if fmt == "tar" else ["cpio", "-it", "--quiet", "-F", str(tf)]
        listed = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
        assert listed[-4:] == END
        out = tmp_path / f"x{i}"
        out.mkdir()
        cmd = ["tar", "-xf", str(tf), "-C", str(out)] if fmt == "tar" else ["cpio", "-id", "--quiet", "-F", str(tf)]
        subprocess.run(cmd, check=True, cwd=out)
        _check_members(out / ".lto-archive", sids[:i + 1], tmp_path)
        # the earlier volumes' manifests and copy logs in it are the bytes on their cartridges (a split file's
        # whole hashes, learnt later, do not change them)
        packed = lto_archive.open_paperwork(out / ".lto-archive" / "paperwork.7z")
        for k in range(i):
            for name in ("manifest.json", "copy-log.txt"):
                assert packed[f".lto-archive/{sids[k]}/{name}"] == (tmp_path / f"x{k}" / ".lto-archive" / name
                                                                    ).read_bytes()


def _restored(card: Path, lib, result, tmp_path: Path, password: str | None = None):  # type: ignore[no-untyped-def]
    """The set restored: every volume's paperwork, custody record and manifest given back under
    `.lto-archive/<session>/`, each checked (`_check_members`); the split file whole."""
    out = tmp_path / "r"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    r.raise_for_status()
    sids = [v.manifest.session.session_id for v in result.volumes]
    for i, sid in enumerate(sids):
        folder = out / ".lto-archive" / sid
        assert sorted(p.name for p in folder.iterdir()) == ["custody.jsonl", "manifest.json", "paperwork.7z"]
        _check_members(folder, sids[:i + 1], tmp_path, password=password)
    assert (out / "card/CLIPS/big.mov").read_bytes() == (card / "CLIPS/big.mov").read_bytes()
    return r


def test_axf_volumes_carry_them_and_span_restore_gives_them_back(tmp_path: Path) -> None:
    card, lib, result = _set(tmp_path, "axf", paperwork_password="s3cret")
    r = _restored(card, lib, result, tmp_path, password="s3cret")
    restored = {p for t in r.tape_files for p in t.restored}      # footage only: the metadata is not counted
    assert {p for p in restored if p.startswith("card/CLIPS/")} == {f"card/CLIPS/{n}" for n in SIZES}
    assert not [p for p in restored if p.startswith(".lto-archive")]


def _corrupt(lib, barcode: str, n: int, member: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Zero 64 bytes in the middle of the member whose data follows `member`'s name in tape file n."""
    cart = cartridge_folder(lib, barcode)
    whole = tape_file_bytes(cart, n)
    at = whole.index(member)
    start = whole.index(b"7z\xbc\xaf\x27\x1c", at) + 200
    blocks = tape_file_blocks(cart, n)
    rs = len(record_path(cart, blocks[0]).read_bytes())
    raw = bytearray(whole)
    raw[start:start + 64] = bytes(64)
    for i, b in enumerate(blocks):
        record_path(cart, b).write_bytes(bytes(raw[i * rs:(i + 1) * rs]))


@pytest.mark.parametrize("fmt", ["tar", "axf"])
def test_a_damaged_volume_paperwork_is_damage_and_every_proof_stays(tmp_path: Path, fmt: str) -> None:
    _, lib, result = _set(tmp_path, fmt)
    before = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert before.status == "ok"
    second = result.volumes[1].manifest.session
    _corrupt(lib, result.barcodes[1], second.span["manifest_tape_file"], b"paperwork.7z", tmp_path)
    after = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert [t.verified for t in after.tape_files] == [t.verified for t in before.tape_files]
    assert [t.parts_verified for t in after.tape_files] == [t.parts_verified for t in before.tape_files]
    assert not after.failed and not after.unproven and after.complete
    assert after.status == "damaged" and [i for i, t in enumerate(after.tape_files) if t.error] == [1]
    msg = after.tape_files[1].error.message
    assert result.barcodes[1] in msg and "paperwork.7z" in msg and "proofs do not depend on it" in msg
    r = CliRunner().invoke(cli, ["span", "verify", "--device", f"vlib:{lib.path}", "--cartridges",
                                 ",".join(result.barcodes), "--no-catalog", "--no-progress"])
    assert r.exit_code == 6 and "paperwork.7z" in r.output, r.output


def test_the_reserve_bounds_each_volumes_evidence(tmp_path: Path) -> None:
    """What each volume's paperwork and custody record take is within what span/evidence.py reserved."""
    _, lib, result = _set(tmp_path, "tar")
    earlier = evidence.EarlierVolumes()
    for barcode, vol in zip(result.barcodes, result.volumes):
        s = vol.manifest.session
        cart = cartridge_folder(lib, barcode)
        whole = tape_file_bytes(cart, s.span["manifest_tape_file"])
        with tarfile.open(fileobj=io.BytesIO(whole)) as tf:
            sizes = {m.name: m.size for m in tf.getmembers()}
            on_tape = {m.name: tf.extractfile(m).read() for m in tf.getmembers()}  # type: ignore[union-attr]
        metadata = sum(v for k, v in sizes.items() if not k.endswith((".7z", ".jsonl")))
        took = sizes[".lto-archive/paperwork.7z"] + sizes[".lto-archive/custody.jsonl"]
        bound = evidence.room(s, metadata, earlier, 0)
        assert 0 < took <= bound < took + 64 * 1024 + metadata
        for name in ("copy-log.txt", "manifest.json"):      # as on the cartridge
            earlier.files.append((name, on_tape[f".lto-archive/{name}"]))


def _ltfs_set(tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    card = make_card(tmp_path, SIZES)
    lib = ltfs_library(tmp_path / "lib", cartridges=3)
    result = write_ltfs_set(card, lib, split_files=True, **kw)
    result.raise_for_status()
    assert len(result.volumes) >= 2
    return card, lib, result


def test_ltfs_volumes_carry_them_in_their_session_folder(tmp_path: Path) -> None:
    card, lib, result = _ltfs_set(tmp_path)
    _restored(card, lib, result, tmp_path)


def test_a_damaged_ltfs_volume_paperwork_is_damage_and_every_proof_stays(tmp_path: Path) -> None:
    _, lib, result = _ltfs_set(tmp_path)
    before = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert before.status == "ok"
    sid = result.volumes[0].manifest.session.session_id
    drive = lib.load_barcode(result.barcodes[0], None)
    dev = lib.open_drive(drive)
    node = open_volume(dev).index.lookup(f".lto-archive/{sid}/paperwork.7z")
    dev.close()
    lib.unload(drive)
    rec = record_path(cartridge_folder(lib, result.barcodes[0]), node.start_block, partition=1)
    raw = bytearray(rec.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    rec.write_bytes(bytes(raw))
    after = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert [t.verified for t in after.tape_files] == [t.verified for t in before.tape_files]
    assert not after.failed and not after.unproven and after.complete and after.status == "damaged"
    msg = after.tape_files[0].error.message
    assert "paperwork.7z" in msg and "index's checksums" in msg and "proofs do not depend on it" in msg


def test_every_volumes_record_is_anchored_in_the_catalog(tmp_path: Path) -> None:
    """A span job takes the catalog chain's head once; each volume's record states it, and the catalog's write
    entry of each volume records that volume's record."""
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    cat = tmp_path / "cat.sqlite"
    with lto_archive.Catalog(cat) as c:
        c.custody_record("location", "LTX001L9", {"location": "Shelf 1"})     # the chain's head: entry 1
    res = lto_archive.write(card, f"vlib:{lib.path}", span="LTA*", catalog=cat, log_dir=False, block_size="64K")
    assert res.status == "ok"
    (span_set,) = res.sets
    assert len(span_set.volumes) == 3
    for i, (barcode, vol) in enumerate(zip(span_set.barcodes, span_set.volumes)):
        n = vol.manifest.session.span["manifest_tape_file"]
        with tarfile.open(fileobj=io.BytesIO(tape_file_bytes(cartridge_folder(lib, barcode), n))) as tf:
            record = tf.extractfile(".lto-archive/custody.jsonl").read()  # type: ignore[union-attr]
        path = tmp_path / f"vol{i}.jsonl"
        path.write_bytes(record)
        r = CliRunner().invoke(cli, ["custody", "verify", str(path), "--catalog", str(cat), "--json"])
        assert r.exit_code == 0, r.output
        got = json.loads(r.output)["anchor"]["sessions"]
        assert [s["status"] for s in got] == ["anchored"] and got[0]["anchor"]["seq"] == 1
