"""Migration on virtual tapes: a TAR LTO-6 cartridge becomes part of an LTO-9 LTFS volume, proven; consolidation;
the refusals that keep the source (no room in staging, hashes that disagree with the catalog)."""

from __future__ import annotations

import filecmp
import json
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import lto_archive as lto
from lto_archive.baf.check import check_card
from lto_archive.catalog.lineage import derived_from
from lto_archive.migration import stage
from lto_archive.mhl import read_history
from lto_archive_cli.main import cli
from tests.mhl.conftest import Ascmhl, ascmhl  # noqa: F401  (the reference tool's fixture)


def _card(root: Path, name: str, seed: int) -> Path:
    rng = random.Random(seed)
    card = root / name
    for rel, size in (("CLIPS/C001.mov", 300_000), ("CLIPS/C002.mov", 123_457), ("Sound/take 1.wav", 40_000)):
        (card / rel).parent.mkdir(parents=True, exist_ok=True)
        (card / rel).write_bytes(rng.randbytes(size))
    return card


def _old_tape(tmp: Path, barcode: str, card: Path, cat: Path) -> str:
    with lto.create_vtape(tmp / barcode, generation="LTO-6", capacity="64M", barcode=barcode) as tape:
        lto.write(card, tape, format="tar", catalog=cat, log_dir=False).raise_for_status()
    return f"vtape:{tmp / barcode}"


def _ltfs_tape(tmp: Path, barcode: str) -> str:
    with lto.create_vtape(tmp / barcode, generation="LTO-9", capacity="128M", partitions=2, barcode=barcode) as t:
        lto.format_ltfs(t, volume_name=barcode)
    return f"vtape:{tmp / barcode}"


def _copies(cat: Path, pattern: str) -> dict[str, list[str]]:
    with lto.Catalog(cat) as c:
        return {h.path: sorted(cp.destination for cp in h.copies) for h in c.search(pattern)}


