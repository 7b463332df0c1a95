"""A report's reads as plain SQL, the same on SQLite and PostgreSQL, run by whatever holds the connection.

The running counts (`report_counts`) and the clock lines (`report_clocks`) are read with the queries here,
through a `Run`: a function that executes one query with named parameters and yields the rows as the
driver returns them. The store's reports pass one over a SQLAlchemy connection (`tracker.report_db`); the
JSON export of a SQLite file passes one over a `sqlite3` connection (`tracker.sqlite_report`), which
spares the command the import of SQLAlchemy. Both then read the same rows the same way.

No SQLAlchemy here: imported by the export's start-up. An adapter (SQL).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from tracker.compliance import LISTED, ClockLine, ClockLines, Tallies, clock_json, fact_status
from tracker.compliance.counts import DAY_KINDS, SUMMED_KINDS, fingerprint, tallies_from_counts
from tracker.compliance.selection import owner_shown, per_pack
from tracker.periods import Period
from tracker.rules import PackRegistry, RulePack

Run = Callable[[str, Mapping[str, Any]], Iterable[Sequence[Any]]]
"""Executes one query (named `:parameters`; dates given as `datetime.date`) and yields its rows."""

Dates = Mapping[Any, Any]
"""The driver's value of a date -> the date (`tracker.driver_rows.dates_for`)."""

CLOCK_FACT_COLUMNS = (
    "ref",
    "clock",
    "kpi",
    "number",
    "pack_version",
    "starts_on",
    "due_on",
    "stopped_on",
    "ended_on",
    "ended_by",
    "final_status",
    "exception_reason",
    "exception_until",
)
"""The `report_clocks` columns of a `ClockFact` (without its caseworker), in its order."""

pack_fingerprint = per_pack(fingerprint)
"""`fingerprint`, once per pack object (dumping a pack takes a few milliseconds)."""


# ---------------------------------------------------------------------------------------------- counts


def _kinds(kinds: Iterable[str]) -> str:
    return ", ".join(f"'{kind}'" for kind in kinds)


_BY_DAY = [kind for kind in DAY_KINDS if kind not in SUMMED_KINDS]
COUNTS_QUERY = f"""
    SELECT kind, day, key, n FROM report_counts
    WHERE pack = :pack AND kind IN ({_kinds(_BY_DAY)}) AND day >= :start AND day <= :end
    UNION ALL
    SELECT kind, NULL, key, sum(n) FROM report_counts
    WHERE pack = :pack AND kind IN ({_kinds(SUMMED_KINDS)}) AND day >= :start AND day <= :end
    GROUP BY kind, key
    UNION ALL
    SELECT kind, day, key, n FROM report_counts
    WHERE pack = :pack AND kind = 'waits' AND day > :at AND since <= :at
"""
"""A period's count rows: by day where a tally reads the day, summed over the period where it does not."""

FINGERPRINTS_QUERY = "SELECT pack, fingerprint FROM report_count_packs"
NOTED_QUERY = "SELECT case_id FROM report_stale LIMIT 1"


def counts_made_with(run: Run, packs: PackRegistry) -> bool:
    """Whether each enabled pack's counts were made with its latest version (and no other pack's are kept)."""
    made = {pack_id: made for pack_id, made in run(FINGERPRINTS_QUERY, {})}
    return made == {pack_id: pack_fingerprint(packs.latest(pack_id)) for pack_id in packs}


def counted_with(run: Run, pack: RulePack) -> bool:
    """Whether the counts and rendered lines of `pack`'s cases were made with this version of it."""
    made = {pack_id: made for pack_id, made in run(FINGERPRINTS_QUERY, {})}
    return made.get(pack.id) == pack_fingerprint(pack)


def counted_tallies(run: Run, dates: Dates, pack: RulePack, period: Period, as_of: dt.date) -> Tallies | None:
    """The tallies of `pack` for `period` from the counts; None when they were made with another version."""
    if not counted_with(run, pack):
        return None
    params = {"pack": pack.id, "start": period.start, "end": period.end, "at": min(period.end, as_of)}
    rows = ((kind, dates[day], key, int(n)) for kind, day, key, n in run(COUNTS_QUERY, params))
    return tallies_from_counts(pack, period, rows)


