"""Search by name, hash, camera/reel and date; CSV and JSON export parse back; restore plans in tape order."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from lto_archive.catalog import (Catalog, camera_reel, export, export_file, parse_when, record_write, restore_plan,
                                 search)
from lto_archive.catalog.search import CAMERA_REEL, REEL_REGEX_SETTING, catalog_document
from lto_archive.errors import UsageError

from .conftest import Shoot

A_CLIP = "A001_C007/CLIPS/A001C007_210315_R1AB.mxf"
RED_CLIP = "A003_0317XY.RDM/A003_C001_0317XY.RDC/A003_C001_0317XY_001.R3D"


def paths(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.path for h in hits]


@pytest.mark.parametrize("path, expected", [
    ("A001C007_210315_R1AB.mxf", ("A", "001")),                          # ARRI / Sony / Canon clip
    ("DAY1/A001R1AB/A001C007_210315_R1AB.mxf", ("A", "001")),
    ("A001R1AB/clip.mxf", ("A", "001")),                                 # ARRI reel folder
    ("A001_C007/CLIPS/whatever.mov", ("A", "001")),                      # card folder
    (RED_CLIP, ("A", "003")),                                            # RED
    ("A003_0317XY.RDM/x.txt", ("A", "003")),
    ("B002_08151234_C001.braw", ("B", "002")),                           # Blackmagic
    ("cards/C012/CLIP0001.MXF", ("C", "012")),
    ("B002_C010/A001C007_x.mov", ("A", "001")),                          # the file's own name wins
    ("SOUND_DAY3/T001.WAV", (None, None)),
    ("A001C007.mxf", ("A", "001")),
    ("A001", ("A", "001")),
    ("2021/ZOOM0001.WAV", (None, None)),
    ("notes/a001c007.txt", (None, None)),
    ("X1234/clip.mov", (None, None)),
])
def test_camera_reel_from_usual_names(path: str, expected: tuple[str | None, str | None]) -> None:
    assert camera_reel(path) == expected


def test_search_by_name_pattern(shoot: Shoot) -> None:
    cat = shoot.catalog
    assert paths(search(cat, "A001C007")) == ["A001_C007/A001C007_210315_R1AB.xml", A_CLIP]
    assert paths(search(cat, "a001c007*.MXF")) == [A_CLIP]                     # case ignored
    assert paths(search(cat, "*.mov")) == ["B002_C010/B002C010_210316_R2CD.mov", "B002_C010/B002C011_210316_R2CD.mov"]
    assert paths(search(cat, "B002_C010/*")) == ["B002_C010/B002C010_210316_R2CD.mov",
                                                 "B002_C010/B002C011_210316_R2CD.mov"]
    assert paths(search(cat, "*/CLIPS/A001C00[78]_*")) == [A_CLIP, "A001_C007/CLIPS/A001C008_210315_R1AB.mxf"]
    assert paths(search(cat, "A001C00[!7]*")) == ["A001_C007/CLIPS/A001C008_210315_R1AB.mxf"]
    assert search(cat, "nothing-like-this") == []
    assert len(search(cat)) == 8
    assert len(search(cat, limit=3)) == 3


def test_search_by_hash(shoot: Shoot) -> None:
    cat = shoot.catalog
    data = (shoot.cards["A001"] / "CLIPS" / "A001C007_210315_R1AB.mxf").read_bytes()
    md5 = hashlib.md5(data).hexdigest()
    assert paths(search(cat, hash=md5)) == [A_CLIP]
    assert paths(search(cat, hash=md5[:10].upper())) == [A_CLIP]                 # a prefix, any case
    assert paths(search(cat, hash="md5:" + md5[:12])) == [A_CLIP]
    assert search(cat, hash="xxh128:" + md5[:12]) == []                           # that digest is not an xxh128
    xxh = search(cat, A_CLIP)[0].hashes["xxh128"]
    assert paths(search(cat, hash=xxh)) == [A_CLIP]
    with pytest.raises(UsageError):
        search(cat, hash="not-hex")
    with pytest.raises(UsageError):
        search(cat, hash="md5:")


def test_search_by_camera_and_reel(shoot: Shoot) -> None:
    cat = shoot.catalog
    a = search(cat, camera="A")
    assert paths(a) == ["A001_C007/A001C007_210315_R1AB.xml", A_CLIP, "A001_C007/CLIPS/A001C008_210315_R1AB.mxf",
                        "A001_C007/EMPTY/zero.bin", RED_CLIP]
    assert paths(search(cat, camera="a", reel="1")) == paths(a)[:4]               # reel 1 is reel 001
    assert paths(search(cat, camera="A", reel="003")) == [RED_CLIP]
    assert paths(search(cat, reel="002")) == ["B002_C010/B002C010_210316_R2CD.mov",
                                              "B002_C010/B002C011_210316_R2CD.mov"]
    assert search(cat, camera="Z") == []
    hit = search(cat, RED_CLIP)[0]
    assert (hit.camera, hit.reel) == ("A", "003")
    # another naming scheme: a regex with named groups, given or kept in the catalog
    rx = r"(?P<camera>SOUND)_DAY(?P<reel>\d+)"
    assert paths(search(cat, camera="sound", reel="3", reel_regex=rx)) == ["SOUND_DAY3/T001.WAV"]
    cat.set_setting(REEL_REGEX_SETTING, rx)
    assert paths(search(cat, reel="03")) == ["SOUND_DAY3/T001.WAV"]
    cat.set_setting(REEL_REGEX_SETTING, None)
    with pytest.raises(UsageError):
        search(cat, camera="A", reel_regex="(unclosed")
    with pytest.raises(UsageError):
        search(cat, camera="A", reel_regex=r"\d+")
    assert CAMERA_REEL


def test_search_by_date(shoot: Shoot) -> None:
    cat = shoot.catalog
    assert paths(search(cat, since="2021-03-16T00:00:00Z", until="2021-03-16T23:59:59Z")) == [
        "B002_C010/B002C010_210316_R2CD.mov", "B002_C010/B002C011_210316_R2CD.mov"]
    assert paths(search(cat, since="2021-03-17T00:00Z")) == [RED_CLIP, "SOUND_DAY3/T001.WAV"]
    assert paths(search(cat, until="2021-03-15T09:30:00+00:00")) == ["A001_C007/A001C007_210315_R1AB.xml", A_CLIP]
    assert len(search(cat, since="2021-03-10", until="2021-03-20")) == 8           # whole local days
    # the day each copy was written: today, for every file
    assert len(search(cat, since="2000-01-01", date_field="written")) == 8
    assert search(cat, until="2000-01-01", date_field="written") == []
    with pytest.raises(UsageError):
        search(cat, since="yesterday-ish")
    assert parse_when("2021-03-16T12:00:00Z") == "2021-03-16T12:00:00.000000Z"
    assert parse_when("2021-03-16T13:00:00+01:00") == "2021-03-16T12:00:00.000000Z"
    assert parse_when("2021-03-16", end=True) > parse_when("2021-03-16")


def test_search_results_name_every_copy_and_where(shoot: Shoot) -> None:
    cat = shoot.catalog
    cat.set_location("TAR001L9", "Shelf 3")
    hit = search(cat, A_CLIP)[0]
    assert hit.size == 40_000 and hit.mtime == "2021-03-15T09:00:00.000000Z"
    by = {c.destination: c for c in hit.copies}
    assert set(by) == {"TAR001L9", "CPI002L9", "LTF003L9"}
    assert by["TAR001L9"].location == "Shelf 3" and by["TAR001L9"].format == "tar"
    assert by["CPI002L9"].format == "cpio" and by["LTF003L9"].format == "ltfs"
    assert by["LTF003L9"].volume_uuid and by["LTF003L9"].partition == 1
    for c in hit.copies:
        assert c.verified and c.last_result == "ok" and c.operator == "Jane DIT" and c.block is not None
    only = search(cat, A_CLIP, destination="CPI002L9")
    assert [c.destination for c in only[0].copies] == ["CPI002L9"]
    assert len(search(cat, destination="LTF003L9")) == 8 and len(search(cat, destination="TAR001L9")) == 6
    assert search(cat, destination="NOSUCH") == []
    with pytest.raises(Exception, match="no tape"):
        cat.set_location("NOSUCH", "x")


def test_export_csv_and_json_parse_back(shoot: Shoot, tmp_path: Path) -> None:
    cat = shoot.catalog
    dump = cat.dump(verifications=True)
    copies = sum(len(f["copies"]) for f in dump["files"])
    buf = io.StringIO()
    assert export(cat, "csv", buf) == copies
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(rows) == copies
    assert {(r["path"], r["destination"], int(r["block"]) if r["block"] else None) for r in rows} == {
        (f["path"], c["destination"], c["block"]) for f in dump["files"] for c in f["copies"]}
    clip = next(r for r in rows if r["path"] == A_CLIP and r["destination"] == "TAR001L9")
    assert clip["md5"] == next(f for f in dump["files"] if f["path"] == A_CLIP)["hashes"]["md5"]
    assert clip["camera"] == "A" and clip["reel"] == "001" and clip["directory"] == "A001_C007/CLIPS"
    assert clip["tape_file"] == "0" and clip["format"] == "tar" and clip["last_result"] == "ok"

    buf = io.StringIO()
    assert export(cat, "json", buf) == len(dump["files"])
    doc = json.loads(buf.getvalue())
    assert doc["format"] == "lto-archive-catalog" and doc["schema_version"] == dump["schema_version"]
    assert {t["label"] for t in doc["destinations"]} == {"TAR001L9", "CPI002L9", "LTF003L9"}
    assert len(doc["jobs"]) == 6
    assert sorted((f["path"], f["hashes"]["md5"], len(f["copies"])) for f in doc["files"]) == sorted(
        (f["path"], f["hashes"]["md5"], len(f["copies"])) for f in dump["files"])
    assert doc == json.loads(json.dumps(catalog_document(cat) | {"exported": doc["exported"]}))

    hits = search(cat, "*.mov")
    buf = io.StringIO()
    assert export(cat, "json", buf, hits) == 2
    doc = json.loads(buf.getvalue())
    assert [r["path"] for r in doc["results"]] == paths(hits) and doc["copies"] == 6
    with pytest.raises(UsageError):
        export(cat, "xml", io.StringIO())


def test_export_file_appears_whole_or_not_at_all(shoot: Shoot, tmp_path: Path) -> None:
    cat = shoot.catalog
    hits = search(cat, "*.mov")
    (tmp_path / "exports").mkdir()
    out = tmp_path / "exports" / "hits.csv"
    out.write_text("the previous export\n")
    buf = io.StringIO()
    assert export_file(cat, "csv", out, hits) == export(cat, "csv", buf, hits) == 6
    assert out.read_text() == buf.getvalue()
    with pytest.raises(UsageError):
        export_file(cat, "xml", out)
    assert out.read_text() == buf.getvalue()          # a failed export leaves the last one as it was
    assert [p.name for p in out.parent.iterdir()] == ["hits.csv"]     # and no temporary file behind


def test_restore_plan_names_cartridges_and_orders_by_position(shoot: Shoot, tmp_path: Path) -> None:
    cat = shoot.catalog
    plan = restore_plan(cat, ["SOUND_DAY3", RED_CLIP, "A001_C007/CLIPS/*"])
    # only the LTFS volume holds the RED and sound files, and it holds the A001 clips too: one cartridge
    assert [barcode for barcode, _ in plan] == ["LTF003L9"]
    entries = plan[0].entries
    assert sorted(e.path for e in entries) == sorted(["SOUND_DAY3/T001.WAV", RED_CLIP, A_CLIP,
                                                      "A001_C007/CLIPS/A001C008_210315_R1AB.mxf"])
    assert [e.position for e in entries] == sorted(e.position for e in entries)
    assert all(e.partition == 1 and e.block is not None and e.hashes for e in entries)
    assert plan.unmatched == [] and plan.not_on_tape == []

    # a plan that needs TAR: two tape files, in tape order
    plan = restore_plan(cat, ["B002_C010/B002C011_210316_R2CD.mov", "A001_C007/A001C007_210315_R1AB.xml",
                              "no/such/file"])
    assert len(plan) == 1 and plan.unmatched == ["no/such/file"]
    assert plan[0].barcode == "CPI002L9"          # three cartridges hold both: the first by barcode
    entries = plan[0].entries
    assert [e.path for e in entries] == ["A001_C007/A001C007_210315_R1AB.xml", "B002_C010/B002C011_210316_R2CD.mov"]
    assert [e.tape_file for e in entries] == [0, 1] and [e.format for e in entries] == ["cpio", "cpio-crc"]
    assert entries[0].block < entries[1].block and entries[0].record_size == 16384
    assert entries[1].job_start_block is not None and entries[1].job_start_block <= entries[1].block
    assert plan.to_dict()["cartridges"][0]["files"] == 2


def test_restore_plan_prefers_good_copies_and_names_what_no_tape_holds(shoot: Shoot, tmp_path: Path) -> None:
    cat = shoot.catalog
    # the LTFS copy of one clip failed its last check: take it from another cartridge
    cat.conn.execute(
        "INSERT INTO verifications(copy_id, at, who, host, phase, result, message) "
        "SELECT c.id, '2031-01-01T00:00:00.000000Z', 'qc', 'h', 'verify', 'failed', 'xxh128 mismatch' "
        "FROM copies c JOIN destinations d ON d.id = c.destination_id JOIN files f ON f.id = c.file_id "
        "WHERE d.label = 'LTF003L9' AND f.path = ?", (A_CLIP,))
    plan = restore_plan(cat, [A_CLIP])
    assert [(b, [e.path for e in es]) for b, es in plan] == [("CPI002L9", [A_CLIP])]
    # the RED clip is only on the LTFS volume: two cartridges, the bad copy left on the shelf
    plan = restore_plan(cat, [A_CLIP, RED_CLIP])
    assert sorted((b, tuple(e.path for e in es)) for b, es in plan) == [("CPI002L9", (A_CLIP,)),
                                                                         ("LTF003L9", (RED_CLIP,))]
    # if every copy is bad, the plan still names one (the catalog never hides a last chance)
    cat.conn.execute("UPDATE copies SET status = 'changed' WHERE destination_id IN "
                     "(SELECT id FROM destinations WHERE label IN ('CPI002L9', 'TAR001L9'))")
    plan = restore_plan(cat, [A_CLIP])
    assert len(plan) == 1 and len(plan[0].entries) == 1
    # a file only on a folder
    folder = tmp_path / "shuttle"
    folder.mkdir()
    result = shoot.results[0]
    files = result.manifest.files
    i, rec = next((i, f) for i, f in enumerate(files) if f.kind == "file")
    rec.path = "ONLY/ON/DISK.mov"
    files[i] = rec     # a write job's records are on disk (record_file.py): a change is written back
    record_write(cat, result, None, folder=folder)
    plan = restore_plan(cat, ["ONLY"])
    assert list(plan) == [] and plan.not_on_tape == ["ONLY/ON/DISK.mov"]
    with pytest.raises(UsageError):
        restore_plan(cat, [])


def test_search_missing_catalog_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no catalog"):
        Catalog.open(tmp_path / "none.sqlite", create=False)


def test_positions_locate_straight_to_each_file(shoot: Shoot) -> None:
    """What restore --catalog will do: locate to the recorded block, read that one member, prove it."""
    from lto_archive.formats.registry import get_format
    from lto_archive.formats.tapefile import TapeFileReader
    from lto_archive.hashing import MultiHasher

    plan = restore_plan(shoot.catalog, ["B002_C010"])
    assert [b for b, _ in plan] == ["CPI002L9"]
    entries = plan[0].entries
    hits = search(shoot.catalog, "A001C008_210315_R1AB.mxf")[0].copies
    tar = next(c for c in hits if c.destination == "TAR001L9")
    todo = [("CPI002L9", e.format, e.partition, e.block, e.block_offset, e.header_offset, e.record_size,
             e.job_start_block, e.path, e.hashes) for e in entries]
    todo.append(("TAR001L9", tar.format, tar.partition, tar.block, tar.block_offset, tar.header_offset,
                 tar.record_size, None, "A001_C007/CLIPS/A001C008_210315_R1AB.mxf",
                 search(shoot.catalog, "A001C008_210315_R1AB.mxf")[0].hashes))
    for barcode, fmt, part, block, in_block, header, rs, start, path, hashes in todo:
        record_start = header - in_block                 # tape-file offset of the record holding the header
        assert record_start % rs == 0
        if start is not None:
            assert block - start == record_start // rs
        dev = shoot.device(barcode)
        dev.locate(part, block)
        stream = TapeFileReader(dev, start_block=block, partition=part, base_offset=record_start,
                                base_record=record_start // rs)
        stream.skip(in_block)
        reader = get_format(fmt).reader(stream)
        member = next(iter(reader))
        assert member.path == path
        h = MultiHasher(tuple(hashes))
        for chunk in reader.iter_data(member):
            h.update(chunk)
        assert h.hexdigests() == hashes
