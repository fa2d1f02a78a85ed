"""Fuzz the custody log reader: any bytes give a report or our error, never a crash or a false ok."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive import LtoArchiveError, verify_custody_log
from lto_archive.chain import canonical, link

EXAMPLES = int(os.environ.get("LTO_ARCHIVE_FUZZ_EXAMPLES", "200"))


def _good_log() -> bytes:
    entries, prev = [], None
    for i in range(4):
        prev = link(prev, f"2026-12-07T10:00:0{i}Z", "write", f"T{i}", {"i": i})
        entries.append(prev)
    cp = link(prev, "2026-12-07T10:00:09Z", "checkpoint", "catalog", {"entries": 4, "head": prev["hash"]})
    return b"\n".join(canonical(e) for e in [*entries, cp]) + b"\n"


GOOD = _good_log()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_logs_never_pass_and_never_crash(tmp_path_factory, data):
    blob = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("fuzz") / "custody.jsonl"
    path.write_bytes(bytes(blob))
    try:
        report = verify_custody_log(path)
    except LtoArchiveError:
        return
    # only a change that leaves every entry's content identical may pass (e.g. whitespace between fields)
    import json
    assert [json.loads(x) for x in bytes(blob).splitlines() if x.strip()] == \
        [json.loads(x) for x in GOOD.splitlines() if x.strip()], report