# ---------------------------------------------------------------------------------------------- lines

_LISTED = _kinds(sorted(status.value for status in LISTED))


class PlainClockLines(ClockLines):
    """A report's clock lines, read from `report_clocks` each time they are iterated (in key order).

    Each pass is one range read of the primary key (pack, due date, reference, clock, number); run inside
    one read transaction, every pass sees the rows the report's figures were counted from.
    """

    def __init__(
        self, run: Run, dates: Dates, pack: RulePack, period: Period, as_of: dt.date, total: int
    ) -> None:
        self.run, self.dates, self.pack, self.period, self.as_of = run, dates, pack, period, as_of
        self.total = total
        self.owner = owner_shown(pack)

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[ClockLine]:
        return self._lines()

    def of_clock(self, clock: str) -> Iterator[ClockLine]:
        return self._lines("clock = :clock", clock=clock)

    def listed(self) -> Iterator[ClockLine]:
        # A final status alone decides the status (`fact_status`): only breached or excepted final statuses,
        # and clocks still open, can be listed. The status itself is judged below, row by row.
        maybe = f"(final_status IN ({_LISTED}) OR final_status IS NULL)"
        return (line for line in self._lines(maybe) if line.status in LISTED)

    def rendered_json(self) -> Iterator[str] | None:
        """The lines' JSON texts, in order, as rendered at catch-up: each a day's lines, joined by ", ".

        A clock with a final status (most of a past period's) needs nothing from the as-of date, so the
        texts of a day whose clocks are all final are in `report_day_lines`; a day with a clock still open
        is read line by line, the open one judged here and encoded by `json`. None when the lines were
        rendered for another version of the pack (whose caseworker rule may differ): the caller encodes
        every line then.
        """
        if not counted_with(self.run, self.pack):
            return None
        return self._rendered()

    def _rendered(self) -> Iterator[str]:
        encode = json.JSONEncoder(ensure_ascii=False).encode
        days = self.run(
            "SELECT due_on, lines FROM report_day_lines "
            "WHERE pack = :pack AND due_on >= :start AND due_on <= :end ORDER BY due_on",
            {"pack": self.pack.id, "start": self.period.start, "end": self.period.end},
        )
        for due, text in days:
            if text is not None:
                yield text
                continue
            # A day with a clock still open: its final lines as rendered, the open ones judged now. (The
            # day as the range, not as one more condition: SQLite's planner would keep the period's range.)
            day = {"start": self.dates[due], "end": self.dates[due]}
            still_open = iter([encode(clock_json(line)) for line in self._lines("line IS NULL", **day)])
            yield ", ".join(
                line if line is not None else next(still_open) for (line,) in self._rows("line", "", **day)
            )

    def _lines(self, where: str = "", **params: Any) -> Iterator[ClockLine]:
        columns = ", ".join([*CLOCK_FACT_COLUMNS, "owner" if self.owner else "NULL"])
        return (self._line(row) for row in self._rows(columns, where, **params))

    def _rows(self, columns: str, where: str, **params: Any) -> Iterable[Sequence[Any]]:
        query = (
            f"SELECT {columns} FROM report_clocks "
            f"WHERE pack = :pack AND due_on >= :start AND due_on <= :end {'AND ' + where if where else ''} "
            "ORDER BY due_on, ref, clock, number"
        )
        return self.run(
            query, {"pack": self.pack.id, "start": self.period.start, "end": self.period.end, **params}
        )

    def _line(self, row: Sequence[Any]) -> ClockLine:
        ref, clock, kpi, number, version, starts, due, stopped, ended, by, final, reason, until, who = row
        date = self.dates
        due, stopped, ended = date[due], date[stopped], date[ended]
        status = fact_status(final, due, stopped, ended, reason is not None, self.as_of)
        return ClockLine(
            ref,
            clock,
            kpi,
            number,
            version,
            date[starts],
            due,
            stopped,
            ended,
            by,
            final,
            reason,
            date[until],
            who,
            status,
        )
