"""Folder copies (write --copy-to) count as destinations of their own: one tape + one shuttle drive is two copies;
a folder damaged after the job and verified again is refused; two folders on one disk are one copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lto_archive.baf import check_card, issue_certificate
from lto_archive.baf.check import COVERED, TOO_FEW, NotSafeToFormat
from lto_archive.catalog import record_folder_read, search
from lto_archive.jobs.catalog_import import record_job
from lto_archive.folder_volume import folder_volume
from lto_archive.jobs.folder_verify import verify_folder
from lto_archive.jobs.write import WriteOptions, write_archive

from .conftest import Lab

CLIP = "A001_C007/CLIPS/A001C007_260315_R1AB.mxf"


def write_with_folders(lab: Lab, barcode: str, folders: list[Path]):  # type: ignore[no-untyped-def]
    dev = lab.tape(barcode)
    result = write_archive([lab.card], dev, WriteOptions(record_size=16384, chunk_size=65536, operator="Jane DIT"),
                           folders=folders)
    assert result.status == "ok", result.destinations
    record_job(lab.catalog, result, [dev])
    return result


def test_a_tape_and_a_shuttle_drive_are_two_copies_until_the_drive_is_damaged(lab: Lab) -> None:
    shuttle = lab.root / "shuttle"
    write_with_folders(lab, "LTA001L9", [shuttle])
    # the job read both back: the catalog holds both verifications, nothing else was run
    check = check_card(lab.catalog, lab.card, 2)
    assert check.covered, [f.reasons for f in check.missing]
    cert = issue_certificate(lab.catalog, lab.card, 2, operator="Lab QC")
    f = next(f for f in cert.content["files"] if f["path"] == CLIP)
    kinds = {c["kind"]: c for c in f["copies"]}
    assert set(kinds) == {"tape", "folder"} and kinds["tape"]["barcode"] == "LTA001L9"
    assert kinds["folder"]["folder"] == str(shuttle.resolve())
    assert kinds["folder"]["volume_id"] == folder_volume(shuttle).volume_id and kinds["tape"]["volume_id"] is None
    assert kinds["folder"]["verified"]["by"] == "Jane DIT" and kinds["folder"]["verified"]["result"] == "ok"
    assert [d["kind"] for d in cert.content["destinations"]] == ["tape", "folder"]
    hit = search(lab.catalog, CLIP)[0]
    folder_copy = next(c for c in hit.copies if c.kind == "folder")
    assert folder_copy.volume_id == folder_volume(shuttle).volume_id and folder_copy.last_result == "ok"

    # a week later the shuttle drive has one damaged clip: verified again, the failure is recorded
    damaged = shuttle / CLIP
    data = bytearray(damaged.read_bytes())
    data[1000] ^= 0x40
    damaged.write_bytes(bytes(data))
    vr = verify_folder(shuttle)
    assert vr.status == "failed" and [x["path"] for x in vr.failed] == [CLIP]
    assert "xxh128 mismatch" in vr.failed[0]["reason"] and len(vr.verified) == 3
    rec = record_folder_read(lab.catalog, vr, "Lab QC")
    assert rec.verifications == 4 and not rec.unmatched and rec.destination == str(shuttle.resolve())
    check = check_card(lab.catalog, lab.card, 2)
    assert [m.path for m in check.missing] == [CLIP] and check.missing[0].state == TOO_FEW
    why = " ".join(check.missing[0].reasons)
    assert "only 1 of 2" in why and f"copy in {shuttle.resolve()} failed its last check" in why
    assert "by Lab QC" in why and "xxh128 mismatch" in why
    with pytest.raises(NotSafeToFormat, match="A001C007_260315_R1AB.mxf"):
        issue_certificate(lab.catalog, lab.card, 2)
    # the other files are still covered by the tape and the drive
    assert all(f.state == COVERED for f in check.files if f.path != CLIP)


def test_two_folders_on_one_disk_are_one_copy(lab: Lab) -> None:
    a, b = lab.root / "raid" / "copy1", lab.root / "raid" / "copy2"
    write_with_folders(lab, "LTA001L9", [a, b])
    assert folder_volume(a).volume_id == folder_volume(b).volume_id
    assert check_card(lab.catalog, lab.card, 2).covered            # the tape + that disk
    check = check_card(lab.catalog, lab.card, 3)
    assert len(check.missing) == 4 and {m.state for m in check.missing} == {TOO_FEW}
    clip = next(m for m in check.missing if m.path == CLIP)
    assert len(clip.copies) == 2 and {c.kind for c in clip.copies} == {"tape", "folder"}
    assert any("same disk" in r and "one disk is one copy" in r for r in clip.reasons), clip.reasons
    # both folders are in the catalog, each a destination of its own
    hit = search(lab.catalog, CLIP)[0]
    assert sorted(c.folder for c in hit.copies if c.kind == "folder") == [str(a.resolve()), str(b.resolve())]


def test_folders_on_two_disks_are_two_copies(lab: Lab, tmp_path: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or not os.access(other, os.W_OK) or \
            os.stat(other).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second filesystem (/dev/shm, writable)")
    import tempfile
    with tempfile.TemporaryDirectory(dir=other) as d:
        write_with_folders(lab, "LTA001L9", [lab.root / "raid", Path(d) / "shuttle"])
        check = check_card(lab.catalog, lab.card, 3)
        assert check.covered, [m.reasons for m in check.missing]


def test_cli_tape_and_shuttle_drive_then_verify_folder(lab: Lab, tmp_path: Path) -> None:
    """The DIT's day through the real commands: write to a tape and a shuttle drive, OK to format with
    --copies 2; the drive damaged later, `verify --folder` records it, `baf` refuses naming the file."""
    import json

    from ..bad_input_helpers import run
    lab.tape("LTA001L9").close()
    del lab.tapes["LTA001L9"]
    cat, shuttle = tmp_path / "cat.sqlite", tmp_path / "SHUTTLE01"
    run("write", lab.card, "--device", f"vtape:{lab.root / 'tapes' / 'LTA001L9'}", "--copy-to", shuttle,
        "--block-size", "16K", "--catalog", cat, "--log-dir", tmp_path / "logs", "--operator", "Jane DIT", check=0)
    doc = json.loads(run("baf", lab.card, "--copies", "2", "--catalog", cat, "--output", tmp_path / "ok.json",
                         "--json", check=0).stdout)
    assert doc["status"] == "ok"
    cert = json.loads((tmp_path / "ok.json").read_text())["content"]
    assert {d["kind"] for d in cert["destinations"]} == {"tape", "folder"}
    found = json.loads(run("catalog", "search", "A001C007_260315", "--catalog", cat, "--json", check=0).stdout)
    copies = found["results"][0]["copies"]
    assert sorted(c["kind"] for c in copies) == ["folder", "tape"]
    assert next(c for c in copies if c["kind"] == "folder")["volume_id"]
    exported = run("catalog", "export", "--format", "csv", "-o", "-", "--catalog", cat, check=0).stdout
    assert f",folder,,,{shuttle.resolve()}," in exported

    clip = shuttle / CLIP
    clip.write_bytes(clip.read_bytes()[:-1] + b"\0")
    cp = run("verify", "--folder", shuttle, "--catalog", cat, "--operator", "Lab QC")
    assert cp.returncode == 3 and "A001C007_260315_R1AB.mxf" in cp.stdout + cp.stderr
    cp = run("baf", lab.card, "--copies", "2", "--catalog", cat, "--output", tmp_path / "no.json")
    assert cp.returncode == 5 and CLIP in cp.stderr and "failed its last check" in cp.stderr
    assert not (tmp_path / "no.json").exists()
    # other files of the card are still proven on both: only the damaged clip is named
    assert "A001C008" not in cp.stderr
    cp = run("verify", "--folder", tmp_path / "nowhere", "--catalog", cat)
    assert cp.returncode == 2 and "Traceback" not in cp.stderr
    cp = run("verify", "--catalog", cat)
    assert cp.returncode == 2 and "--device" in cp.stderr and "--folder" in cp.stderr
    # a catalog rebuilt from the drive alone knows its copies (and the drive's disk)
    doc = json.loads(run("catalog", "import", "--folder", shuttle, "--catalog", tmp_path / "new.sqlite", "--json",
                         check=0).stdout)
    assert doc["files"] == 4 and doc["destination"] == str(shuttle.resolve())
    tapes = json.loads(run("catalog", "tapes", "--catalog", tmp_path / "new.sqlite", "--json", check=0).stdout)
    assert [(t["kind"], t["files"], t["volume_id"] == folder_volume(shuttle).volume_id)
            for t in tapes["tapes"]] == [("folder", 4, True)]


def test_a_copy_the_folder_refused_is_not_recorded_there(lab: Lab) -> None:
    """The same card copied again to the same shuttle drive: the drive keeps the first copies (never
    overwritten), the second job's refused files are not copies on it, and nothing proven is lost."""
    shuttle = lab.root / "shuttle"
    first = write_with_folders(lab, "LTA001L9", [shuttle])
    before = {p: (shuttle / p).read_bytes() for p in (CLIP, "A001_C007/A001C007_260315_R1AB.xml")}
    dev = lab.tape("LTA002L9")
    again = write_archive([lab.card], dev, WriteOptions(record_size=16384, chunk_size=65536, operator="Bob"),
                          folders=[shuttle])
    folder = again.destinations[1]
    assert folder["status"] == "incomplete" and {f["path"] for f in folder["failed"]} >= set(before)
    recs = record_job(lab.catalog, again, [dev])
    assert recs[1].files == 0 and recs[1].verifications == 0            # nothing of the second job is there
    assert {p: (shuttle / p).read_bytes() for p in before} == before
    hit = search(lab.catalog, CLIP)[0]
    on_shuttle = [c for c in hit.copies if c.kind == "folder"]
    assert [c.session_id for c in on_shuttle] == [first.manifest.session.session_id]
    assert check_card(lab.catalog, lab.card, 3).covered                 # two tapes and the drive
