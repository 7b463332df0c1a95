"""Reading dates as people type them, and the ranges reports are made for.

Accepted everywhere a date is typed (CLI, TUI forms, imports): ISO `2026-05-04`, British day-first
`4/5/26` or `04/05/2026`, and the words `today` and `yesterday` (relative to the as-of date).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from tracker.domain.errors import InvalidValue

LONDON = ZoneInfo("Europe/London")
"""The time zone every business date is counted in."""

_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})$")
DATE_HELP = "use a date such as 2026-05-04, 4/5/26, today or yesterday"


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment after `day` in Europe/London: what was recorded by that day came before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)


def parse_date(text: str, today: dt.date, field: str = "date") -> dt.date:
    """Parse a typed date; raises InvalidValue naming `field` when it is not one."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday":
        return today - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    match = _DAY_FIRST.match(value)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if year < 100:
            year += 2000
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise InvalidValue(field, text, DATE_HELP)
