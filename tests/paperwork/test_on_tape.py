"""A session's paperwork and custody record ON TAPE (issue 17): the last members before the manifest in a
TAR, CPIO or AXF-style tape file, files under `.lto-archive/<session>/` on an LTFS volume. Written to virtual
tapes, read back with GNU tar, cpio, 7z and our own readers; damage to them is reported, never a file's proof."""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive.formats.ltfs.volume import format_volume
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import NOT_WRITTEN, OK
from lto_archive.tape import create_vtape
from lto_archive_cli.main import cli
from tests.conftest import require_tool
from tests.tape_helpers import dump_tape_file, record_path, tape_file_blocks, tape_file_bytes

MEMBERS_END = [".lto-archive/copy-log.txt", ".lto-archive/paperwork.7z", ".lto-archive/custody.jsonl",
               ".lto-archive/manifest.json"]


def make_card(root: Path, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    card = root / "A001_C007"
    for i in range(4):
        p = card / "CLIPS" / f"A001C00{i}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rnd.randbytes(rnd.randint(1000, 90_000)))
    (card / "README.txt").write_text("take 1\n")
    return card


def write_job(tmp_path: Path, fmt: str = "tar", password: str | None = None, **kw) -> tuple[Path, Path, dict]:
    card = make_card(tmp_path)
    tape = tmp_path / "tape"
    lto_archive.create_vtape(tape, capacity="64M", barcode="PPR001L9",
                             partitions=2 if fmt == "ltfs" else 1).close()
    if fmt == "ltfs":
        with lto_archive.open_device(f"vtape:{tape}") as dev:
            format_volume(dev, creator="t", serial="PPR001")
    pw = None
    if password is not None:
        pw = tmp_path / "pw"
        pw.write_text(password + "\n")
    res = lto_archive.write(card, f"vtape:{tape}", format=fmt, catalog=False, log_dir=tmp_path / "logs",
                            paperwork_password_file=pw, **kw)
    assert res.status == "ok", res.to_dict()
    return card, tape, res.to_dict()


def tar_members(cart: Path) -> tuple[list[str], dict[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(tape_file_bytes(cart, 0))) as tf:
        names = tf.getnames()
        meta = {m.name: tf.extractfile(m).read() for m in tf.getmembers()  # type: ignore[union-attr]
                if m.name.startswith(".lto-archive/") and m.isfile()}
    return names, meta


def seven_zip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    require_tool("7z")
    return subprocess.run(["7z", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("password", [None, "s3cret words"])
def test_tar_session_ends_with_its_paperwork_gnu_tar_and_7z_read_it(tmp_path: Path, password: str | None) -> None:
    card, tape, doc = write_job(tmp_path, password=password)
    sid = doc["session"]["session_id"]
    names, meta = tar_members(tape)
    assert names[0] == ".lto-archive/session.json" and names[-4:] == MEMBERS_END
    # GNU tar lists and extracts the tape file: the two are ordinary files
    require_tool("tar")
    tf = dump_tape_file(tape, 0, tmp_path / "tf0.tar")
    listed = subprocess.run(["tar", "-tf", str(tf)], capture_output=True, text=True, check=True).stdout.split()
    assert listed[-4:] == MEMBERS_END
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["tar", "-xf", str(tf), "-C", str(out)], check=True)
    seven = out / ".lto-archive" / "paperwork.7z"
    assert seven.read_bytes() == meta[".lto-archive/paperwork.7z"]
    pw = [f"-p{password}"] if password else []
    t = seven_zip("t", *pw, str(seven))
    assert t.returncode == 0 and "Everything is Ok" in t.stdout, t.stdout + t.stderr
    listing = seven_zip("l", *pw, str(seven)).stdout
    assert f".lto-archive/{sid}/manifest.json" in listing and f".lto-archive/{sid}/custody.jsonl" in listing
    if password:
        assert seven_zip("t", "-pwrong", str(seven)).returncode != 0
        assert "manifest.json" not in seven_zip("l", "-p", str(seven)).stdout    # names hidden
    # the copy log inside names every file with the hashes of the files themselves
    x7 = tmp_path / "x7"
    assert seven_zip("x", *pw, f"-o{x7}", str(seven)).returncode == 0
    inner = json.loads((x7 / ".lto-archive" / sid / "manifest.json").read_bytes())
    files = {f["path"]: f for f in inner["files"] if f["kind"] == "file"}
    assert len(files) == 5
    for path, rec in files.items():
        assert rec["hashes"]["md5"] == hashlib.md5((card.parent / path).read_bytes()).hexdigest()
    assert (x7 / ".lto-archive" / sid / "manifest.json").read_bytes() == meta[".lto-archive/manifest.json"]
    assert (x7 / ".lto-archive" / sid / "copy-log.txt").read_bytes() == meta[".lto-archive/copy-log.txt"]
    md5 = subprocess.run(["md5sum", "-c", f"{x7}/.lto-archive/{sid}/checksums.md5"], cwd=out, capture_output=True)
    assert md5.returncode == 0, md5.stdout        # the extracted footage checks against the paperwork's lists
    check_custody(out / ".lto-archive" / "custody.jsonl", seven.read_bytes(), meta, sid, encrypted=bool(password))


def check_custody(path: Path, paperwork: bytes, meta: dict[str, bytes], sid: str, *, encrypted: bool) -> None:
    """The tape's custody record: a whole chain (custody verify), stating the manifest's, copy log's and
    paperwork's SHA-256."""
    assert lto_archive.verify_custody_log(path)["ok"]
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["data"].get("phase", e["event"]) for e in entries] == [
        "started", "written", "checkpoint", "paperwork", "checkpoint"]
    assert all(e["subject"] == sid for e in entries)
    written, stored = entries[1]["data"], entries[3]["data"]
    assert written["manifest_sha256"] == hashlib.sha256(meta[".lto-archive/manifest.json"]).hexdigest()
    assert written["copy_log_sha256"] == hashlib.sha256(meta[".lto-archive/copy-log.txt"]).hexdigest()
    assert written["files"] == 5 and written["status"] == "ok"
    assert stored["sha256"] == hashlib.sha256(paperwork).hexdigest() and stored["encrypted"] is encrypted


def test_restored_paperwork_is_read_by_paperwork_list(tmp_path: Path) -> None:
    _, tape, doc = write_job(tmp_path, password="pw")
    sid = doc["session"]["session_id"]
    r = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{tape}", str(tmp_path / "r"), "--json"])
    assert r.exit_code == 0, r.output
    seven = tmp_path / "r" / ".lto-archive" / "tape-file-0" / "paperwork.7z"
    assert (tmp_path / "r" / ".lto-archive" / "tape-file-0" / "custody.jsonl").is_file()
    assert json.loads(r.output)["tape_files"][0]["restored"] == 7       # footage only: 5 files, 2 folders
    r = CliRunner().invoke(cli, ["paperwork", "list", str(seven), "--password-file", str(tmp_path / "pw"), "--json"])
    assert r.exit_code == 0, r.output
    assert f".lto-archive/{sid}/copy-log.txt" in r.output
    r = CliRunner().invoke(cli, ["paperwork", "list", str(seven)])
    assert r.exit_code == 6 and "encrypted" in r.output


def test_listing_and_catalog_import_treat_them_as_metadata(tmp_path: Path) -> None:
    _, tape, _ = write_job(tmp_path)
    r = CliRunner().invoke(cli, ["ls", "--device", f"vtape:{tape}"])
    assert r.exit_code == 0 and "paperwork" not in r.output and "custody" not in r.output
    cat = tmp_path / "cat.sqlite"
    r = CliRunner().invoke(cli, ["catalog", "import", "--device", f"vtape:{tape}", "--catalog", str(cat), "--json"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["catalog", "search", "*", "--catalog", str(cat), "--json"])
    assert r.exit_code == 0 and ".lto-archive" not in r.output and "A001C000.mov" in r.output


def _corrupt_member(tape: Path, name: str, how) -> None:  # type: ignore[no-untyped-def]
    """Change the bytes of member `name` of tape file 0 in place, on the cartridge (its records' files)."""
    with tarfile.open(fileobj=io.BytesIO(tape_file_bytes(tape, 0))) as tf:
        m = tf.getmember(name)
    blocks = tape_file_blocks(tape, 0)
    rs = len(record_path(tape, blocks[0]).read_bytes())
    whole = bytearray(tape_file_bytes(tape, 0))
    whole[m.offset_data:m.offset_data + m.size] = how(bytes(whole[m.offset_data:m.offset_data + m.size]))
    for i, b in enumerate(blocks):
        record_path(tape, b).write_bytes(bytes(whole[i * rs:(i + 1) * rs]))


@pytest.mark.parametrize("password,member,why", [
    (None, ".lto-archive/paperwork.7z", "paperwork.7z"),
    ("pw", ".lto-archive/paperwork.7z", "not the one the custody record states"),
    (None, ".lto-archive/custody.jsonl", "custody.jsonl"),
])
def test_damaged_evidence_is_reported_and_never_changes_a_files_proof(tmp_path: Path, password: str | None,
                                                                       member: str, why: str) -> None:
    _, tape, _ = write_job(tmp_path, password=password)
    with lto_archive.open_device(f"vtape:{tape}") as dev:
        before = verify_tape(dev)
    assert before.status == "ok" and len(before.tape_files[0].verified) == 5

    def flip(data: bytes) -> bytes:     # a run of bytes in the middle zeroed (or, text, a digit changed)
        if member.endswith(".jsonl"):
            return data.replace(b'"files":5', b'"files":6', 1)
        mid = len(data) // 2
        return data[:mid] + bytes(64) + data[mid + 64:]
    _corrupt_member(tape, member, flip)
    with lto_archive.open_device(f"vtape:{tape}") as dev:
        after = verify_tape(dev)
    t = after.tape_files[0]
    assert t.verified == before.tape_files[0].verified and not t.failed and not t.unproven
    assert after.status == "damaged" and why in t.error.message and "proofs do not depend on it" in t.error.message
    r = CliRunner().invoke(cli, ["verify", "--device", f"vtape:{tape}"])
    assert r.exit_code == 6 and why in r.output


def test_no_paperwork_asked_still_leaves_the_custody_record(tmp_path: Path) -> None:
    _, tape, doc = write_job(tmp_path, paperwork=False)
    names, meta = tar_members(tape)
    assert ".lto-archive/paperwork.7z" not in names and names[-2:] == MEMBERS_END[2:]
    entries = [json.loads(line) for line in meta[".lto-archive/custody.jsonl"].decode().splitlines()]
    assert [e["data"].get("phase", e["event"]) for e in entries] == ["started", "written", "checkpoint"]
    assert not list((tmp_path / "logs").glob("*.paperwork.7z"))


@pytest.mark.parametrize("fmt,tool", [("cpio", "cpio"), ("cpio-crc", "cpio")])
def test_cpio_tools_extract_the_paperwork(tmp_path: Path, fmt: str, tool: str) -> None:
    _, tape, doc = write_job(tmp_path, fmt=fmt)
    require_tool(tool)
    tf = dump_tape_file(tape, 0, tmp_path / "tf0.cpio")
    listed = subprocess.run(["cpio", "-it", "--quiet"], stdin=tf.open("rb"), capture_output=True, text=True,
                            check=True).stdout.split()
    assert listed[-3:] == MEMBERS_END[1:]
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["cpio", "-id", "--quiet"], stdin=tf.open("rb"), cwd=out, check=True)
    t = seven_zip("t", str(out / ".lto-archive" / "paperwork.7z"))
    assert t.returncode == 0 and "Everything is Ok" in t.stdout
    assert lto_archive.verify_custody_log(out / ".lto-archive" / "custody.jsonl")["ok"]


def test_axf_session_carries_them_and_restore_gives_them_back(tmp_path: Path) -> None:
    _, tape, doc = write_job(tmp_path, fmt="axf")
    r = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{tape}", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    meta = tmp_path / "r" / ".lto-archive" / "tape-file-0"
    files = lto_archive.open_paperwork(meta / "paperwork.7z")
    sid = doc["session"]["session_id"]
    assert files[f".lto-archive/{sid}/manifest.json"] == (meta / "manifest.json").read_bytes()
    assert lto_archive.verify_custody_log(meta / "custody.jsonl")["ok"]


def test_ltfs_volume_holds_them_in_the_sessions_folder(tmp_path: Path) -> None:
    _, tape, doc = write_job(tmp_path, fmt="ltfs", password="pw")
    sid = doc["session"]["session_id"]
    r = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{tape}", str(tmp_path / "r"), "--json"])
    assert r.exit_code == 0, r.output
    folder = tmp_path / "r" / ".lto-archive" / sid
    assert {"custody.jsonl", "manifest.json", "paperwork.7z"} <= {p.name for p in folder.iterdir()}
    files = lto_archive.open_paperwork(folder / "paperwork.7z", password_file=tmp_path / "pw")
    assert files[f".lto-archive/{sid}/manifest.json"] == (folder / "manifest.json").read_bytes()
    entries = [json.loads(line) for line in (folder / "custody.jsonl").read_text().splitlines()]
    assert entries[3]["data"]["member"] == f".lto-archive/{sid}/paperwork.7z"
    assert entries[3]["data"]["sha256"] == hashlib.sha256((folder / "paperwork.7z").read_bytes()).hexdigest()
    t = seven_zip("t", "-ppw", str(folder / "paperwork.7z"))
    assert t.returncode == 0 and "Everything is Ok" in t.stdout
    r = CliRunner().invoke(cli, ["verify", "--device", f"vtape:{tape}"])
    assert r.exit_code == 0, r.output


def test_a_full_cartridge_still_closes_its_session_with_them(tmp_path: Path) -> None:
    """Tiny files on a tiny cartridge: the estimate stops taking files while the paperwork still fits."""
    rnd = random.Random(23)
    for i in range(900):
        p = tmp_path / "src" / "card" / f"d{i // 100}" / f"f{i:04d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rnd.randbytes(rnd.randint(1024, 4096)))
    dev = create_vtape(tmp_path / "c", "LTO-9", capacity=3 << 20, early_warning_bytes=0,
                       programmable_early_warning_bytes=0)
    res = write_archive([tmp_path / "src" / "card"], dev, WriteOptions(verify=False, record_size=65536))
    assert res.error is None
    statuses = {r.status for r in res.files}
    assert statuses == {OK, NOT_WRITTEN}                     # it filled up
    names, meta = tar_members(tmp_path / "c")
    assert names[-3:] == MEMBERS_END[1:]
    seven = tmp_path / "p.7z"
    seven.write_bytes(meta[".lto-archive/paperwork.7z"])
    inner = lto_archive.open_paperwork(seven)
    sid = res.manifest.session.session_id
    assert inner[f".lto-archive/{sid}/manifest.json"] == meta[".lto-archive/manifest.json"]
    check = verify_tape(dev)
    assert check.status == "ok" and len(check.tape_files[0].verified) == sum(s == OK for s in
                                                                               (r.status for r in res.files))
