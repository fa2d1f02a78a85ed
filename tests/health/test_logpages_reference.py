"""Log page parameters are sliced and joined by hand (a construct parse per parameter made every tape load
cost ~10 ms): the bytes and the outcome are those of the construct `Parameter` layout, on seeded pages."""

from __future__ import annotations

import random

import pytest
from construct import ConstructError

from lto_archive.tape import logpages as lp
from lto_archive.tape.logpages import LogPageError, Parameter, build_page, parse_page


def _reference_params(body: bytes) -> list[tuple[int, bytes]] | None:
    """The parameters of a page body as construct's `Parameter` reads them; None where it cannot."""
    out, pos = [], 0
    while pos < len(body):
        if len(body) - pos < lp.PARAMETER_HEADER_SIZE:
            return None
        try:
            p = Parameter.parse(body[pos:])
        except ConstructError:
            return None
        out.append((p.code, bytes(p.value)))
        pos += lp.PARAMETER_HEADER_SIZE + p.length
    return out


def test_built_parameters_are_constructs_bytes() -> None:
    rng = random.Random(17)
    for _ in range(300):
        unknown = {rng.randrange(0x8000, 0x10000): rng.randbytes(rng.randrange(0, 40)) for _ in range(rng.randrange(4))}
        data = build_page(lp.READ_ERRORS, {}, unknown=unknown)
        ref = b"".join(Parameter.build({"code": c, "control": {"du": False, "obsolete": False, "tsd": False,
                                                                "etc": False, "tmc": 0, "format": lp.FORMAT_LIST},
                                        "length": len(v), "value": v}) for c, v in sorted(unknown.items()))
        assert data[lp.HEADER_SIZE:] == ref


def test_parsed_parameters_match_construct_on_random_bodies() -> None:
    rng = random.Random(18)
    for _ in range(2000):
        body = rng.randbytes(rng.randrange(0, 30))
        header = bytes((lp.READ_ERRORS, 0)) + len(body).to_bytes(2, "big")
        ref = _reference_params(body)
        if ref is None:
            with pytest.raises(LogPageError):
                parse_page(header + body, lp.READ_ERRORS)
            continue
        page = parse_page(header + body, lp.READ_ERRORS)
        names = {v: k for k, v in lp._CODES[lp.READ_ERRORS].items()}
        want_unknown = {c: v for c, v in ref if c not in names}
        assert page.unknown == want_unknown
        assert set(page.values) == {names[c] for c, _ in ref if c in names}


def test_a_parameter_code_beyond_two_bytes_is_refused() -> None:
    with pytest.raises(LogPageError):
        build_page(lp.READ_ERRORS, {}, unknown={0x10000: b"x"})
