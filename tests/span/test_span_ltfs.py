"""LTFS span sets (`write --span --format ltfs`): every cartridge its own LTFS volume, split files as
NAME.partNNNN parts listed in each cartridge's manifest; restored byte-exact by `span`, read alone by any
LTFS reader (ours here), joined by `cat`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lto_archive.catalog.store import Catalog
from lto_archive.errors import DeviceError, NoNextCartridge
from lto_archive.formats.ltfs.recover import check_volume
from lto_archive.formats.ltfs.volume import DATA_PARTITION, open_volume
from lto_archive.hashing import hash_bytes
from lto_archive.jobs.ltfs_read import read_file_bytes, read_ltfs, stored_hashes
from lto_archive.library.vlib import VirtualLibrary
from lto_archive.manifest import Manifest
from lto_archive.span.catalog import record_span_write, set_cartridges, span_sets
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.write import SpanResult
from lto_archive.tape import VirtualTape
from lto_archive.tape.vtape import Faults
from tests.span.helpers import MiB, cartridge_folder, make_card
from tests.span.ltfs_helpers import ltfs_library, write_ltfs_set
from tests.tape_helpers import record_path, tree_snapshot

# 4 cartridges of 12 MiB (~11 MB of data each): b.mov goes over cartridges 1-2, c.mov over 2-3-4
SIZES = {"a.mov": 1_000_000, "b.mov": 14_000_000, "c.mov": 24_000_000, "d.mov": 300_000, "sub/e.mov": 0}
CLIPS = "card/CLIPS"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, VirtualLibrary, SpanResult]:
    root = tmp_path_factory.mktemp("ltfsset")
    card = make_card(root, SIZES)
    os.symlink("a.mov", card / "CLIPS" / "link.mov")
    lib = ltfs_library(root / "lib", cartridges=4)
    result = write_ltfs_set(card, lib, log_dir=root / "logs")
    return root, card, lib, result


def _parts(result: SpanResult) -> dict[str, list[tuple[int, int]]]:
    """path -> [(volume sequence, part number)] of every split file."""
    out: dict[str, list[tuple[int, int]]] = {}
    for v in result.volumes:
        for f in v.files:
            if f.part:
                out.setdefault(f.path, []).append((v.manifest.session.span["sequence"], f.part["number"]))
    return out


def test_the_set_is_written_as_planned(written: Any) -> None:
    root, card, lib, result = written
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA002L9", "LTA003L9", "LTA004L9"]
    assert _parts(result) == {f"{CLIPS}/b.mov": [(1, 1), (2, 2)], f"{CLIPS}/c.mov": [(2, 1), (3, 2), (4, 3)]}
    spans = [v.manifest.session.span for v in result.volumes]
    assert [s["sequence"] for s in spans] == [1, 2, 3, 4]
    assert [s["last"] for s in spans] == [False, False, False, True]
    assert [s["previous"] for s in spans] == [None, "LTA001L9", "LTA002L9", "LTA003L9"]
    assert {s["set_id"] for s in spans} == {result.set_id}
    assert all(v.manifest.session.format == "ltfs" for v in result.volumes)


def test_span_restore_is_byte_exact(written: Any, tmp_path: Path) -> None:
    root, card, lib, result = written
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    r.raise_for_status()
    assert r.complete and r.set_id == result.set_id and r.barcodes == result.barcodes
    assert tree_snapshot(out / "card") == tree_snapshot(card)
    assert sorted(p for t in r.tape_files for p in t.verified) == sorted(f"{CLIPS}/{n}" for n in SIZES)
    assert not any((out / "card/CLIPS").glob("*.part*"))     # joined, not left as parts


def _manifest_on(dev: Any, seq: int) -> tuple[Any, Manifest]:
    from lto_archive.span.ltfs_read import find_ltfs_volume
    found = find_ltfs_volume(dev, None, seq)
    assert found is not None
    return found


def test_each_cartridge_describes_itself_in_its_own_index(written: Any) -> None:
    """From the real index and the manifest file on each volume: every part's length and offset, its
    ltfs.hash xattrs = the manifest's = the source slice's; the whole file's hashes with the last part."""
    root, card, lib, result = written
    for seq, barcode in enumerate(result.barcodes, 1):
        drive = lib.load_barcode(barcode, None)
        dev = lib.open_drive(drive)
        try:
            state, man = _manifest_on(dev, seq)
            assert man.session.span["set_id"] == result.set_id and man.session.span["sequence"] == seq
            assert state.consistent          # committed: index partition up to date, nothing unindexed
            for rec in man.files:
                if rec.kind != "file":
                    continue
                src = (card / rec.path.removeprefix("card/")).read_bytes()
                member = rec.part["member"] if rec.part else rec.path
                node = state.index.lookup(member)
                assert node is not None, member
                algos = list(rec.hashes)
                assert stored_hashes(node) == rec.hashes
                if rec.part:
                    p = rec.part
                    assert member == f"{rec.path}.part{p['number']:04d}"
                    piece = src[p["offset"]:p["offset"] + p["length"]]
                    assert node.length == p["length"] == len(piece) and p["size"] == len(src)
                    assert rec.hashes == hash_bytes(piece, algos)
                    assert b"".join(bytes(v) for v in read_file_bytes(dev, node, state.block_size)) == piece
                    if p["last"]:
                        assert p["file_hashes"] == hash_bytes(src, algos)
                    else:
                        assert p["file_hashes"] == {}    # not known when this cartridge was closed
                else:
                    assert rec.hashes == hash_bytes(src, algos)
        finally:
            dev.close()
            lib.unload(drive)


