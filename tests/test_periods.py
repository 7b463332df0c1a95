"""Reporting periods: every name of CONTRACT.md, the helpers for 'this period' and the monthly split."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.domain.errors import InvalidValue
from tracker.domain.periods import (
    Period,
    months,
    parse_period,
    this_contract_year,
    this_financial_year,
    this_half,
    this_month,
    this_quarter,
)

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("text", "name", "start", "end"),
    [
        ("2026-05", "2026-05", "2026-05-01", "2026-05-31"),
        ("2026-02", "2026-02", "2026-02-01", "2026-02-28"),
        ("2028-02", "2028-02", "2028-02-01", "2028-02-29"),
        ("2026-12", "2026-12", "2026-12-01", "2026-12-31"),
        ("FY2026", "FY2026", "2026-04-01", "2027-03-31"),
        ("FY2026-Q1", "FY2026-Q1", "2026-04-01", "2026-06-30"),
        ("FY2026-Q2", "FY2026-Q2", "2026-07-01", "2026-09-30"),
        ("FY2026-Q3", "FY2026-Q3", "2026-10-01", "2026-12-31"),
        ("FY2026-Q4", "FY2026-Q4", "2027-01-01", "2027-03-31"),
        ("FY2026-H1", "FY2026-H1", "2026-04-01", "2026-09-30"),
        ("FY2026-H2", "FY2026-H2", "2026-10-01", "2027-03-31"),
        ("CY2026", "CY2026", "2026-09-01", "2027-08-31"),
        ("2026-04-01..2026-09-30", "2026-04-01..2026-09-30", "2026-04-01", "2026-09-30"),
        ("2026-04-01..2026-04-01", "2026-04-01..2026-04-01", "2026-04-01", "2026-04-01"),
        (" fy2026-h1 ", "FY2026-H1", "2026-04-01", "2026-09-30"),
        ("cy2025", "CY2025", "2025-09-01", "2026-08-31"),
    ],
)
def test_parse_period(text: str, name: str, start: str, end: str) -> None:
    assert parse_period(text) == Period(name, D(start), D(end))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "2026-13",
        "2026-00",
        "FY26",
        "FY2026-Q5",
        "FY2026-H3",
        "FY2026Q1",
        "CY2026-H1",
        "2026-04-01..2026-02-30",
        "2026-09-30..2026-04-01",
        "2026-04-01..",
        "1999-05",
        "last quarter",
    ],
)
def test_bad_periods_are_refused_with_the_option_and_an_example(text: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_period(text)
    message = str(info.value)
    assert message.startswith(f"--period={text}: ")
    assert "e.g. FY2026-H1" in message
    assert "\n" not in message


def test_a_reversed_range_says_so() -> None:
    with pytest.raises(InvalidValue, match="ends before it starts"):
        parse_period("2026-09-30..2026-04-01")


@pytest.mark.parametrize(
    ("today", "month", "quarter", "half", "year", "contract"),
    [
        ("2026-04-01", "2026-04", "FY2026-Q1", "FY2026-H1", "FY2026", "CY2025"),
        ("2026-06-30", "2026-06", "FY2026-Q1", "FY2026-H1", "FY2026", "CY2025"),
        ("2026-08-31", "2026-08", "FY2026-Q2", "FY2026-H1", "FY2026", "CY2025"),
        ("2026-09-01", "2026-09", "FY2026-Q2", "FY2026-H1", "FY2026", "CY2026"),
        ("2026-10-01", "2026-10", "FY2026-Q3", "FY2026-H2", "FY2026", "CY2026"),
        ("2026-12-31", "2026-12", "FY2026-Q3", "FY2026-H2", "FY2026", "CY2026"),
        ("2027-01-01", "2027-01", "FY2026-Q4", "FY2026-H2", "FY2026", "CY2026"),
        ("2027-03-31", "2027-03", "FY2026-Q4", "FY2026-H2", "FY2026", "CY2026"),
    ],
)
def test_the_period_containing_a_date(
    today: str, month: str, quarter: str, half: str, year: str, contract: str
) -> None:
    day = D(today)
    found = [this_month(day), this_quarter(day), this_half(day), this_financial_year(day)]
    found.append(this_contract_year(day))
    assert [p.name for p in found] == [month, quarter, half, year, contract]
    for period in found:
        assert day in period
        assert period == parse_period(period.name)


def test_months_of_a_financial_year() -> None:
    parts = months(parse_period("FY2026"))
    assert [p.name for p in parts] == [
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
    ]
    assert parts[0].start == D("2026-04-01")
    assert parts[-1].end == D("2027-03-31")
    assert sum(p.days for p in parts) == 365


def test_months_of_a_range_are_clipped_to_it() -> None:
    parts = months(parse_period("2026-04-15..2026-06-10"))
    assert [(p.name, p.start, p.end) for p in parts] == [
        ("2026-04", D("2026-04-15"), D("2026-04-30")),
        ("2026-05", D("2026-05-01"), D("2026-05-31")),
        ("2026-06", D("2026-06-01"), D("2026-06-10")),
    ]


def test_membership() -> None:
    period = parse_period("FY2026-Q1")
    assert D("2026-04-01") in period
    assert D("2026-06-30") in period
    assert D("2026-03-31") not in period
    assert D("2026-07-01") not in period
    assert "2026-05-01" not in period
