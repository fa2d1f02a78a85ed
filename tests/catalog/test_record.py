"""Recording jobs, verifications and tapes; the catalog rebuilt from the tapes equals the one the jobs wrote."""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.catalog import Catalog, record_read, record_write, search
from lto_archive.jobs.catalog_import import import_folder, import_tape, record_job, tape_used
from lto_archive.folder_volume import folder_volume
from lto_archive.jobs.write import write_archive
from lto_archive.formats.ltfs.volume import format_volume, open_volume
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import formats
from lto_archive.tape import create_vtape

from .conftest import MiB, Shoot, ltfs_tape, make_file, opts, tar_tape, write_and_record


def comparable(cat: Catalog) -> dict[str, Any]:
    """The catalog's knowledge, minus each job's `finished` time (the copy log closes a few ms after the
    manifest goes to tape) and the shelf location (typed in by people, not on any tape)."""
    d = cat.dump()
    for j in d["jobs"]:
        j.pop("finished")
    for t in d["destinations"]:
        t.pop("location")
    return d


def rebuild(tmp: Path, devices: list[Any], name: str = "rebuilt.sqlite") -> Catalog:
    cat = Catalog.open(tmp / name)
    for dev in devices:
        import_tape(cat, dev)
    return cat


def test_rebuilt_from_tapes_equals_catalog_written_by_the_jobs(shoot: Shoot) -> None:
    written = comparable(shoot.catalog)
    # what the jobs wrote is what they did: 3 tapes, 6 sessions, every file with all its copies
    assert [t["label"] for t in written["destinations"]] == ["CPI002L9", "LTF003L9", "TAR001L9"]
    assert len(written["jobs"]) == 6
    by_path = {f["path"]: f for f in written["files"]}
    clip = by_path["A001_C007/CLIPS/A001C007_210315_R1AB.mxf"]
    assert sorted(c["destination"] for c in clip["copies"]) == ["CPI002L9", "LTF003L9", "TAR001L9"]
    assert set(clip["hashes"]) == {"xxh128", "md5"}
    tar_copy = next(c for c in clip["copies"] if c["destination"] == "TAR001L9")
    assert tar_copy["tape_file"] == 0 and tar_copy["partition"] == 0 and tar_copy["block"] is not None
    ltfs_copy = next(c for c in clip["copies"] if c["destination"] == "LTF003L9")
    assert ltfs_copy["partition"] == 1 and ltfs_copy["block"] >= 5 and ltfs_copy["tape_file"] is None
    b_copy = next(c for c in by_path["B002_C010/B002C010_210316_R2CD.mov"]["copies"]
                  if c["destination"] == "TAR001L9")
    assert b_copy["tape_file"] == 1
    assert "A001_C007/EMPTY/zero.bin" in by_path

    cat = rebuild(shoot.root, list(shoot.tapes.values()))
    assert comparable(cat) == written
    ltfs = next(t for t in cat.tapes() if t["label"] == "LTF003L9")
    assert ltfs["volume_uuid"] and ltfs["format"] == "ltfs" and ltfs["used"] is not None
    assert next(t for t in cat.tapes() if t["label"] == "CPI002L9")["format"] == "cpio,cpio-crc"
    cat.close()


def test_import_is_idempotent_and_keeps_what_the_jobs_recorded(shoot: Shoot) -> None:
    cat = rebuild(shoot.root, list(shoot.tapes.values()))
    once = cat.dump()
    for dev in reversed(list(shoot.tapes.values())):
        import_tape(cat, dev)
    assert cat.dump() == once
    assert cat.counts()["verifications"] == 0
    # importing into the catalog the jobs filled changes nothing either; verifications stay
    before = shoot.catalog.dump(verifications=True)
    for dev in shoot.tapes.values():
        import_tape(shoot.catalog, dev)
    assert shoot.catalog.dump(verifications=True) == before
    cat.close()


def test_verifications_recorded_for_every_copy(shoot: Shoot) -> None:
    d = shoot.catalog.dump(verifications=True)
    for f in d["files"]:
        for c in f["copies"]:
            assert [v["result"] for v in c["verifications"]] == ["ok"], (f["path"], c)
            assert c["verifications"][0]["who"] == "Lab QC" and c["verifications"][0]["phase"] == "verify"
    # the LTFS session's own metadata (manifest, copy log) is verified too but never catalogued as footage
    assert not any(f["path"].startswith(".lto-archive/") for f in d["files"])


