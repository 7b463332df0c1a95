"""The working-day calendar: England & Wales bank holidays plus a deployment's own closures.

Every deadline in caseclock is counted here, on dates (never times of day), exactly as DOMAIN.md defines:

* **N working days after T**: T is day 0 and the due date is the Nth working day after T. A trigger on a
  non-working day behaves as if it happened on the previous working day's evening, so a Saturday and the
  Friday before it give the same due date.
* **N working days before M**: the Nth working day before M, M itself excluded.
* **N calendar days after T**: T + N days, no rolling.

Rather than walking day by day, the calendar precomputes a *working-day index* over 2000-2100: the sorted
ordinals of every working day, and for every calendar day the number of working days on or before it. Each
operation is then two array look-ups, and the bulk variants are single numpy gathers (numpy is imported only
when a bulk function is first used, to keep the command line's start-up quick).

Called by the rule engine (`tracker.domain.clocks`), the CLI (working days left) and the benchmarks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from array import array
from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import accumulate, compress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.domain.errors import InvalidValue

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FIRST_DATE = dt.date(2000, 1, 1)
"""The first date a trigger or anchor may fall on."""
LAST_DATE = dt.date(2100, 12, 31)
"""The last date a trigger or anchor may fall on."""
MAX_OFFSET_DAYS = 400
"""The largest N a rule may use: the index reaches two years beyond the supported range on both sides."""

# The index covers two extra years each side, so N working days either way from any supported date exist.
_INDEX_FIRST = dt.date(FIRST_DATE.year - 2, 1, 1)
_INDEX_LAST = dt.date(LAST_DATE.year + 2, 12, 31)
_FIRST_ORDINAL = _INDEX_FIRST.toordinal()
_SPAN = _INDEX_LAST.toordinal() - _FIRST_ORDINAL + 1
_LOW = FIRST_DATE.toordinal() - _FIRST_ORDINAL
_HIGH = LAST_DATE.toordinal() - _FIRST_ORDINAL


def statutory_holidays(first_year: int, last_year: int) -> dict[dt.date, str]:
    """Return the bank holidays of England and Wales, substitute days included.

    `subdiv="ENG"` matters: without it the `holidays` package leaves out Easter Monday and the August bank
    holiday, which are holidays in England and Wales but not in Scotland.

    Importing `holidays` loads every country it knows and generating a century takes ~0.6 s, which every
    command would pay. The result is therefore cached as JSON in the user cache directory, keyed by the
    installed `holidays` version and the years, so a new release of the package refreshes it.
    """
    cache = _holiday_cache_path(first_year, last_year)
    if cache is not None:
        try:
            stored = json.loads(cache.read_text(encoding="utf-8"))
            return {dt.date.fromisoformat(day): name for day, name in stored.items()}
        except (OSError, ValueError):
            pass  # missing or damaged: compute it again below
    import holidays

    table = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    result = {day: str(name) for day, name in sorted(table.items())}
    if cache is not None:
        _write_cache(cache, {day.isoformat(): name for day, name in result.items()})
    return result


def _holiday_cache_path(first_year: int, last_year: int) -> Path | None:
    if os.environ.get("CASECLOCK_NO_HOLIDAY_CACHE"):
        return None
    release = _holidays_release()
    if release is None:  # no metadata (a vendored copy): do without the cache
        return None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("caseclock")) / f"holidays-gb-eng-{release}-{first_year}-{last_year}.json"


def _holidays_release() -> str | None:
    """The installed `holidays` version, from its dist-info folder's name where one is beside the package.

    `importlib.metadata.version` parses the package's METADATA file with the email parser, which costs more
    than the rest of a `show`'s calendar work; the folder's name says the same.
    """
    from importlib.util import find_spec

    spec = find_spec("holidays")
    if spec is not None and spec.origin:
        found = sorted(Path(spec.origin).parent.parent.glob("holidays-*.dist-info"))
        if len(found) == 1:
            return found[0].name.removeprefix("holidays-").removesuffix(".dist-info")
    try:
        from importlib.metadata import version

        return version("holidays")
    except Exception:
        return None


def _write_cache(path: Path, content: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(content), encoding="utf-8")
        temporary.replace(path)  # atomic: a concurrent reader sees the old file or the new one
    except OSError:
        pass  # a read-only home directory: the next run computes it again


class WorkingCalendar:
    """Working days in England & Wales, with optional extra closure days of the deployment.

    Args:
        extra_closures: Dates that are not working days for this deployment (the statutory default is none).
    """

    def __init__(self, extra_closures: Iterable[dt.date] = ()) -> None:
        self.extra_closures: frozenset[dt.date] = frozenset(extra_closures)
        for day in self.extra_closures:
            _check_in_range(day, "calendar.extra_closures")

    def fingerprint(self) -> str:
        """What the working days depend on: the deployment's closures and the `holidays` release."""
        closures = ",".join(sorted(day.isoformat() for day in self.extra_closures))
        return f"holidays {_holidays_release()}; closures {closures}"

    @cached_property
    def holidays(self) -> dict[dt.date, str]:
        """The statutory holidays of the indexed years with their names."""
        return statutory_holidays(_INDEX_FIRST.year, _INDEX_LAST.year)

    @cached_property
    def _index(self) -> tuple[array[int], array[int]]:
        """(working-day ordinals, working days on or before each calendar day) over the supported range."""
        # One byte a day, 1 for a working day, filled by slices and folded by C loops: every command that
        # counts a working day builds this, so it must not cost a Python step per day (~39,000 of them).
        is_working = bytearray(_SPAN)
        monday = -(_FIRST_ORDINAL - 1) % 7  # date.fromordinal(n).weekday() == (n - 1) % 7
        for weekday in range(5):
            first = (monday + weekday) % 7
            is_working[first::7] = b"\x01" * len(range(first, _SPAN, 7))
        for day in (*self.holidays, *self.extra_closures):
            offset = day.toordinal() - _FIRST_ORDINAL
            if 0 <= offset < _SPAN:
                is_working[offset] = 0
        working = array("l", compress(range(_FIRST_ORDINAL, _FIRST_ORDINAL + _SPAN), is_working))
        count_through = array("l", accumulate(is_working))
        return working, count_through

    # ------------------------------------------------------------------ single dates

    def is_working_day(self, day: dt.date) -> bool:
        """Whether `day` is a working day (Monday to Friday and not a holiday or closure)."""
        offset = _offset(day)
        counts = self._index[1]
        return counts[offset] != (counts[offset - 1] if offset else 0)

    def working_days_after(self, trigger: dt.date, n: int) -> dt.date:
        """The Nth working day after `trigger` (day 0); a non-working trigger counts from the day before."""
        working, counts = self._index
        position = counts[_offset(trigger)] + n - 1
        return _from_index(working, position)

    def working_days_before(self, anchor: dt.date, n: int) -> dt.date:
        """The Nth working day before `anchor`, the anchor itself excluded."""
        working, counts = self._index
        offset = _offset(anchor)
        if n == 0:  # the anchor itself when it is a working day, else the working day before it
            return _from_index(working, counts[offset] - 1)
        return _from_index(working, counts[offset - 1] - n)

    @staticmethod
    def calendar_days_after(trigger: dt.date, n: int) -> dt.date:
        """`trigger` + N days, with no rolling for weekends or holidays."""
        _offset(trigger)  # the same supported range as every other rule
        return trigger + dt.timedelta(days=n)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when `end` is before `start`.

        This is "working days left" from an as-of date to a due date: 0 on the due day, 1 the working day
        before, -1 on the first working day after a missed due date.
        """
        counts = self._index[1]
        return counts[_offset(end)] - counts[_offset(start)]

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.working_days_after(day, 1)

    # ------------------------------------------------------------------ why a day counts or not

    def non_working_reason(self, day: dt.date) -> tuple[str, str] | None:
        """Why `day` is not a working day, as (kind, words), or None when it is one.

        The kind is `weekend`, `bank_holiday` (the words name it, from `holidays`) or `closure` (the
        deployment's `calendar.extra_closures`). It is read from the same index every count uses.
        """
        offset = day.toordinal() - _FIRST_ORDINAL  # any indexed day: a count may pass the supported range
        if not 0 <= offset < _SPAN:
            raise InvalidValue("date", day.isoformat(), f"use a date between {_supported_range()}")
        counts = self._index[1]
        if counts[offset] != (counts[offset - 1] if offset else 0):
            return None
        if day.weekday() >= 5:
            return "weekend", day.strftime("%A")
        if day in self.holidays:
            return "bank_holiday", self.holidays[day]
        return "closure", "closure day of this deployment (calendar.extra_closures)"

    def counting_after(self, trigger: dt.date, n: int) -> list[CountedDay]:
        """The days of `working_days_after(trigger, n)`, each counted or skipped with its reason.

        The due date is the one `working_days_after` gives (the last entry); the days before it are the
        calendar days from the trigger (or the working day a non-working trigger counts from) to it.
        """
        due = self.working_days_after(trigger, n)
        start = trigger
        if not self.is_working_day(trigger):  # counts from the previous working day's evening
            start = self.working_days_before(trigger, 1)
        return self._walk(start + dt.timedelta(days=1), due, ascending=True)

    def counting_before(self, anchor: dt.date, n: int) -> list[CountedDay]:
        """The days of `working_days_before(anchor, n)`, from the day before the anchor back to the due."""
        due = self.working_days_before(anchor, n)
        first = due + dt.timedelta(days=1) if n == 0 else due  # 0 before: the anchor or the day before it
        return self._walk(first, anchor - dt.timedelta(days=1), ascending=False)

    def _walk(self, first: dt.date, last: dt.date, *, ascending: bool) -> list[CountedDay]:
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        steps: list[CountedDay] = []
        number = 0
        for day in days if ascending else reversed(days):
            reason = self.non_working_reason(day)
            if reason is None:
                number += 1
                steps.append(CountedDay(day, number, None, None))
            else:
                steps.append(CountedDay(day, None, reason[0], reason[1]))
        return steps

    def tribunal_limit(self, ends_on: dt.date, *, sen: bool) -> LimitMove | None:
        """Where a tribunal time limit ending on `ends_on` is met, if not on that day; None when it is.

        Tribunal Procedure (First-tier Tribunal) (HESC) Rules 2008: rule 12(3), for SEN cases, a limit that
        ends on any day from 25 December to 1 January, or in August, is met on the first working day after
        1 January or 31 August; otherwise rule 12(2), a limit that ends on a day that is not a working day
        is met on the next working day. Use it on the statutory calendar (`statutory()`): a provider's own
        closures do not move the tribunal's limits.
        """
        if sen and ((ends_on.month == 12 and ends_on.day >= 25) or (ends_on.month, ends_on.day) == (1, 1)):
            after = dt.date(ends_on.year + (ends_on.month == 12), 1, 1)
            rule = "rule 12(3)"
            words = (
                f"{ends_on.isoformat()} is between 25 December and 1 January: met on the first working day "
                "after 1 January"
            )
        elif sen and ends_on.month == 8:
            after = dt.date(ends_on.year, 8, 31)
            rule = "rule 12(3)"
            words = f"{ends_on.isoformat()} is in August: met on the first working day after 31 August"
        elif not self.is_working_day(ends_on):
            after = ends_on - dt.timedelta(days=1)
            rule = "rule 12(2)"
            words = f"{ends_on.isoformat()} is not a working day: met on the next working day"
        else:
            return None
        met_on = self.next_working_day(after)
        skipped = tuple(
            d for d in self._walk(after + dt.timedelta(days=1), met_on, ascending=True) if d.skipped
        )
        return LimitMove(rule, ends_on, met_on, words, skipped)

    def statutory(self) -> WorkingCalendar:
        """The statutory calendar alone, without this deployment's closures (a tribunal's working days)."""
        if not self.extra_closures:
            return self
        return _statutory_calendar()

    # ------------------------------------------------------------------ bulk

    def working_days_after_many(self, triggers: npt.ArrayLike, n: int) -> np.ndarray[Any, Any]:
        """Vectorised `working_days_after` over an array of `datetime64[D]` dates."""
        working, counts = self._numpy_index
        offsets = _bulk_offsets(triggers)
        return (working[counts[offsets] + n - 1] - _EPOCH_SHIFT).astype("datetime64[D]")  # type: ignore[no-any-return]

    def working_days_before_many(self, anchors: npt.ArrayLike, n: int) -> np.ndarray[Any, Any]:
        """Vectorised `working_days_before` over an array of `datetime64[D]` dates."""
        np_ = _numpy()
        working, counts = self._numpy_index
        offsets = _bulk_offsets(anchors)
        before = np_.where(offsets > 0, counts[np_.maximum(offsets - 1, 0)], 0)
        return (working[before - n] - _EPOCH_SHIFT).astype("datetime64[D]")  # type: ignore[no-any-return]

    @cached_property
    def _numpy_index(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        np_ = _numpy()
        working, counts = self._index
        return np_.frombuffer(working, dtype=np_.int_).copy(), np_.frombuffer(counts, dtype=np_.int_).copy()


@dataclass(frozen=True, slots=True)
class CountedDay:
    """One day of a count: a working day counted (its number) or a day skipped (why)."""

    day: dt.date
    number: int | None
    """1 for the first working day counted, 2 for the second, ...; None for a skipped day."""
    skipped: str | None
    """`weekend`, `bank_holiday` or `closure` for a day skipped, else None."""
    why: str | None
    """The day's name, the bank holiday's name or the closure, for a day skipped."""


@dataclass(frozen=True, slots=True)
class LimitMove:
    """A tribunal time limit moved by the tribunal's rules: which rule, from what day, to what day and why."""

    rule: str
    ends_on: dt.date
    met_on: dt.date
    words: str
    skipped: tuple[CountedDay, ...]
    """The days passed over after the day the rule counts from, each with why it is not a working day."""


