"""Fuzz: an LTFS volume whose newest index is hostile in structure, not just in bytes: directories nested
up to 20,000 deep, extents of 2^64 or 10^15 bytes or on no partition, impossible dates, names that are
'..', hold '/' (percent-encoded), are over 255 bytes or not UTF-8, symlinks out of the volume. The volume
is restored by the read engine as `lto-archive restore` does. common.py's invariants: only
LtoArchiveError, no hang, nothing written outside the restore root, no file passed as ok that is not
what its index claims (here: no data record holds any of them, so none is ever ok)."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from lto_archive.errors import LtoArchiveError
from lto_archive.formats.ltfs.volume import FIRST_INDEX_BLOCK, format_volume
from lto_archive.jobs.read import read_tape
from lto_archive.tape import VirtualTape, create_vtape
from tests.fuzz.common import FUZZ, bounded, scratch

T = "2026-12-07T15:52:13.846328191Z"
BLOCK = 524288          # the volume's block size
DATES = [T, "2026-02-30T00:00:00.000000000Z", "9999-99-99T99:99:99Z", "", "-0001-01-01T00:00:00Z", "\udcff"]
NAMES = ["a.mov", "..", ".", "%2F..%2F..%2Fescape", "a%2Fb", "\udcff\udcfe", "x" * 300, "", "é", "%00", "link"]
NUMBERS = ["0", "5", "6", "7", str(2**64), str(10**15), "-1", "z", "9" * 40, str(2**63 - 1)]


def _file(draw: Any, uid: int) -> str:
    name = draw(st.sampled_from(NAMES))
    enc = ' percentencoded="true"' if "%" in name else ""
    extents = "".join(
        f"<extent><fileoffset>{draw(st.sampled_from(NUMBERS))}</fileoffset>"
        f"<partition>{draw(st.sampled_from(['b', 'a', 'c']))}</partition>"
        f"<startblock>{draw(st.sampled_from(NUMBERS))}</startblock>"
        f"<byteoffset>{draw(st.sampled_from(NUMBERS))}</byteoffset>"
        f"<bytecount>{draw(st.sampled_from(NUMBERS))}</bytecount></extent>"
        for _ in range(draw(st.integers(0, 3))))
    body = (f"<extentinfo>{extents}</extentinfo>" if draw(st.booleans()) else
            f"<symlink>{draw(st.sampled_from(['../../../../etc', '/etc/passwd', 'a.mov', '..']))}</symlink>")
    xattr = ("<extendedattributes><xattr><key>ltfs.hash.md5sum</key><value>5d41402abc4b2a76b9719d911017c592"
             "</value></xattr></extendedattributes>") if draw(st.booleans()) else ""
    times = "".join(f"<{t}>{draw(st.sampled_from(DATES))}</{t}>" for t in ("creationtime", "modifytime"))
    return (f"<file><name{enc}>{name}</name><length>{draw(st.sampled_from(NUMBERS))}</length><readonly>false"
            f"</readonly>{times}<changetime>{T}</changetime><accesstime>{T}</accesstime><backuptime>{T}</backuptime>"
            f"<fileuid>{uid}</fileuid>{xattr}{body}</file>")


@st.composite
def hostile_contents(draw: Any) -> str:
    """The root directory's contents: a chain of directories `depth` deep with files at its bottom."""
    depth = draw(st.sampled_from([0, 1, 3, 200, 2000]))   # 20,000: the explicit example
    files = "".join(_file(draw, 10 + i) for i in range(draw(st.integers(1, 4))))
    head = "".join(_dir(draw(st.sampled_from(['d', '..', 'd'])), 2 + i % 5) for i in range(depth))
    return head + files + "</contents></directory>" * depth


def _dir(name: str, uid: int) -> str:
    """A directory's opening, up to its contents."""
    return (f"<directory><name>{name}</name><readonly>false</readonly><creationtime>{T}</creationtime><changetime>"
            f"{T}</changetime><modifytime>{T}</modifytime><accesstime>{T}</accesstime><backuptime>{T}</backuptime>"
            f"<fileuid>{uid}</fileuid><contents>")


@functools.cache
def _volume() -> tuple[Path, str]:
    """A formatted volume (cached for the process) and its data partition's index, as XML text."""
    root = Path(tempfile.mkdtemp(prefix="fuzz-ltfs-"))
    with create_vtape(root / "vol", "LTO-9", capacity=1 << 26, partitions=2) as dev:
        format_volume(dev, creator="fuzz")
    return root / "vol", (root / "vol" / f"1_{FIRST_INDEX_BLOCK}_R").read_text()


def restore_volume(contents: str) -> None:
    vol, xml = _volume()
    xml = xml.replace("<generationnumber>1<", "<generationnumber>2<").replace("<contents>\n</contents>",
                                                                              f"<contents>{contents}</contents>")
    with scratch() as top, bounded():
        shutil.copytree(vol, top / "vol")
        raw = xml.encode("utf-8", "surrogateescape")
        with VirtualTape(top / "vol") as dev:       # in place of the data partition's index, in records
            dev.locate(1, FIRST_INDEX_BLOCK)
            for i in range(0, len(raw), BLOCK):
                dev.write_record(raw[i:i + BLOCK])
            dev.write_filemarks(1)
        (top / "outside.txt").write_bytes(b"keep")
        (top / "root").mkdir()
        before = sorted(os.listdir(top))
        result = None
        try:
            with VirtualTape(top / "vol") as dev:
                result = read_tape(dev, "restore", dest=top / "root")
        except LtoArchiveError:
            pass
        assert sorted(os.listdir(top)) == before and (top / "outside.txt").read_bytes() == b"keep", \
            "written outside the restore root"
        if result is not None:      # no record holds any file's data: nothing may be verified
            assert not [p for t in result.tape_files for p in t.verified], "a file never on tape verified"


def test_an_empty_hostile_index_restores_nothing() -> None:
    restore_volume("")


@FUZZ
@given(hostile_contents())
@example("".join(_dir("d", 2 + i) for i in range(20_000)) + "</contents></directory>" * 20_000)
def test_hostile_ltfs_index_restored(contents: str) -> None:
    restore_volume(contents)
