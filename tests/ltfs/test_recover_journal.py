"""`ltfs recover` with the write job's journal: a writer killed (SIGKILL) long before its next index
loses no file the journal holds; without the journal every file since the last index is lost."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import lto_archive
from lto_archive.formats.ltfs.recover import LOST_AND_FOUND, check_volume
from lto_archive.formats.ltfs.volume import open_volume
from lto_archive.jobs.journal import find_journals, read_journal
from lto_archive.tape import VirtualTape
from lto_archive_cli.main import cli

from .test_ltfs_recover import append_and_verify, footage, make_source, new_volume, read_back

# The writer, killed at a seeded point: once N entries are journaled (not at a moment in time). Every
# record is handed to the device before the next file starts (end_record + sync), so which entries
# are journaled when does not depend on thread timing; the kill is SIGKILL, nothing runs after it.
_KILLED_WRITER = """
import os, signal, sys
from lto_archive.jobs import journal
journal.COMMIT_EVERY_BYTES = 0     # a commit point after every file (the default batches small files)
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.streaming import RecordStream
from lto_archive.tape import VirtualTape
cart, src, logs, kill_after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
end_record = RecordStream.end_record
def end_and_sync(self):
    end_record(self)
    self.sync()
RecordStream.end_record = end_and_sync
commit = journal.Journal.commit
def commit_then_die(self, written):
    n = commit(self, written)
    if self.written - 1 >= kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
    return n
journal.Journal.commit = commit_then_die
opts = WriteOptions(format="ltfs", index_every_bytes=1 << 40, index_every_seconds=None, chunk_size=4096,
                    log_dir=logs)
write_archive([src], VirtualTape(cart), opts)
print("FINISHED", flush=True)
"""


def killed_writer(tmp: Path, seed: int, files: int = 14) -> tuple[Path, Path, dict[str, bytes]]:
    """A volume whose writer was killed after a seeded number of journal entries; its log folder."""
    cart, logs = tmp / "tape", tmp / "logs"
    new_volume(cart).close()
    src = make_source(tmp / "src" / "card", files, seed)
    kill_after = random.Random(seed).randint(5, files - 2)   # (entries: the folders come first)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(cart), str(tmp / "src" / "card"), str(logs),
                           str(kill_after)], capture_output=True, env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL and b"FINISHED" not in proc.stdout, proc.stderr
    return cart, logs, src


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_ltfs_writer_loses_no_journaled_file(tmp_path: Path, seed: int) -> None:
    cart, logs, src = killed_writer(tmp_path, seed)
    with VirtualTape(cart) as dev:
        [jpath] = find_journals(logs, open_volume(dev).label.volume_uuid)
    journaled = {r.path for r in read_journal(jpath).records() if r.kind == "file"}
    assert journaled and journaled < set(src)       # killed part-way, some files journaled

    # without the journal: everything since the last index (the empty one of the format) is lost
    shutil.copytree(cart, tmp_path / "copy")
    with VirtualTape(tmp_path / "copy") as dev:
        bare = lto_archive.recover_ltfs(dev, log_dir=False)
        assert bare.consistent and not footage(open_volume(dev)) and not bare.recovered

    with VirtualTape(cart) as dev:
        assert not check_volume(dev).consistent
        report = lto_archive.recover_ltfs(dev, log_dir=logs)      # found by the volume's UUID
        assert report.consistent and report.journals == [str(jpath)]
        assert set(report.recovered) == journaled and not report.unproven
        state = open_volume(dev)
        assert state.consistent and footage(state) == journaled
        got = read_back(dev, tmp_path / "dest")
        assert got == {p: src[p] for p in journaled}            # byte-exact
        append_and_verify(dev, tmp_path)                         # a new session, then both verified
        v = lto_archive.verify(dev)
        assert v.status == "ok" and journaled <= set(v.raw.tape_files[0].verified)


def test_a_file_the_journal_cannot_prove_stays_out_or_goes_to_lost_and_found(tmp_path: Path) -> None:
    cart, logs, src = killed_writer(tmp_path, 7)
    [jpath] = list(logs.glob("*.journal.jsonl"))
    lines = jpath.read_bytes().splitlines(keepends=True)
    entries = [json.loads(line) for line in lines[1:]]
    victim = next(e for e in entries if e["file"]["kind"] == "file")
    victim["file"]["hashes"] = {a: "0" * len(h) for a, h in victim["file"]["hashes"].items()}
    bad = tmp_path / "bad.journal.jsonl"
    bad.write_bytes(lines[0] + b"".join(json.dumps(e).encode() + b"\n" for e in entries)
                    + b'{"file": {"path": "card/torn')       # and a torn last line
    proven = {e["file"]["path"] for e in entries if e["file"]["kind"] == "file"} - {victim["file"]["path"]}
    with VirtualTape(cart) as dev:
        report = lto_archive.recover_ltfs(dev, journal=bad, salvage=True)
        assert set(report.recovered) == proven
        assert report.unproven == [{"path": victim["file"]["path"],
                                    "reason": "its bytes do not match the journal's hashes"}]
        state = open_volume(dev)
        assert footage(state) == proven
        lost = [p for p, _ in state.index.files() if p.startswith(LOST_AND_FOUND + "/")]
        assert lost and all(f"block{victim['blocks'][0]}-" in p for p in lost[:1])
        got = read_back(dev, tmp_path / "dest", patterns=["card"])
        assert got == {p: src[p] for p in proven}


def test_cli_recover_with_a_journal(tmp_path: Path) -> None:
    cart, logs, src = killed_writer(tmp_path, 11)
    [jpath] = list(logs.glob("*.journal.jsonl"))
    journaled = sorted(r.path for r in read_journal(jpath).records() if r.kind == "file")
    r = CliRunner().invoke(cli, ["ltfs", "recover", "--device", f"vtape:{cart}", "--journal", str(jpath)])
    assert r.exit_code == 0, r.output
    assert f"journal: {jpath}" in r.output and "consistent" in r.output
    assert [line.split(": ", 1)[1] for line in r.output.splitlines()
            if "recovered (proven by the journal)" in line] == journaled
    other = tmp_path / "other.journal.jsonl"
    other.write_bytes(jpath.read_bytes().replace(b'"volume_uuid": "', b'"volume_uuid": "x'))
    r = CliRunner().invoke(cli, ["ltfs", "recover", "--device", f"vtape:{cart}", "--journal", str(other), "--json"])
    assert r.exit_code != 0 and "is not of this LTFS volume" in r.output


def test_a_journaled_file_under_a_path_that_is_a_file_in_the_index_stays_out(tmp_path: Path) -> None:
    from lto_archive.formats.ltfs.recover import JournaledFile, recover_volume
    cart, logs, src = killed_writer(tmp_path, 5)
    [jpath] = list(logs.glob("*.journal.jsonl"))
    with VirtualTape(cart) as dev:
        uuid = open_volume(dev).label.volume_uuid
        journaled = read_journal(jpath).on_volume(uuid)
        first = next(j for j in journaled if j.kind == "file")
        clash = JournaledFile(first.path + "/inside.mov", "file", first.length, first.start_block, first.hashes)
        report = recover_volume(dev, creator="t", journaled=journaled + [clash])
        assert report.consistent and first.path in report.recovered
        assert report.unproven == [{"path": clash.path, "reason": "a file of the index is where its folder would be"}]