@cache
def _statutory_calendar() -> WorkingCalendar:
    return WorkingCalendar()


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months: the same day number, or the month's last day where it has none.

    31 January + 1 month is 28 February (29 in a leap year); 30 November + 3 months is 28/29 February.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, monthrange(year, month)[1]))


# Proleptic Gregorian ordinal of 1970-01-01 minus one: ordinal - shift = days since the Unix epoch.
_EPOCH_SHIFT = dt.date(1970, 1, 1).toordinal()


def _numpy() -> Any:
    import numpy

    return numpy


def _bulk_offsets(days: npt.ArrayLike) -> np.ndarray[Any, Any]:
    np_ = _numpy()
    as_days = np_.asarray(days, dtype="datetime64[D]").astype(np_.int_)
    offsets = as_days + (_EPOCH_SHIFT - _FIRST_ORDINAL)
    if offsets.size and (offsets.min() < _LOW or offsets.max() > _HIGH):
        raise InvalidValue("date", "out of range", f"dates must lie between {_supported_range()}")
    return offsets  # type: ignore[no-any-return]


def _supported_range() -> str:
    return f"{FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}"


def _check_in_range(day: dt.date, field: str = "date") -> None:
    if not (FIRST_DATE <= day <= LAST_DATE):
        raise InvalidValue(field, day.isoformat(), f"use a date between {_supported_range()}")


def _offset(day: dt.date) -> int:
    offset = day.toordinal() - _FIRST_ORDINAL
    if not (_LOW <= offset <= _HIGH):
        raise InvalidValue("date", day.isoformat(), f"use a date between {_supported_range()}")
    return offset


def _from_index(working: Sequence[int], position: int) -> dt.date:
    return dt.date.fromordinal(working[position])
