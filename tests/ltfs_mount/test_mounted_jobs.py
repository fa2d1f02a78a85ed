"""Write, verify and restore through a mounted LTFS volume; a plain folder stands in for the mount point.

Extended attributes go through the OS (user.* on this file system) where it
supports them, and through an in-memory store otherwise, so every test runs
either way; tests that need LTFS's own virtual attributes use FakeLtfsXattrs.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
import xxhash

from lto_archive.errors import (DeviceNotFound, EndOfMedium, ExitCode, JobIncomplete, RestoreConflict, SourceError,
                                UsageError, VerificationFailed, WriteProtected)
from lto_archive.jobs import ltfs_mount_read, ltfs_mounted
from lto_archive.jobs.ltfs_mounted import read_mounted, tape_order, write_to_mount
from lto_archive.tape.blocks import records_cost
from lto_archive.jobs.write import WriteOptions
from lto_archive.ltfs_tools import (LTFS_HASH_XATTRS, PARTITION, START_BLOCK, SYNC, VOLUME_UUID, DictXattrs,
                                    OsXattrs, user_xattrs_supported)
from lto_archive.manifest import CHANGED, LOST, NOT_WRITTEN, OK, READ_ERROR, UNREADABLE, Manifest

from . import FakeLtfsXattrs, RecordingXattrs, data, make_card

OPTS = dict(algorithms=("xxh128", "md5"), operator="Test DIT")


@pytest.fixture(params=["os", "dict"])
def store(request, tmp_path):
    """Each test twice: real user.* attributes (skipped where the file system has none), and in memory."""
    if request.param == "os":
        if not user_xattrs_supported(tmp_path):
            pytest.skip("this file system does not store user.* extended attributes")
        return OsXattrs()
    return DictXattrs()


@pytest.fixture
def vol(tmp_path, store) -> Path:
    """The 'mount point': a folder marked as LTFS the way a mounted volume is (user.ltfs.volumeUUID)."""
    v = tmp_path / "mnt"
    v.mkdir()
    store.set(v, VOLUME_UUID, "3b1c7d2e-0000-4000-8000-00000000abcd")
    return v


def write(sources, vol, store, **kw):  # type: ignore[no-untyped-def]
    opts = kw.pop("options", None) or WriteOptions(**OPTS)
    return write_to_mount([Path(s) for s in sources], vol, opts, xattrs=store, **kw)


def tree(root: Path, skip_meta: bool = True) -> dict[str, bytes]:
    """Files under root (relative names) with bytes; links as 'link->target'; folders with b''."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if skip_meta and rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d != ".lto-archive"]
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = b"link->" + os.readlink(p).encode()
            elif p.is_file():
                out[rel] = p.read_bytes()
            else:
                out[rel + "/"] = b""
    return out


def order_of(calls) -> list[str]:  # type: ignore[no-untyped-def]
    """The files in the order the job started them (progress reports each file start)."""
    out: list[str] = []
    for p in calls:
        if p.path and (not out or out[-1] != p.path):
            out.append(p.path)
    return out


# --- write -> verify -> restore ------------------------------------------------------------------

