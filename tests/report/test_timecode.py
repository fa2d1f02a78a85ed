"""Timecode and frame rates as exact numbers (drop-frame only when the timecode says so)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lto_archive.errors import UsageError
from lto_archive.report.timecode import (format_timecode, frames_per_day, parse_rate, parse_timecode,
                                         rate_display)

RATES = [Fraction(24), Fraction(25), Fraction(30), Fraction(50), Fraction(24000, 1001), Fraction(30000, 1001),
         Fraction(60000, 1001)]


@pytest.mark.parametrize("text, rate, display", [
    ("25", Fraction(25), "25"), ("23.976", Fraction(24000, 1001), "23.976"), ("23.98", Fraction(24000, 1001), "23.976"),
    ("24000/1001", Fraction(24000, 1001), "23.976"), ("29.97", Fraction(30000, 1001), "29.97"),
    ("59.94fps", Fraction(60000, 1001), "59.94"), ("24", Fraction(24), "24"), ("12.5", Fraction(25, 2), "12.5"),
])
def test_rates(text: str, rate: Fraction, display: str) -> None:
    assert parse_rate(text) == rate and rate_display(rate) == display


@pytest.mark.parametrize("text", ["", "fast", "0", "-25", "1/0", "100000"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(UsageError):
        parse_rate(text)


@given(rate=st.sampled_from(RATES), data=st.data())
def test_non_drop_frame_round_trip(rate: Fraction, data: st.DataObject) -> None:
    frames = data.draw(st.integers(0, frames_per_day(rate) - 1))
    tc = format_timecode(frames, rate)
    assert parse_timecode(tc, rate) == (frames, False)


@given(rate=st.sampled_from([Fraction(30000, 1001), Fraction(60000, 1001)]), data=st.data())
def test_drop_frame_round_trip(rate: Fraction, data: st.DataObject) -> None:
    frames = data.draw(st.integers(0, frames_per_day(rate, drop=True) - 1))
    tc = format_timecode(frames, rate, drop=True)
    assert ";" in tc and parse_timecode(tc, rate) == (frames, True)


def test_drop_frame_known_values() -> None:
    r = Fraction(30000, 1001)
    assert format_timecode(1800, r, drop=True) == "00:01:00;02"        # frames 00 and 01 skipped
    assert format_timecode(17982, r, drop=True) == "00:10:00;00"       # tenth minute: none skipped
    assert frames_per_day(r, drop=True) == 2589408
    with pytest.raises(ValueError, match="does not exist"):
        parse_timecode("00:01:00;00", r)
    assert parse_timecode("01:00:00:00", Fraction(24000, 1001)) == (86400, False)   # ';' only for 29.97/59.94
    assert parse_timecode("01:00:00;00", Fraction(25)) == (90000, False)


@pytest.mark.parametrize("text", ["1:00:00", "01:00:00:25", "24:00:00:00", "01:60:00:00", "xx:00:00:00", ""])
def test_bad_timecodes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timecode(text, Fraction(25))


def test_wraps_at_midnight() -> None:
    assert format_timecode(24 * 3600 * 25 + 3, Fraction(25)) == "00:00:00:03"
