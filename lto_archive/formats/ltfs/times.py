"""LTFS time stamps: `YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ`, UTC, as integer nanoseconds.

Integers all the way: a float cannot hold today's time to the nanosecond, and
local time zones have no business in an index. An index of 10^6 files holds
5*10^6 time stamps, so parsing avoids datetime/strptime and remembers the
seconds part it has already seen (the files of one job share a few thousand).

Reading follows the LTFS reference implementation (sscanf "%9ld" for the
fraction): fewer than nine fraction digits are a raw nanosecond count, so
".5" is 5 ns, not half a second; a time without a fraction is rejected.
Stricter than the reference: the date and time fields must have their full
width and valid values (second 60, a leap second, is carried into the next
minute as the reference's timegm does), at most nine fraction digits, and the
time must end in `Z` (the reference ignores what follows the fraction).
"""

from __future__ import annotations

import time

NS_PER_SECOND = 1_000_000_000
_SECONDS_PER_DAY = 86_400

# The range the reference clamps to (LTFS_TIME_T_MIN / LTFS_TIME_T_MAX).
TIME_MIN_NS = -62_167_219_200 * NS_PER_SECOND                       # 0000-01-01T00:00:00.000000000Z
TIME_MAX_NS = 253_402_300_799 * NS_PER_SECOND + NS_PER_SECOND - 1   # 9999-12-31T23:59:59.999999999Z

_CACHE_LIMIT = 1 << 16
_text: dict[int, str] = {}        # seconds since the epoch -> "YYYY-MM-DDThh:mm:ss"
_date_text: dict[int, str] = {}   # days since 1970-01-01 -> "YYYY-MM-DD"
_seconds: dict[str, int] = {}     # "YYYY-MM-DDThh:mm:ss" -> seconds since the epoch
_days: dict[str, int] = {}        # "YYYY-MM-DD" -> days since 1970-01-01


def now_ns() -> int:
    """The current time in nanoseconds since the Unix epoch."""
    return time.time_ns()


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    """The inverse of _days_from_civil."""
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def format_time(ns: int) -> str:
    """Nanoseconds since the epoch -> LTFS time text (UTC, nine fraction digits).

    Times outside 0000-01-01 .. 9999-12-31 are clamped to that range, as the
    reference does, so one file with a nonsense date never stops a job.
    """
    if ns < TIME_MIN_NS:
        ns = TIME_MIN_NS
    elif ns > TIME_MAX_NS:
        ns = TIME_MAX_NS
    sec, frac = divmod(ns, NS_PER_SECOND)        # floor division: right before 1970 too
    head = _text.get(sec)
    if head is None:
        head = _format_seconds(sec)
    return f"{head}.{frac:09d}Z"


def _format_seconds(sec: int) -> str:
    """`YYYY-MM-DDThh:mm:ss` of seconds since the epoch; cached."""
    days, sod = divmod(sec, _SECONDS_PER_DAY)
    date = _date_text.get(days)
    if date is None:
        y, m, d = _civil_from_days(days)
        date = f"{y:04d}-{m:02d}-{d:02d}"
        if len(_date_text) >= _CACHE_LIMIT:
            _date_text.clear()
        _date_text[days] = date
    h, rem = divmod(sod, 3600)
    mi, s = divmod(rem, 60)
    head = f"{date}T{h:02d}:{mi:02d}:{s:02d}"
    if len(_text) >= _CACHE_LIMIT:
        _text.clear()
    _text[sec] = head
    return head


def _parse_seconds(text: str) -> int:
    """Seconds since the epoch of `YYYY-MM-DDThh:mm:ss` (text[:19]); validates and caches."""
    head = text[:19]
    if not (len(head) == 19 and head.isascii()
            and head[4] == "-" and head[7] == "-" and head[10] == "T"
            and head[13] == ":" and head[16] == ":"):
        raise ValueError(f"time {text!r} is not in the LTFS form YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ")
    days = _days.get(head[:10])
    if days is None:
        days = _parse_date(text)
    clock = (head[11:13], head[14:16], head[17:19])
    if not all(f.isdigit() for f in clock):
        raise ValueError(f"time {text!r} is not in the LTFS form YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ")
    h, mi, s = int(clock[0]), int(clock[1]), int(clock[2])
    if not (h <= 23 and mi <= 59 and s <= 60):
        raise ValueError(f"time {text!r} has a time of day that does not exist")
    seconds = days * _SECONDS_PER_DAY + h * 3600 + mi * 60 + s
    if len(_seconds) >= _CACHE_LIMIT:
        _seconds.clear()
    _seconds[head] = seconds
    return seconds


def _parse_date(text: str) -> int:
    """Days since 1970-01-01 of text[:10], `YYYY-MM-DD` (format already checked); cached."""
    fields = (text[0:4], text[5:7], text[8:10])
    if not all(f.isdigit() for f in fields):
        raise ValueError(f"time {text!r} is not in the LTFS form YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ")
    y, m, d = int(fields[0]), int(fields[1]), int(fields[2])
    if not (1 <= m <= 12 and 1 <= d <= _days_in_month(y, m)):
        raise ValueError(f"time {text!r} has a date that does not exist")
    days = _days_from_civil(y, m, d)
    if len(_days) >= _CACHE_LIMIT:
        _days.clear()
    _days[text[:10]] = days
    return days


def parse_time(text: str) -> int:
    """LTFS time text -> nanoseconds since the epoch; ValueError when it is not one.

    The fraction is read as the reference reads it: its digits are a count of
    nanoseconds whatever their number (1 to 9), so ".5" is 5 ns.
    """
    seconds = _seconds.get(text[:19])
    if seconds is None:
        seconds = _parse_seconds(text)
    frac = text[20:-1]
    if text[19:20] == "." and text[-1:] == "Z" and len(frac) <= 9 and frac.isdigit() and frac.isascii():
        return seconds * NS_PER_SECOND + int(frac)
    if text[19:20] != ".":
        raise ValueError(f"time {text!r} has no fraction of a second; LTFS times need one (.nnnnnnnnn)")
    if text[-1:] != "Z":
        raise ValueError(f"time {text!r} does not end in Z (UTC); LTFS times are always UTC")
    raise ValueError(f"time {text!r} needs 1 to 9 digits after the decimal point")
