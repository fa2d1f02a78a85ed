"""Hypothesis: whatever is written reads back identically, also after reopening."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import EndOfData
from lto_archive.tape import VirtualTape, create_vtape

FM = None

sizes = st.one_of(st.integers(1, 64), st.integers(65, 8 * 1024), st.integers(8 * 1024, 300 * 1024))
items = st.one_of(st.just(FM), st.tuples(sizes, st.integers(0, 2**32)))


def materialise(item):
    if item is FM:
        return b""
    size, seed = item
    return random.Random(seed).randbytes(size)


def read_all(vt) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(vt.read_record())
        except EndOfData:
            return out


def write(vt, data: bytes) -> None:
    if data:
        vt.write_record(data)
    else:
        vt.write_filemarks(1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, max_size=25), st.sampled_from([1, 2]))
def test_sequence_round_trips(seq, partitions):
    expected = [materialise(i) for i in seq]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c"
        vt = create_vtape(path, "LTO-9", capacity=10**9, partitions=partitions)
        part = partitions - 1
        vt.locate(part, 0)
        for data in expected:
            write(vt, data)
        vt.locate(part, 0)
        assert read_all(vt) == expected
        vt.close()
        vt = VirtualTape(path)
        vt.locate(part, 0)
        assert read_all(vt) == expected
        assert vt.position().block == len(expected)
        assert vt.position().file_number == expected.count(b"")
        vt.close()


ops = st.lists(st.one_of(st.tuples(st.just("write"), items),
                         st.tuples(st.just("locate"), st.integers(0, 30)),
                         st.tuples(st.just("reopen"), st.none())), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_overwrites_match_a_list_model(program):
    model: list[bytes] = []
    pos = 0
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c"
        vt = create_vtape(path, "LTO-9", capacity=10**9)
        for op, arg in program:
            if op == "write":
                data = materialise(arg)
                write(vt, data)
                del model[pos:]
                model.append(data)
                pos += 1
            elif op == "locate":
                target = min(arg, len(model))
                vt.locate(0, target)
                pos = target
            else:
                vt.close()
                vt = VirtualTape(path)
                pos = 0
            p = vt.position()
            assert (p.block, p.eod) == (pos, pos == len(model))
        vt.rewind()
        assert read_all(vt) == model
        vt.close()