def test_each_cartridge_alone_and_cat_joins_the_parts(written: Any, tmp_path: Path) -> None:
    """Our LTFS reader, one cartridge at a time, with no knowledge of the set: the parts come back as
    NAME.partNNNN, each proven by its own xattrs; `cat NAME.part* > NAME` gives the file."""
    root, card, lib, result = written
    out = tmp_path / "alone"
    for barcode in result.barcodes:
        drive = lib.load_barcode(barcode, None)
        dev = lib.open_drive(drive)
        try:
            r = read_ltfs(dev, "restore", dest=out)
        finally:
            dev.close()
            lib.unload(drive)
        r.raise_for_status()
        assert not r.tape_files[0].failed and not r.tape_files[0].unproven
    clips = out / "card/CLIPS"
    assert sorted(p.name for p in clips.glob("*.part*")) == [
        "b.mov.part0001", "b.mov.part0002", "c.mov.part0001", "c.mov.part0002", "c.mov.part0003"]
    for name in ("b.mov", "c.mov"):
        subprocess.run(f"cat {name}.part* > {name}", shell=True, cwd=clips, check=True)
        assert (clips / name).read_bytes() == (card / "CLIPS" / name).read_bytes()
    for name in ("a.mov", "d.mov", "sub/e.mov"):
        assert (clips / name).read_bytes() == (card / "CLIPS" / name).read_bytes()


def test_the_catalog_records_the_set(written: Any, tmp_path: Path) -> None:
    root, card, lib, result = written
    with Catalog.open(tmp_path / "cat.sqlite") as cat:
        assert record_span_write(cat, result) == result.barcodes
        sets = span_sets(cat)
        assert len(sets) == 1 and sets[0]["set_id"] == result.set_id and sets[0]["complete"]
        assert set_cartridges(cat, result.set_id[:8]) == result.barcodes
        rows = cat.conn.execute(
            "SELECT d.label, c.part_number, c.part_offset, c.part_length FROM copies c "
            "JOIN destinations d ON d.id = c.destination_id JOIN files f ON f.id = c.file_id "
            "WHERE f.path = ? ORDER BY c.part_number", (f"{CLIPS}/c.mov",)).fetchall()
    parts = [f.part for v in result.volumes for f in v.files if f.path == f"{CLIPS}/c.mov"]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (bc, p["number"], p["offset"], p["length"]) for bc, p in zip(result.barcodes[1:], parts)]


def test_catalog_import_of_each_cartridge_rebuilds_the_set(written: Any, tmp_path: Path) -> None:
    """A catalog rebuilt from the cartridges alone (`catalog import`): the set, its order, the parts."""
    from lto_archive.jobs.catalog_import import import_tape
    root, card, lib, result = written
    with Catalog.open(tmp_path / "imported.sqlite") as cat:
        for barcode in reversed(result.barcodes):
            drive = lib.load_barcode(barcode, None)
            dev = lib.open_drive(drive)
            try:
                import_tape(cat, dev)
            finally:
                dev.close()
                lib.unload(drive)
        sets = span_sets(cat)
        assert len(sets) == 1 and sets[0]["complete"]
        assert [v["cartridge"] for v in sets[0]["volumes"]] == result.barcodes
        rows = cat.conn.execute(
            "SELECT d.label, c.part_number, c.part_offset, c.part_length FROM copies c "
            "JOIN destinations d ON d.id = c.destination_id JOIN files f ON f.id = c.file_id "
            "WHERE f.path = ? ORDER BY c.part_number", (f"{CLIPS}/c.mov",)).fetchall()
        assert not cat.conn.execute("SELECT 1 FROM files WHERE path LIKE '%.part0%'").fetchall()
    parts = [f.part for v in result.volumes for f in v.files if f.path == f"{CLIPS}/c.mov"]
    assert [tuple(r) for r in rows] == [
        (bc, p["number"], p["offset"], p["length"]) for bc, p in zip(result.barcodes[1:], parts)]


