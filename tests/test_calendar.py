"""The working-day calendar against DOMAIN.md's "Working days" section and a naive day-by-day reference."""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tracker.domain.calendar import FIRST_DATE, LAST_DATE, WorkingCalendar
from tracker.domain.errors import InvalidValue

D = dt.date.fromisoformat
ONE_DAY = dt.timedelta(days=1)

CAL = WorkingCalendar()
"""Built once: the index over 1998-2102 is the expensive part."""

PROPERTY = settings(max_examples=200, deadline=None, database=None)
SUPPORTED_DATES = st.dates(min_value=FIRST_DATE, max_value=LAST_DATE)


# ---------------------------------------------------------------------------------------- the reference

_REFERENCE_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG")


def naive_is_working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _REFERENCE_HOLIDAYS


def naive_after(trigger: dt.date, n: int) -> dt.date:
    """Roll a non-working trigger back to the previous working day (its evening), then step n working days."""
    day = trigger
    while not naive_is_working(day):
        day -= ONE_DAY
    counted = 0
    while counted < n:
        day += ONE_DAY
        if naive_is_working(day):
            counted += 1
    return day


def naive_before(anchor: dt.date, n: int) -> dt.date:
    """Step back n working days from the anchor, the anchor itself excluded."""
    day = anchor
    counted = 0
    while counted < n:
        day -= ONE_DAY
        if naive_is_working(day):
            counted += 1
    return day


# ---------------------------------------------------------------------------------------- DOMAIN.md numbers


@pytest.mark.parametrize(
    ("trigger", "n", "due"),
    [
        ("2025-12-23", 3, "2025-12-30"),
        ("2026-04-02", 3, "2026-04-09"),
        ("2026-12-24", 3, "2026-12-31"),  # 28 Dec 2026 is a substitute bank holiday
        ("2026-03-07", 3, "2026-03-11"),  # a Saturday trigger
    ],
)
def test_working_days_after_domain_examples(trigger: str, n: int, due: str) -> None:
    assert CAL.working_days_after(D(trigger), n) == D(due)


@pytest.mark.parametrize(
    ("meeting", "n", "due"),
    [
        ("2026-04-10", 5, "2026-04-01"),
        ("2026-01-05", 5, "2025-12-24"),
    ],
)
def test_working_days_before_domain_examples(meeting: str, n: int, due: str) -> None:
    assert CAL.working_days_before(D(meeting), n) == D(due)


@pytest.mark.parametrize(
    ("trigger", "n", "due"),
    [
        ("2026-01-30", 30, "2026-03-01"),  # a Sunday: no rolling
    ],
)
def test_calendar_days_after_domain_examples(trigger: str, n: int, due: str) -> None:
    assert CAL.calendar_days_after(D(trigger), n) == D(due)
    assert D(due).weekday() == 6


@pytest.mark.parametrize(
    ("friday", "saturday", "sunday"),
    [
        ("2026-03-06", "2026-03-07", "2026-03-08"),
        ("2025-12-19", "2025-12-20", "2025-12-21"),
        ("2026-04-02", "2026-04-04", "2026-04-05"),  # Thursday before Good Friday / Easter weekend
    ],
)
@pytest.mark.parametrize("n", [0, 1, 3, 5])
def test_weekend_trigger_counts_from_the_previous_working_day(
    friday: str, saturday: str, sunday: str, n: int
) -> None:
    due = CAL.working_days_after(D(friday), n)
    assert CAL.working_days_after(D(saturday), n) == due
    assert CAL.working_days_after(D(sunday), n) == due


def test_saturday_and_friday_triggers_give_the_same_due_date() -> None:
    assert CAL.working_days_after(D("2026-03-07"), 3) == CAL.working_days_after(D("2026-03-06"), 3)
    assert CAL.working_days_after(D("2026-03-06"), 3) == D("2026-03-11")