def test_tar_lto6_to_ltfs_lto9_is_proven_superseded_and_counted_by_baf(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    card = _card(tmp_path / "cards", "A001", 1)
    old = _old_tape(tmp_path, "OLD001L6", card, cat)
    with lto.Catalog(cat) as c:
        assert not check_card(c.store, card, copies=2).covered          # one copy: not yet OK to format
    new = _ltfs_tape(tmp_path, "NEW001L9")

    result = lto.migrate(old, new, format="ltfs", staging=tmp_path / "staging", catalog=cat, log_dir=False)
    result.raise_for_status()
    (one,) = result.sources
    assert (one.label, one.status, one.files, one.cards) == ("OLD001L6", "proven", 3, ["A001"])
    assert one.copies_linked == 3 and len(one.sessions) == 1
    assert not (tmp_path / "staging" / "OLD001L6").exists()              # staging emptied once proven

    (m,) = lto.migrations(cat)
    assert (m["source"], m["target"], m["status"], m["source_superseded_by"]) == ("OLD001L6", "NEW001L9", "proven",
                                                                                  "NEW001L9")
    assert _copies(cat, "A001/*") == {f"A001/{p}": ["NEW001L9", "OLD001L6"]
                                      for p in ("CLIPS/C001.mov", "CLIPS/C002.mov", "Sound/take 1.wav")}
    with lto.Catalog(cat) as c:
        check = check_card(c.store, card, copies=2)
        assert check.covered, check.summary()                            # the new copy counts on its own
        assert all({p.destination for p in f.copies} == {"OLD001L6", "NEW001L9"} for f in check.files)
        new_copy = c.store.conn.execute("SELECT c.id FROM copies c JOIN destinations d ON d.id = c.destination_id "
                                        "WHERE d.barcode = 'NEW001L9' ORDER BY c.id LIMIT 1").fetchone()[0]
        assert len(derived_from(c.store, new_copy)) == 1
        events = [(e["event"], e["subject"], e["data"].get("role")) for e in c.custody_log()]
    assert ("migration", "OLD001L6", "source") in events and ("migration", "NEW001L9", "target") in events

    back = lto.restore(new, tmp_path / "back", catalog=False)
    back.raise_for_status()
    assert lto.verify(old, catalog=False).ok                              # nothing deleted: the old one still reads
    for rel in ("CLIPS/C001.mov", "Sound/take 1.wav"):
        assert filecmp.cmp(card / rel, tmp_path / "back" / "A001" / rel, shallow=False)
    history = read_history(tmp_path / "back" / "A001")                   # chain and C4 ids checked
    assert [g.process for g in history.generations] == ["transfer"] * 3
    assert "migration: A001 read back from OLD001L6" in (history.generations[1].creator.comment or "")
    assert {e.action for f in history.generations[1].files for e in f.hashes} == {"verified"}


@pytest.mark.interop
def test_reference_tool_accepts_the_migrated_history(tmp_path: Path, ascmhl: Ascmhl) -> None:  # noqa: F811
    cat = tmp_path / "cat.sqlite"
    card = _card(tmp_path / "cards", "B002", 2)
    old = _old_tape(tmp_path, "OLD002L6", card, cat)
    new = _ltfs_tape(tmp_path, "NEW002L9")
    lto.migrate(old, new, staging=tmp_path / "staging", catalog=cat, log_dir=False).raise_for_status()
    lto.restore(new, tmp_path / "back", catalog=False).raise_for_status()
    root = tmp_path / "back" / "B002"
    info = ascmhl("info", root)
    assert info.returncode == 0 and "Generation 3" in info.stdout, info.stdout + info.stderr
    diff = ascmhl("diff", root)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    res = ascmhl("create", "-v", root)                                    # every file verified against it
    assert res.returncode == 0, res.stdout + res.stderr
    assert len([ln for ln in res.stdout.splitlines() if ln.strip().startswith("verified")]) == 3


def test_consolidation_through_the_cli_two_cartridges_onto_one(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    olds = [_old_tape(tmp_path, f"OLD00{i}L6", _card(tmp_path / f"cards{i}", f"C00{i}", 10 + i), cat)
            for i in (3, 4)]
    with lto.create_vtape(tmp_path / "NEW003L9", generation="LTO-9", capacity="128M", barcode="NEW003L9"):
        pass
    args = ["migrate", "--from", olds[0], "--from", olds[1], "--to", f"vtape:{tmp_path / 'NEW003L9'}",
            "--staging", str(tmp_path / "staging"), "--catalog", str(cat)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "OLD003L6 -> " in res.output and "OLD004L6 superseded" in res.output
    doc = json.loads(CliRunner().invoke(cli, ["migrations", "NEW003L9", "--json", "--catalog", str(cat)]).output)
    assert [(m["source"], m["status"], m["source_superseded_by"]) for m in doc["migrations"]] == [
        ("OLD003L6", "proven", "NEW003L9"), ("OLD004L6", "proven", "NEW003L9")]
    listing = lto.list_files(f"vtape:{tmp_path / 'NEW003L9'}")
    assert {e.path.split("/")[0] for e in listing if e.kind == "file"} >= {"C003", "C004"}
    assert lto.verify(f"vtape:{tmp_path / 'NEW003L9'}", catalog=False).ok


def test_no_room_in_staging_is_refused_before_anything_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = tmp_path / "cat.sqlite"
    old = _old_tape(tmp_path, "OLD005L6", _card(tmp_path / "cards", "D005", 5), cat)
    new = _ltfs_tape(tmp_path, "NEW005L9")
    real = shutil.disk_usage
    monkeypatch.setattr(stage.shutil, "disk_usage", lambda p: real(p)._replace(free=1 << 20))
    with pytest.raises(lto.UsageError, match="staging folder .* bytes free"):
        lto.migrate(old, new, staging=tmp_path / "staging", catalog=cat, log_dir=False)
    assert not (tmp_path / "staging").exists()                            # nothing made, nothing read
    assert lto.migrations(cat) == []
    monkeypatch.undo()
    lto.migrate(old, new, staging=tmp_path / "staging", catalog=cat, log_dir=False).raise_for_status()


def test_catalog_hash_that_disagrees_keeps_the_source_and_writes_nothing(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    old = _old_tape(tmp_path, "OLD006L6", _card(tmp_path / "cards", "E006", 6), cat)
    new = _ltfs_tape(tmp_path, "NEW006L9")
    with lto.Catalog(cat) as c:
        c.store.conn.execute("UPDATE file_hashes SET hex = '00' || substr(hex, 3) WHERE algorithm = 'xxh128' AND "
                             "file_id = (SELECT id FROM files WHERE path = 'E006/CLIPS/C002.mov')")
    result = lto.migrate(old, new, staging=tmp_path / "staging", catalog=cat, log_dir=False)
    (one,) = result.sources
    assert one.status == "failed" and "E006/CLIPS/C002.mov: the catalog holds xxh128" in one.problems[0]
    assert one.staging_kept == str(tmp_path / "staging" / "OLD006L6")
    with pytest.raises(lto.VerificationFailed, match="OLD006L6"):
        result.raise_for_status()
    (m,) = lto.migrations(cat)
    assert m["status"] == "failed" and m["source_superseded_by"] is None
    assert not [e for e in lto.list_files(new) if e.kind == "file"]       # nothing written to the target


def test_one_drive_of_a_library_swaps_source_and_target_through_staging(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    card = _card(tmp_path / "cards", "F007", 7)
    with lto.create_vtape(tmp_path / "OLD007L6", generation="LTO-6", capacity="64M", barcode="OLD007L6") as tape:
        lto.write(card, tape, format="tar", catalog=cat, log_dir=False).raise_for_status()
    lib_dir = tmp_path / "library"
    with lto.create_vlib(lib_dir, drives=1, slots=4, capacity="128M", partitions=2, cartridges=1,
                         import_export=1) as lib:
        lib.insert(cartridge=tmp_path / "OLD007L6")
        lib.import_cartridge()
    spec = f"vlib:{lib_dir}"
    with lto.open_device(spec, barcode="LTA001L9") as drive:
        lto.format_ltfs(drive, volume_name="LTA001")
    res = CliRunner().invoke(cli, ["migrate", "--library", spec, "--from-barcode", "OLD007L6", "--to-barcode",
                                   "LTA001L9", "--staging", str(tmp_path / "staging"), "--catalog", str(cat),
                                   "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert (doc["format"], doc["target"], doc["sources"][0]["source"]) == ("ltfs", "LTA001L9", "OLD007L6")
    assert _copies(cat, "F007/CLIPS/C001.mov") == {"F007/CLIPS/C001.mov": ["LTA001L9", "OLD007L6"]}
    assert lto.verify(spec, barcode="LTA001L9", catalog=False).ok


def test_an_ltfs_volume_of_two_sessions_becomes_a_tar_session(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    src = _ltfs_tape(tmp_path, "SRC008L9")
    for i, name in enumerate(("G008", "H008")):
        lto.write(_card(tmp_path / "cards", name, 20 + i), src, format="ltfs", catalog=cat, log_dir=False
                  ).raise_for_status()
    lto.create_vtape(tmp_path / "DST008L9", barcode="DST008L9").close()
    result = lto.migrate(src, f"vtape:{tmp_path / 'DST008L9'}", staging=tmp_path / "staging", catalog=cat,
                         log_dir=False)
    result.raise_for_status()
    assert result.format == "tar"                                         # not an LTFS target: a tape-file format
    (one,) = result.sources
    assert one.files == 6 and sorted(one.cards) == ["G008", "H008"] and len(one.sessions) == 1
    assert _copies(cat, "G008/CLIPS/C001.mov") == {"G008/CLIPS/C001.mov": ["DST008L9", "SRC008L9"]}
    back = tmp_path / "back"
    lto.restore(f"vtape:{tmp_path / 'DST008L9'}", back, catalog=False).raise_for_status()
    assert filecmp.cmp(tmp_path / "cards" / "H008" / "Sound" / "take 1.wav", back / "H008" / "Sound" / "take 1.wav",
                       shallow=False)
    assert "migration: H008 read back from SRC008L9" in (read_history(back / "H008").generations[1].creator.comment
                                                          or "")