def _small_set(tmp_path: Path, cartridges: int = 3, **kw: Any) -> tuple[Path, VirtualLibrary, SpanResult]:
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000, "c.mov": 3_000_000})
    lib = ltfs_library(tmp_path / "lib", cartridges=cartridges)
    return card, lib, write_ltfs_set(card, lib, **kw)


def test_a_corrupted_byte_fails_the_file_on_its_cartridge(tmp_path: Path) -> None:
    card, lib, result = _small_set(tmp_path)
    result.raise_for_status()
    assert _parts(result) == {f"{CLIPS}/b.mov": [(1, 1), (2, 2)]}
    second = cartridge_folder(lib, "LTA002L9")
    vt = VirtualTape(second)
    node = open_volume(vt).index.lookup(f"{CLIPS}/b.mov.part0002")
    vt.close()
    rec = record_path(second, node.start_block + 3, DATA_PARTITION)
    raw = bytearray(rec.read_bytes())
    raw[1000] ^= 0x01
    rec.write_bytes(bytes(raw))
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    assert r.status == "failed" and r.complete
    i = r.barcodes.index("LTA002L9")
    reasons = [f["reason"] for f in r.tape_files[i].failed if f["path"] == f"{CLIPS}/b.mov"]
    assert any("part 2: checksum mismatch" in x for x in reasons)
    assert any("joined file" in x for x in reasons)
    for name in ("a.mov", "c.mov"):
        assert (out / "card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes()
    # the cartridge alone: its part fails against its own ltfs.hash xattrs
    drive = lib.load_barcode("LTA002L9", None)
    dev = lib.open_drive(drive)
    alone = read_ltfs(dev, "verify")
    dev.close()
    assert [f["path"] for f in alone.tape_files[0].failed] == [f"{CLIPS}/b.mov.part0002"]


def test_a_missing_cartridge_is_named_and_the_rest_restores(tmp_path: Path) -> None:
    card, lib, result = _small_set(tmp_path)
    result.raise_for_status()
    out = tmp_path / "restore"
    # the second cartridge is not in the library any more: its slot empty
    folder = cartridge_folder(lib, "LTA002L9")
    folder.rename(tmp_path / "away")
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    assert r.status == "failed" and not r.complete
    failed = {f["path"]: f["reason"] for t in r.tape_files for f in t.failed}
    assert "volume 2" in failed[f"{CLIPS}/b.mov"]
    assert any(t.error is not None and "LTA002L9" in t.error.message for t in r.tape_files)
    assert (out / "card/CLIPS/a.mov").read_bytes() == (card / "CLIPS/a.mov").read_bytes()
    assert not (out / "card/CLIPS/b.mov").exists()


def test_a_wrong_cartridge_is_refused(tmp_path: Path) -> None:
    card, lib, result = _small_set(tmp_path)
    r = read_span(LibraryLoader(lib, ["LTA001L9", "LTA003L9", "LTA002L9"]), "verify")
    assert r.status == "failed" and not r.complete
    errors = [t.error.message for t in r.tape_files if t.error is not None]
    assert any("LTA003L9 holds no volume 2" in e for e in errors)


def test_blank_cartridges_are_passed_over_or_refused(tmp_path: Path) -> None:
    """An LTFS set goes on formatted cartridges only: a blank one in the pattern is passed over (named); with
    none formatted the job stops before writing anything, saying to format first."""
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000})
    lib = ltfs_library(tmp_path / "lib", cartridges=4, blank=("LTA002L9",))
    result = write_ltfs_set(card, lib)
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA003L9"]
    lib2 = ltfs_library(tmp_path / "lib2", cartridges=2, blank=("LTA001L9", "LTA002L9"))
    with pytest.raises(NoNextCartridge, match="format it first"):
        write_ltfs_set(card, lib2)
    for b in ("LTA001L9", "LTA002L9"):
        vt = VirtualTape(cartridge_folder(lib2, b))
        assert vt.medium().partitions == 1 and vt.eod(0) == 0      # untouched
        vt.close()