def test_failed_verification_is_recorded_and_shown(shoot: Shoot) -> None:
    dev = shoot.device("TAR001L9")
    hit = search(shoot.catalog, "A001C008_210315_R1AB.mxf")[0]
    copy = next(c for c in hit.copies if c.destination == "TAR001L9")
    # damage one byte of the clip's data, past its headers (tape file 0 starts at block 0)
    where = copy.header_offset + 4096
    assert copy.block == copy.header_offset // copy.record_size
    rec = dev.path / f"0_{where // copy.record_size}_R"
    data = bytearray(rec.read_bytes())
    data[where % copy.record_size] ^= 0xFF
    rec.write_bytes(bytes(data))
    result = verify_tape(dev)
    assert result.status == "failed"
    out = record_read(shoot.catalog, result, dev.medium(), "night shift", when="2030-01-01T00:00:00.000000Z")
    assert out.verifications >= 1
    hit = search(shoot.catalog, "A001C008_210315_R1AB.mxf")[0]
    copy = next(c for c in hit.copies if c.destination == "TAR001L9")
    assert copy.last_result == "failed" and copy.last_check == "2030-01-01T00:00:00.000000Z"
    assert copy.verified is not None and copy.verified < copy.last_check   # the earlier good check is kept
    others = [c for c in hit.copies if c.destination != "TAR001L9"]
    assert all(c.last_result == "ok" for c in others)


def test_verifying_an_uncatalogued_tape_catalogues_it(tmp_path: Path, shoot: Shoot) -> None:
    cat = Catalog.open(tmp_path / "fresh.sqlite")
    dev = shoot.device("TAR001L9")
    out = record_read(cat, verify_tape(dev), dev.medium(), "lab")
    assert out.verifications == 6 and not out.unmatched
    rebuilt = rebuild(tmp_path, [dev], "r.sqlite")
    assert comparable(cat) == comparable(rebuilt)
    # an LTFS volume not in the catalog is said so, not guessed at
    ltfs = shoot.device("LTF003L9")
    out = record_read(cat, verify_tape(ltfs), ltfs.medium(), "lab")
    assert out.verifications == 0 and out.unmatched and "not in the catalog" in out.notes[0]
    cat.close()
    rebuilt.close()


def test_foreign_tar_tape_file_is_catalogued_unproven(tmp_path: Path) -> None:
    dev = create_vtape(tmp_path / "t", "LTO-9", capacity=16 * MiB, barcode="FOR001L9")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in (("reel1/clip1.mov", b"x" * 3000), ("reel1/clip2.mov", b"y" * 700)):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime = len(data), 1_600_000_000
            tf.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    raw += bytes(-len(raw) % 10240)
    for i in range(0, len(raw), 10240):
        dev.write_record(raw[i:i + 10240])
    dev.write_filemarks(1)
    cat = Catalog.open(tmp_path / "c.sqlite")
    out = import_tape(cat, dev)
    assert out.files == 2 and "no lto-archive manifest" in out.notes[0]
    d = cat.dump()
    assert [j["status"] for j in d["jobs"]] == ["foreign"]
    assert [(f["path"], f["size"], f["hashes"], f["copies"][0]["status"], f["copies"][0]["tape_file"])
            for f in d["files"]] == [("reel1/clip1.mov", 3000, {}, "unproven", 0),
                                     ("reel1/clip2.mov", 700, {}, "unproven", 0)]
    assert d["files"][0]["mtime"] == "2020-09-13T12:26:40.000000Z"
    import_tape(cat, dev)
    assert cat.dump() == d
    cat.close()


def test_folder_destination(tmp_path: Path, shoot: Shoot) -> None:
    folder = tmp_path / "raid" / "DAY1"
    folder.mkdir(parents=True)
    out = record_write(shoot.catalog, shoot.results[0], None, folder=folder)
    assert out.destination == str(folder.resolve())
    hit = search(shoot.catalog, "A001C007_210315_R1AB.mxf")[0]
    f = next(c for c in hit.copies if c.kind == "folder")
    assert f.folder == str(folder.resolve()) and f.block is None and f.tape_file is None


def test_rebuilt_from_tapes_and_folder_copies_equals_catalog_written_by_the_jobs(tmp_path: Path,
                                                                                shoot: Shoot) -> None:
    """A job to a tape and two folders: import_tape cannot see the folders; import_folder rebuilds them from
    the job manifests each holds, and the rebuilt catalog equals the written one (tapes imported first)."""
    dev = shoot.device("TAR001L9")
    shuttle, raid = tmp_path / "SHUTTLE01", tmp_path / "RAID" / "DAY3"
    result = write_archive([shoot.cards["RED"], shoot.cards["SOUND"]], dev, opts("tar"), folders=[shuttle, raid])
    assert result.status == "ok", result.destinations
    recs = record_job(shoot.catalog, result, [dev])
    assert [r.destination for r in recs] == ["TAR001L9", str(shuttle.resolve()), str(raid.resolve())]
    assert [r.verifications for r in recs] == [2, 2, 2]       # the job's read-back of each destination
    written = comparable(shoot.catalog)
    folders = [d for d in written["destinations"] if d["kind"] == "folder"]
    assert [(d["folder"], d["format"], d["volume_path"]) for d in folders] == [
        (str(raid.resolve()), "tar", folder_volume(raid).path_in_volume),
        (str(shuttle.resolve()), "tar", folder_volume(shuttle).path_in_volume)]
    assert folders[0]["volume_id"] == folders[1]["volume_id"] == folder_volume(tmp_path).volume_id
    only_tapes = rebuild(shoot.root, list(shoot.tapes.values()), "tapes-only.sqlite")
    assert not [d for d in comparable(only_tapes)["destinations"] if d["kind"] == "folder"]
    only_tapes.close()
    cat = rebuild(shoot.root, list(shoot.tapes.values()))
    for f in (shuttle, raid):
        out = import_folder(cat, f)
        assert out.files == 2 and out.jobs == [result.manifest.session.session_id]
    assert comparable(cat) == written
    import_folder(cat, shuttle)                                 # idempotent
    assert comparable(cat) == written
    cat.close()