def test_trigger_on_a_working_day_is_day_zero() -> None:
    assert CAL.working_days_after(D("2026-03-10"), 0) == D("2026-03-10")
    assert CAL.working_days_after(D("2026-03-10"), 1) == D("2026-03-11")


@pytest.mark.parametrize(
    ("day", "what"),
    [
        ("2026-04-06", "Easter Monday (missing without subdiv=ENG)"),
        ("2026-08-31", "Summer bank holiday (missing without subdiv=ENG)"),
        ("2025-04-21", "Easter Monday 2025"),
        ("2025-08-25", "Summer bank holiday 2025"),
        ("2026-04-03", "Good Friday"),
        ("2025-12-25", "Christmas Day"),
        ("2025-12-26", "Boxing Day"),
        ("2026-12-28", "substitute Boxing Day"),
        ("2026-01-01", "New Year's Day"),
        ("2026-05-04", "Early May bank holiday"),
        ("2026-05-25", "Spring bank holiday"),
        ("2023-05-08", "one-off coronation bank holiday (missing from workalendar 17)"),
        ("2022-09-19", "one-off state funeral bank holiday"),
        ("2026-03-07", "Saturday"),
        ("2026-03-08", "Sunday"),
    ],
)
def test_non_working_days(day: str, what: str) -> None:
    assert not CAL.is_working_day(D(day)), what


@pytest.mark.parametrize(
    "day",
    [
        "2026-03-09",  # an ordinary Monday
        "2026-02-16",  # Norfolk February half term: school holidays are working days
        "2025-12-23",  # Christmas school holiday, still a working day
        "2026-03-17",  # St Patrick's Day: a holiday in Northern Ireland only
        "2026-01-02",  # 2 January: a holiday in Scotland only
        "2026-08-03",  # Scottish summer bank holiday
    ],
)
def test_working_days(day: str) -> None:
    assert CAL.is_working_day(D(day))


def test_one_off_2023_coronation_holiday_shifts_the_count() -> None:
    # Friday 5 May 2023 + 1: Monday 8 May is the coronation bank holiday, so Tuesday 9 May.
    assert CAL.working_days_after(D("2023-05-05"), 1) == D("2023-05-09")


def test_holidays_table_has_names() -> None:
    assert D("2026-04-06") in CAL.holidays
    assert "Easter" in CAL.holidays[D("2026-04-06")]


# ---------------------------------------------------------------------------------------- extra closures


def test_extra_closures_are_honoured() -> None:
    closure = D("2026-03-09")  # a Monday the deployment closes
    calendar = WorkingCalendar(extra_closures=[closure])
    assert CAL.is_working_day(closure)
    assert not calendar.is_working_day(closure)
    assert calendar.working_days_after(D("2026-03-06"), 1) == D("2026-03-10")
    assert calendar.working_days_after(D("2026-03-06"), 3) == D("2026-03-12")
    assert calendar.working_days_after(closure, 1) == D("2026-03-10")  # counts from Friday's evening
    assert calendar.working_days_before(D("2026-03-11"), 2) == D("2026-03-06")
    assert calendar.working_days_between(D("2026-03-06"), D("2026-03-10")) == 1


def test_default_calendar_has_no_extra_closures() -> None:
    assert CAL.extra_closures == frozenset()


def test_extra_closure_outside_the_range_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"calendar\.extra_closures"):
        WorkingCalendar(extra_closures=[D("1999-12-31")])


# ---------------------------------------------------------------------------------------- between


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-03-11", 0),  # the due day itself
        ("2026-03-10", 1),  # the working day before
        ("2026-03-09", 2),
        ("2026-03-12", -1),  # the first working day after a missed due date
        ("2026-03-13", -2),
    ],
)
def test_working_days_between_as_working_days_left(as_of: str, expected: int) -> None:
    assert CAL.working_days_between(D(as_of), D("2026-03-11")) == expected


