"""The inputs and outputs sheets: "Flow and waiting times" and "Activities".

Pure layout, like `tracker.exporters.sheets` (which places these sheets in the workbook), with the same
`tracker.exporters.layout` types: the figures come from the report's `flow`, `waiting_times` and
`activities` (`tracker.domain.compliance.flow`), so every format shows the same cells as the JSON.
"""

from __future__ import annotations

from tracker.domain.compliance import HIDDEN, ComplianceReport, Spread
from tracker.exporters.layout import Cell, Column, Kind, Sheet

_FLOW_COLUMNS = (
    Column("Measure"),
    Column("Step or clock"),
    Column("Cases", Kind.INT),
    Column("Median", Kind.NUMBER),
    Column("90th percentile", Kind.INT),
    Column("Longest", Kind.INT),
)


def _spread_row(measure: str, title: str, count: int, spread: Spread | None, withheld: bool) -> list[Cell]:
    if withheld:  # fewer clocks than the disclosure threshold
        return [measure, title, count, HIDDEN, HIDDEN, HIDDEN]
    if spread is None:
        return [measure, title, count, None, None, None]
    return [measure, title, count, spread.median, spread.p90, spread.longest]


def flow_sheet(report: ComplianceReport) -> Sheet:
    """Cases reaching each step in the period, then each clock's waiting times (stopped, still waiting)."""
    at = min(report.period.end, report.as_of)
    rows: list[list[Cell]] = [
        ["Cases in the period", f.title, f.cases, None, None, None] for f in report.flow
    ]
    for w in report.waiting_times:
        withheld = w.suppressed
        rows.append(
            _spread_row("Waiting time (calendar days)", w.title, w.stopped, w.calendar_days, withheld)
        )
        rows.append(_spread_row("Waiting time (working days)", w.title, w.stopped, w.working_days, withheld))
    for w in report.waiting_times:
        still = f"Still waiting on {at.isoformat()}"
        longest: list[Cell] = [w.longest_waiting_days, w.longest_waiting_working_days]
        if w.waiting_suppressed:
            longest = [HIDDEN, HIDDEN]
        rows.append([f"{still} (calendar days)", w.title, w.waiting, None, None, longest[0]])
        rows.append([f"{still} (working days)", w.title, w.waiting, None, None, longest[1]])
    return Sheet("Flow and waiting times", "flow-and-waiting-times", _FLOW_COLUMNS, rows)


def activities_sheet(report: ComplianceReport) -> Sheet | None:
    """Sessions by type of activity: count, total and mean length, by mode; None if the pack has none."""
    a = report.activities
    if a is None:
        return None
    columns: tuple[Column, ...] = (
        Column("Type of activity"),
        Column("Sessions", Kind.INT),
        Column("Total minutes", Kind.INT),
        Column("Mean minutes", Kind.NUMBER),
    )
    columns += tuple(Column(f"{label} (sessions)", Kind.INT) for _mode, label in a.modes)
    rows: list[list[Cell]] = [
        [t.title, t.sessions, t.minutes, t.mean_minutes, *(n for _mode, _label, n in t.by_mode)]
        for t in a.types
    ]
    totals = [sum(t.by_mode[i][2] for t in a.types) for i in range(len(a.modes))]
    rows.append(["All", a.sessions, a.minutes, a.mean_minutes, *totals])
    about: tuple[tuple[str, Cell], ...] = (
        ("Activity", a.title),
        ("Sessions in the period", a.sessions),
        ("Cases with a session", a.cases),
        ("Sessions per case: mean", _figure(a.per_case_mean, a.per_case_suppressed)),
        ("Sessions per case: median", _figure(a.per_case_median, a.per_case_suppressed)),
    )
    return Sheet("Activities", "activities", columns, rows, about)


def _figure(value: float | None, withheld: bool) -> Cell:
    """A mean or median as shown: "[c]" when withheld, "no data" when there is none."""
    if withheld:
        return HIDDEN
    return value if value is not None else "no data"
