"""Tapes holding archives other tools wrote: list, restore byte-exact, and verify honestly.

A foreign archive has no `.lto-archive/manifest.json`, so there is nothing to
verify against: verify_tape reads it through (so damage would be found) and
reports status "incomplete": zero files verified, no manifest, no failures, and
each foreign tape file listed as unproven; it never claims a file is proven.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lto_archive.jobs.read import list_tape, restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape, create_vtape
from tests.conftest import require_tool
from tests.tape_helpers import run, tape_file_bytes, tree_snapshot

pytestmark = pytest.mark.interop

KiB = 1024
RECORD = 512 * KiB


def make_tree(root: Path, name: str = "card") -> Path:
    src = root / name
    (src / "clips").mkdir(parents=True)
    (src / "empty dir").mkdir()
    files = {
        "clips/A001C001 Café 日本.mov": os.urandom(900_000),     # spans 512K records
        "clips/" + "n" * 120 + ".wav": os.urandom(5_000),
        "notes: 100% done.txt": b"notes\n",
        "empty.txt": b"",
    }
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    os.symlink("clips", src / "link")
    return src


def foreign_archives(tmp: Path, src: Path) -> dict[str, bytes]:
    gnutar = require_tool("tar")
    bsdtar = require_tool("bsdtar")
    cmds = {
        "gnu-pax": [gnutar, "-b", "1024", "--format=pax", "-cf"],
        "gnu-gnu": [gnutar, "-b", "1024", "--format=gnu", "-cf"],
        "bsdtar": [bsdtar, "-cf"],
    }
    out = {}
    for label, cmd in cmds.items():
        path = tmp / f"{label}.tar"
        run(cmd + [str(path), "-C", str(src.parent), src.name])
        out[label] = path.read_bytes()
    return out


def put_archive(tape: VirtualTape, data: bytes) -> None:
    """As `dd bs=512k` + `mt weof 1` would: 512 KiB records (the last may be short), one filemark."""
    tape.seek_eod()
    for i in range(0, len(data), RECORD):
        tape.write_record(data[i:i + RECORD])
    tape.write_filemarks(1)


def expected_paths(src: Path) -> set[str]:
    return {src.name} | {f"{src.name}/{k}" for k in tree_snapshot(src)}


def contents(root: Path) -> dict:
    return {k: v[:2] for k, v in tree_snapshot(root).items()}


def check_honest_verify(res, n_ours: dict[int, int]) -> None:
    foreign = [t.tape_file for t in res.tape_files if t.tape_file not in n_ours]
    assert res.status == ("incomplete" if foreign else "ok"), res.to_dict()
    assert res.failed == [] and res.errors == []
    assert sorted({u["tape_file"] for u in res.unproven}) == foreign       # each file said (issue 14)
    assert all("no evidence: unproven" in u["reason"] and "no lto-archive manifest" in u["reason"]
               for u in res.unproven)
    for t in res.tape_files:
        if t.tape_file in n_ours:
            assert t.manifest is not None and t.manifest_source == "tape"
            assert len(t.verified) == n_ours[t.tape_file]
        else:
            assert t.manifest is None and t.manifest_source == "" and t.session_id is None
            assert t.verified == []
            d = t.to_dict()
            assert d["manifest"] is None and d["verified"] == 0 and d["failed"] == []


def test_list_restore_verify_foreign_archives(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    archives = foreign_archives(tmp_path, src)
    cart = tmp_path / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=1024**3)
    labels = list(archives)
    for label in labels:
        put_archive(tape, archives[label])
    tape.close()
    # what `dd` reads back is the archive, byte for byte
    for n, label in enumerate(labels):
        assert tape_file_bytes(cart, n) == archives[label]

    tape = VirtualTape(cart)
    listed = list_tape(tape)
    assert listed.status == "ok"
    assert len(listed.tape_files) == len(labels)
    for t in listed.tape_files:
        assert {m.path for m in t.members} == expected_paths(src), labels[t.tape_file]
        link = next(m for m in t.members if m.path == "card/link")
        assert (link.kind, link.linkname) == ("symlink", "clips")
        big = next(m for m in t.members if m.path.endswith(".mov"))
        assert big.size == 900_000

    check_honest_verify(verify_tape(tape), {})

    for n, label in enumerate(labels):
        dest = tmp_path / f"restore-{label}"
        # no evidence (no manifest, no checksum of their own): restored, unproven unless accepted (issue 14)
        res = restore_tape(tape, dest, tape_files=[n], accept_unproven=n % 2 == 1)
        assert res.status == ("ok" if n % 2 else "incomplete"), (label, res.to_dict())
        assert len(res.tape_files) == 1 and res.tape_files[0].verified == [] and res.failed == []
        assert contents(dest / "card") == contents(src), label
        assert (dest / "card" / "empty dir").is_dir()
        assert os.readlink(dest / "card" / "link") == "clips"
        # no manifest on tape: no metadata folder is made up
        assert sorted(p.name for p in dest.iterdir()) == ["card"]
    tape.close()


def test_foreign_archive_after_ours(tmp_path: Path) -> None:
    ours = make_tree(tmp_path / "a", "ours")
    theirs = make_tree(tmp_path / "b", "card")
    gnu = foreign_archives(tmp_path, theirs)["gnu-pax"]
    cart = tmp_path / "tape"
    tape = create_vtape(cart, "LTO-9", capacity=1024**3)
    result = write_archive([ours], tape, WriteOptions(record_size=256 * KiB))
    assert result.status == "ok"
    put_archive(tape, gnu)
    result2 = write_archive([ours], tape, WriteOptions(record_size=64 * KiB))   # and ours again after it
    assert result2.status == "ok" and result2.manifest.session.tape_file == 2
    assert tape_file_bytes(cart, 1) == gnu

    listed = list_tape(tape)
    assert [len(t.members) for t in listed.tape_files] == [len(expected_paths(ours)), len(expected_paths(theirs)),
                                                          len(expected_paths(ours))]
    assert {m.path for m in listed.tape_files[1].members} == expected_paths(theirs)
    # the foreign archive's members sit at the tape file's blocks
    first = listed.tape_files[1].members[0]
    assert (first.tape_file, first.offset) == (1, 0)

    check_honest_verify(verify_tape(tape), {0: 4, 2: 4})

    dest = tmp_path / "restore"
    res = restore_tape(tape, dest, tape_files=[0, 1], accept_unproven=True)
    assert res.status == "ok", res.to_dict()
    assert res.notes and "accepted as read, not proven" in res.notes[0]
    assert contents(dest / "ours") == contents(ours)
    assert contents(dest / "card") == contents(theirs)
    assert sorted(p.name for p in (dest / ".lto-archive").iterdir()) == ["tape-file-0"]
    assert [len(t.verified) for t in res.tape_files] == [4, 0]