def test_files_stay_whole_unless_asked(tmp_path: Path) -> None:
    """A file that does not fit goes whole to the next cartridge; with --split-files it fills the cartridge."""
    sizes = {"a.mov": 7_000_000, "b.mov": 7_000_000, "c.mov": 7_000_000}
    card = make_card(tmp_path, sizes)
    whole = write_ltfs_set(card, ltfs_library(tmp_path / "lib", cartridges=3))
    whole.raise_for_status()
    assert _parts(whole) == {} and len(whole.volumes) == 3
    lib = ltfs_library(tmp_path / "lib2", cartridges=3)
    split = write_ltfs_set(card, lib, split_files=True)
    split.raise_for_status()
    assert _parts(split) == {f"{CLIPS}/b.mov": [(1, 1), (2, 2)]} and len(split.volumes) == 2
    r = read_span(LibraryLoader(lib, split.barcodes), "restore", dest=tmp_path / "out")
    r.raise_for_status()
    assert tree_snapshot(tmp_path / "out/card") == tree_snapshot(card)


def test_a_device_fault_mid_set(tmp_path: Path) -> None:
    """The drive fails while writing the second cartridge: the error names the file and the cartridge; the
    first cartridge verifies; the failing one's last index (a checkpoint) is readable and what it describes
    verifies, the rest is reported by `ltfs check` as not in any index."""
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000, "c.mov": 3_000_000, "d.mov": 3_000_000})
    lib = ltfs_library(tmp_path / "lib", cartridges=3)
    vt = VirtualTape(cartridge_folder(lib, "LTA002L9"))
    vt.faults = Faults(write_error_after_calls=110)     # ~7 MB into the cartridge: inside c.mov or d.mov
    vt.save_settings()
    vt.close()
    result = write_ltfs_set(card, lib, index_every_bytes=1_000_000)
    assert isinstance(result.error, DeviceError)
    assert "LTA002L9" in result.error.message and result.set_id in result.error.message
    files = {f.path: f.status for f in result.volumes[1].files}
    assert files[f"{CLIPS}/b.mov"] == "ok"                           # part 2, before the last checkpoint
    lost = [p for p, s in files.items() if s == "lost"]
    assert lost and lost[0] in result.error.message
    # the first cartridge: complete, verifies alone (the failed one stays in the drive: put it away)
    lib.unload(0)
    drive = lib.load_barcode("LTA001L9", None)
    dev = lib.open_drive(drive)
    assert read_ltfs(dev, "verify").status == "ok"
    dev.close()
    lib.unload(drive)
    # the failing one: faults off, as after a power cycle
    folder = cartridge_folder(lib, "LTA002L9")
    vt = VirtualTape(folder)
    vt.faults = Faults()
    vt.save_settings()
    report = check_volume(vt)
    assert not report.consistent and report.unindexed        # blocks after the last index: the failed write
    state = open_volume(vt)
    part = state.index.lookup(f"{CLIPS}/b.mov.part0002")
    assert part is not None and stored_hashes(part)       # described, with its checksum
    r = read_ltfs(vt, "verify", state=state)
    vt.close()
    assert not r.tape_files[0].failed
    assert f"{CLIPS}/b.mov.part0002" in r.tape_files[0].verified