def test_used_of_an_ltfs_cartridge_is_both_partitions(tmp_path: Path) -> None:
    media = tmp_path / "m"
    make_file(media / "A010_C001" / "A010C001_x.mxf", os.urandom(3 * MiB + 12345), "2022-01-01T00:00:00")
    dev = ltfs_tape(tmp_path / "v", "LTU001L9")
    cat = Catalog.open(tmp_path / "c.sqlite")
    before = dev.used_bytes(0) + dev.used_bytes(1)
    result = write_archive([media / "A010_C001"], dev, opts("ltfs"))
    assert result.status == "ok"
    record_job(cat, result, [dev])
    on_tape = dev.used_bytes(0) + dev.used_bytes(1)             # what the virtual drive holds, both partitions
    assert on_tape > before + 3 * MiB
    used = cat.tapes()[0]["used"]
    assert used is not None and abs(used - on_tape) < 2 * MiB   # the drive reports MiB per partition
    assert used == tape_used(dev)
    rebuilt = rebuild(tmp_path, [dev])                          # import reads the same from the cartridge
    assert rebuilt.tapes()[0]["used"] == used
    # the one-partition estimate is unchanged: capacity - remaining
    tar = tar_tape(tmp_path / "t", "TAU001L9")
    write_and_record(cat, tar, [media / "A010_C001"], "tar")
    t = next(t for t in cat.tapes() if t["label"] == "TAU001L9")
    assert t["used"] == tape_used(tar)          # what the drive charges: the records plus a small overhead each
    assert tar.used_bytes(0) <= t["used"] < tar.used_bytes(0) + 64 * 1024
    for c in (cat, rebuilt):
        c.close()


def test_barcode_learned_later_relabels_an_ltfs_volume(tmp_path: Path) -> None:
    media = tmp_path / "m"
    make_file(media / "A009_C001" / "A009C001_x.mxf", os.urandom(3000), "2022-01-01T00:00:00")
    dev = create_vtape(tmp_path / "v", "LTO-9", capacity=16 * MiB, partitions=2)   # no barcode on the cartridge
    format_volume(dev, creator="t", serial="NOBAR1", block_size=4096)
    cat = Catalog.open(tmp_path / "c.sqlite")
    result = write_and_record(cat, dev, [media / "A009_C001"], "ltfs")
    uuid = open_volume(dev).label.volume_uuid
    assert [t["label"] for t in cat.tapes()] == [f"ltfs:{uuid}"]
    import_tape(cat, dev)
    assert [t["label"] for t in cat.tapes()] == [f"ltfs:{uuid}"]
    # later the cartridge is seen in a library that reads its barcode label: same volume, now named by it
    record_write(cat, result, replace(dev.medium(), barcode="NOB001L9"), volume_uuid=uuid)
    t = cat.tapes()
    assert len(t) == 1 and t[0]["label"] == "NOB001L9" and t[0]["volume_uuid"] == uuid
    assert cat.counts()["copies"] == 1
    cat.close()


names = st.text(alphabet="ABCDEFGHJKxyz0123456789_", min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(jobs=st.lists(st.tuples(st.sampled_from(formats()),      # every format write knows, LTFS included
                               st.dictionaries(names, st.binary(max_size=3000), min_size=1, max_size=5)),
                     min_size=1, max_size=4))
def test_rebuild_equals_written_for_any_jobs(tmp_path_factory: Any, jobs: list[tuple[str, dict[str, bytes]]]) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    written = Catalog.open(tmp / "w.sqlite")
    tar = tar_tape(tmp / "tar", "PRT001L9")
    ltfs = ltfs_tape(tmp / "ltfs", "PRL001L9")
    for i, (fmt, files) in enumerate(jobs):
        card = tmp / "src" / f"C{i:03d}"
        for n, (name, data) in enumerate(files.items()):
            make_file(card / name, data, f"2024-01-0{1 + n % 9}T00:00:00")
        write_and_record(written, ltfs if fmt == "ltfs" else tar, [card], fmt)
    used = [d for d, fmt in ((tar, "tar"), (ltfs, "ltfs")) if fmt == "ltfs" and any(j[0] == "ltfs" for j in jobs)
            or fmt == "tar" and any(j[0] != "ltfs" for j in jobs)]
    rebuilt = rebuild(tmp, used)
    assert comparable(rebuilt) == comparable(written)
    for c in (written, rebuilt):
        c.close()
    tar.close()
    ltfs.close()
