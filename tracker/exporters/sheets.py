"""The compliance report laid out as sheets: one layout that the xlsx, csv and html writers all render.

Each `Sheet` (`tracker.exporters.layout`) is a header row and data rows of typed cells (`Kind` says how
a column is shown: a real date, a percentage, a count that may read "<5"), with an optional key/value block
above the table (the Summary's period, as-of date and rule-pack version). The flow and activities sheets
come from `tracker.exporters.flow_sheets`. Pure: no spreadsheet library here, so every format shows the same
cells. Called by `tracker.exporters.*`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance import (
    COUNTING_RULES,
    HIDDEN,
    Breakdown,
    ClockLine,
    ComplianceReport,
    Rag,
    SurveyResult,
)
from tracker.domain.compliance.shape import SMALL_NUMBERS, small_numbers_note
from tracker.exporters.flow_sheets import activities_sheet, flow_sheet
from tracker.exporters.layout import Cell, Column, Kind, Rows, Sheet
from tracker.exporters.staff_sheets import CASEWORKER_COLUMN, caseworkers_sheet


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _sheet_name(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


def rag_word(rag: Rag | None) -> str:
    """The RAG rating as shown ("" when there is no rating)."""
    return rag.value.capitalize() if rag else ""


def result(figure: SurveyResult) -> Cell:
    """A survey result as shown: its percent, or "[c]" when withheld (too few responses)."""
    return HIDDEN if figure.suppressed else figure.percent


def report_title(report: ComplianceReport) -> str:
    """The report's name, as its first line and every printed page's header says it."""
    return f"{report.service or report.pack_title}: performance report"


def sheets(report: ComplianceReport) -> list[Sheet]:
    """Every sheet of the export, in workbook order.

    The short sheets first (Summary, ..., Notes), so a printed report reads as one; then the long case
    lists (Breaches and exceptions, a sheet per KPI), each with its breached clocks first.
    """
    kpi_sheets = [_kpi_sheet(report, key) for key in (k.key for k in report.kpis)]
    activities = activities_sheet(report)
    layout = [
        _summary(report),
        _referrals(report),
        flow_sheet(report),
        *([activities] if activities is not None else []),
        _profile(report),
        _satisfaction(report),
        _feedback(report),
        _trend(report),
        *([staff] if (staff := caseworkers_sheet(report)) is not None else []),
        _notes(report),
        _breaches(report),
        *kpi_sheets,
    ]
    return _unique_names(layout)


def _breached_first(
    breached: Iterator[ClockLine], lines: Callable[[], Iterator[ClockLine]]
) -> Iterator[ClockLine]:
    """The breached lines (in their order), then the others of `lines`: two reads, so a year is never held."""
    yield from breached
    yield from (line for line in lines() if line.status is not ClockStatus.BREACHED)


def _unique_names(layout: list[Sheet]) -> list[Sheet]:
    """Tab names must differ (ignoring case): two KPIs a pack labels alike get "(2)" and so on."""
    seen: set[str] = set()
    unique = []
    for sheet in layout:
        name, number = sheet.name, 1
        while name.lower() in seen:
            number += 1
            suffix = f" ({number})"
            name = sheet.name[: 31 - len(suffix)] + suffix
        seen.add(name.lower())
        unique.append(sheet if name == sheet.name else replace(sheet, name=name, slug=_slug(name)))
    return unique


def _target(target: float | None) -> Cell:
    """A KPI's target, or words saying the Authority has not set one yet (and so no RAG rating)."""
    return "target not set" if target is None else target


def _summary(report: ComplianceReport) -> Sheet:
    period = report.period
    about: list[tuple[str, Cell]] = [
        ("Report", report_title(report)),
        *report.sender,
        ("Period", period.name),
        ("From", period.start),
        ("To", period.end),
        (
            "Status",
            "provisional: the period had not ended on the as-of date" if report.provisional else "final",
        ),
        ("As of", report.as_of),
        ("As known on", report.known_on or "everything recorded when produced"),
        ("KPI definitions", f"version {report.pack_version}"),
        ("Definitions of the clocks counted", ", ".join(report.pack_versions) or "none"),
        ("Referrals received", report.referrals.received),
        *((f"{f.title}: count", f.count) for f in report.feedback),
        ("Small numbers", report.disclosure.describe()),
    ]
    columns = (
        Column("KPI"),
        Column("Measure"),
        Column("Target", Kind.PERCENT),
        Column("Result", Kind.PERCENT),
        Column("RAG", Kind.RAG),
        Column("Met", Kind.INT),
        Column("Breached", Kind.INT),
        Column("Excepted", Kind.INT),
        Column("Running", Kind.INT),
        Column("Cancelled", Kind.INT),
        Column("Survey responses", Kind.INT),
        Column("Agree", Kind.INT),
    )
    rows: list[list[Cell]] = []
    for sat in report.satisfaction_kpis:  # KPI 1, or the KPI of each group of service users, each on target
        rows.append([sat.kpi, sat.title, _target(sat.target), result(sat), rag_word(sat.rag), *[None] * 5])
        rows[-1] += [sat.responses, sat.agree]
    for k in report.kpis:
        rows.append(
            [k.kpi, k.title, _target(k.target), k.percent, rag_word(k.rag), k.met, k.breached, k.excepted]
        )
        rows[-1] += [k.running, k.cancelled, None, None]
    return Sheet("Summary", "summary", columns, rows, tuple(about))


