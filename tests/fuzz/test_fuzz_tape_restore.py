"""Fuzz: whole write jobs (TAR, CPIO, cpio-crc, AXF-style) on a virtual tape, damaged record by record or in
their session record (`.lto-archive/session.json`) and manifest, then restored by the read engine as
`lto-archive restore` does. The invariants are common.py's: only LtoArchiveError, no hang, nothing written
outside the restore root, no damaged file passed as ok (and a result 'ok' restored every file written)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.common import FUZZ, damaged_records, in_place, json_doc, restore_checked, written_job
from tests.fuzz.mutate_bytes import mutated_bytes, mutated_json

FORMATS = ("tar", "cpio", "cpio-crc", "axf")
JOBS = {fmt: written_job(fmt) for fmt in FORMATS}
SESSION, MANIFEST = b'"lto-archive-session"', b'"lto-archive-manifest"'


def test_the_written_tapes_restore_whole() -> None:
    for job in JOBS.values():
        result = restore_checked(job, list(job.objects))
        assert result is not None and result.status == "ok" and len(result.tape_files[0].verified) == len(job.want)


def test_a_flipped_data_byte_is_never_ok() -> None:
    """The invariant the targets check can fail: one flipped byte in a clip's data."""
    for job in JOBS.values():
        data = job.want["card/CLIPS/c4.mov"]
        objs = in_place(job.objects, data[100:200], bytes(b ^ 1 for b in data[100:200]))
        result = restore_checked(job, objs)
        assert result is not None and result.status != "ok"
        assert "card/CLIPS/c4.mov" not in result.tape_files[0].verified


@st.composite
def metadata(draw: Any, fmt: str) -> list[bytes | None]:
    """The job's tape with its session record or its manifest mutated in place (the member keeps its size)."""
    job = JOBS[fmt]
    doc = json_doc(job.objects, draw(st.sampled_from([SESSION, MANIFEST])))
    new = draw(mutated_json(json.loads(doc)) | mutated_bytes(doc))
    return in_place(job.objects, doc, new)


@FUZZ
@given(damaged_records(JOBS["tar"].objects))
def test_tar_tape_damaged(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["tar"], objs)


@FUZZ
@given(damaged_records(JOBS["cpio"].objects))
def test_cpio_tape_damaged(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["cpio"], objs)


@FUZZ
@given(damaged_records(JOBS["cpio-crc"].objects))
def test_cpio_crc_tape_damaged(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["cpio-crc"], objs)


@FUZZ
@given(damaged_records(JOBS["axf"].objects))
def test_axf_tape_damaged(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["axf"], objs)


@FUZZ
@given(metadata("tar"))
def test_tar_session_record_and_manifest(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["tar"], objs)


@FUZZ
@given(metadata("cpio-crc"))
def test_cpio_crc_session_record_and_manifest(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["cpio-crc"], objs)


@FUZZ
@given(metadata("axf"))
def test_axf_session_record_and_manifest(objs: list[bytes | None]) -> None:
    restore_checked(JOBS["axf"], objs)
