"""A report's clock lines, read from `report_clocks` when a format iterates them.

`clock_lines` gives the `ClockLines` of a pack's clocks due in a period (`tracker.report_sql`'s
`PlainClockLines`): every pass (all of them, one KPI's, the breached and excepted ones) is one range read of
`report_clocks`' key (pack, due date, reference, clock, number), in the order the report lists them, each
line's status judged by `fact_status`; for the JSON, a line whose status is final is the text rendered when
it was copied. Inside a `snapshot` (`tracker.report_db`) every pass sees the rows the report's figures were
counted from. Used by `tracker.reporting`; an adapter (SQLAlchemy).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from tracker.driver_rows import Values
from tracker.periods import Period
from tracker.report_db import rows_of
from tracker.report_sql import PlainClockLines
from tracker.rules import RulePack


def clock_lines(
    engine: Engine, pack: RulePack, period: Period, as_of: dt.date, total: int
) -> PlainClockLines:
    """The clock lines of `pack` due in `period` (`total` of them), read when iterated.

    The caseworker is shown only where the pack's owner field may leave the provider.
    """
    return PlainClockLines(rows_of(engine), Values(engine).dates, pack, period, as_of, total)
