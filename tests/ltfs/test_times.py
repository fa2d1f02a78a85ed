"""LTFS time stamps: exact text, integer nanoseconds, the reference's reading rules."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lto_archive.formats.ltfs.times import (
    NS_PER_SECOND,
    TIME_MAX_NS,
    TIME_MIN_NS,
    format_time,
    now_ns,
    parse_time,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference"


@pytest.mark.parametrize(("ns", "text"), [
    (0, "1970-01-01T00:00:00.000000000Z"),
    (1, "1970-01-01T00:00:00.000000001Z"),
    (-1, "1969-12-31T23:59:59.999999999Z"),
    (-NS_PER_SECOND, "1969-12-31T23:59:59.000000000Z"),
    (1_795_360_178_982_613_461, "2026-11-22T15:09:38.982613461Z"),   # fixture formattime
    (951_782_400 * NS_PER_SECOND, "2000-02-29T00:00:00.000000000Z"),
    (TIME_MIN_NS, "0000-01-01T00:00:00.000000000Z"),
    (TIME_MAX_NS, "9999-12-31T23:59:59.999999999Z"),
    (-62_162_121_600 * NS_PER_SECOND, "0000-02-29T00:00:00.000000000Z"),  # year 0 is a leap year
])
def test_known_times(ns: int, text: str) -> None:
    assert format_time(ns) == text
    assert parse_time(text) == ns


def test_out_of_range_times_are_clamped_like_the_reference() -> None:
    assert format_time(TIME_MAX_NS + 1) == "9999-12-31T23:59:59.999999999Z"
    assert format_time(10**30) == "9999-12-31T23:59:59.999999999Z"
    assert format_time(TIME_MIN_NS - 1) == "0000-01-01T00:00:00.000000000Z"
    assert format_time(-10**30) == "0000-01-01T00:00:00.000000000Z"


@given(st.integers(min_value=TIME_MIN_NS, max_value=TIME_MAX_NS))
def test_parse_inverts_format(ns: int) -> None:
    text = format_time(ns)
    assert len(text) == 30
    assert parse_time(text) == ns


@given(st.integers(min_value=-62_135_596_800, max_value=253_402_300_799),
       st.integers(min_value=0, max_value=NS_PER_SECOND - 1))
def test_format_agrees_with_datetime(seconds: int, frac: int) -> None:
    # datetime covers years 1..9999; our integer arithmetic must give the same calendar.
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    expected = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    assert format_time(seconds * NS_PER_SECOND + frac) == f"{expected}.{frac:09d}Z"


@pytest.mark.parametrize(("text", "ns"), [
    # The reference reads the fraction with sscanf "%9ld": a raw count of nanoseconds.
    ("1970-01-01T00:00:00.5Z", 5),
    ("1970-01-01T00:00:00.05Z", 5),
    ("1970-01-01T00:00:01.123Z", NS_PER_SECOND + 123),
    ("1970-01-01T00:00:00.000000007Z", 7),
    # A leap second carries into the next minute, as the reference's timegm does.
    ("1998-12-31T23:59:60.000000000Z", 915_148_800 * NS_PER_SECOND),
])
def test_reference_reading_rules(text: str, ns: int) -> None:
    assert parse_time(text) == ns


@pytest.mark.parametrize("text", [
    "2026-11-22T15:09:38Z",                    # no fraction: the reference rejects it too
    "2026-11-22T15:09:38.Z",
    "2026-11-22T15:09:38.982613461",            # no Z
    "2026-11-22T15:09:38.982613461z",
    "2026-11-22T15:09:38.982613461+01:00",
    "2026-11-22T15:09:38.9826134610Z",          # ten fraction digits
    "2026-11-22 15:09:38.982613461Z",
    "2026-11-22t15:09:38.982613461Z",
    "26-11-22T15:09:38.982613461Z",
    "2026-1-22T15:09:38.982613461Z",
    "2026-13-22T15:09:38.982613461Z",
    "2026-00-22T15:09:38.982613461Z",
    "2026-11-00T15:09:38.982613461Z",
    "2026-11-31T15:09:38.982613461Z",
    "2026-02-29T15:09:38.982613461Z",           # 2026 is not a leap year
    "1900-02-29T15:09:38.982613461Z",
    "2026-11-22T24:00:00.000000000Z",
    "2026-11-22T15:60:38.982613461Z",
    "2026-11-22T15:09:61.982613461Z",
    "+026-11-22T15:09:38.982613461Z",
    "2026-11-22T15:09:38.-82613461Z",
    "2026-11-22T15:09:38.+82613461Z",
    "2026-11-22T15:09:38. 8261346Z",
    "2026-11-22T15:09:38.98_61346Z",
    "٢٠٢٦-11-22T15:09:38.982613461Z",          # Arabic-Indic digits: int() would take them
    "2026-11-22T15:09:38.٩٨٢Z",
    "",
    "Z",
    " 2026-11-22T15:09:38.982613461Z",
    "2026-11-22T15:09:38.982613461Z ",
])
def test_rejected_times(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


def test_rejection_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="no fraction"):
        parse_time("2026-11-22T15:09:38Z")
    with pytest.raises(ValueError, match="Z"):
        parse_time("2026-11-22T15:09:38.1+01:00")
    with pytest.raises(ValueError, match="does not exist"):
        parse_time("2026-02-30T00:00:00.0Z")


def test_cached_seconds_do_not_hide_a_bad_fraction() -> None:
    parse_time("2026-11-22T15:09:38.000000001Z")      # caches the seconds part
    with pytest.raises(ValueError):
        parse_time("2026-11-22T15:09:38.xZ")
    with pytest.raises(ValueError):
        parse_time("2026-11-22T15:09:38Z")


def test_every_time_in_the_reference_fixtures_round_trips() -> None:
    import re
    seen = 0
    for record in FIXTURES.glob("*/*_R"):
        data = record.read_bytes()
        if not data.startswith(b"<?xml"):
            continue
        for text in re.findall(rb"time>([^<]+)</", data):
            t = text.decode()
            assert format_time(parse_time(t)) == t
            seen += 1
    assert seen > 100


def test_now_ns() -> None:
    before = time.time_ns()
    now = now_ns()
    assert before <= now <= time.time_ns()