def test_from_the_command_line(tmp_path: Path) -> None:
    """`format` each cartridge, `write --span --format ltfs --verify`, `span list`, `span restore`; one
    cartridge of the set with `verify --device` / `restore --device`: its parts come back as NAME.partNNNN."""
    import json
    from click.testing import CliRunner
    from cli.main import cli

    def run(*args: object, code: int = 0) -> dict:  # type: ignore[type-arg]
        res = CliRunner().invoke(cli, [str(a) for a in args] + ["--json"])
        assert res.exit_code == code, res.output
        return json.loads(res.stdout)

    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000, "c.mov": 1_000_000})
    cat, lib = tmp_path / "cat.sqlite", tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "4", "--cartridges", "3", "--capacity", "12M")
    for b in ("LTA001L9", "LTA002L9"):
        run("format", "--device", f"vlib:{lib}", "--barcode", b, "--block-size", "64K")
        run("library", "unload", "--library", f"vlib:{lib}")
    doc = run("write", card, "--device", f"vlib:{lib}", "--span", "--format", "ltfs", "--barcodes", "LTA*",
              "--log-dir", tmp_path / "logs", "--catalog", cat, "--no-progress", "--verify")
    assert doc["status"] == "ok" and doc["verify"]["status"] == "ok" and doc["verify"]["complete"]
    assert [c["barcode"] for c in doc["cartridges"]] == ["LTA001L9", "LTA002L9"]
    assert [(p["path"], p["number"]) for c in doc["cartridges"] for p in c["parts"]] == [
        (f"{CLIPS}/b.mov", 1), (f"{CLIPS}/b.mov", 2)]
    sets = run("span", "list", "--catalog", cat)["sets"]
    assert [v["cartridge"] for v in sets[0]["volumes"]] == ["LTA001L9", "LTA002L9"] and sets[0]["complete"]
    got = run("span", "restore", tmp_path / "out", "--library", f"vlib:{lib}", "--set", doc["set_id"][:8],
              "--catalog", cat, "--no-progress")
    assert got["status"] == "ok" and got["complete"]
    assert tree_snapshot(tmp_path / "out/card") == tree_snapshot(card)
    v = run("verify", "--device", f"vlib:{lib}", "--barcode", "LTA002L9", "--no-progress")
    assert v["status"] == "ok"
    run("restore", tmp_path / "one", "--device", f"vlib:{lib}", "--barcode", "LTA002L9", "--no-progress")
    part = tmp_path / "one/card/CLIPS/b.mov.part0002"
    offset = doc["cartridges"][1]["parts"][0]["offset"]
    assert part.read_bytes() == (card / "CLIPS/b.mov").read_bytes()[offset:]


def test_copy_to_a_shuttle_drive_gets_every_file_whole(tmp_path: Path) -> None:
    """One read feeds the LTFS set and a folder: split files arrive whole in the folder, read back there."""
    from lto_archive.jobs.write import WriteOptions
    from lto_archive.span.supply import LibrarySupply
    from lto_archive.span.write import write_span
    from tests.span.ltfs_helpers import BS
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000, "c.mov": 3_000_000})
    lib = ltfs_library(tmp_path / "lib", cartridges=3)
    shuttle = tmp_path / "shuttle"
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format="ltfs", record_size=BS),
                        folders=[shuttle])
    result.raise_for_status()
    assert _parts(result) == {f"{CLIPS}/b.mov": [(1, 1), (2, 2)]}
    (folder,) = result.folders
    assert folder.status == "ok" and len(folder.verified) == 3
    assert tree_snapshot(shuttle / "card", skip_top=("ascmhl",)) == tree_snapshot(card)
    assert not list(shuttle.rglob("*.part0*"))


def test_one_drive_with_next_tape_command(tmp_path: Path) -> None:
    """One drive: --next-tape-command changes the cartridge, writing and reading back."""
    from lto_archive.formats.ltfs.volume import format_volume
    from lto_archive.jobs.write import WriteOptions
    from lto_archive.span.read import DriveLoader
    from lto_archive.span.supply import CommandSupply
    from lto_archive.span.write import write_span
    from lto_archive.tape import create_vtape
    from tests.span.ltfs_helpers import BS
    from tests.span.test_span_read import _drive_script
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000, "c.mov": 1_000_000})
    carts = [tmp_path / f"cart{i}" for i in (1, 2)]
    for i, c in enumerate(carts, 1):
        dev = create_vtape(c, "LTO-9", capacity=12 * MiB, barcode=f"ONE00{i}L9")
        format_volume(dev, creator="tests", serial=f"ONE00{i}", block_size=BS)
        dev.close()
    drive = tmp_path / "drive"
    os.symlink(carts[0], drive)
    script = _drive_script(tmp_path, carts)
    result = write_span([card], CommandSupply(f"vtape:{drive}", script), WriteOptions(format="ltfs", record_size=BS))
    result.raise_for_status()
    assert result.barcodes == ["ONE001L9", "ONE002L9"] and _parts(result) == {f"{CLIPS}/b.mov": [(1, 1), (2, 2)]}
    os.remove(drive)
    os.symlink(carts[0], drive)
    r = read_span(DriveLoader(f"vtape:{drive}", command=script), "restore", dest=tmp_path / "out")
    r.raise_for_status()
    assert r.complete and tree_snapshot(tmp_path / "out/card") == tree_snapshot(card)


