"""A report's clock lines, read from `report_clocks` when a format iterates them.

`clock_lines` gives the `ClockLines` of a pack's clocks due in a period: every pass (all of them, one KPI's,
the breached and excepted ones) is one range read of `report_clocks`' key (pack, due date, reference, clock,
number), in the order the report lists them, and each line's status is judged by `fact_status`. For the
JSON, a line whose status is final is the text rendered when it was copied (`StoreClockLines.rendered_json`).
Inside a `snapshot` (`tracker.report_db`) every pass sees the rows the report's figures were counted from.
Used by `tracker.reporting`; an adapter (SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, null, or_, select
from sqlalchemy.engine import Engine

from tracker import schema
from tracker.compliance import LISTED, ClockLine, ClockLines, clock_json, fact_status
from tracker.driver_rows import Values, stream_rows
from tracker.periods import Period
from tracker.report_counts import CLOCK_FACT_COLUMNS, counted_with
from tracker.report_db import reading
from tracker.rules import RulePack

_R = schema.report_clocks.c


class StoreClockLines(ClockLines):
    """A report's clock lines, read from `report_clocks` each time they are iterated (in key order).

    Each pass is one range read of the primary key; inside a `snapshot` every pass sees the rows the
    report's figures were counted from.
    """

    def __init__(
        self, engine: Engine, pack: RulePack, period: Period, as_of: dt.date, *, owner: bool, total: int
    ) -> None:
        self.engine, self.pack, self.pack_id, self.period, self.as_of = engine, pack, pack.id, period, as_of
        self.owner, self.total = owner, total
        self._dates = Values(engine).dates

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[ClockLine]:
        return self._lines()

    def of_clock(self, clock: str) -> Iterator[ClockLine]:
        return self._lines(_R.clock == clock)

    def listed(self) -> Iterator[ClockLine]:
        # A final status alone decides the status (`fact_status`): only breached or excepted final statuses,
        # and clocks still open, can be listed. The status itself is judged below, row by row.
        maybe = or_(_R.final_status.in_(sorted(status.value for status in LISTED)), _R.final_status.is_(None))
        return (line for line in self._lines(maybe) if line.status in LISTED)

    def rendered_json(self) -> Iterator[str] | None:
        """Each line's JSON text, in order, as rendered at catch-up where the status is final.

        A clock with a final status (most of a past period's) needs nothing from the as-of date, so its
        `clock_json` text is in `report_clocks.line`; a clock still open is read and judged here, and
        encoded by `json`. None when the lines were rendered for another version of the pack (whose
        caseworker rule may differ): the caller encodes every line then.
        """
        with reading(self.engine) as connection:
            if not counted_with(connection, self.pack):
                return None
        return self._rendered()

    def _rendered(self) -> Iterator[str]:
        encode = json.JSONEncoder(ensure_ascii=False).encode
        # The few still open, first (in the same order, from the same snapshot): each takes the place of a
        # line without text below.
        still_open = iter([encode(clock_json(line)) for line in self._lines(_R.line.is_(None))])
        for (line,) in self._rows([_R.line]):
            yield line if line is not None else next(still_open)

    def _lines(self, *where: ColumnElement[bool]) -> Iterator[ClockLine]:
        return (self._line(row) for row in self._rows(self._columns(), *where))

    def _columns(self) -> list[ColumnElement[Any]]:
        """A `ClockLine`'s columns, without its status."""
        return [*CLOCK_FACT_COLUMNS, _R.owner if self.owner else null()]

    def _rows(
        self, columns: list[ColumnElement[Any]], *where: ColumnElement[bool]
    ) -> Iterator[Sequence[Any]]:
        query = (
            select(*columns)
            .where(_R.pack == self.pack_id, _R.due_on >= self.period.start, _R.due_on <= self.period.end)
            .where(*where)
            .order_by(_R.due_on, _R.ref, _R.clock, _R.number)
        )
        with reading(self.engine) as connection:
            yield from stream_rows(connection, query)

    def _line(self, row: Sequence[Any]) -> ClockLine:
        ref, clock, kpi, number, version, starts, due, stopped, ended, by, final, reason, until, who = row
        date = self._dates
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


def clock_lines(
    engine: Engine, pack: RulePack, period: Period, as_of: dt.date, total: int
) -> StoreClockLines:
    """The clock lines of `pack` due in `period` (`total` of them), read when iterated.

    The caseworker is shown only where the pack's owner field may leave the provider.
    """
    owner_spec = pack.case_fields.get(pack.owner_field) if pack.owner_field else None
    exportable = owner_spec is not None and owner_spec.exportable
    return StoreClockLines(engine, pack, period, as_of, owner=exportable, total=total)
