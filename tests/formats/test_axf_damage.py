"""Damaged and hostile AXF-style tapes: clear errors, nothing outside DEST, and recovery by scanning.

The cartridges are written by the real write job (or, for hostile ones, by AxfWriter with crafted
names) and damaged from outside, as a bad tape would be: record files overwritten with zeros of
the same length, records removed, bytes flipped.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from lto_archive.errors import CorruptArchive, UnsafePath, VerificationFailed
from lto_archive.formats.axf import scan_volume
from lto_archive.formats.axf.structures import MAGIC, FrameType, parse_frame_header
from lto_archive.formats.registry import get_format
from lto_archive.jobs.read import restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.streaming import RecordStream
from lto_archive.tape import VirtualTape, create_vtape
from tests.bad_input_helpers import data, run, snapshot
from tests.tape_helpers import record_path

KiB = 1024
RS = 16 * KiB
_OBJ = re.compile(r"0_(\d+)_([RF])")


def frames_on_cartridge(cart: Path) -> list[tuple[int, int, FrameType, int, int]]:
    """(block, offset, type, sequence, tape file) of every intact frame, in tape order."""
    objs = sorted((int(m.group(1)), m.group(2)) for n in os.listdir(cart) if (m := _OBJ.fullmatch(n)))
    out, tf = [], 0
    for block, kind in objs:
        if kind == "F":
            tf += 1
            continue
        rec = record_path(cart, block).read_bytes()
        for off in range(0, len(rec), 512):
            if rec[off:off + 8] == MAGIC:
                try:
                    f = parse_frame_header(rec[off:off + 64])
                except CorruptArchive:
                    continue
                out.append((block, off, FrameType(f.type), f.sequence, tf))
    return out


def find(cart: Path, ftype: FrameType, tape_file: int, seq: int | None = None) -> tuple[int, int]:
    hits = [(b, o) for b, o, t, s, tf in frames_on_cartridge(cart)
            if t == ftype and tf == tape_file and (seq is None or s == seq)]
    assert len(hits) == 1, hits
    return hits[0]


def destroy(cart: Path, block: int) -> None:
    p = record_path(cart, block)
    p.write_bytes(bytes(len(p.read_bytes())))


def cards(root: Path) -> tuple[list[Path], dict[str, bytes]]:
    want: dict[str, bytes] = {}
    out = []
    for k in range(2):
        card = root / f"card{k}"
        (card / "CLIPS").mkdir(parents=True)
        for i, size in enumerate([0, 1, 5000, RS, 3 * RS + 17, 100_000]):
            p = card / "CLIPS" / f"c{i}.mov"
            p.write_bytes(data(k * 100 + i, size))
            want[f"card{k}/CLIPS/c{i}.mov"] = p.read_bytes()
        out.append(card)
    return out, want


def two_sessions(tmp: Path) -> tuple[Path, list[Path], dict[str, bytes], list]:
    srcs, want = cards(tmp / "src")
    cart = tmp / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=1 << 30, barcode="AXF001L9")
    results = [write_archive([s], tape, WriteOptions(format="axf", record_size=RS, chunk_size=2 * RS)) for s in srcs]
    tape.close()
    assert all(r.status == "ok" for r in results)
    return cart, srcs, want, results


def footage(dest: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(dest).items() if not k.startswith(".lto-archive") and not k.endswith("/")
            and not v.startswith(b"link->")}


def scan(cart: Path, dest: Path | None = None):  # type: ignore[no-untyped-def]
    vt = VirtualTape(cart)
    try:
        return scan_volume(vt, dest=dest)
    finally:
        vt.close()


# --- recovery ------------------------------------------------------------------------------

def test_scan_recovers_every_intact_file_after_headers_footers_and_data_are_destroyed(tmp_path: Path) -> None:
    cart, _, want, results = two_sessions(tmp_path)
    vh_block, _ = find(cart, FrameType.VOLUME_HEADER, 0)
    of_block, _ = find(cart, FrameType.OBJECT_FOOTER, 1)
    victim = next(f for f in results[0].files if f.path == "card0/CLIPS/c5.mov")
    data_block = victim.block + 1 + 2          # its header's record, then its third data record
    assert record_path(cart, data_block).read_bytes() == want[victim.path][2 * RS:3 * RS]
    for b in (vh_block, of_block, data_block):
        destroy(cart, b)

    # the strict reader stops at the damage, with a message that says what and where
    vt = VirtualTape(cart)
    try:
        v = verify_tape(vt)
    finally:
        vt.close()
    assert [type(e) for e in v.errors] == [CorruptArchive, CorruptArchive]
    assert "tape file 0" in v.errors[0].message and "volume header" in v.errors[0].message
    assert "axf scan" in v.errors[0].message
    assert "tape file 1" in v.errors[1].message and "object footer" in v.errors[1].message

    dest = tmp_path / "dest"
    report = scan(cart, dest)
    by = {(f.tape_file, f.path): f for f in report.files}
    bad = by[(0, victim.path)]
    assert bad.status == "failed" and "mismatch" in bad.reason and not bad.restored
    proven = [f for f in report.files if f.status == "proven"]
    assert len(proven) == len(report.files) - 1 and all(f.restored for f in proven)
    assert all(f.proof == "file footer" for f in proven)
    # every intact file bit-exact, the damaged one not there at all
    got = footage(dest)
    assert got == {k: v for k, v in want.items() if k != victim.path}
    assert not (dest / victim.path).exists() and not list(dest.rglob("*.part"))
    assert {(d.tape_file, d.block) for d in report.damaged} == {(0, vh_block), (1, of_block)}
    objs = report.objects
    assert [(o.tape_file, o.header is not None, o.footer is not None) for o in objs] == [(0, True, True),
                                                                                         (1, True, False)]
    assert [v["structure"] for v in report.volumes] == ["volume signature", "volume footer", "volume footer"]
    assert report.status == "failed"
    with pytest.raises(VerificationFailed, match="c5.mov"):
        report.raise_for_status()

    # the command says the same: exit 3, the damaged file named, JSON for scripts
    cp = run("axf", "scan", "--device", f"vtape:{cart}", "--json")
    assert cp.returncode == 3, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    assert doc["files"] == [victim.path]
    assert doc["result"]["totals"] == {"proven": len(proven), "failed": 1, "unproven": 0, "missing": 0,
                                       "restored": 0}
    cp = run("axf", "scan", "--device", f"vtape:{cart}", "--restore", tmp_path / "dest2")
    assert cp.returncode == 3 and "FAILED: card0/CLIPS/c5.mov" in cp.stdout and "damaged:" in cp.stdout
    assert footage(tmp_path / "dest2") == got


def test_a_lost_file_footer_and_file_header_are_proven_another_way(tmp_path: Path) -> None:
    cart, _, want, results = two_sessions(tmp_path)
    rec2 = {f.path: f for f in results[1].files}
    c2 = rec2["card1/CLIPS/c2.mov"]
    # the record after c2's data holds c2's footer and c3's header
    footer_block, off = find(cart, FrameType.FILE_FOOTER, 1, seq=next(
        s for b, o, t, s, tf in frames_on_cartridge(cart) if tf == 1 and t == FrameType.FILE_HEADER and b == c2.block
        and o == c2.offset))
    assert off == 0
    destroy(cart, footer_block)
    report = scan(cart, tmp_path / "dest")
    by = {f.path: f for f in report.files if f.tape_file == 1}
    assert by["card1/CLIPS/c2.mov"].status == "proven" and by["card1/CLIPS/c2.mov"].proof == "object footer"
    assert by["card1/CLIPS/c3.mov"].status == "proven" and "header is lost" in by["card1/CLIPS/c3.mov"].proof
    assert footage(tmp_path / "dest") == want
    assert report.status == "damaged" and len(report.damaged) == 1
    cp = run("axf", "scan", "--device", f"vtape:{cart}")
    assert cp.returncode == 6 and "every file outside them was proven" in cp.stderr

    # without the object footer, the object's manifest.json proves c2 instead
    destroy(cart, find(cart, FrameType.OBJECT_FOOTER, 1)[0])
    report = scan(cart, tmp_path / "dest2")
    by = {f.path: f for f in report.files if f.tape_file == 1}
    assert by["card1/CLIPS/c2.mov"].proof == "manifest.json"
    assert footage(tmp_path / "dest2") == want


def test_a_file_nothing_proves_is_reported_and_never_restored(tmp_path: Path) -> None:
    cart, _, want, results = two_sessions(tmp_path)
    frames = frames_on_cartridge(cart)
    c4 = next(f for f in results[1].files if f.path == "card1/CLIPS/c4.mov")
    seq4 = next(s for b, o, t, s, tf in frames if tf == 1 and t == FrameType.FILE_HEADER and b == c4.block)
    manifest_seq = max(s for b, o, t, s, tf in frames if tf == 1 and t == FrameType.FILE_FOOTER)
    for block in (find(cart, FrameType.FILE_FOOTER, 1, seq4)[0], find(cart, FrameType.FILE_FOOTER, 1, manifest_seq)[0],
                  find(cart, FrameType.OBJECT_FOOTER, 1)[0]):
        destroy(cart, block)
    report = scan(cart, tmp_path / "dest")
    by = {f.path: f for f in report.files if f.tape_file == 1}
    assert by["card1/CLIPS/c4.mov"].status == "unproven" and not by["card1/CLIPS/c4.mov"].restored
    assert not (tmp_path / "dest" / "card1/CLIPS/c4.mov").exists()
    assert footage(tmp_path / "dest") == {k: v for k, v in want.items() if k != "card1/CLIPS/c4.mov"}
    assert report.status == "damaged"


def test_truncated_tape_file_is_a_clear_error_and_scan_keeps_what_is_there(tmp_path: Path) -> None:
    cart, _, want, results = two_sessions(tmp_path)
    c4 = next(f for f in results[1].files if f.path == "card1/CLIPS/c4.mov")
    cut = c4.block + 2                      # c4's header and first data record stay, the rest goes
    for p in list(cart.iterdir()):
        m = _OBJ.fullmatch(p.name)
        if m and int(m.group(1)) >= cut:
            p.unlink()
    vt = VirtualTape(cart)
    try:
        v = verify_tape(vt)
        assert [t.error is None for t in v.tape_files] == [True, False]
        assert "truncated" in v.tape_files[1].error.message and "c4.mov" in v.tape_files[1].error.message
        r = restore_tape(vt, tmp_path / "dest")
    finally:
        vt.close()
    got = footage(tmp_path / "dest")
    assert got == {k: v for k, v in want.items() if k.startswith("card0/") or k < "card1/CLIPS/c4.mov"}
    assert r.status == "damaged"
    report = scan(cart, tmp_path / "scan")
    by = {f.path: f for f in report.files if f.tape_file == 1}
    assert by["card1/CLIPS/c4.mov"].status == "failed" and "ends after" in by["card1/CLIPS/c4.mov"].reason
    assert footage(tmp_path / "scan") == got
    assert any("planned in the object header" in n and "c5.mov" in n for n in report.notes)


def test_flipped_bytes(tmp_path: Path) -> None:
    cart, _, want, results = two_sessions(tmp_path)
    c3 = next(f for f in results[0].files if f.path == "card0/CLIPS/c3.mov")
    # in the data: verify names the file (exit 3), the scanner refuses to restore it
    p = record_path(cart, c3.block + 1)
    raw = bytearray(p.read_bytes())
    raw[100] ^= 0xFF
    p.write_bytes(bytes(raw))
    cp = run("verify", "--device", f"vtape:{cart}")
    assert cp.returncode == 3 and "card0/CLIPS/c3.mov" in cp.stderr
    report = scan(cart, tmp_path / "d1")
    assert [(f.path, f.status) for f in report.files if f.status != "proven"] == [("card0/CLIPS/c3.mov", "failed")]
    # in a file header: a corrupt archive (exit 6) naming the CRC, every file before it restores
    p = record_path(cart, c3.block)
    raw = bytearray(p.read_bytes())
    raw[c3.offset + 20] ^= 0x01
    p.write_bytes(bytes(raw))
    cp = run("restore", "--device", f"vtape:{cart}", tmp_path / "d2", "--no-progress")
    assert cp.returncode == 6 and "header CRC-32 mismatch" in cp.stderr and "tape file 0" in cp.stderr
    got = footage(tmp_path / "d2")
    assert {k for k in got if k.startswith("card0/")} == {f"card0/CLIPS/c{i}.mov" for i in range(3)}
    assert all(got[k] == want[k] for k in got)


def test_garbage_and_foreign_tape_files(tmp_path: Path) -> None:
    from tests.bad_input_helpers import write_raw_tape_file
    cart = tmp_path / "tape"
    create_vtape(cart, "LTO-9", capacity=1 << 30).close()
    write_raw_tape_file(cart, MAGIC + os.urandom(4000), record=4 * KiB)     # our magic, then nonsense
    vt = VirtualTape(cart)
    try:
        v = verify_tape(vt)
        assert isinstance(v.errors[0], CorruptArchive) and "header CRC-32" in v.errors[0].message
        report = scan_volume(vt)
    finally:
        vt.close()
    assert report.files == [] and len(report.damaged) == 1


# --- hostile archives ------------------------------------------------------------------------

def _st(mode: int = 0o100644) -> SimpleNamespace:
    return SimpleNamespace(st_mode=mode, st_mtime_ns=1_600_000_000 * 10**9, st_uid=0, st_gid=0, st_size=0)


def write_crafted(cart: Path, members: list[tuple[str, str, bytes | str]]) -> None:
    """One AXF-style tape file with the members exactly as given: (kind, name, data or link target)."""
    vt = VirtualTape(cart)
    try:
        vt.seek_eod()
        stream = RecordStream(vt, 4 * KiB)
        w = get_format("axf").writer(stream)
        for kind, name, body in members:
            if kind == "file":
                w.add_bytes(name, body, 1_600_000_000 * 10**9)
            else:
                w.add_symlink(name, body, _st(0o120777))
        w.close()
        stream.close()
        vt.write_filemarks(1)
    finally:
        vt.close()


def test_hostile_archives_restore_nothing_outside_dest(tmp_path: Path) -> None:
    box = tmp_path / "box"
    dest, sentinel = box / "dest", box / "sentinel"
    sentinel.mkdir(parents=True)
    (sentinel / "keep.txt").write_bytes(b"keep me")
    outside = tmp_path / "outside"
    outside.mkdir()
    cart = tmp_path / "tape"
    create_vtape(cart, "LTO-9", capacity=1 << 30).close()
    write_crafted(cart, [("file", "safe1.txt", b"one"), ("file", "../evil", b"EVIL"),
                         ("file", "../sentinel/evil", b"EVIL"), ("file", "/abs/evil", b"EVIL"),
                         ("file", str(sentinel / "abs_evil"), b"EVIL"), ("file", "a/../../evil", b"EVIL")])
    write_crafted(cart, [("link", "tmplink", str(outside)), ("file", "tmplink/evil", b"EVIL"),
                         ("link", "esc", "../sentinel"), ("file", "esc/evil", b"EVIL"),
                         ("link", "up/deep", "../../../outside"), ("file", "safe2.txt", b"two")])
    before = (snapshot(sentinel), snapshot(outside), set(os.listdir(box)))
    hostile = {"../evil", "../sentinel/evil", "/abs/evil", str(sentinel / "abs_evil"), "a/../../evil",
               "tmplink", "esc", "up/deep"}

    cp = run("restore", "--device", f"vtape:{cart}", dest, "--no-progress", "--json")
    assert cp.returncode == 6, (cp.stdout, cp.stderr)
    doc = json.loads(cp.stdout)
    assert doc["error"] == "UnsafePath"
    refused = {r["path"] for t in doc["result"]["tape_files"] for r in t["refused"]}
    assert hostile <= refused, hostile - refused

    report = scan(cart, box / "dest_scan")
    assert hostile <= {r["path"] for r in report.refused}
    with pytest.raises(UnsafePath):
        report.raise_for_status()
    cp = run("axf", "scan", "--device", f"vtape:{cart}", "--restore", box / "dest_cli")
    assert cp.returncode == 6 and "../evil" in cp.stderr + cp.stdout

    assert (snapshot(sentinel), snapshot(outside)) == before[:2]
    assert set(os.listdir(box)) == before[2] | {"dest", "dest_scan", "dest_cli"}
    assert not Path("/abs/evil").exists() and not (tmp_path / "evil").exists() and not (box / "evil").exists()
    for d in (dest, box / "dest_scan", box / "dest_cli"):
        files = footage(d)
        assert {k: v for k, v in files.items() if v != b"EVIL"} == {"safe1.txt": b"one", "safe2.txt": b"two"}
        for k, v in files.items():     # a file "through" a refused link lands in a real folder inside DEST
            if v == b"EVIL":
                assert k in ("tmplink/evil", "esc/evil") and not (d / k).parent.is_symlink()
        for p in d.rglob("*"):
            assert not p.is_symlink() or p.resolve().is_relative_to(d.resolve()), p


def test_an_unreadable_record_fails_its_file_and_the_scan_goes_on(tmp_path: Path) -> None:
    cart, _, want, results = two_sessions(tmp_path)
    c4 = next(f for f in results[0].files if f.path == "card0/CLIPS/c4.mov")
    vt = VirtualTape(cart)
    try:
        vt.faults.read_error_at_block = c4.block + 2        # its second data record: a medium error
        report = scan_volume(vt, dest=tmp_path / "dest")
    finally:
        vt.close()
    bad = [(f.path, f.status) for f in report.files if f.status != "proven"]
    assert bad == [("card0/CLIPS/c4.mov", "failed")]
    assert report.damaged[0].block == c4.block + 2 and "unreadable" in report.damaged[0].message
    assert footage(tmp_path / "dest") == {k: v for k, v in want.items() if k != "card0/CLIPS/c4.mov"}
