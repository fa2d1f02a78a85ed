"""The job journal (jobs/journal.py): the copy log growing as the job goes, read back whatever a crash left."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import lto_archive
from lto_archive.errors import ArchiveError
from lto_archive.formats.ltfs.volume import format_volume
from lto_archive.jobs.journal import (JOURNAL_SUFFIX, Journal, find_journals, journal_path, parse_journal,
                                      read_journal)
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import FileRecord, SessionInfo
from lto_archive.jobs.read import load_copy_log, verify_tape
from lto_archive.tape import VirtualTape, create_vtape

BS = 4096


def session(sid: str = "20260101T000000Z-abcdef01") -> SessionInfo:
    return SessionInfo(session_id=sid, tool="t", format="ltfs", algorithms=["xxh128"], record_size=BS, operator="o",
                       host="h", sources=[], device="d", barcode="JRN001L9", generation="LTO-9", tape_file=None,
                       partition=1, start_block=5, started="")


def test_commit_journals_only_what_the_devices_took_and_whose_hashes_are_known(tmp_path: Path) -> None:
    j = Journal(journal_path(tmp_path, "s1"), session("s1"), [{"barcode": "JRN001L9", "volume_uuid": "u-1"}])
    a, b, c = FileRecord("a", size=1, hashes={"xxh128": "1"}), FileRecord("b", size=1), FileRecord("c", size=1,
                                                                                                   hashes={"x": "3"})
    j.offer(a, 2, blocks=[10], length=1)
    j.offer(b, 4, blocks=[12], length=1)
    j.offer(c, 6, blocks=[14], length=1)
    assert j.commit(1) == 0                  # a's last record not written yet
    assert j.commit(5) == 1                  # a; b is written but not hashed: it and what follows wait
    b.hashes["xxh128"] = "2"
    assert j.commit(5) == 1                  # b; c's records are not all written
    assert j.commit(None) == 1
    j.close()
    got = read_journal(j.path)
    assert [r.path for r in got.records()] == ["a", "b", "c"]
    assert got.entries[1]["blocks"] == [12] and got.volume_uuids == ["u-1"] and not got.torn
    assert got.manifest().session.session_id == "s1"


@pytest.mark.parametrize("cut", [1, 7, 30])
def test_a_torn_last_line_is_ignored_never_fatal(tmp_path: Path, cut: int) -> None:
    j = Journal(tmp_path / f"s{JOURNAL_SUFFIX}", session(), [])
    recs = [FileRecord(f"f{i}", hashes={"xxh128": str(i)}) for i in range(3)]
    for r in recs:
        j.offer(r, 0)
    j.commit(None)
    j.close()
    raw = j.path.read_bytes()
    torn = raw + json.dumps({"file": {"path": "f3", "hashes": {}}}).encode()[:cut]   # the crash, mid-append
    got = parse_journal(torn)
    assert [r.path for r in got.records()] == ["f0", "f1", "f2"] and got.torn
    assert not parse_journal(raw).torn


def test_a_file_that_is_no_journal_is_damage(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not an lto-archive job journal"):
        parse_journal(b'{"format": "lto-archive-manifest"}\n')
    with pytest.raises(ArchiveError, match="not an lto-archive job journal"):
        parse_journal(b"")


def test_journals_are_found_by_volume_uuid(tmp_path: Path) -> None:
    for sid, uuid in [("s1", "u-1"), ("s2", "u-2"), ("s3", "u-1")]:
        Journal(journal_path(tmp_path, sid), session(sid), [{"volume_uuid": uuid}]).close()
    (tmp_path / f"junk{JOURNAL_SUFFIX}").write_bytes(b"\xff not json")
    assert [p.name for p in find_journals(tmp_path, "u-1")] == [f"s1{JOURNAL_SUFFIX}", f"s3{JOURNAL_SUFFIX}"]
    assert find_journals(tmp_path, "u-9") == []


def test_an_ltfs_job_journals_every_entry_next_to_its_copy_log(tmp_path: Path) -> None:
    rng = random.Random(14)
    src = tmp_path / "card"
    src.mkdir()
    sizes = {f"clip{i}.mov": rng.randint(1, 3 * BS) for i in range(6)}
    for name, size in sizes.items():
        (src / name).write_bytes(rng.randbytes(size))
    dev = create_vtape(tmp_path / "tape", "LTO-9", capacity=64 << 20, partitions=2, barcode="JRN001L9")
    state = format_volume(dev, creator="t", serial="JRN001", volume_name="", block_size=BS)
    result = write_archive([src], dev, WriteOptions(format="ltfs", log_dir=tmp_path / "logs", chunk_size=BS,
                                                    index_every_bytes=None, index_every_seconds=None))
    assert result.status == "ok"
    sid = result.manifest.session.session_id
    got = read_journal(journal_path(tmp_path / "logs", sid))
    assert got.header["session"]["session_id"] == sid
    assert got.header["cartridges"] == [{"barcode": "JRN001L9", "volume_uuid": state.label.volume_uuid,
                                         "device": dev.name, "tape_file": None,
                                         "start_block": result.manifest.session.start_block}]
    files = {e["file"]["path"]: e for e in got.entries if e["file"]["kind"] == "file"}
    assert set(files) == {f"card/{n}" for n in sizes}
    by_path = {r.path: r for r in result.manifest.files}
    for path, e in files.items():
        assert e["file"]["hashes"] == by_path[path].hashes and e["length"] == sizes[path.split("/")[1]]
        assert e["blocks"] == [by_path[path].block]
    assert [e["file"]["path"] for e in got.entries][0] == "card"     # folders too, in job order
    assert find_journals(tmp_path / "logs", state.label.volume_uuid) == [journal_path(tmp_path / "logs", sid)]


# A TAR/CPIO/AXF writer killed (SIGKILL) once N entries are journaled. Each entry's records are on the
# device before the next entry is placed (the hook waits for the device threads: an event, not a
# time), so the kill comes at the same entry every run.
_KILLED_TAPE_WRITER = """
import os, signal, sys, time
from lto_archive.jobs import journal
journal.COMMIT_EVERY_BYTES = 0     # a commit point after every file (the default batches small files)
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape
cart, src, logs, fmt, kill_after = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
placed = journal.JobJournal.placed
def placed_on_device(self, rec, **extra):
    s = self.stream
    while journal.written_slots(s.status) < s.offset // s.record_size:
        time.sleep(0.001)
    placed(self, rec, **extra)
    if self.journal.written - 1 >= kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
