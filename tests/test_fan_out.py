"""Several destinations in one pass: tapes and folders fed from one read, each proven on its own."""

from __future__ import annotations

import errno
import json
import os
from collections import namedtuple
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive.catalog import Catalog, search
from lto_archive.errors import JobIncomplete, UsageError
from lto_archive.jobs import folder_dest
from lto_archive.jobs.read import restore_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import create_vtape
from lto_archive.tape.vtape import Faults
from lto_archive_cli.main import cli


def _card(root: Path, files: int = 6) -> dict[str, bytes]:
    out = {}
    for i in range(files):
        data = os.urandom(300_000 + 7919 * i)
        p = root / "A001" / "CLIP" / f"A001C00{i}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[f"card/A001/CLIP/A001C00{i}.mov"] = data
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".lto-archive" not in p.parts and "ascmhl" not in p.parts}


def _opts(**kw) -> WriteOptions:  # type: ignore[no-untyped-def]
    return WriteOptions(record_size=65536, chunk_size=4 * 65536, **kw)


def test_two_tapes_and_a_folder_from_one_read_each_proven(tmp_path: Path) -> None:
    files = _card(tmp_path / "card")
    a = create_vtape(tmp_path / "A", "LTO-9", capacity=256 << 20, barcode="LTA001L9")
    b = create_vtape(tmp_path / "B", "LTO-9", capacity=256 << 20, barcode="LTA002L9")
    # tape B already holds a session: the same archive lands at a different tape file and block
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x.bin").write_bytes(b"x" * 200_000)
    assert write_archive([tmp_path / "old"], b, _opts()).status == "ok"
    reads = []
    real_open = os.open

    def counting_open(path, flags, *a, **kw):  # type: ignore[no-untyped-def]
        if str(path).startswith(str(tmp_path / "card")) and not flags & (os.O_WRONLY | os.O_RDWR):
            reads.append(path)
        return real_open(path, flags, *a, **kw)

    os.open = counting_open
    try:
        r = write_archive([tmp_path / "card"], [a, b], _opts(), folders=[tmp_path / "shuttle"])
    finally:
        os.open = real_open
    assert r.status == "ok", r.destinations
    assert len([p for p in reads if str(p).endswith(".mov")]) == len(files)   # every source file opened once
    tapes = [d for d in r.destinations if d["kind"] == "tape"]
    assert [(d["destination"], d["tape_file"], d["status"], d["verified"]) for d in tapes] == [
        ("LTA001L9", 0, "ok", len(files)), ("LTA002L9", 1, "ok", len(files))]
    folder = r.destinations[2]
    assert folder["status"] == "ok" and folder["verified"] == len(files)
    assert _tree(tmp_path / "shuttle") == files
    assert (tmp_path / "shuttle" / "card" / "ascmhl" / "ascmhl_chain.xml").is_file()   # the card's ASC MHL
    for name, dev in (("A", a), ("B", b)):
        out = tmp_path / f"restore-{name}"
        restore_tape(dev, out, patterns=["card"]).raise_for_status()
        assert _tree(out) == files
    # per-destination positions: tape B's copy is told at its own blocks
    rb = r.for_destination(1)
    assert {f.tape_file for f in rb.files} == {1} and {f.tape_file for f in r.files} == {0}
    shift = tapes[1]["start_block"] - tapes[0]["start_block"]
    assert [f.block for f in rb.files] == [f.block + shift for f in r.files]