_CLOCK_COLUMNS = (
    Column("Reference"),
    Column("Clock no.", Kind.INT),
    Column("Starts", Kind.DATE),
    Column("Due", Kind.DATE),
    Column("Stopped", Kind.DATE),
    Column("Ended", Kind.DATE),
    Column("Ended by"),
    Column("Status", Kind.STATUS),
    Column("Exception reason"),
    Column("Exception until", Kind.DATE),
)
_VERSION_COLUMN = Column("Definitions version")
_STATUS_WORDS = {status: status.value.capitalize() for status in ClockStatus}


def _kpi_sheet(report: ComplianceReport, key: str) -> Sheet:
    kpi = next(k for k in report.kpis if k.key == key)
    # the version column only when several versions governed the period's clocks (else it is on the Summary)
    versions = len(report.pack_versions) > 1
    named = report.with_caseworkers  # the caseworker column: the provider's copy only
    label = report.label

    def rows() -> Iterator[list[Cell]]:
        for line in _breached_first(report.clocks.breached(key), lambda: report.clocks.of_clock(key)):
            row: list[Cell] = [
                line.ref,
                line.number,
                line.starts_on,
                line.due_on,
                line.stopped_on,
                line.ended_on,
                label(line.ended_by) if line.ended_by else None,
                _STATUS_WORDS[line.status],
                label(line.exception_reason) if line.exception_reason else None,
                line.exception_until,
            ]
            if named:
                row.append(line.owner)
            if versions:
                row.append(line.pack_version)
            yield row

    name = _sheet_name(kpi.kpi if kpi.kpi != kpi.key else kpi.title)
    columns = (*_CLOCK_COLUMNS, *([CASEWORKER_COLUMN] if named else []))
    columns += (_VERSION_COLUMN,) if versions else ()
    title = f"{kpi.kpi}: {kpi.title}" if kpi.kpi != kpi.title else kpi.title
    return Sheet(name, _slug(name), columns, Rows(rows, kpi.total), title=f"{title}: every clock due")


def _breaches(report: ComplianceReport) -> Sheet:
    columns = (
        Column("Reference"),
        Column("KPI"),
        Column("Measure"),
        Column("Due", Kind.DATE),
        Column("Stopped", Kind.DATE),
        Column("Status", Kind.STATUS),
        Column("Calendar days late", Kind.INT),  # the TUI gives working days for working-day clocks
        Column("Exception reason"),
        Column("Exception until", Kind.DATE),
        *([CASEWORKER_COLUMN] if report.with_caseworkers else []),
    )
    titles = {k.key: k.title for k in report.kpis}

    def rows() -> Iterator[list[Cell]]:
        for line in _breached_first(report.clocks.breached(), report.clocks.listed):
            late = None
            if line.status is ClockStatus.BREACHED:
                late = ((line.stopped_on or line.ended_on or report.as_of) - line.due_on).days
            row: list[Cell] = [
                line.ref,
                line.kpi,
                titles.get(line.clock, line.clock),
                line.due_on,
                line.stopped_on,
                _STATUS_WORDS[line.status],
                late,
                report.label(line.exception_reason) if line.exception_reason else None,
                line.exception_until,
            ]
            if report.with_caseworkers:  # the provider's copy only
                row.append(line.owner)
            yield row

    count = sum(k.breached + k.excepted for k in report.kpis)
    title = "Breaches and exceptions: breached clocks first, then excepted"
    return Sheet(
        "Breaches and exceptions", "breaches-and-exceptions", columns, Rows(rows, count), title=title
    )


def _breakdown_rows(measure: str, breakdown: Breakdown) -> list[list[Cell]]:
    rows: list[list[Cell]] = [[measure, label, count] for _value, label, count in breakdown.rows]
    rows.append([measure, "Total", breakdown.total])
    return rows