def test_write_protected_and_full_cartridges_are_passed_over(tmp_path: Path) -> None:
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000})
    lib = ltfs_library(tmp_path / "lib", cartridges=4)
    vt = VirtualTape(cartridge_folder(lib, "LTA002L9"))
    vt.write_protected = True
    vt.save_settings()
    vt.close()
    result = write_ltfs_set(card, lib)
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA003L9"]
    # a second job of the same card: LTA001L9 and LTA003L9 hold these paths (one file per path), LTA002L9 is
    # protected: passed over, each named; LTA004L9 takes volume 1, then none is left for b.mov's rest
    lib.unload(0)
    again = write_ltfs_set(card, lib)
    assert isinstance(again.error, NoNextCartridge) and again.barcodes == ["LTA004L9"]
    assert [n.split(" ")[0] for n in again.notes] == ["LTA001L9", "LTA003L9"]
    assert "already on LTFS volume" in again.notes[0] and "holds parts of" in again.notes[1]
    assert "LTA002L9" in again.error.message and "write-protected" in again.error.message


def test_early_warning_closes_the_cartridge_at_a_file_boundary(tmp_path: Path) -> None:
    """A drive that warns early (a large programmable early-warning zone): no new file goes on that
    cartridge once it warns, though the room it reports would take more; the set still restores."""
    sizes = {f"{n}.mov": 1_500_000 for n in "abcdef"}
    card = make_card(tmp_path, sizes)
    lib = ltfs_library(tmp_path / "lib", cartridges=3)
    for b in ("LTA001L9", "LTA002L9", "LTA003L9"):
        vt = VirtualTape(cartridge_folder(lib, b))
        vt.settings.programmable_early_warning_bytes = 7 * MiB   # warns ~4.7 MB into the data
        vt.save_settings()
        vt.close()
    result = write_ltfs_set(card, lib, chunk_size=64 * 1024)      # small buffers: the warning is seen soon
    result.raise_for_status()
    assert len(result.volumes) >= 2 and _parts(result) == {}      # 9 MB would fit on one without the warning
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=tmp_path / "out")
    r.raise_for_status()
    assert tree_snapshot(tmp_path / "out/card") == tree_snapshot(card)


def test_a_source_named_like_a_part_is_refused_before_anything_is_loaded(tmp_path: Path) -> None:
    from lto_archive.errors import UsageError
    card = make_card(tmp_path, {"a.mov": 1000, "a.mov.part0001": 1000})
    lib = ltfs_library(tmp_path / "lib", cartridges=1)
    with pytest.raises(UsageError, match="named like a part of card/CLIPS/a.mov"):
        write_ltfs_set(card, lib)
    assert lib.status().free_drive() == 0          # nothing was even loaded


def test_cartridges_without_barcode_are_catalogued_by_volume_uuid(tmp_path: Path) -> None:
    """A drive that reports no barcode (no cartridge memory, no library): each LTFS cartridge of the set is
    still its own destination in the catalog, by its LTFS volume UUID."""
    from lto_archive.formats.ltfs.volume import format_volume
    from lto_archive.jobs.write import WriteOptions
    from lto_archive.span.supply import CommandSupply
    from lto_archive.span.write import write_span
    from lto_archive.tape import create_vtape
    from tests.span.ltfs_helpers import BS
    from tests.span.test_span_read import _drive_script
    card = make_card(tmp_path, {"a.mov": 2_000_000, "b.mov": 14_000_000})
    carts = [tmp_path / f"cart{i}" for i in (1, 2)]
    for c in carts:
        dev = create_vtape(c, "LTO-9", capacity=12 * MiB)
        format_volume(dev, creator="tests", block_size=BS)
        dev.close()
    os.symlink(carts[0], tmp_path / "drive")
    result = write_span([card], CommandSupply(f"vtape:{tmp_path / 'drive'}", _drive_script(tmp_path, carts)),
                        WriteOptions(format="ltfs", record_size=BS))
    result.raise_for_status()
    assert result.barcodes == [None, None]
    uuids = [v.manifest.session.span["volume_uuid"] for v in result.volumes]
    with Catalog.open(tmp_path / "cat.sqlite") as cat:
        assert record_span_write(cat, result) == [f"ltfs:{u}" for u in uuids]
        assert [v["cartridge"] for v in span_sets(cat)[0]["volumes"]] == [f"ltfs:{u}" for u in uuids]