def test_a_tape_failing_mid_job_is_dropped_and_the_others_are_proven(tmp_path: Path) -> None:
    files = _card(tmp_path / "card")
    a = create_vtape(tmp_path / "A", "LTO-9", capacity=256 << 20, barcode="LTA001L9")
    b = create_vtape(tmp_path / "B", "LTO-9", capacity=256 << 20, barcode="LTA002L9")
    b.faults = Faults(write_error_after_calls=5)
    r = write_archive([tmp_path / "card"], [a, b], _opts(), folders=[tmp_path / "shuttle"])
    by = {d["destination"]: d for d in r.destinations}
    assert by["LTA002L9"]["status"] == "failed" and "write error" in by["LTA002L9"]["error"]
    assert by["LTA001L9"]["status"] == "ok" and by["LTA001L9"]["verified"] == len(files)
    assert by[str(tmp_path / "shuttle")]["verified"] == len(files)
    assert r.status == "incomplete" and r.error is None
    with pytest.raises(JobIncomplete, match="LTA002L9"):
        r.raise_for_status()
    out = tmp_path / "restore"
    restore_tape(a, out).raise_for_status()
    assert _tree(out) == files


def test_a_failing_folder_is_dropped_without_harming_the_tape(tmp_path: Path, monkeypatch) -> None:
    files = _card(tmp_path / "card")
    a = create_vtape(tmp_path / "A", "LTO-9", capacity=256 << 20)
    real_write = folder_dest.FolderFile.write
    calls = {"n": 0}

    def full_after_a_while(self, view):  # type: ignore[no-untyped-def]
        if str(self.dest.root).endswith("bad"):
            calls["n"] += 1
            if calls["n"] > 3:
                self.broken = True
                self.dest.fail(OSError(errno.ENOSPC, "No space left on device"))
                return
        real_write(self, view)

    monkeypatch.setattr(folder_dest.FolderFile, "write", full_after_a_while)
    r = write_archive([tmp_path / "card"], a, _opts(), folders=[tmp_path / "bad", tmp_path / "good"])
    by = {d["destination"]: d for d in r.destinations}
    assert by[str(tmp_path / "bad")]["status"] == "failed"
    assert "No space left" in by[str(tmp_path / "bad")]["error"]
    assert by[str(tmp_path / "good")]["verified"] == len(files)
    assert _tree(tmp_path / "good") == files
    # nothing half-written is left under its real name in the failed folder
    for p, data in _tree(tmp_path / "bad").items():
        assert files[p] == data
    assert r.destinations[0]["status"] == "ok" and r.destinations[0]["verified"] == len(files)


def test_folder_that_would_be_filled_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch) -> None:
    _card(tmp_path / "card")
    a = create_vtape(tmp_path / "A", "LTO-9", capacity=256 << 20)
    Vfs = namedtuple("Vfs", "f_blocks f_frsize f_bavail")
    monkeypatch.setattr(folder_dest.os, "statvfs", lambda p: Vfs(1000, 4096, 100))   # 400 KB free
    with pytest.raises(UsageError, match="fill the disk completely"):
        write_archive([tmp_path / "card"], a, _opts(), folders=[tmp_path / "small"])
    assert a.eod(0) == 0                          # the tape was not touched
    assert not (tmp_path / "small").exists() or not any((tmp_path / "small").iterdir())


