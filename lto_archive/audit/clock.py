"""The audits' clock: "now" given (a simulated year of audits in a test, `--now 2027-06-01`) or the real one."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta, timezone

from ..errors import UsageError
from ..manifest import iso, utc_now

NOW_ENV = "LTO_ARCHIVE_NOW"     # the CLI's --now reads it too


def parse_time(value: str | datetime | None) -> datetime | None:
    """An aware UTC time from ISO 8601 text ('2027-06-01', '2027-06-01T09:30:00Z') or a datetime; None: None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"not a date or time: {value!r} (give e.g. 2027-06-01 or 2027-06-01T09:30:00Z)",
                             value=value) from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def clock(now: str | datetime | None = None) -> datetime:
    """The time the audits run at: `now` when given, else the real time."""
    return parse_time(now) or utc_now()


def add_months(when: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it has no such day: Jan 31 + 1 = Feb 28)."""
    total = when.month - 1 + months
    year, month = when.year + total // 12, total % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


__all__ = ["NOW_ENV", "parse_time", "clock", "add_months", "days", "iso"]
