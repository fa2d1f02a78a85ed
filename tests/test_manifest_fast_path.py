"""Manifest.from_dict's fast path (one signature lookup per file record) agrees with the field-by-field
check (`_typed`) on every record: the same FileRecord, or the same refusal (ManifestDamaged)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from lto_archive.manifest import FileRecord, ManifestDamaged, file_records, _typed

GOOD = {"path": "A001/C001.mov", "kind": "file", "size": 12, "mtime": "2026-12-07T13:00:00.000000Z",
        "mode": 0o644, "hashes": {"xxh128": "0" * 32}, "status": "ok", "message": "", "source": "/c/A001",
        "tape_file": 0, "partition": 0, "block": 3, "offset": 512, "header_offset": 1536, "linkname": "",
        "part": None}

#: JSON values of every type, and ints at the edges of what a record may hold
VALUES = st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1]),
                   st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                   st.dictionaries(st.text(max_size=3), st.one_of(st.text(max_size=3), st.integers()), max_size=2),
                   st.lists(st.text(max_size=3), max_size=2))


def slow(files: list[Any]) -> list[FileRecord]:
    return [FileRecord(**_typed(FileRecord, f, f"file {i}")) for i, f in enumerate(files)]


def outcome(fn: Any, files: list[Any]) -> Any:
    try:
        return fn(files)
    except ManifestDamaged as exc:
        return ("refused", str(exc))


def test_a_record_as_written_takes_the_fast_path_and_equals_the_slow_one() -> None:
    rec = FileRecord(**GOOD)
    assert file_records([dict(GOOD), dict(GOOD, tape_file=None, block=None)]) == slow(
        [dict(GOOD), dict(GOOD, tape_file=None, block=None)])
    assert file_records([vars(rec)]) == [rec]


@pytest.mark.parametrize("change", [{"size": True}, {"size": 2**63}, {"offset": -(2**63) - 1}, {"size": 1.0},
                                    {"hashes": {"md5": 5}}, {"hashes": []}, {"path": None}, {"mode": "644"},
                                    {"part": "x"}, {"tape_file": False}])
def test_a_damaged_record_is_refused_as_before(change: dict[str, Any]) -> None:
    files = [dict(GOOD), dict(GOOD, **change)]
    with pytest.raises(ManifestDamaged, match="file 1"):
        file_records(files)
    assert outcome(file_records, files) == outcome(slow, files)


@seed(15)
@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(GOOD)), VALUES), max_size=3), st.booleans(),
       st.lists(st.sampled_from(sorted(GOOD)), max_size=2), st.booleans())
def test_fast_and_slow_agree_on_any_record(changes: list[tuple[str, Any]], part: bool, dropped: list[str],
                                           extra: bool) -> None:
    rec: dict[str, Any] = dict(GOOD)
    rec.update(changes)
    if part:
        rec["part"] = {"number": 1, "offset": 0, "length": 12, "size": 24, "last": False}
    for k in dropped:
        rec.pop(k, None)
    if extra:
        rec["unknown_later_field"] = 1
    files = [dict(GOOD), rec]
    assert outcome(file_records, files) == outcome(slow, files)