journal.JobJournal.placed = placed_on_device
opts = WriteOptions(format=fmt, record_size=10240, chunk_size=10240, log_dir=logs)
write_archive([src], VirtualTape(cart), opts)
print("FINISHED", flush=True)
"""


@pytest.mark.parametrize("fmt", ["tar", "cpio", "axf"])
def test_verify_with_the_journal_proves_the_complete_members_of_a_killed_tape_file(tmp_path: Path,
                                                                                     fmt: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    from click.testing import CliRunner
    from lto_archive_cli.main import cli
    rng = random.Random(fmt)
    src = tmp_path / "card"
    src.mkdir()
    data = {f"card/clip{i:02}.mov": rng.randbytes(rng.randint(5000, 40000)) for i in range(12)}
    for p, b in data.items():
        (tmp_path / p).write_bytes(b)
    create_vtape(tmp_path / "tape", "LTO-9", capacity=64 << 20, barcode="JRN002L9").close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", _KILLED_TAPE_WRITER, str(tmp_path / "tape"), str(src),
                           str(tmp_path / "logs"), fmt, str(rng.randint(4, 9))], capture_output=True, env=env,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL and b"FINISHED" not in proc.stdout, proc.stderr
    [jpath] = list((tmp_path / "logs").glob(f"*{JOURNAL_SUFFIX}"))
    journaled = {r.path for r in read_journal(jpath).records() if r.kind == "file"}
    assert journaled and journaled < set(data)
    assert not list((tmp_path / "logs").glob("*.json"))      # no copy log: the job never finished

    bare = CliRunner().invoke(cli, ["verify", "--device", f"vtape:{tmp_path / 'tape'}", "--json"])
    error_doc = json.loads(bare.stdout)        # the error document, the verify's result inside it
    assert bare.exit_code != 0 and error_doc["status"] == "error"
    bare_doc = error_doc["result"]["tape_files"][0]     # AXF: each file's own footer proves it (issue 14)
    assert bool(bare_doc["verified"]) == (fmt == "axf") and not bare_doc["failed"]
    r = CliRunner().invoke(cli, ["verify", "--device", f"vtape:{tmp_path / 'tape'}", "--manifest", str(jpath),
                                 "--json"])
    doc = json.loads(r.stdout)
    doc = doc.get("result", doc)        # a damaged tape file after the proven members ends the verify with an error
    t = doc["tape_files"][0]
    assert t["verified"] == len(journaled) and not t["failed"], doc
    with VirtualTape(tmp_path / "tape") as dev:
        v = verify_tape(dev, manifest=load_copy_log(jpath))
    assert set(v.tape_files[0].verified) == journaled and not v.tape_files[0].failed

    # catalog import: without the journal the members are unproven, with it they carry its hashes
    cat = tmp_path / "catalog.sqlite"
    r = CliRunner().invoke(cli, ["catalog", "import", "--device", f"vtape:{tmp_path / 'tape'}", "--manifest",
                                 str(jpath), "--catalog", str(cat)])
    assert r.exit_code == 0, r.output
    with lto_archive.Catalog(cat) as c:
        hits = {h.path: h for h in c.search("card/*")}
    hashes = {r.path: r.hashes for r in read_journal(jpath).records() if r.kind == "file"}
    assert {p for p, h in hits.items() if h.hashes} == journaled
    assert all(hits[p].hashes == hashes[p] and hits[p].copies[0].status == "ok" for p in journaled)
    # then a verify against the journal records each proven member as verified in the catalog
    CliRunner().invoke(cli, ["verify", "--device", f"vtape:{tmp_path / 'tape'}", "--manifest", str(jpath),
                             "--catalog", str(cat)])
    with lto_archive.Catalog(cat) as c:
        hits = {h.path: h for h in c.search("card/*")}
    assert {p for p, h in hits.items() if h.copies[0].verified} == journaled


@pytest.mark.parametrize("fmt", ["tar", "ltfs"])
def test_a_log_folder_that_cannot_take_the_journal_stops_the_job_before_the_tape_is_written(tmp_path: Path,
                                                                                            fmt: str) -> None:
    from lto_archive.errors import UsageError
    src = tmp_path / "card"
    src.mkdir()
    (src / "a.mov").write_bytes(b"x" * 5000)
    (tmp_path / "logs").write_bytes(b"a file, not a folder")
    dev = create_vtape(tmp_path / "tape", "LTO-9", capacity=64 << 20, partitions=2 if fmt == "ltfs" else 1)
    if fmt == "ltfs":
        format_volume(dev, creator="t", serial="JRN003", volume_name="", block_size=BS)
    dev.locate(dev.partitions - 1, 0)
    dev.seek_eod()
    before = dev.position().block
    with pytest.raises(UsageError, match="cannot write the job journal in the log folder"):
        write_archive([src], dev, WriteOptions(format=fmt, log_dir=tmp_path / "logs"))
    dev.locate(dev.partitions - 1, 0)
    dev.seek_eod()
    assert dev.position().block == before
    dev.close()


def test_small_files_share_a_commit_point_a_large_one_gets_its_own(tmp_path: Path) -> None:
    from types import SimpleNamespace
    from lto_archive.jobs.journal import COMMIT_EVERY_BYTES, JobJournal
    rs = 1 << 20
    dev = SimpleNamespace(records_written=0, error=None)
    stream = SimpleNamespace(status=[dev], offset=0, record_size=rs, flush_hashes=lambda: None)
    jj = JobJournal(stream, Journal(tmp_path / f"s{JOURNAL_SUFFIX}", session(), []))
    every = COMMIT_EVERY_BYTES // rs

    def place(name: str, records: int) -> None:
        stream.offset += records * rs
        dev.records_written = stream.offset // rs        # the drive took it all
        jj.placed(FileRecord(name, hashes={"xxh128": name}))

    for i in range(every - 1):
        place(f"small{i}", 1)
    assert jj.journal is not None and jj.journal.written == 1                  # the header only: not due yet
    place("big", every)
    assert jj.journal.written == 1 + every                                     # every small one and the big one
    place("after", 1)
    assert jj.journal.written == 1 + every
    jj.commit(force=True)                                                      # a device failed: what it took
    assert [r.path for r in read_journal(jj.journal.path).records()][-1] == "after"
    jj.close()
