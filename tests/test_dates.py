"""The one date parser the CLI, the TUI's forms and imports share: the forms people type, and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.domain.dates import DATE_HELP, parse_date
from tracker.domain.errors import InvalidValue

TODAY = dt.date(2026, 3, 10)  # a Tuesday


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("2026-05-04", "2026-05-04"),
        ("4/5/26", "2026-05-04"),
        ("04/05/2026", "2026-05-04"),
        ("4/5", "2026-05-04"),  # 4 May (UK order) of the as-of year
        ("4.5", "2026-05-04"),
        ("2 Dec", "2026-12-02"),
        ("2 december", "2026-12-02"),
        ("2nd Dec 2025", "2025-12-02"),
        ("today", "2026-03-10"),
        (" Tomorrow ", "2026-03-11"),
        ("yesterday", "2026-03-09"),
        ("next tue", "2026-03-17"),  # today is a Tuesday: the next one is a week on
        ("next wed", "2026-03-11"),
        ("next Monday", "2026-03-16"),
        ("last fri", "2026-03-06"),
        ("last tue", "2026-03-03"),
    ],
)
def test_typed_dates(typed: str, meant: str) -> None:
    assert parse_date(typed, TODAY, "on") == dt.date.fromisoformat(meant)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("31/13/26", "there is no month 13"),
        ("30/2", "February has no day 30"),
        ("31 Apr", "April has no day 31"),
        ("next fortnight", "'next fortnight' is not a date"),
        ("2 Decembre", "'2 Decembre' is not a date"),
        ("soon", "'soon' is not a date"),
    ],
)
def test_nonsense_is_refused_naming_the_field_why_and_the_forms(typed: str, why: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_date(typed, TODAY, "on")
    assert refused.value.field == "on"
    assert refused.value.message.startswith(f"on={typed}: ")
    assert refused.value.reason.startswith(why)
    assert refused.value.reason.endswith(DATE_HELP)
    assert "4/5" in DATE_HELP
    assert "next tue" in DATE_HELP


def test_an_empty_date_is_missing_not_nonsense() -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_date("  ", TODAY, "on")
    assert refused.value.missing
    assert refused.value.reason == "needed"
