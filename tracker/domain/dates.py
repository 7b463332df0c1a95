"""Reading dates as people type them, and the ranges reports are made for.

Accepted everywhere a date is typed (CLI, TUI forms, imports), relative to the as-of date: ISO `2026-05-04`,
British day-first `4/5/26` or `04/05/2026`, day and month alone `4/5` (4 May of the as-of year), a day and
a month's name `2 Dec` or `2 December 2026`, the words `today`, `tomorrow` and `yesterday`, and a weekday
`next tue` (the first one after today) or `last fri` (the latest one before today).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from tracker.domain.errors import InvalidValue

LONDON = ZoneInfo("Europe/London")
"""The time zone every business date is counted in."""

_DAY_FIRST = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?")
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?")
_WEEKDAY = re.compile(r"(next|last)\s+([a-z]+)")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}

DATE_FORMS = "2026-05-04, 4/5/26, 4/5, 2 Dec, today, tomorrow, yesterday or next tue"
"""The forms a date may be typed in, as a list to show beside a date field or in a refusal."""
DATE_HELP = f"use a date such as {DATE_FORMS}"


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment after `day` in Europe/London: what was recorded by that day came before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)


def parse_date(text: str, today: dt.date, field: str = "date") -> dt.date:
    """Parse a typed date relative to `today`; raises InvalidValue naming `field` when it is not one.

    The refusal says why where it can (there is no month 13, February has no 30th) and lists the forms.
    """
    value = " ".join(text.strip().lower().split())
    if not value:
        raise InvalidValue(field, InvalidValue.MISSING, DATE_HELP, reason="needed")
    if value in _WORDS:
        return today + dt.timedelta(days=_WORDS[value])
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    match = _DAY_FIRST.fullmatch(value)
    if match:
        day, month = int(match[1]), int(match[2])
        year = today.year if match[3] is None else int(match[3])
        return _date(text, field, year + 2000 if year < 100 else year, month, day)
    match = _DAY_MONTH_NAME.fullmatch(value)
    if match and match[2][:3] in _MONTHS and _is_month_name(match[2]):
        year = today.year if match[3] is None else int(match[3])
        return _date(text, field, year, _MONTHS.index(match[2][:3]) + 1, int(match[1]))
    match = _WEEKDAY.fullmatch(value)
    if match and match[2][:3] in _WEEKDAYS and _is_weekday_name(match[2]):
        weekday = _WEEKDAYS.index(match[2][:3])
        if match[1] == "next":
            return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
        return today - dt.timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    raise InvalidValue(field, text, DATE_HELP, reason=f"{text.strip()!r} is not a date; {DATE_HELP}")


def _date(text: str, field: str, year: int, month: int, day: int) -> dt.date:
    if not 1 <= month <= 12:
        reason = f"there is no month {month}"
    else:
        try:
            return dt.date(year, month, day)
        except ValueError:
            reason = f"{dt.date(2000, month, 1):%B} has no day {day}"
    raise InvalidValue(field, text, f"{reason}; {DATE_HELP}", reason=f"{reason}; {DATE_HELP}")


def _is_month_name(word: str) -> bool:
    full = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
            "october", "november", "december")  # fmt: skip
    return any(name.startswith(word) for name in full) or word == "sept"


def _is_weekday_name(word: str) -> bool:
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return any(name.startswith(word) for name in full) or word in ("tues", "thur", "thurs")
