"""Fuzz: the copy log beside a job (`<session>.json`) and its journal (`<session>.journal.jsonl`), as
`verify --manifest`/`restore --manifest` and `catalog import --manifest` read them, mutated, standing in for
the manifest of a tape file a crash left without one. The invariants are common.py's: only LtoArchiveError,
no hang, nothing written outside the restore root, no damaged file passed as ok."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lto_archive.errors import LtoArchiveError
from lto_archive.jobs.read import load_copy_log, verify_tape
from lto_archive.tape import VirtualTape
from tests.fuzz.common import FUZZ, interrupted, make_vtape, restore_checked, written_job
from tests.fuzz.mutate_bytes import mutated_bytes, mutated_json

JOBS = {fmt: written_job(fmt) for fmt in ("tar", "cpio-crc", "axf")}
CUT = {fmt: interrupted(job) for fmt, job in JOBS.items()}
LINES = JOBS["tar"].journal.splitlines(keepends=True)


def test_the_journal_proves_what_the_crash_left() -> None:
    for fmt, job in JOBS.items():
        for log in (job.journal, job.copy_log):
            result = restore_checked(job, CUT[fmt], log)
            assert result is not None and len(result.tape_files[0].verified) >= 3


@st.composite
def journals(draw: Any, raw: bytes) -> bytes:
    """The journal with one line's JSON mutated (the header or an entry), or its bytes mutated."""
    lines = raw.splitlines(keepends=True)
    if draw(st.booleans()):
        return draw(mutated_bytes(raw, 4))
    i = draw(st.integers(0, len(lines) - 1))
    lines[i] = draw(mutated_json(json.loads(lines[i]))).replace(b"\n", b" ") + b"\n"
    return b"".join(lines)


def _entry(i: int, **change: Any) -> bytes:
    doc = json.loads(LINES[i])
    doc["file"].update(change)
    return b"".join(LINES[:i] + [json.dumps(doc).encode() + b"\n"] + LINES[i + 1:])


def _header(drop: str = "", **change: Any) -> bytes:
    doc = json.loads(LINES[0])
    doc["session"].update(change)
    doc["session"].pop(drop, None)
    return b"".join([json.dumps(doc).encode() + b"\n"] + LINES[1:])


DEEP = b"[" * 100_000 + b"]" * 100_000
# Found by these targets in jobs/journal.py (another helper's): a damaged journal or copy log given to
# `verify --manifest` / `catalog import --manifest` is a traceback, not damage (exit 6). The journal's
# header and entries go into SessionInfo / FileRecord unchecked (Manifest.parse checks them), and its lines
# are parsed with json.loads, which recurses without bound (manifest.load_json bounds it).
FINDINGS = {
    "a header without a session field: TypeError in JournalContents.manifest": _header(drop="device"),
    "an unknown hash algorithm: KeyError in MultiHasher, from the unchecked session": _header(algorithms=["md4"]),
    "an entry whose part is a list: AttributeError in jobs/read.compare": _entry(3, part=[1]),
    "a copy log nested 100000 deep: RecursionError in is_journal": DEEP,
    "a journal line nested 100000 deep: RecursionError in parse_journal": LINES[0] + DEEP + b"\n",
}


@pytest.mark.parametrize("raw", FINDINGS.values(), ids=FINDINGS.keys())
def test_former_finding_is_damage_now(tmp_path: Path, raw: bytes) -> None:
    """These were tracebacks (fixed: the journal is checked as a manifest is, and parsed with load_json)."""
    (tmp_path / "log").write_bytes(raw)
    make_vtape(CUT["tar"], tmp_path / "tape")
    try:
        manifest = load_copy_log(tmp_path / "log")
        with VirtualTape(tmp_path / "tape") as dev:
            verify_tape(dev, manifest=manifest, tape_files=[0])
    except LtoArchiveError:
        pass


@FUZZ
@given(journals(JOBS["tar"].journal))
@example(_entry(3, path="../../outside.txt"))
@example(_entry(3, size=2**64))
@example(_entry(3, hashes={"md5": 5}))
@example(_entry(3, path=["a"], size=2**70))
@example(FINDINGS["a header without a session field: TypeError in JournalContents.manifest"])
@example(FINDINGS["an unknown hash algorithm: KeyError in MultiHasher, from the unchecked session"])
@example(FINDINGS["an entry whose part is a list: AttributeError in jobs/read.compare"])
@example(FINDINGS["a journal line nested 100000 deep: RecursionError in parse_journal"])
def test_tar_journal(raw: bytes) -> None:
    restore_checked(JOBS["tar"], CUT["tar"], raw, catalogue=True)


@FUZZ
@given(journals(JOBS["cpio-crc"].journal))
def test_cpio_crc_journal(raw: bytes) -> None:
    restore_checked(JOBS["cpio-crc"], CUT["cpio-crc"], raw, catalogue=True)


@FUZZ
@given(journals(JOBS["axf"].journal))
def test_axf_journal(raw: bytes) -> None:
    restore_checked(JOBS["axf"], CUT["axf"], raw, catalogue=True)


@FUZZ
@given(mutated_json(json.loads(JOBS["tar"].copy_log)) | mutated_bytes(JOBS["tar"].copy_log))
@example(FINDINGS["a copy log nested 100000 deep: RecursionError in is_journal"])
def test_tar_copy_log(raw: bytes) -> None:
    restore_checked(JOBS["tar"], CUT["tar"], raw, catalogue=True)


@FUZZ
@given(mutated_json(json.loads(JOBS["axf"].copy_log)) | mutated_bytes(JOBS["axf"].copy_log))
def test_axf_copy_log(raw: bytes) -> None:
    restore_checked(JOBS["axf"], CUT["axf"], raw, catalogue=True)
