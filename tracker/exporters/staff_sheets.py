"""The provider's "Caseworkers" sheet, and where caseworker names may appear in the others.

Pure layout, like `tracker.exporters.sheets` (which places this sheet in the workbook), with the same
`tracker.exporters.layout` types. Caseworker (staff) names stay with the provider: only a report made with
`--with-caseworkers` (`ComplianceReport.with_caseworkers`) has a Caseworker column in the clock sheets and
this sheet; a commissioner's copy (the default) has neither.
"""

from __future__ import annotations

from tracker.domain.compliance import ComplianceReport
from tracker.exporters.layout import Cell, Column, Kind, Sheet

CASEWORKER_COLUMN = Column("Caseworker")
NO_CASEWORKER = "(no caseworker)"


def caseworkers_sheet(report: ComplianceReport) -> Sheet | None:
    """Per caseworker: cases opened, clocks met and breached, % met, then met and breached per KPI."""
    if not report.with_caseworkers:
        return None
    kpis = {kpi.key: kpi.kpi for kpi in report.kpis}
    clocks = (
        [clock for clock, _met, _breached in report.caseworkers[0].by_clock] if report.caseworkers else []
    )
    columns: tuple[Column, ...] = (
        Column("Caseworker"),
        Column("Cases opened", Kind.INT),
        Column("Clocks met", Kind.INT),
        Column("Clocks breached", Kind.INT),
        Column("% met", Kind.PERCENT),
    )
    for clock in clocks:
        kpi = kpis.get(clock, clock)
        columns += (Column(f"{kpi} met", Kind.INT), Column(f"{kpi} breached", Kind.INT))
    rows: list[list[Cell]] = []
    for figures in report.caseworkers:
        row: list[Cell] = [
            figures.name or NO_CASEWORKER,
            figures.opened,
            figures.met,
            figures.breached,
            figures.percent,
        ]
        for _clock, met, breached in figures.by_clock:
            row += [met, breached]
        rows.append(row)
    about: tuple[tuple[str, Cell], ...] = (
        ("Copy", "the provider's: names caseworkers (staff); not for the commissioner"),
    )
    return Sheet("Caseworkers", "caseworkers", columns, rows, about)
