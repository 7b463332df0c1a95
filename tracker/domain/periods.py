"""Reporting periods: the date ranges commissioners ask for, by the names of CONTRACT.md.

A period is a closed date range with a name. `parse_period` reads the names a user types:

* `2026-05`: a calendar month;
* `FY2026`: the financial year 1 April 2026 to 31 March 2027; `FY2026-Q1` .. `FY2026-Q4` its quarters
  (Apr-Jun, Jul-Sep, Oct-Dec, Jan-Mar of the next calendar year); `FY2026-H1` (Apr-Sep) and `FY2026-H2`
  (Oct-Mar);
* `CY2026`: the contract year 1 September 2026 to 31 August 2027;
* `2026-04-01..2026-09-30`: any range, both ends included.

The `this_*` helpers give the period containing a date (the TUI's defaults), and `months` splits a period
into calendar months for the monthly trend. Pure: called by the CLI's `export`, the TUI's compliance screen
and `tracker.domain.compliance`; the as-of date is always passed in, never read from the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tracker.domain.errors import InvalidValue

FINANCIAL_YEAR_START_MONTH = 4
"""The financial year runs 1 April to 31 March."""
CONTRACT_YEAR_START_MONTH = 9
"""The contract year runs from 1 September."""

PERIOD_HELP = (
    "use a month (2026-05), FY2026, FY2026-Q1..Q4, FY2026-H1/H2, CY2026 or a range "
    "2026-04-01..2026-09-30, e.g. FY2026-H1"
)

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_FINANCIAL = re.compile(r"FY(\d{4})(?:-(Q[1-4]|H[12]))?")
_CONTRACT = re.compile(r"CY(\d{4})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_MIN_YEAR, _MAX_YEAR = 2000, 2099


@dataclass(frozen=True, slots=True)
class Period:
    """A named date range, both ends included."""

    name: str
    """As CONTRACT.md names it: `FY2026-H1`, `2026-05`, `2026-04-01..2026-09-30`."""
    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """How many calendar days the period has."""
        return (self.end - self.start).days + 1


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


def _span(name: str, year: int, month: int, count: int) -> Period:
    """`count` whole months from the first of `month`."""
    end_year, end_month = _add_months(year, month, count - 1)
    return Period(name, dt.date(year, month, 1), _month_end(end_year, end_month))


def month(year: int, month_number: int) -> Period:
    """The calendar month, e.g. `2026-05`."""
    return _span(f"{year:04d}-{month_number:02d}", year, month_number, 1)


def financial_year(year: int, part: str | None = None) -> Period:
    """Financial year `year` (1 April `year` to 31 March the next year), or its quarter/half `Q1`..`H2`."""
    if part is None:
        return _span(f"FY{year}", year, FINANCIAL_YEAR_START_MONTH, 12)
    size = 3 if part[0] == "Q" else 6
    first_year, first_month = _add_months(year, FINANCIAL_YEAR_START_MONTH, size * (int(part[1]) - 1))
    return _span(f"FY{year}-{part}", first_year, first_month, size)


def contract_year(year: int) -> Period:
    """Contract year `year`: 1 September `year` to 31 August the next year."""
    return _span(f"CY{year}", year, CONTRACT_YEAR_START_MONTH, 12)


def parse_period(text: str) -> Period:
    """Read a period as typed (names are case-insensitive); raises InvalidValue naming `--period`."""
    value = text.strip().upper()
    try:
        if match := _MONTH.fullmatch(value):
            year, number = int(match[1]), int(match[2])
            if _MIN_YEAR <= year <= _MAX_YEAR and 1 <= number <= 12:
                return month(year, number)
        elif match := _FINANCIAL.fullmatch(value):
            if _MIN_YEAR <= int(match[1]) <= _MAX_YEAR:
                return financial_year(int(match[1]), match[2])
        elif match := _CONTRACT.fullmatch(value):
            if _MIN_YEAR <= int(match[1]) <= _MAX_YEAR:
                return contract_year(int(match[1]))
        elif match := _RANGE.fullmatch(value):
            start, end = dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2])
            if end < start:
                raise InvalidValue("--period", text, f"the range ends before it starts; {PERIOD_HELP}")
            return Period(f"{start.isoformat()}..{end.isoformat()}", start, end)
    except ValueError:  # a date such as 2026-02-30 inside a range
        pass
    raise InvalidValue("--period", text, PERIOD_HELP)


# ------------------------------------------------------------------ the period containing a date


def this_month(today: dt.date) -> Period:
    """The calendar month containing `today`."""
    return month(today.year, today.month)


def _financial_year_of(day: dt.date) -> int:
    return day.year if day.month >= FINANCIAL_YEAR_START_MONTH else day.year - 1


def this_quarter(today: dt.date) -> Period:
    """The financial-year quarter containing `today`."""
    months_in = (today.month - FINANCIAL_YEAR_START_MONTH) % 12
    return financial_year(_financial_year_of(today), f"Q{months_in // 3 + 1}")


def this_half(today: dt.date) -> Period:
    """The financial-year half containing `today`."""
    months_in = (today.month - FINANCIAL_YEAR_START_MONTH) % 12
    return financial_year(_financial_year_of(today), f"H{months_in // 6 + 1}")


def this_financial_year(today: dt.date) -> Period:
    """The financial year containing `today`."""
    return financial_year(_financial_year_of(today))


def this_contract_year(today: dt.date) -> Period:
    """The contract year containing `today`."""
    year = today.year if today.month >= CONTRACT_YEAR_START_MONTH else today.year - 1
    return contract_year(year)


def months(period: Period) -> list[Period]:
    """The calendar months a period touches, each clipped to the period (a range may start mid-month)."""
    result = []
    year, number = period.start.year, period.start.month
    while dt.date(year, number, 1) <= period.end:
        whole = month(year, number)
        result.append(Period(whole.name, max(whole.start, period.start), min(whole.end, period.end)))
        year, number = _add_months(year, number, 1)
    return result
