"""The compliance screen's figures per caseworker: the provider's own view, never exported from here.

One row per caseworker of the report's `caseworkers` (`tracker.domain.compliance.staff`, computed with the
report, nothing counted here): cases opened in the period, clocks met and breached with their percentage,
and met/breached for each KPI. The TUI runs at the provider, so the names are shown; an export from the
screen leaves them out unless asked for, as `caseclock export` does.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tracker.domain.compliance import ComplianceReport

NO_CASEWORKER = "No caseworker"


class CaseworkerTable(DataTable[Text]):
    """Per caseworker: opened, met, breached, percentage, and met/breached of each KPI."""

    def show(self, report: ComplianceReport) -> None:
        """Show the report's figures per caseworker (the columns follow its KPIs)."""
        self.clear(columns=True)
        kpis = {kpi.key: kpi.kpi for kpi in report.kpis}
        clocks = (
            [clock for clock, _met, _breached in report.caseworkers[0].by_clock] if report.caseworkers else []
        )
        self.add_column("Caseworker", key="name")
        for title in ("Opened", "Met", "Breached", "%"):
            self.add_column(title, key=title.lower())
        for clock in clocks:
            self.add_column(f"{kpis.get(clock, report.label(clock))} met/br", key=clock)
        for staff in report.caseworkers:
            percent = "no data" if staff.percent is None else f"{staff.percent:g}%"
            cells = [
                staff.name or NO_CASEWORKER,
                str(staff.opened),
                str(staff.met),
                str(staff.breached),
                percent,
                *(f"{met}/{breached}" for _clock, met, breached in staff.by_clock),
            ]
            self.add_row(*(Text(c) for c in cells), key=staff.name or NO_CASEWORKER)