def test_working_days_between_across_a_weekend_and_holiday() -> None:
    due = D("2026-04-09")  # Thursday after Easter
    assert CAL.working_days_between(D("2026-04-02"), due) == 3  # Thu before Good Friday
    assert CAL.working_days_between(D("2026-04-04"), due) == 3  # Saturday: same as Thursday
    assert CAL.working_days_between(D("2026-04-08"), due) == 1
    # due on a Friday, as of the Monday after: only Monday has passed
    assert CAL.working_days_between(D("2026-03-16"), D("2026-03-13")) == -1


@PROPERTY
@given(day=SUPPORTED_DATES, n=st.integers(min_value=0, max_value=30))
def test_working_days_between_inverts_working_days_after(day: dt.date, n: int) -> None:
    assume(CAL.is_working_day(day))
    due = CAL.working_days_after(day, n)
    assume(due <= LAST_DATE)  # working_days_between accepts dates of the supported range only
    assert CAL.working_days_between(day, due) == n


# ---------------------------------------------------------------------------------------- properties


@PROPERTY
@given(trigger=SUPPORTED_DATES, n=st.integers(min_value=0, max_value=30))
def test_working_days_after_matches_the_naive_loop(trigger: dt.date, n: int) -> None:
    assert CAL.working_days_after(trigger, n) == naive_after(trigger, n)


@PROPERTY
@given(anchor=SUPPORTED_DATES, n=st.integers(min_value=1, max_value=30))
def test_working_days_before_matches_the_naive_loop(anchor: dt.date, n: int) -> None:
    assert CAL.working_days_before(anchor, n) == naive_before(anchor, n)


@PROPERTY
@given(anchor=SUPPORTED_DATES)
def test_zero_working_days_before_a_working_day_is_that_day(anchor: dt.date) -> None:
    assume(naive_is_working(anchor))
    assert CAL.working_days_before(anchor, 0) == naive_before(anchor, 0) == anchor


def test_zero_working_days_before_a_weekend_is_not_after_it() -> None:
    assert CAL.working_days_before(D("2026-03-07"), 0) <= D("2026-03-07")


@PROPERTY
@given(day=SUPPORTED_DATES)
def test_is_working_day_matches_the_holidays_package(day: dt.date) -> None:
    assert CAL.is_working_day(day) == naive_is_working(day)


@PROPERTY
@given(trigger=SUPPORTED_DATES, n=st.integers(min_value=0, max_value=400))
def test_calendar_days_after_never_rolls(trigger: dt.date, n: int) -> None:
    assert CAL.calendar_days_after(trigger, n) == trigger + dt.timedelta(days=n)


@PROPERTY
@given(trigger=SUPPORTED_DATES, n=st.integers(min_value=1, max_value=30))
def test_due_date_is_a_working_day_after_the_trigger(trigger: dt.date, n: int) -> None:
    due = CAL.working_days_after(trigger, n)
    assert due > trigger
    assert naive_is_working(due)  # may lie just past 2100, where is_working_day refuses the date


# ---------------------------------------------------------------------------------------- bulk


