"""Restore from the catalog: the cartridges to load, then straight to each file, in tape order, proven."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lto_archive.catalog import Catalog, record_write, search
from lto_archive.errors import (DeviceError, ExitCode, JobIncomplete, RestoreConflict, UnsafePath,
                                VerificationFailed)
from lto_archive.formats.ltfs.volume import open_volume
from lto_archive.jobs.catalog_restore import (CatalogRestoreResult, WrongCartridge, load_instruction_lines,
                                              load_instructions, plan_document, plan_restore, restore_from_plan)
from lto_archive.progress import Progress
from lto_archive.tape import MAX_RECORD, TapeDevice, VirtualTape
from lto_archive.tape.device import MediumInfo, Position, WriteFlags

from .conftest import ltfs_tape, make_file, tar_tape, write_and_record

RS = 16384          # the record size the jobs write with (conftest.opts)

#: card -> [(path in the card, size)]; every file has its own bytes
CARDS = {
    "A001": [("A001C001.mxf", 200_000), ("A001C002.mxf", 30_000), ("A001C003.mxf", 150_000),
             ("A001C004.xml", 300)],
    "A002": [("A002C001.mxf", 80_000), ("A002C002.mxf", 20_000)],
    "A003": [("A003C001.mxf", 120_000), ("A003C002.mxf", 5_000), ("EMPTY/zero.bin", 0)],
    "B001": [("B001C001.mov", 100_000), ("B001C002.mov", 40_000), ("B001C003.mov", 60_000)],
    "B002": [("B002C001.mov", 90_000), ("B002C002.mov", 7_000)],
    "B003": [("B003C001.mov", 60_000), ("B003C002.mov", 3_000)],
    "C001": [("C001C001.braw", 70_000), ("C001C002.braw", 10_000)],
    "SOUND": [("T001.WAV", 50_000), ("T002.WAV", 8_000)],
}
#: cartridge -> its sessions, in the order written: (format, cards)
CARTRIDGES = {
    "LTA001L9": [("tar", ["A001"]), ("tar", ["A002"]), ("tar", ["A003"])],
    "LTA002L9": [("cpio", ["B001"]), ("axf", ["B002"]), ("axf", ["B003"])],
    "LTA003L9": [("ltfs", ["C001"]), ("ltfs", ["SOUND"])],
}
#: a selection spread over the three cartridges, each file behind unselected ones in its tape file
SELECTION = ["A001/A001C002.mxf", "A001/A001C004.xml", "A003/A003C001.mxf", "A003/A003C002.mxf",
             "A003/EMPTY/zero.bin", "B001/B001C002.mov", "B002/B002C002.mov", "B003/B003C001.mov",
             "C001/C001C002.braw", "SOUND/T001.WAV"]


class LoggingTape(TapeDevice):
    """A TapeDevice that passes everything to a real one and logs where the head went and what it read."""

    def __init__(self, inner: TapeDevice) -> None:
        self.inner = inner
        self.name = inner.name
        self.log: list[tuple[str, int, int]] = []

    def clear(self) -> None:
        self.log.clear()

    def reads(self, partition: int | None = None) -> list[tuple[int, int]]:
        return [(p, b) for op, p, b in self.log if op == "read" and partition in (None, p)]

    def locates(self, partition: int | None = None) -> list[tuple[int, int]]:
        return [(p, b) for op, p, b in self.log if op == "locate" and partition in (None, p)]

    def write_record(self, data: bytes | bytearray | memoryview) -> WriteFlags:
        return self.inner.write_record(data)

    def write_filemarks(self, count: int = 1, *, immediate: bool = False) -> WriteFlags:
        return self.inner.write_filemarks(count, immediate=immediate)

    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        pos = self.inner.position()
        self.log.append(("read", pos.partition, pos.block))
        return self.inner.read_record(max_size)

    def rewind(self) -> None:
        self.log.append(("locate", 0, 0))
        self.inner.rewind()

    def locate(self, partition: int, block: int) -> None:
        self.log.append(("locate", partition, block))
        self.inner.locate(partition, block)

    def position(self) -> Position:
        return self.inner.position()

    def space_filemarks(self, count: int) -> None:
        self.log.append(("space_filemarks", count, 0))
        self.inner.space_filemarks(count)

    def space_records(self, count: int) -> None:
        self.log.append(("space_records", count, 0))
        self.inner.space_records(count)

    def seek_eod(self) -> None:
        self.log.append(("seek_eod", 0, 0))
        self.inner.seek_eod()

    @property
    def partitions(self) -> int:
        return self.inner.partitions

    def medium(self) -> MediumInfo:
        return self.inner.medium()

    def load(self) -> None:
        self.inner.load()

    def unload(self) -> None:
        self.inner.unload()


@dataclass
class Library:
    """Three cartridges written by real jobs, the catalog the jobs filled, and logging drives for them."""

    root: Path
    sources: dict[str, Path]            # archive path -> source file
    vtapes: dict[str, VirtualTape]
    catalog: Catalog
    results: dict[str, list[Any]] = field(default_factory=dict)
    drives: dict[str, LoggingTape] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)

    def open_cartridge(self, barcode: str) -> LoggingTape:
        self.opened.append(barcode)
        return self.drives[barcode]

    def data(self, path: str) -> bytes:
        return self.sources[path].read_bytes()

    def clear_logs(self) -> None:
        self.opened.clear()
        for d in self.drives.values():
            d.clear()


def make_cards(root: Path) -> dict[str, Path]:
    rng = random.Random(20260315)
    sources = {}
    for day, (card, files) in enumerate(CARDS.items()):
        for i, (name, size) in enumerate(files):
            path = make_file(root / card / name, rng.randbytes(size), f"2021-03-{10 + day:02d}T09:{i:02d}:00")
            sources[f"{card}/{name}"] = path
    return sources


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    media = tmp_path / "media"
    sources = make_cards(media)
    cat = Catalog.open(tmp_path / "catalog.sqlite")
    vtapes = {"LTA001L9": tar_tape(tmp_path / "LTA001", "LTA001L9"),
              "LTA002L9": tar_tape(tmp_path / "LTA002", "LTA002L9"),
              "LTA003L9": ltfs_tape(tmp_path / "LTA003", "LTA003L9")}
    lib = Library(tmp_path, sources, vtapes, cat)
    for barcode, sessions in CARTRIDGES.items():
        lib.results[barcode] = [write_and_record(cat, vtapes[barcode], [media / c for c in cards], fmt)
                                for fmt, cards in sessions]
    lib.drives = {b: LoggingTape(d) for b, d in vtapes.items()}
    yield lib
    cat.close()
    for d in vtapes.values():
        d.close()


def entries_by_path(plan: Any) -> dict[str, Any]:
    return {e.path: e for c in plan for e in c.entries}


def same_bytes(lib: Library, dest: Path, paths: list[str]) -> None:
    for p in paths:
        assert (dest / p).read_bytes() == lib.data(p), p


def damage_record(cart: Path, partition: int, block: int) -> None:
    """Bytes changed on tape, length unchanged: what a drive returns from a silently bad record."""
    rec = cart / f"{partition}_{block}_R"
    data = bytearray(rec.read_bytes())
    data[100:200] = bytes(b ^ 0xFF for b in data[100:200])
    rec.write_bytes(bytes(data))


# --- the plan: what to load --------------------------------------------------------------------------

def test_load_instructions_name_cartridges_locations_and_amounts(lib: Library) -> None:
    lib.catalog.set_location("LTA002L9", "Shelf 7")
    plan = plan_restore(lib.catalog, SELECTION + ["NO/SUCH.mov"])
    steps = load_instructions(plan)
    assert [(s["order"], s["barcode"], s["location"], s["files"]) for s in steps] == [
        (1, "LTA001L9", "", 5), (2, "LTA002L9", "Shelf 7", 3), (3, "LTA003L9", "", 2)]
    by = {s["barcode"]: s for s in steps}
    assert by["LTA001L9"]["bytes"] == 30_000 + 300 + 120_000 + 5_000 + 0
    assert by["LTA001L9"]["tape_files"] == [0, 2] and by["LTA001L9"]["formats"] == ["tar"]
    assert by["LTA002L9"]["tape_files"] == [0, 1, 2] and by["LTA002L9"]["formats"] == ["axf", "cpio"]
    assert by["LTA003L9"]["tape_files"] == [] and by["LTA003L9"]["formats"] == ["ltfs"]
    assert by["LTA003L9"]["volume_uuid"] == open_volume(lib.vtapes["LTA003L9"]).label.volume_uuid
    assert by["LTA001L9"]["paths"] == ["A001/A001C002.mxf", "A001/A001C004.xml", "A003/A003C001.mxf",
                                       "A003/A003C002.mxf", "A003/EMPTY/zero.bin"]       # tape order
    doc = json.loads(json.dumps(plan_document(plan)))
    assert doc["files"] == 10 and doc["unmatched"] == ["NO/SUCH.mov"] and doc["cartridges"] == steps
    lines = load_instruction_lines(plan)
    assert lines[1].startswith("2. load LTA002L9 (Shelf 7): 3 file(s)")
    assert lines[-1] == "not in the catalog: NO/SUCH.mov"


# --- the restore ------------------------------------------------------------------------------------

def test_restore_locates_straight_to_each_file_in_tape_order(lib: Library) -> None:
    plan = plan_restore(lib.catalog, SELECTION)
    by_path = entries_by_path(plan)
    seen: list[Progress] = []
    dest = lib.root / "restore"
    result = restore_from_plan(plan, lib.open_cartridge, dest, progress=seen.append, who="Restore Op",
                               catalog=lib.catalog, read_through=0)
    assert isinstance(result, CatalogRestoreResult) and result.phase == "restore"
    assert result.status == "ok", result.to_dict()
    result.raise_for_status()
    assert sorted(result.verified) == sorted(SELECTION) and sorted(result.restored) == sorted(SELECTION)
    same_bytes(lib, dest, SELECTION)
    src = lib.sources["A001/A001C002.mxf"]
    assert os.stat(dest / "A001/A001C002.mxf").st_mtime == src.stat().st_mtime
    # cartridges in the plan's order, each asked for once; per cartridge, its tape files
    assert lib.opened == ["LTA001L9", "LTA002L9", "LTA003L9"] == result.cartridges
    assert [(t.barcode, t.format, t.tape_file) for t in result.tape_files] == [
        ("LTA001L9", "tar", 0), ("LTA001L9", "tar", 2), ("LTA002L9", "cpio", 0), ("LTA002L9", "axf", 1),
        ("LTA002L9", "axf", 2), ("LTA003L9", "ltfs", 0)]
    assert result.to_dict()["tape_files"][0]["barcode"] == "LTA001L9"
    members = [(m.path, m.block) for t in result.tape_files for m in t.members]
    assert members[:5] == [(p, by_path[p].block) for p in by_path if p.startswith("A00")]

    for barcode in ("LTA001L9", "LTA002L9"):
        drive = lib.drives[barcode]
        entries = next(c.entries for c in plan if c.barcode == barcode)
        # the head only ever moves forward, straight to the record holding each file's header
        locates = drive.locates()
        assert locates == sorted(locates) and len(locates) <= len(entries)
        assert {(e.partition, e.block) for e in entries if e.format != "tar"} <= set(locates)
        # every record read lies under a selected file: nothing from a tape file's start, nothing skipped over
        spans = [(e.block, e.block + (e.block_offset + 2048 + e.size) // RS + 1) for e in entries]
        reads = [b for _, b in drive.reads()]
        assert all(any(lo <= b <= hi for lo, hi in spans) for b in reads), (reads, spans)
        assert len(reads) <= sum(hi - lo + 1 for lo, hi in spans)
        tape_records = drive.inner.eod(0)
        assert len(reads) < tape_records / 3
    # LTFS: the index is read, then the files, in the order of their first block
    ltfs = lib.drives["LTA003L9"]
    starts = {e.block for e in next(c.entries for c in plan if c.barcode == "LTA003L9")}
    to_files = [b for p, b in ltfs.locates(1) if b in starts]
    assert to_files == sorted(starts)

    # progress like the other jobs
    assert seen and seen[-1].phase == "restore"
    assert seen[-1].bytes_done == seen[-1].bytes_total == sum(e.size for e in by_path.values())
    assert seen[-1].files_done == seen[-1].files_total == len(SELECTION)
    # the catalog knows each copy was just proven by a restore
    n = lib.catalog.conn.execute("SELECT count(*) FROM verifications WHERE phase = 'restore' AND result = 'ok' "
                                 "AND who = 'Restore Op'").fetchone()[0]
    assert n == len(SELECTION) and [r.verifications for r in result.recorded] == [5, 3, 2]
    hit = search(lib.catalog, "B002C002.mov")[0]
    assert hit.copies[0].last_result == "ok" and hit.copies[0].verified


def test_next_file_close_behind_is_read_on_to_not_located(lib: Library) -> None:
    both = ["A002/A002C001.mxf", "A002/A002C002.mxf"]
    plan = plan_restore(lib.catalog, both)
    result = restore_from_plan(plan, lib.open_cartridge, lib.root / "r1")
    assert sorted(result.verified) == both
    drive = lib.drives["LTA001L9"]
    assert len(drive.locates()) == 1                      # one locate, then the drive streams on
    reads = [b for _, b in drive.reads()]
    assert reads == list(range(reads[0], reads[0] + len(reads)))
    lib.clear_logs()
    result = restore_from_plan(plan, lib.open_cartridge, lib.root / "r2", read_through=0)
    assert sorted(result.verified) == both
    # every file on its own: a locate to its header's record (unless the head already stands there)
    blocks = [(e.partition, e.block) for e in plan[0].entries]
    assert drive.locates() and set(drive.locates()) <= set(blocks) and drive.reads()[0] == blocks[0]
    assert blocks[1] in drive.reads()
    same_bytes(lib, lib.root / "r2", both)


def test_wrong_cartridge_is_refused_naming_both(lib: Library) -> None:
    plan = plan_restore(lib.catalog, SELECTION)
    drives = dict(lib.drives, LTA001L9=lib.drives["LTA002L9"])
    dest = lib.root / "restore"
    with pytest.raises(WrongCartridge) as info:
        restore_from_plan(plan, drives.__getitem__, dest)
    exc = info.value
    assert isinstance(exc, DeviceError) and exc.exit_code == ExitCode.DEVICE
    assert "LTA002L9 is loaded" in exc.message and "needs LTA001L9" in exc.message
    assert exc.data == {"expected": "LTA001L9", "loaded": "LTA002L9"}
    assert not lib.drives["LTA002L9"].reads() and not lib.drives["LTA002L9"].locates()   # nothing read
    assert exc.result is not None and exc.result.cartridges == [] and not list(dest.rglob("*.mov"))

    # the right barcode on another LTFS volume (reformatted since it was catalogued)
    other = ltfs_tape(lib.root / "impostor", "LTA003L9")
    try:
        drives = dict(lib.drives, LTA003L9=LoggingTape(other))
        with pytest.raises(WrongCartridge, match="holds LTFS volume") as info:
            restore_from_plan(plan, drives.__getitem__, lib.root / "restore2", catalog=lib.catalog)
        # the cartridges before it were restored and recorded
        assert info.value.result.cartridges == ["LTA001L9", "LTA002L9"]
        assert len(info.value.result.verified) == 8 and len(info.value.result.recorded) == 2
    finally:
        other.close()


def test_damaged_records_fail_only_their_files(lib: Library) -> None:
    plan = plan_restore(lib.catalog, SELECTION)
    by_path = entries_by_path(plan)
    # silent damage under a TAR file and an LTFS file; a read error under a CPIO file
    tar = by_path["A003/A003C001.mxf"]
    damage_record(lib.vtapes["LTA001L9"].path, 0, tar.block + 3)
    ltfs = by_path["SOUND/T001.WAV"]
    damage_record(lib.vtapes["LTA003L9"].path, 1, ltfs.block + 3)
    cpio = by_path["B001/B001C002.mov"]
    lib.vtapes["LTA002L9"].faults.read_error_at_block = cpio.block + 1
    dest = lib.root / "restore"
    result = restore_from_plan(plan, lib.open_cartridge, dest, catalog=lib.catalog, who="QC")
    assert result.status == "failed"
    failed = {f["path"]: f for f in result.failed}
    assert set(failed) == {"A003/A003C001.mxf", "SOUND/T001.WAV", "B001/B001C002.mov"}
    for path in ("A003/A003C001.mxf", "SOUND/T001.WAV"):
        f = failed[path]
        assert f["reason"].endswith("mismatch") and f["expected"] == by_path[path].hashes[f["algorithm"]]
        assert f["actual"] != f["expected"]
    assert failed["A003/A003C001.mxf"]["barcode"] == "LTA001L9" and failed["A003/A003C001.mxf"]["tape_file"] == 2
    assert "read error" in failed["B001/B001C002.mov"]["reason"]
    assert not (dest / "B001/B001C002.mov").exists()              # no half file
    good = sorted(set(SELECTION) - set(failed))
    assert sorted(result.verified) == good
    same_bytes(lib, dest, good)
    with pytest.raises(VerificationFailed) as info:
        result.raise_for_status()
    assert sorted(info.value.data["files"]) == sorted(failed)
    # the catalog remembers: those copies failed their last check
    assert search(lib.catalog, "A003C001.mxf")[0].copies[0].last_result == "failed"
    assert search(lib.catalog, "A003C002.mxf")[0].copies[0].last_result == "ok"


def test_catalog_that_does_not_match_the_tape_fails_that_file(lib: Library) -> None:
    cat = lib.catalog
    # the catalog's position for one file is where another member lies
    cat.conn.execute(
        "UPDATE copies SET block = (SELECT c2.block FROM copies c2 JOIN files f2 ON f2.id = c2.file_id "
        "WHERE f2.path = 'A001/A001C003.mxf'), block_offset = (SELECT c2.block_offset FROM copies c2 JOIN files f2 "
        "ON f2.id = c2.file_id WHERE f2.path = 'A001/A001C003.mxf'), header_offset = (SELECT c2.header_offset "
        "FROM copies c2 JOIN files f2 ON f2.id = c2.file_id WHERE f2.path = 'A001/A001C003.mxf') "
        "WHERE file_id = (SELECT id FROM files WHERE path = 'A001/A001C002.mxf')")
    plan = plan_restore(cat, ["A001/A001C002.mxf", "A002/A002C002.mxf"])
    result = restore_from_plan(plan, lib.open_cartridge, lib.root / "restore")
    assert [f["path"] for f in result.failed] == ["A001/A001C002.mxf"]
    assert "A001/A001C003.mxf" in result.failed[0]["reason"] and "catalog import" in result.failed[0]["reason"]
    assert not (lib.root / "restore" / "A001/A001C002.mxf").exists()
    assert result.verified == ["A002/A002C002.mxf"]


def test_paths_the_catalog_cannot_place_are_reported(lib: Library) -> None:
    # a file the catalog knows only on a folder
    result = copy.deepcopy(lib.results["LTA001L9"][0])
    files = result.manifest.files
    i, rec = next((i, f) for i, f in enumerate(files) if f.kind == "file")
    rec.path = "ONLY/ON/DISK.mov"
    files[i] = rec     # a write job's records are on disk (record_file.py): a change is written back
    shuttle = lib.root / "shuttle"
    shuttle.mkdir()
    record_write(lib.catalog, result, None, folder=shuttle)
    plan = plan_restore(lib.catalog, ["A001/A001C002.mxf", "NO/SUCH/FILE.mov", "ONLY"])
    assert plan.unmatched == ["NO/SUCH/FILE.mov"] and plan.not_on_tape == ["ONLY/ON/DISK.mov"]
    out = restore_from_plan(plan, lib.open_cartridge, lib.root / "restore")
    assert out.verified == ["A001/A001C002.mxf"]
    assert out.status == "incomplete"
    assert [m["path"] for m in out.missing] == ["NO/SUCH/FILE.mov", "ONLY/ON/DISK.mov"]
    assert {u["path"] for u in out.unproven} == {"NO/SUCH/FILE.mov", "ONLY/ON/DISK.mov"}
    assert any("NO/SUCH/FILE.mov" in n for n in out.notes)
    with pytest.raises(JobIncomplete) as info:
        out.raise_for_status()
    assert info.value.exit_code == ExitCode.INCOMPLETE
    assert "NO/SUCH/FILE.mov: no catalogued file" in info.value.message
    assert "ONLY/ON/DISK.mov: the catalog knows no tape copy" in info.value.message
    doc = json.loads(json.dumps(out.to_dict()))
    assert doc["unmatched"] == ["NO/SUCH/FILE.mov"] and doc["status"] == "incomplete"


def test_existing_files_and_unsafe_paths_are_refused_like_restore(lib: Library) -> None:
    dest = lib.root / "restore"
    mine = make_file(dest / "A001/A001C002.mxf", b"mine", "2020-01-01T00:00:00")
    plan = plan_restore(lib.catalog, ["A001/A001C002.mxf", "A002/A002C002.mxf"])
    result = restore_from_plan(plan, lib.open_cartridge, dest)
    assert result.status == "refused" and mine.read_bytes() == b"mine"
    assert [(r["path"], r["reason"]) for r in result.refused] == [("A001/A001C002.mxf", "exists")]
    assert result.verified == ["A002/A002C002.mxf"]
    with pytest.raises(RestoreConflict):
        result.raise_for_status()
    # asked to: replaced, and proven
    result = restore_from_plan(plan, lib.open_cartridge, dest, overwrite=True)
    assert result.status == "ok" and sorted(result.verified) == ["A001/A001C002.mxf", "A002/A002C002.mxf"]
    same_bytes(lib, dest, ["A001/A001C002.mxf"])

    # a catalogued name that climbs out of the destination: refused before the tape moves
    lib.catalog.conn.execute("UPDATE files SET path = '../escape.mxf' WHERE path = 'A002/A002C001.mxf'")
    lib.clear_logs()
    plan = plan_restore(lib.catalog, ["../escape.mxf"])
    result = restore_from_plan(plan, lib.open_cartridge, dest / "inner")
    assert [(r["path"], r["reason"]) for r in result.refused] == [("../escape.mxf", "unsafe")]
    assert not (dest / "escape.mxf").exists() and not lib.drives["LTA001L9"].reads()
    with pytest.raises(UnsafePath):
        result.raise_for_status()

    # a symlink in the destination pointing elsewhere is never followed
    outside = lib.root / "outside"
    outside.mkdir()
    dest2 = lib.root / "restore2"
    dest2.mkdir()
    (dest2 / "A003").symlink_to(outside)
    plan = plan_restore(lib.catalog, ["A003/A003C002.mxf", "B002/B002C002.mov"])
    result = restore_from_plan(plan, lib.open_cartridge, dest2)
    assert [(r["path"], r["reason"]) for r in result.refused] == [("A003/A003C002.mxf", "unsafe")]
    assert result.verified == ["B002/B002C002.mov"] and list(outside.iterdir()) == []


def test_hashes_are_the_catalogs(lib: Library) -> None:
    """The restore proves files against the catalog's checksums, not only the tape's own."""
    path = "C001/C001C002.braw"
    lib.catalog.conn.execute("UPDATE file_hashes SET hex = ? WHERE algorithm = 'md5' AND file_id = "
                             "(SELECT id FROM files WHERE path = ?)", (hashlib.md5(b"other").hexdigest(), path))
    plan = plan_restore(lib.catalog, [path, "A003/A003C002.mxf"])
    result = restore_from_plan(plan, lib.open_cartridge, lib.root / "restore")
    assert [(f["path"], f["reason"], f["barcode"]) for f in result.failed] == [(path, "md5 mismatch", "LTA003L9")]
    assert result.failed[0]["actual"] == hashlib.md5(lib.data(path)).hexdigest()
    assert result.verified == ["A003/A003C002.mxf"]


def test_cartridges_without_a_barcode(lib: Library) -> None:
    """An LTFS volume the catalog knows only by its UUID is checked by that; a cartridge whose memory holds
    no barcode is taken as the one asked for, with a note (each file's name and checksum still checked)."""
    from lto_archive.tape import mam

    cat = lib.catalog
    uuid = open_volume(lib.vtapes["LTA003L9"]).label.volume_uuid
    cat.conn.execute("UPDATE destinations SET barcode = NULL, label = ? WHERE label = 'LTA003L9'", (f"ltfs:{uuid}",))
    lib.vtapes["LTA001L9"].write_attribute(0, mam.BARCODE, mam.ascii_value("", 32), mam.ASCII)
    assert lib.vtapes["LTA001L9"].medium().barcode is None
    plan = plan_restore(cat, ["A002/A002C002.mxf", "SOUND/T002.WAV"])
    assert [c.barcode for c in plan] == ["LTA001L9", f"ltfs:{uuid}"]
    drives = {"LTA001L9": lib.drives["LTA001L9"], f"ltfs:{uuid}": lib.drives["LTA003L9"]}
    result = restore_from_plan(plan, drives.__getitem__, lib.root / "restore", catalog=cat, who="QC")
    assert result.status == "ok" and sorted(result.verified) == ["A002/A002C002.mxf", "SOUND/T002.WAV"]
    assert any("reports no barcode" in n for n in result.notes)
    assert [r.verifications for r in result.recorded] == [1, 1]
    other = ltfs_tape(lib.root / "impostor", "LTA009L9")
    try:
        drives[f"ltfs:{uuid}"] = LoggingTape(other)
        with pytest.raises(WrongCartridge, match=uuid):
            restore_from_plan(plan, drives.__getitem__, lib.root / "restore2")
    finally:
        other.close()


def test_a_failing_drive_stops_the_restore_keeping_what_was_done(lib: Library) -> None:
    class Dying(LoggingTape):
        def locate(self, partition: int, block: int) -> None:
            if len(self.locates()) >= 1:
                raise DeviceError("the drive went away (SCSI bus reset)")
            super().locate(partition, block)

    drive = Dying(lib.vtapes["LTA001L9"])
    plan = plan_restore(lib.catalog, ["A001/A001C002.mxf", "A003/A003C001.mxf", "B002/B002C002.mov"])
    with pytest.raises(DeviceError, match="went away") as info:
        restore_from_plan(plan, {"LTA001L9": drive, "LTA002L9": lib.drives["LTA002L9"]}.__getitem__,
                          lib.root / "restore", catalog=lib.catalog, who="QC")
    done = info.value.result
    assert done.verified == ["A001/A001C002.mxf"] and done.cartridges == ["LTA001L9"]
    assert [r.verifications for r in done.recorded] == [1]
    same_bytes(lib, lib.root / "restore", ["A001/A001C002.mxf"])