def test_write_verify_restore_end_to_end(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    log_dir = tmp_path / "logs"
    rec_store = RecordingXattrs(store, vol)
    result = write([card], vol, rec_store, options=WriteOptions(**OPTS, log_dir=log_dir, device_name="ltfs:/dev/sg3"))
    assert result.status == "ok" and result.error is None
    result.raise_for_status()
    assert {f.path: f.status for f in result.files} == {p: OK for p in files}

    # the volume holds the card as it is, with mtime and mode
    assert tree(vol) == {**{p: b for p, b in files.items()}, "A001/": b"", "A001/CLIPS/": b"", "A001/META/": b"",
                         "A001/latest.mov": b"link->CLIPS/A001C001.mov"}
    assert os.stat(vol / "A001/CLIPS/A001C001.mov").st_mtime_ns == 1_600_000_000_123_456_789
    assert stat.S_IMODE(os.stat(vol / "A001/META/report.xml").st_mode) == 0o640
    assert os.stat(vol / "A001/CLIPS").st_mtime_ns == os.stat(card / "CLIPS").st_mtime_ns

    # each file carries its hashes as LTFS attributes, computed independently here
    for path, blob in files.items():
        assert store.get(vol / path, "ltfs.hash.md5sum") == hashlib.md5(blob).hexdigest()
        assert store.get(vol / path, "ltfs.hash.xxh128") == xxhash.xxh3_128(blob).hexdigest()
        assert store.get(vol / path, "ltfs.hash.sha256sum") is None   # not asked for

    # the index sync is forced on the root, last
    assert rec_store.sets[-1] == (".", SYNC, b"1")
    syncs = [s for s in rec_store.sets if s[1] == SYNC]
    assert len(syncs) == 2   # after the data (positions), after the manifest

    # our records on the volume, and the copy log next to the job
    sid = result.manifest.session.session_id
    meta = vol / ".lto-archive" / sid
    assert sorted(p.name for p in meta.iterdir()) == ["checksums.md5", "checksums.xxh128", "copy-log.txt",
                                                      "custody.jsonl", "manifest.json", "paperwork.7z"]
    on_vol = Manifest.from_json((meta / "manifest.json").read_bytes())
    assert on_vol.session.format == "ltfs" and on_vol.session.device == "ltfs:/dev/sg3"
    assert {f.path: f.hashes["md5"] for f in on_vol.files if f.kind == "file"} == \
        {p: hashlib.md5(b).hexdigest() for p, b in files.items()}
    assert f"{hashlib.md5(files['A001/META/report.xml']).hexdigest()}  A001/META/report.xml" in \
        (meta / "checksums.md5").read_text()
    assert sorted(p.name for p in log_dir.iterdir()) == [f"{sid}.journal.jsonl", f"{sid}.json", f"{sid}.log"]

    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "ok", v.to_dict()
    v.raise_for_status()
    assert sorted(v.tape_files[0].verified) == sorted(files)
    assert v.tape_files[0].session_id == sid

    dest = tmp_path / "restore"
    r = read_mounted(vol, "restore", dest=dest, xattrs=store)
    assert r.status == "ok", r.to_dict()
    got = tree(dest)
    assert {p: got[p] for p in files} == files
    assert got["A001/latest.mov"] == b"link->CLIPS/A001C001.mov"
    assert os.stat(dest / "A001/CLIPS/A001C001.mov").st_mtime_ns == 1_600_000_000_123_456_789
    assert stat.S_IMODE(os.stat(dest / "A001/META/report.xml").st_mode) == 0o640
    # the checksum lists come along and check from the restore folder
    assert (dest / ".lto-archive" / sid / "checksums.md5").read_bytes() == (meta / "checksums.md5").read_bytes()


def test_the_same_bytes_as_the_tar_backend_reports(tmp_path, vol, store):
    """Same result types and rules: WriteResult/ReadResult, to_dict, exit codes."""
    card, _ = make_card(tmp_path / "src")
    result = write([card], vol, store)
    doc = result.manifest.to_dict()
    assert doc["totals"]["ok"] == 4 and doc["totals"]["problems"] == 0
    v = read_mounted(vol, "verify", xattrs=store).to_dict()
    assert v["status"] == "ok" and v["tape_files"][0]["verified"] == 4
    json.dumps(v)


def test_list_shows_members_without_reading(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    (vol / "A001/.lto-archive-4242-7.part").write_bytes(b"left by a killed job")   # never listed
    seen = []
    r = read_mounted(vol, "list", xattrs=store, progress=seen.append)
    members = {m.path: m.kind for m in r.tape_files[0].members}
    assert members == {"A001": "dir", "A001/CLIPS": "dir", "A001/META": "dir", "A001/latest.mov": "symlink",
                       **{p: "file" for p in files}}
    assert r.status == "ok" and not r.tape_files[0].verified
    assert all(p.bytes_done == 0 for p in seen)


# --- refusals before anything is written ------------------------------------------------------------

def test_not_an_ltfs_volume_is_refused(tmp_path, store):
    card, _ = make_card(tmp_path / "src")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(DeviceNotFound, match="not a mounted LTFS volume") as ei:
        write([card], plain, store)
    assert ei.value.exit_code == ExitCode.DEVICE
    assert list(plain.iterdir()) == []
    with pytest.raises(DeviceNotFound):
        read_mounted(plain, "verify", xattrs=store)
    with pytest.raises(DeviceNotFound, match="not a folder"):
        write([card], tmp_path / "missing", store, require_ltfs=False)
    # require_ltfs=False: any folder (tests, or an LTFS that hides its attributes)
    assert write([card], plain, store, require_ltfs=False).status == "ok"


def test_read_only_volume_is_refused(tmp_path, vol, store, monkeypatch):
    card, _ = make_card(tmp_path / "src")
    real_access = os.access
    monkeypatch.setattr(ltfs_mounted.os, "access",
                        lambda p, mode, **kw: False if mode == os.W_OK else real_access(p, mode, **kw))
    with pytest.raises(WriteProtected):
        write([card], vol, store)
    assert os.listdir(vol) == []


def test_existing_files_are_never_overwritten_unless_asked(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    before = tree(vol, skip_meta=False)
    (card / "CLIPS/A001C002.mov").write_bytes(b"re-exported")
    with pytest.raises(UsageError, match="already on the volume") as ei:
        write([card], vol, store)
    assert "A001/CLIPS/A001C001.mov" in ei.value.data["files"]
    assert tree(vol, skip_meta=False) == before   # nothing written, not even a session folder

    result = write([card], vol, store, overwrite=True)
    assert result.status == "ok"
    assert (vol / "A001/CLIPS/A001C002.mov").read_bytes() == b"re-exported"
    assert store.get(vol / "A001/CLIPS/A001C002.mov", "ltfs.hash.md5sum") == hashlib.md5(b"re-exported").hexdigest()
    v = read_mounted(vol, "verify", xattrs=store)   # the newest manifest wins for the re-written file
    assert v.status == "ok", v.to_dict()


def test_a_folder_or_link_in_the_way_is_refused_even_with_overwrite(tmp_path, vol, store):
    card, _ = make_card(tmp_path / "src")
    (vol / "A001").mkdir()
    (vol / "A001/CLIPS").write_bytes(b"a file where a folder goes")
    with pytest.raises(UsageError, match="A001/CLIPS"):
        write([card], vol, store, overwrite=True)
    os.unlink(vol / "A001/CLIPS")
    os.symlink("/tmp", vol / "A001/CLIPS")   # never written through
    with pytest.raises(UsageError, match="A001/CLIPS"):
        write([card], vol, store, overwrite=True)


def test_a_source_named_like_our_records_is_refused(tmp_path, vol, store):
    src = tmp_path / "src" / ".lto-archive"
    src.mkdir(parents=True)
    (src / "x").write_bytes(b"x")
    with pytest.raises(SourceError, match=".lto-archive"):
        write([src], vol, store)


# --- sources that misbehave: exactly as the TAR job reports them ---------------------------------------

def test_unreadable_source_file(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    gone = card / "META/report.xml"

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.path == "A001/CLIPS/A001C001.mov" and gone.exists():
            gone.unlink()   # opened later: fails like an unreadable file

    result = write([card], vol, store, progress=progress)
    status = {f.path: f.status for f in result.files}
    assert status["A001/META/report.xml"] == UNREADABLE and status["A001/CLIPS/A001C001.mov"] == OK
    assert not (vol / "A001/META/report.xml").exists()
    with pytest.raises(JobIncomplete, match="A001/META/report.xml"):
        result.raise_for_status()
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "ok" and len(v.tape_files[0].verified) == 3   # never claimed to be on the volume


def test_file_changed_while_read_is_never_verified(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    target = card / "CLIPS/A001C002.mov"

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.phase == "write" and p.path == "A001/CLIPS/A001C002.mov" and target.stat().st_size == 70_001:
            with open(target, "ab") as f:
                f.write(b"late bytes from the camera")

    result = write([card], vol, store, progress=progress)
    rec = {f.path: f for f in result.files}["A001/CLIPS/A001C002.mov"]
    assert rec.status == CHANGED and "changed while it was read" in rec.message
    # the bytes as they were when opened, and no hash attribute vouching for them
    assert (vol / rec.path).read_bytes() == files[rec.path]
    assert store.get(vol / rec.path, "ltfs.hash.md5sum") is None
    with pytest.raises(JobIncomplete):
        result.raise_for_status()

    v = read_mounted(vol, "verify", xattrs=store)
    assert rec.path not in v.tape_files[0].verified
    assert [u["path"] for u in v.unproven] == [rec.path] and not v.failed
    with pytest.raises(JobIncomplete) as ei:
        v.raise_for_status()
    assert ei.value.exit_code == ExitCode.INCOMPLETE


class _FailingRaw:
    """A source file that fails with EIO after `good` bytes."""

    def __init__(self, raw, good: int) -> None:  # type: ignore[no-untyped-def]
        self.raw, self.left = raw, good

    def readinto(self, buf):  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise OSError(errno.EIO, "Input/output error")
        n = self.raw.readinto(buf[:self.left])
        self.left -= n
        return n

    def fileno(self) -> int:
        return self.raw.fileno()

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.raw.close()


def test_source_read_error_part_way(tmp_path, vol, store, monkeypatch):
    card, files = make_card(tmp_path / "src")
    def source_reader(reader, entry):  # type: ignore[no-untyped-def]
        return _FailingRaw(reader, 100_000) if entry.path.name == "A001C001.mov" else reader

    monkeypatch.setattr(ltfs_mounted, "_source_reader", source_reader)
    result = write([card], vol, store, options=WriteOptions(**OPTS, chunk_size=64 * 1024))
    rec = {f.path: f for f in result.files}["A001/CLIPS/A001C001.mov"]
    assert rec.status == READ_ERROR and "read failed after 100000 of 300000 bytes" in rec.message
    assert rec.size == 100_000 and (vol / rec.path).read_bytes() == files[rec.path][:100_000]
    assert store.get(vol / rec.path, "ltfs.hash.md5sum") is None
    v = read_mounted(vol, "verify", xattrs=store)
    assert [u["path"] for u in v.unproven] == [rec.path] and rec.path not in v.tape_files[0].verified


# --- the volume misbehaves ------------------------------------------------------------------------------

def test_volume_full_part_way(tmp_path, vol, store, monkeypatch):
    card, files = make_card(tmp_path / "src")
    real_write = ltfs_mounted._write_all
    written: list[int] = []

    def write_all(fd, data):  # type: ignore[no-untyped-def]
        if len(written) == 1:   # the second file's data
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        real_write(fd, data)

    monkeypatch.setattr(ltfs_mounted, "_write_all", write_all)
    result = write([card], vol, store)
    status = {f.path: f.status for f in result.files}
    assert status["A001/CLIPS/A001C001.mov"] == OK
    assert status["A001/CLIPS/A001C002.mov"] == LOST
    assert status["A001/META/report.xml"] == NOT_WRITTEN
    assert isinstance(result.error, EndOfMedium) and "A001/CLIPS/A001C002.mov" in result.error.message
    assert result.status == "failed"
    with pytest.raises(EndOfMedium) as ei:
        result.raise_for_status()
    assert ei.value.exit_code == ExitCode.DEVICE
    # no partial file under any name, and the manifest says what is there
    assert not (vol / "A001/CLIPS/A001C002.mov").exists()
    assert not [p for p in vol.rglob("*.part")]
    v = read_mounted(vol, "verify", xattrs=store)
    assert "A001/CLIPS/A001C001.mov" in v.tape_files[0].verified and not v.failed


def test_no_room_stops_before_the_file(tmp_path, vol, store, monkeypatch):
    card, files = make_card(tmp_path / "src")
    opts = WriteOptions(**OPTS)
    # room for our records and the first file (300 000 bytes: one short record, charged its length and
    # overhead, never a whole 512 KiB block), not for the second (70 001 bytes)
    reserve = ltfs_mounted.metadata_reserve(8, 2, 512 * 1024)
    monkeypatch.setattr(ltfs_mounted, "_free_bytes", lambda mp: reserve + records_cost(300_000, 512 * 1024) + 1000)
    result = write([card], vol, store, options=opts)
    status = {f.path: f.status for f in result.files if f.kind == "file"}
    assert status["A001/CLIPS/A001C001.mov"] == OK          # 300 000 bytes: one 512 KiB block
    assert status["A001/CLIPS/A001C002.mov"] == NOT_WRITTEN
    assert "no room" in {f.path: f for f in result.files}["A001/CLIPS/A001C002.mov"].message
    assert result.status == "incomplete" and result.error is None


# --- verify: what is proven and what is not -----------------------------------------------------------

def test_corrupted_file_on_the_volume_fails_verification(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    victim = vol / "A001/CLIPS/A001C001.mov"
    with open(victim, "r+b") as f:   # flip one byte in place (attributes stay)
        f.seek(123_456)
        b = f.read(1)
        f.seek(123_456)
        f.write(bytes([b[0] ^ 0xFF]))
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "failed"
    [fail] = v.failed
    assert fail["path"] == "A001/CLIPS/A001C001.mov" and "mismatch" in fail["reason"]
    assert fail["expected"] == hashlib.md5(files[fail["path"]]).hexdigest() or \
        fail["expected"] == xxhash.xxh3_128(files[fail["path"]]).hexdigest()
    assert "A001/CLIPS/A001C001.mov" not in v.tape_files[0].verified
    with pytest.raises(VerificationFailed, match="A001/CLIPS/A001C001.mov") as ei:
        v.raise_for_status()
    assert ei.value.exit_code == ExitCode.VERIFY_FAILED
    # restore reports it too, and never leaves the wrong bytes under the real name (issue 14)
    r = read_mounted(vol, "restore", dest=tmp_path / "dest", xattrs=store)
    assert [f["path"] for f in r.failed] == ["A001/CLIPS/A001C001.mov"]
    assert not (tmp_path / "dest" / "A001/CLIPS/A001C001.mov").exists()
    assert (tmp_path / "dest" / "A001/CLIPS/A001C002.mov").read_bytes() == files["A001/CLIPS/A001C002.mov"]


def test_hash_attribute_alone_proves_and_catches(tmp_path, vol, store):
    """A file some other LTFS tool wrote with ltfs.hash.* (no lto-archive manifest)."""
    good, bad = vol / "other/good.mxf", vol / "other/bad.mxf"
    good.parent.mkdir()
    good.write_bytes(b"essence" * 1000)
    bad.write_bytes(b"essence" * 1000)
    store.set(good, "ltfs.hash.sha1sum", hashlib.sha1(b"essence" * 1000).hexdigest().upper())  # case-insensitive
    store.set(bad, "ltfs.hash.sha256sum", hashlib.sha256(b"something else").hexdigest())
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.tape_files[0].verified == ["other/good.mxf"]
    assert [(f["path"], f["algorithm"]) for f in v.failed] == [("other/bad.mxf", "sha256")]
    assert "user.ltfs.hash.sha256sum" in v.failed[0]["reason"]


def test_file_without_any_recorded_hash_is_unproven_never_ok(tmp_path, vol, store):
    (vol / "loose").mkdir()
    (vol / "loose/no-hash.wav").write_bytes(b"RIFF" + data(5, 10_000))
    (vol / "loose/blake.wav").write_bytes(b"RIFF")
    store.set(vol / "loose/blake.wav", "ltfs.hash.blake3sum", "ab" * 32)   # a hash we cannot compute
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "incomplete" and not v.tape_files[0].verified and not v.failed
    reasons = {u["path"]: u["reason"] for u in v.unproven}
    assert set(reasons) == {"loose/no-hash.wav", "loose/blake.wav"}
    assert "no recorded hash" in reasons["loose/no-hash.wav"]
    assert "user.ltfs.hash.blake3sum" in reasons["loose/blake.wav"]
    with pytest.raises(JobIncomplete) as ei:
        v.raise_for_status()
    assert ei.value.exit_code == ExitCode.INCOMPLETE == 5


def test_hash_attributes_removed_but_manifest_still_proves(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    if isinstance(store, OsXattrs):
        os.removexattr(vol / "A001/META/report.xml", "user.ltfs.hash.md5sum")
        os.removexattr(vol / "A001/META/report.xml", "user.ltfs.hash.xxh128")
    else:
        for k in [k for k in store.data if k[0].endswith("report.xml")]:
            del store.data[k]
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "ok" and "A001/META/report.xml" in v.tape_files[0].verified


def test_file_in_the_manifest_but_missing_from_the_volume(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    os.unlink(vol / "A001/CLIPS/A001C002.mov")
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.failed == [{"path": "A001/CLIPS/A001C002.mov", "reason": "missing from the volume", "tape_file": 0}]


def test_read_error_on_the_volume_fails_that_file(tmp_path, vol, store, monkeypatch):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    real_open = open

    def failing_open(path, *a, **kw):  # type: ignore[no-untyped-def]
        f = real_open(path, *a, **kw)
        if str(path).endswith("A001C002.mov") and str(path).startswith(str(vol)):
            return _FailingRaw(f, 4096)
        return f

    monkeypatch.setattr(ltfs_mount_read, "open", failing_open, raising=False)
    v = read_mounted(vol, "verify", xattrs=store)
    [fail] = v.failed
    assert fail["path"] == "A001/CLIPS/A001C002.mov" and "read error after 4096 bytes" in fail["reason"]
    assert len(v.tape_files[0].verified) == 3
    r = read_mounted(vol, "restore", dest=tmp_path / "dest", xattrs=store)
    assert not (tmp_path / "dest/A001/CLIPS/A001C002.mov").exists()   # no half file
    assert [f["path"] for f in r.failed] == ["A001/CLIPS/A001C002.mov"]


def test_two_sessions_on_one_volume(tmp_path, vol, store):
    a, fa = make_card(tmp_path / "src", "A001", seed=1)
    b, fb = make_card(tmp_path / "src", "B001", seed=7)
    r1 = write([a], vol, store)
    r2 = write([b], vol, store)
    assert r1.manifest.session.session_id != r2.manifest.session.session_id
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "ok" and sorted(v.tape_files[0].verified) == sorted([*fa, *fb])
    assert "(+1 older)" in v.tape_files[0].manifest_source


def test_unreadable_manifest_is_reported(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    res = write([card], vol, store)
    (vol / ".lto-archive" / res.manifest.session.session_id / "manifest.json").write_bytes(b"{not json")
    v = read_mounted(vol, "verify", xattrs=store)
    assert sorted(v.tape_files[0].verified) == sorted(files)   # the attributes still prove the files
    assert [u["path"] for u in v.unproven] == [f".lto-archive/{res.manifest.session.session_id}/manifest.json"]


# --- tape order ----------------------------------------------------------------------------------------

def test_restore_reads_in_start_block_order(tmp_path, vol, store):
    names = ["a.mov", "b.mov", "c.mov", "d.mov"]
    (vol / "card").mkdir()
    for i, n in enumerate(names):
        blob = data(i, 5000 + i)
        (vol / "card" / n).write_bytes(blob)
        store.set(vol / "card" / n, "ltfs.hash.md5sum", hashlib.md5(blob).hexdigest())
        store.set(vol / "card" / n, START_BLOCK, str(1000 - 100 * i))   # reverse of name order
        store.set(vol / "card" / n, PARTITION, "b")
    (vol / "card/index-part.xml").write_bytes(b"<x/>")       # placed on the index partition by a rule
    store.set(vol / "card/index-part.xml", START_BLOCK, "5000")
    store.set(vol / "card/index-part.xml", PARTITION, "a")
    (vol / "card/0-no-block.txt").write_bytes(b"")           # empty: LTFS gives it no start block
    want = ["card/index-part.xml", "card/d.mov", "card/c.mov", "card/b.mov", "card/a.mov", "card/0-no-block.txt"]

    seen: list = []
    v = read_mounted(vol, "verify", xattrs=store, progress=seen.append)
    assert order_of(seen) == want
    assert {m.path: m.block for m in v.tape_files[0].members if m.kind == "file"}["card/a.mov"] == 1000

    seen.clear()
    r = read_mounted(vol, "restore", dest=tmp_path / "dest", xattrs=store, progress=seen.append)
    assert order_of(seen) == want
    assert [p for p in r.tape_files[0].restored if p.endswith((".mov", ".xml", ".txt"))] == want
    assert (tmp_path / "dest/card/a.mov").read_bytes() == data(0, 5000)


def test_written_files_get_their_positions_and_read_back_in_that_order(tmp_path):
    vol = tmp_path / "mnt"
    vol.mkdir()
    store = FakeLtfsXattrs(vol)
    card, files = make_card(tmp_path / "src")
    result = write([card], vol, store)
    assert store.syncs == 2
    blocks = {f.path: (f.partition, f.block) for f in result.files if f.status == OK}
    assert blocks["A001/CLIPS/A001C001.mov"] == (1, 10)     # partition b = SCSI partition 1
    assert blocks["A001/CLIPS/A001C002.mov"] == (1, 11)
    assert blocks["A001/CLIPS/empty.txt"] == (None, None)   # no data, no extent
    on_vol = Manifest.from_json(next((vol / ".lto-archive").glob("*/manifest.json")).read_bytes())
    assert {f.path: f.block for f in on_vol.files if f.kind == "file"}["A001/META/report.xml"] == 12
    seen: list = []
    v = read_mounted(vol, "verify", xattrs=store, progress=seen.append)
    assert v.status == "ok"
    assert order_of(seen) == ["A001/CLIPS/A001C001.mov", "A001/CLIPS/A001C002.mov", "A001/META/report.xml",
                              "A001/CLIPS/empty.txt"]


def test_tape_order_sorts_partition_then_block_then_unplaced_by_path():
    from lto_archive.jobs.ltfs_mount_read import MountedFile as Found
    st = os.stat(".")
    fs = [Found("z", "file", st, 5, "b"), Found("y/1", "file", st), Found("a", "file", st, 7, "b"),
          Found("x", "file", st, 900, "a"), Found("y", "file", st)]
    assert [f.path for f in tape_order(fs)] == ["x", "z", "a", "y", "y/1"]


# --- restore safety -------------------------------------------------------------------------------------

def test_restore_never_overwrites_unless_asked(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    dest = tmp_path / "dest"
    assert read_mounted(vol, "restore", dest=dest, xattrs=store).status == "ok"
    (dest / "A001/META/report.xml").write_bytes(b"edited by hand")
    again = read_mounted(vol, "restore", dest=dest, xattrs=store)
    assert again.status == "refused"
    assert "A001/META/report.xml" in {r["path"] for r in again.refused}
    assert (dest / "A001/META/report.xml").read_bytes() == b"edited by hand"
    with pytest.raises(RestoreConflict) as ei:
        again.raise_for_status()
    assert ei.value.exit_code == ExitCode.ARCHIVE
    ok = read_mounted(vol, "restore", dest=dest, xattrs=store, overwrite=True)
    assert ok.status == "ok" and (dest / "A001/META/report.xml").read_bytes() == files["A001/META/report.xml"]


def test_restore_with_patterns(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    write([card], vol, store)
    dest = tmp_path / "dest"
    r = read_mounted(vol, "restore", patterns=["A001/CLIPS/*.mov"], dest=dest, xattrs=store)
    assert r.status == "ok"
    got = {p for p in tree(dest) if not p.endswith("/")}
    assert got == {"A001/CLIPS/A001C001.mov", "A001/CLIPS/A001C002.mov"}
    assert sorted(r.tape_files[0].verified) == ["A001/CLIPS/A001C001.mov", "A001/CLIPS/A001C002.mov"]


def test_restore_refuses_a_link_that_leaves_the_destination(tmp_path, vol, store):
    (vol / "evil").mkdir()
    os.symlink("../../etc", vol / "evil/up")
    r = read_mounted(vol, "restore", dest=tmp_path / "dest", xattrs=store)
    assert [x["path"] for x in r.refused] == ["evil/up"] and r.refused[0]["reason"] == "unsafe"


def test_bad_phase_and_missing_destination(tmp_path, vol, store):
    with pytest.raises(UsageError):
        read_mounted(vol, "copy", xattrs=store)
    with pytest.raises(UsageError):
        read_mounted(vol, "restore", xattrs=store)


# --- the attribute stores ---------------------------------------------------------------------------------

def test_os_xattrs_round_trip(tmp_path):
    if not user_xattrs_supported(tmp_path):
        pytest.skip("this file system does not store user.* extended attributes")
    p = tmp_path / "f"
    p.write_bytes(b"x")
    s = OsXattrs()
    assert s.get(p, "ltfs.hash.md5sum") is None
    s.set(p, "ltfs.hash.md5sum", "0123abcd")
    assert os.getxattr(p, "user.ltfs.hash.md5sum") == b"0123abcd"   # the name LTFS sees: ltfs.hash.md5sum
    assert s.get(p, "ltfs.hash.md5sum") == "0123abcd" and s.names(p) == ["ltfs.hash.md5sum"]
    os.symlink("f", tmp_path / "l")
    assert s.get(tmp_path / "l", "ltfs.hash.md5sum") is None   # never follows links


def test_hash_attribute_names_are_the_ones_our_ltfs_writer_uses():
    # one mapping for both LTFS backends; LTFS Format 2.4 Annex F.3 names where the spec has them
    from lto_archive.formats.ltfs.session import HASH_XATTRS
    from lto_archive.hashing import ALGORITHMS
    assert LTFS_HASH_XATTRS is HASH_XATTRS and ltfs_mounted.LTFS_HASH_XATTRS is HASH_XATTRS
    assert LTFS_HASH_XATTRS == {"md5": "ltfs.hash.md5sum", "sha1": "ltfs.hash.sha1sum",
                                "sha256": "ltfs.hash.sha256sum", "xxh128": "ltfs.hash.xxh128",
                                "xxh3": "ltfs.hash.xxh3", "xxh64": "ltfs.hash.xxh64"}
    assert set(LTFS_HASH_XATTRS) == set(ALGORITHMS)


def test_other_tools_xxhash_attribute_names_are_read(tmp_path, vol, store):
    """LTFSCopyGUI writes ltfs.hash.xxhash128sum (XXH3-128) and ltfs.hash.xxhash3sum (XXH3-64)."""
    (vol / "gui").mkdir()
    blob = data(3, 9000)
    for n in ("a.mov", "b.mov"):
        (vol / "gui" / n).write_bytes(blob)
    store.set(vol / "gui/a.mov", "ltfs.hash.xxhash128sum", xxhash.xxh3_128(blob).hexdigest().upper())
    store.set(vol / "gui/b.mov", "ltfs.hash.xxhash3sum", xxhash.xxh3_64(b"other").hexdigest())
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.tape_files[0].verified == ["gui/a.mov"]
    assert [(f["path"], f["algorithm"], f["reason"]) for f in v.failed] == \
        [("gui/b.mov", "xxh3", "xxh3 mismatch (user.ltfs.hash.xxhash3sum on the volume)")]


def test_every_algorithm_round_trips(tmp_path, vol, store):
    card, files = make_card(tmp_path / "src")
    opts = WriteOptions(algorithms=("xxh64", "xxh3", "xxh128", "md5", "sha1", "sha256"))
    write([card], vol, store, options=opts)
    blob = files["A001/CLIPS/A001C002.mov"]
    p = vol / "A001/CLIPS/A001C002.mov"
    assert store.get(p, "ltfs.hash.xxh64") == xxhash.xxh64(blob).hexdigest()
    assert store.get(p, "ltfs.hash.xxh3") == xxhash.xxh3_64(blob).hexdigest()
    assert store.get(p, "ltfs.hash.sha256sum") == hashlib.sha256(blob).hexdigest()
    assert read_mounted(vol, "verify", xattrs=store).status == "ok"


# --- a mount is a target like a device ------------------------------------------------------------------

def test_write_archive_takes_a_mount_as_its_target(tmp_path, vol, store):
    from lto_archive.jobs.ltfs_mounted import LtfsMount
    from lto_archive.jobs.write import write_archive
    card, files = make_card(tmp_path / "src")
    result = write_archive([card], LtfsMount(vol, xattrs=store), WriteOptions(**OPTS))
    result.raise_for_status()
    assert result.manifest.session.format == "ltfs" and result.manifest.session.device == str(vol.resolve())
    assert {f.path: f.status for f in result.files} == {p: OK for p in files}
    assert {p: b for p, b in tree(vol).items() if p in files} == files
    v = read_mounted(vol, "verify", xattrs=store)
    assert v.status == "ok" and sorted(v.tape_files[0].verified) == sorted(files)


def test_a_mount_is_written_on_its_own(tmp_path, vol, store):
    from lto_archive.errors import UsageError
    from lto_archive.jobs.ltfs_mounted import LtfsMount
    from lto_archive.jobs.write import write_archive
    card, _ = make_card(tmp_path / "src")
    with pytest.raises(UsageError, match="written on its own"):
        write_archive([card], LtfsMount(vol, xattrs=store), WriteOptions(**OPTS), folders=[tmp_path / "copy"])
    assert not (vol / "A001").exists() and not (tmp_path / "copy").exists()