def _random_dates(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = np.datetime64(FIRST_DATE.isoformat(), "D").astype(np.int64)
    high = np.datetime64(LAST_DATE.isoformat(), "D").astype(np.int64)
    return rng.integers(low, high + 1, size=size).astype("datetime64[D]")


@pytest.mark.parametrize("n", [0, 1, 3, 5, 30])
def test_working_days_after_many_equals_single(n: int) -> None:
    dates = _random_dates(3000, seed=n)
    bulk = CAL.working_days_after_many(dates, n)
    assert bulk.dtype == np.dtype("datetime64[D]")
    single = [CAL.working_days_after(day, n) for day in dates.astype(dt.date)]
    assert bulk.astype(dt.date).tolist() == single


@pytest.mark.parametrize("n", [1, 3, 5, 30])
def test_working_days_before_many_equals_single(n: int) -> None:
    dates = _random_dates(3000, seed=100 + n)
    bulk = CAL.working_days_before_many(dates, n)
    single = [CAL.working_days_before(day, n) for day in dates.astype(dt.date)]
    assert bulk.astype(dt.date).tolist() == single


def test_bulk_domain_examples() -> None:
    triggers = np.array(["2025-12-23", "2026-04-02", "2026-12-24", "2026-03-07"], dtype="datetime64[D]")
    assert CAL.working_days_after_many(triggers, 3).astype(str).tolist() == [
        "2025-12-30",
        "2026-04-09",
        "2026-12-31",
        "2026-03-11",
    ]
    meetings = np.array(["2026-04-10", "2026-01-05"], dtype="datetime64[D]")
    assert CAL.working_days_before_many(meetings, 5).astype(str).tolist() == ["2026-04-01", "2025-12-24"]


def test_bulk_range_edges() -> None:
    edges = np.array([FIRST_DATE.isoformat(), LAST_DATE.isoformat()], dtype="datetime64[D]")
    after = CAL.working_days_after_many(edges, 30).astype(dt.date).tolist()
    before = CAL.working_days_before_many(edges, 30).astype(dt.date).tolist()
    assert after == [CAL.working_days_after(FIRST_DATE, 30), CAL.working_days_after(LAST_DATE, 30)]
    assert before == [CAL.working_days_before(FIRST_DATE, 30), CAL.working_days_before(LAST_DATE, 30)]


def test_bulk_on_an_empty_array() -> None:
    empty = np.array([], dtype="datetime64[D]")
    assert CAL.working_days_after_many(empty, 3).size == 0
    assert CAL.working_days_before_many(empty, 3).size == 0


# ---------------------------------------------------------------------------------------- the range

OUTSIDE = [D("1999-12-31"), D("2101-01-01"), D("1900-06-01")]


@pytest.mark.parametrize("day", OUTSIDE)
def test_dates_outside_the_range_are_refused(day: dt.date) -> None:
    with pytest.raises(InvalidValue):
        CAL.working_days_after(day, 3)
    with pytest.raises(InvalidValue):
        CAL.working_days_before(day, 3)
    with pytest.raises(InvalidValue):
        CAL.is_working_day(day)
    with pytest.raises(InvalidValue):
        CAL.working_days_between(day, D("2026-01-01"))
    with pytest.raises(InvalidValue):
        CAL.working_days_between(D("2026-01-01"), day)
    with pytest.raises(InvalidValue):
        CAL.next_working_day(day)


@pytest.mark.parametrize("day", OUTSIDE)
def test_bulk_dates_outside_the_range_are_refused(day: dt.date) -> None:
    dates = np.array(["2026-03-07", day.isoformat()], dtype="datetime64[D]")
    with pytest.raises(InvalidValue):
        CAL.working_days_after_many(dates, 3)
    with pytest.raises(InvalidValue):
        CAL.working_days_before_many(dates, 3)


def test_range_edges_are_accepted() -> None:
    assert CAL.working_days_after(FIRST_DATE, 3) == naive_after(FIRST_DATE, 3)
    assert CAL.working_days_before(FIRST_DATE, 3) == naive_before(FIRST_DATE, 3)
    assert CAL.working_days_after(LAST_DATE, 3) == naive_after(LAST_DATE, 3)
    assert CAL.working_days_before(LAST_DATE, 3) == naive_before(LAST_DATE, 3)


def test_calendar_days_after_outside_the_range_is_refused() -> None:
    with pytest.raises(InvalidValue):
        CAL.calendar_days_after(D("1999-12-31"), 1)


def test_the_holiday_cache_is_keyed_by_the_installed_holidays_release() -> None:
    from importlib.metadata import version

    from tracker.domain.calendar import _holidays_release

    assert _holidays_release() == version("holidays")
