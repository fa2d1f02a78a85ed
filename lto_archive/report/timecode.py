"""SMPTE timecode and frame rates as exact numbers.

Rates are `Fraction`s (23.976 is 24000/1001, never a float), timecodes are frame
counts from midnight. Drop-frame is used only when a timecode says so (a `;`
before the frames) at 29.97 or 59.94; everything else counts frames as they are
(non-drop-frame), at the nominal rate (24 for 23.976).
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..errors import UsageError

_TC = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")

# the usual decimal spellings of the NTSC-family rates
_DECIMAL_RATES = {
    "23.976": Fraction(24000, 1001), "23.98": Fraction(24000, 1001),
    "29.97": Fraction(30000, 1001), "47.952": Fraction(48000, 1001), "47.95": Fraction(48000, 1001),
    "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001),
}


def parse_rate(text: str | int | Fraction) -> Fraction:
    """"25" -> 25, "23.976" -> 24000/1001, "24000/1001" -> 24000/1001; a UsageError otherwise."""
    if isinstance(text, Fraction):
        rate = text
    elif isinstance(text, int):
        rate = Fraction(text)
    else:
        t = str(text).strip().lower().removesuffix("fps").strip()
        try:
            rate = _DECIMAL_RATES[t] if t in _DECIMAL_RATES else Fraction(t)
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"not a frame rate: {text!r} (examples: 25, 23.976, 24000/1001)",
                             value=str(text)) from None
    if not 0 < rate <= 1000:
        raise UsageError(f"not a frame rate: {text!r} (examples: 25, 23.976, 24000/1001)", value=str(text))
    return rate


def ffprobe_rate(text: str | None) -> Fraction | None:
    """ffprobe's "24000/1001" / "25/1"; None for "0/0", empty or nonsense."""
    if not text:
        return None
    try:
        rate = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return rate if 0 < rate <= 1000 else None


def rate_display(rate: Fraction) -> str:
    """25 -> "25", 24000/1001 -> "23.976", 30000/1001 -> "29.97"."""
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


def nominal_fps(rate: Fraction) -> int:
    """The frame count per timecode second: 24 for 23.976, 30 for 29.97."""
    return max(1, round(rate))


def _drop_per_minute(rate: Fraction, drop: bool) -> int:
    if not drop:
        return 0
    n = nominal_fps(rate)
    if rate.denominator == 1001 and n % 30 == 0:
        return 2 * n // 30
    return 0


def frames_per_day(rate: Fraction, drop: bool = False) -> int:
    n = nominal_fps(rate)
    d = _drop_per_minute(rate, drop)
    return 24 * (6 * (n * 600 - 9 * d))


def parse_timecode(text: str, rate: Fraction) -> tuple[int, bool]:
    """"01:00:00:00" -> (frames since midnight, drop_frame). ValueError if it is not a timecode
    at this rate (frames field too large, minutes over 59, ...)."""
    m = _TC.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a timecode (HH:MM:SS:FF)")
    h, mi, s, sep, f = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    n = nominal_fps(rate)
    drop = sep in ";," and _drop_per_minute(rate, True) > 0
    if h > 23 or mi > 59 or s > 59 or f >= n:
        raise ValueError(f"{text!r} is not a timecode at {rate_display(rate)} fps")
    d = _drop_per_minute(rate, drop)
    if d and s == 0 and mi % 10 and f < d:
        raise ValueError(f"{text!r} does not exist in drop-frame timecode")
    total_min = h * 60 + mi
    return ((h * 3600 + mi * 60 + s) * n + f) - d * (total_min - total_min // 10), drop


def format_timecode(frames: int, rate: Fraction, drop: bool = False) -> str:
    """Frames since midnight -> "HH:MM:SS:FF" (";" before the frames in drop-frame); wraps at 24 h."""
    n = nominal_fps(rate)
    d = _drop_per_minute(rate, drop)
    frames %= frames_per_day(rate, drop)
    if d:
        per10 = n * 600 - 9 * d
        per1 = n * 60 - d
        tens, rem = divmod(frames, per10)
        frames += 9 * d * tens + (d * ((rem - d) // per1) if rem > d else 0)
    f = frames % n
    s = frames // n
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{';' if d else ':'}{f:02d}"


def clock(seconds: Fraction | float) -> str:
    """Seconds -> "HH:MM:SS.mmm" (wall-clock time, e.g. a BWF time reference)."""
    ms = round(Fraction(seconds) * 1000)
    s, ms = divmod(ms, 1000)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}"