def test_folder_past_80_percent_is_warned(tmp_path: Path, monkeypatch) -> None:
    files = _card(tmp_path / "card", 2)
    a = create_vtape(tmp_path / "A", "LTO-9", capacity=256 << 20)
    need = sum(len(v) for v in files.values())
    Vfs = namedtuple("Vfs", "f_blocks f_frsize f_bavail")
    monkeypatch.setattr(folder_dest.os, "statvfs", lambda p: Vfs(need // 4096 + 100, 4096, need // 4096 + 50))
    r = write_archive([tmp_path / "card"], a, _opts(), folders=[tmp_path / "shuttle"])
    assert any("80 %" in n for n in r.destinations[1]["notes"])
    assert r.status == "ok"


def test_cli_double_backup_records_every_copy_in_the_catalog(tmp_path: Path) -> None:
    files = _card(tmp_path / "card", 3)
    for n, bc in (("A", "LTA001L9"), ("B", "LTA002L9")):
        create_vtape(tmp_path / n, "LTO-9", capacity=256 << 20, barcode=bc).close()
    cat = tmp_path / "cat.sqlite"
    res = CliRunner().invoke(cli, ["write", str(tmp_path / "card"), "--device", f"vtape:{tmp_path / 'A'}",
                                   "--device", f"vtape:{tmp_path / 'B'}", "--copy-to", str(tmp_path / "shuttle"),
                                   "--block-size", "64K", "--catalog", str(cat), "--log-dir", str(tmp_path / "logs"),
                                   "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [(d["kind"], d["status"], d["verified"]) for d in doc["destinations"]] == [
        ("tape", "ok", 3), ("tape", "ok", 3), ("folder", "ok", 3)]
    with Catalog.open(cat, create=False) as c:
        hits = search(c, "*A001C000.mov")
    assert len(hits) == 1
    where = sorted((cp.destination if hasattr(cp, "destination") else cp["destination"]) for cp in hits[0].copies)
    assert len(where) == 3 and any("LTA001L9" in str(w) for w in where) and any("LTA002L9" in str(w) for w in where)
    assert files


def test_cli_restore_from_catalog_names_the_cartridge_and_restores_by_locating(tmp_path: Path) -> None:
    files = _card(tmp_path / "card", 4)
    for n, bc in (("A", "LTA001L9"), ("B", "LTA002L9")):
        create_vtape(tmp_path / n, "LTO-9", capacity=256 << 20, barcode=bc).close()
    cat = str(tmp_path / "cat.sqlite")
    run = CliRunner().invoke
    res = run(cli, ["write", str(tmp_path / "card"), "--device", f"vtape:{tmp_path / 'A'}", "--block-size", "64K",
                    "--catalog", cat, "--log-dir", str(tmp_path / "logs")])
    assert res.exit_code == 0, res.output
    want = "card/A001/CLIP/A001C002.mov"
    plan = run(cli, ["restore", "--from-catalog", "--catalog", cat, str(tmp_path / "out"), want, "--json"])
    assert plan.exit_code == 0, plan.output
    doc = json.loads(plan.output)
    assert [c["barcode"] for c in doc["cartridges"]] == ["LTA001L9"]
    assert not (tmp_path / "out").exists()                  # a plan only
    wrong = run(cli, ["restore", "--from-catalog", "--catalog", cat, "--device", f"vtape:{tmp_path / 'B'}",
                      str(tmp_path / "out"), want])
    assert wrong.exit_code == 4 and "LTA001L9" in wrong.output
    ok = run(cli, ["restore", "--from-catalog", "--catalog", cat, "--device", f"vtape:{tmp_path / 'B'}",
                   "--device", f"vtape:{tmp_path / 'A'}", str(tmp_path / "out"), want])
    assert ok.exit_code == 0, ok.output
    assert _tree(tmp_path / "out") == {want: files[want]}


def test_ltfs_tape_and_a_folder_in_one_pass(tmp_path: Path) -> None:
    from lto_archive.formats.ltfs.volume import format_volume, open_volume
    files = _card(tmp_path / "card", 3)
    tape = create_vtape(tmp_path / "L", "LTO-9", capacity=256 << 20, partitions=2, barcode="LTF001L9")
    format_volume(tape, creator="t", serial="LTF001", block_size=65536)
    r = write_archive([tmp_path / "card"], tape, WriteOptions(format="ltfs"), folders=[tmp_path / "shuttle"])
    assert r.status == "ok", r.destinations
    assert [(d["kind"], d["status"], d["verified"]) for d in r.destinations] == [
        ("tape", "ok", 3), ("folder", "ok", 3)]
    assert _tree(tmp_path / "shuttle") == files
    assert (tmp_path / "shuttle" / "card" / "ascmhl" / "ascmhl_chain.xml").is_file()
    state = open_volume(tape)
    assert state.consistent
    paths = {p for p, _ in state.index.files()}
    assert any(p.endswith("/mhl/card/ascmhl/ascmhl_chain.xml") for p in paths)   # the card's history, on tape
    out = tmp_path / "out"
    restore_tape(tape, out, patterns=["card"]).raise_for_status()
    assert _tree(out) == files