def _referrals(report: ComplianceReport) -> Sheet:
    referrals = report.referrals
    columns = (
        Column("Measure"),
        Column("Category"),
        Column("Count", Kind.COUNT),
        Column("Median days", Kind.NUMBER),
        Column("Mean days", Kind.NUMBER),
        Column("Longest (days)", Kind.INT),
    )
    rows: list[list[Cell]] = [["Referrals received", "All", referrals.received]]
    for breakdown in (referrals.by_type, *referrals.breakdowns, *referrals.outcomes):
        rows += _breakdown_rows(breakdown.title, breakdown)
    if (professionals := referrals.professionals) is not None:  # a referral may involve several
        rows += [[professionals.title, label, count] for _value, label, count in professionals.rows]
        rows.append([professionals.title, "Referrals received", professionals.total])
    for step in referrals.times:
        days: list[Cell] = [step.median_days, step.mean_days, step.max_days]
        rows.append(
            ["Days from referral to", step.title, step.cases, *([HIDDEN] * 3 if step.suppressed else days)]
        )
    return Sheet("Referrals", "referrals", columns, [row + [None] * (6 - len(row)) for row in rows])


def _profile(report: ComplianceReport) -> Sheet:
    columns = (Column("Measure"), Column("Category"), Column("Count", Kind.COUNT))
    rows = [row for breakdown in report.profile for row in _breakdown_rows(breakdown.title, breakdown)]
    return Sheet("Profile", "profile", columns, rows)


def _satisfaction(report: ComplianceReport) -> Sheet:
    columns = (
        Column("Question"),
        Column("KPI"),
        Column("Responses", Kind.INT),
        Column("Agree", Kind.INT),
        Column("Result", Kind.PERCENT),
        Column("Target", Kind.PERCENT),
        Column("RAG", Kind.RAG),
    )
    rows: list[list[Cell]] = []
    for q in [*report.satisfaction_kpis, *report.questions]:
        target = _target(q.target) if q.kpi else q.target  # a question without a KPI has no target to set
        rows.append([q.title, q.kpi or None, q.responses, q.agree, result(q), target, rag_word(q.rag)])
    if report.satisfaction is None and report.satisfaction_groups:  # a count of every group's responses
        rows.append(["Responses from all service users (a count, not a KPI)", None])
        rows[-1] += [report.satisfaction_responses, *[None] * 4]
    rows.append(["Comments received (kept by the provider, never exported)", None, report.comments])
    rows[-1] += [None] * 4
    return Sheet("Satisfaction", "satisfaction", columns, rows)


def _feedback(report: ComplianceReport) -> Sheet:
    names: dict[str, str] = {}
    for summary in report.feedback:
        for breakdown in summary.breakdowns:
            names.setdefault(breakdown.key, breakdown.title)
    columns: tuple[Column, ...] = (Column("Type"), Column("Reference"), Column("Date", Kind.DATE))
    columns += tuple(Column(title) for title in names.values())
    rows: list[list[Cell]] = []
    for summary in report.feedback:
        for item in summary.items:
            values = [item.choices.get(name) for name in names]
            rows.append(
                [summary.title, item.ref, item.on, *(report.label(str(v)) if v else None for v in values)]
            )
    return Sheet("Feedback", "service-feedback", columns, rows)


def _trend(report: ComplianceReport) -> Sheet:
    keys = [(s.key, s.kpi) for s in report.satisfaction_kpis]  # a column for each group's satisfaction
    keys += [(k.key, k.kpi) for k in report.kpis]
    columns: tuple[Column, ...] = (Column("Month"), Column("From", Kind.DATE), Column("To", Kind.DATE))
    columns += (Column("Referrals", Kind.INT),)
    columns += tuple(Column(f"{label} %", Kind.PERCENT) for _key, label in keys)
    rows = [
        [
            m.period.name,
            m.period.start,
            m.period.end,
            m.referrals,
            *(HIDDEN if m.kpis[key][0] == HIDDEN else m.kpis[key][2] for key, _ in keys),
        ]
        for m in report.trend
    ]
    return Sheet("Monthly trend", "monthly-trend", columns, rows)


def _notes(report: ComplianceReport) -> Sheet:
    rows: list[list[Cell]] = [
        [term, small_numbers_note(report.disclosure) if term == SMALL_NUMBERS else text]
        for term, text in COUNTING_RULES
    ]
    rows += [[label, text] for label, text in report.definitions]
    rows.append(["Produced", f"by caseclock as of {report.as_of.isoformat()} for {report.period.name}"])
    return Sheet("Notes", "notes", (Column("Term"), Column("Definition")), rows)
