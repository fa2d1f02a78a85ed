"""Mutations for the fuzz targets: of bytes (flip, set, insert, delete, truncate, zero a run) and of
JSON documents (a value of the wrong type, a huge number, deep nesting, a key gone), all drawn by
hypothesis so that a failing input shrinks and replays."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

ODD_VALUES: list[Any] = [None, True, False, 0, -1, 2**64, 10**300, -(2**63), 1e308, float("nan"), "",
                         "x" * 1000, "../../etc/passwd", "\udcff", [], {}, [1, "a", None], {"a": {"b": []}},
                         [[[[[[[[[[[]]]]]]]]]]]]


@st.composite
def mutated_bytes(draw: Any, original: bytes, max_ops: int = 4) -> bytes:
    """`original` with 1..max_ops byte-level changes."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "zero", "utf8"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[i] = draw(st.sampled_from([0, 0x22, 0x5C, 0x7B, 0x5B, 0x3C, 0x26, 0x80, 0xC3, 0xFF, 0x30, 0x39]))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete" and data:
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[i:]
        elif op == "zero" and data:
            n = draw(st.integers(1, 4096))
            data[i:i + n] = bytes(len(data[i:i + n]))
        elif op == "utf8":
            data[i:i] = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00"]))
    return bytes(data)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:8]):
            out += _paths(v, prefix + (i,))
    return out


def _replace(doc: Any, path: tuple, value: Any, drop: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        doc = dict(doc)
        if drop and not rest:
            doc.pop(head, None)
        else:
            doc[head] = _replace(doc[head], rest, value, drop)
    else:
        doc = list(doc)
        if drop and not rest:
            del doc[head]
        else:
            doc[head] = _replace(doc[head], rest, value, drop)
    return doc


@st.composite
def mutated_json(draw: Any, doc: Any, max_ops: int = 3) -> bytes:
    """`doc` with 1..max_ops values replaced (wrong type, huge, deep) or keys dropped, as JSON bytes;
    sometimes then mangled at the byte level, or nested past any parser's depth."""
    for _ in range(draw(st.integers(1, max_ops))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["odd", "drop", "deep", "text"]))
        if kind == "odd":
            doc = _replace(doc, path, draw(st.sampled_from(ODD_VALUES)), False)
        elif kind == "drop" and path:
            doc = _replace(doc, path, None, True)
        elif kind == "deep":
            depth = draw(st.sampled_from([50, 1000, 100_000]))
            raw = "[" * depth + "]" * depth
            marker = "\u0000DEEP\u0000"
            doc = _replace(doc, path, marker, False)
            return json.dumps(doc, ensure_ascii=False).replace(json.dumps(marker), raw).encode("utf-8", "surrogateescape")
        else:
            doc = _replace(doc, path, draw(st.text(max_size=20)), False)
    raw = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        raw = draw(mutated_bytes(raw, 2))
    if draw(st.integers(0, 9)) == 0:
        raw = raw.replace(b"1", b"1" + b"9" * 5000, 1)          # past int max str digits
    return raw
