"""How the service stands in a period: KPI tiles, a monthly chart, breaches and exceptions, service data.

Every figure comes from `tracker.reports.report.compliance_report`, the same computation `caseclock export`
uses, so the screen and a commissioner's spreadsheet always agree. The report is computed in a thread
worker; the period is one of this month / quarter / half / financial year / contract year, or any period
`tracker.domain.periods.parse_period` reads. Each breach or exception opens its case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Header, Input, Select, Sparkline

from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance import ClockKpi, ComplianceReport, Disclosure, SurveyResult
from tracker.domain.errors import CaseclockError
from tracker.domain.periods import (
    Period,
    parse_period,
    this_contract_year,
    this_financial_year,
    this_half,
    this_month,
    this_quarter,
)
from tracker.reports.report import compliance_report
from tui.context import TuiContext
from tui.messages import ReportLoaded, StoreFailed
from tui.screens.base import LiveScreen
from tui.screens.case import open_case
from tui.widgets.case_table import urgency_style
from tui.widgets.key_bar import KeyBar
from tui.widgets.kpi_tile import KpiTile
from tui.widgets.service_panel import ServicePanel
from tui.widgets.status_line import StatusLine
from tui.words import Urgency

CUSTOM = "custom"
PERIODS: dict[str, tuple[str, Callable[[dt.date], Period]]] = {
    "month": ("This month", this_month),
    "quarter": ("This quarter", this_quarter),
    "half": ("This half-year", this_half),
    "year": ("This financial year", this_financial_year),
    "contract": ("Contract year", this_contract_year),
}
"""Period choice -> (label, the period containing today)."""

WIDE = 120
"""From this many columns the tiles sit in one row."""
ROOMY = 160
"""From this many columns the service data sits beside the breaches (below it, `s` shows it instead)."""
TALL = 32
"""From this many lines the chart is three lines tall."""
REPORT_EVERY = 10
"""Recompute on every tenth poll: a report reads much more than a page of cases."""
_LISTED = (ClockStatus.BREACHED, ClockStatus.EXCEPTED)


class ComplianceScreen(LiveScreen):
    """KPI compliance for a period."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "app.pop_screen",
            "Back",
            tooltip="Back to the case list",
            id="caseclock.compliance.back",
        ),
        Binding("p", "pick_period", "Period", tooltip="Choose the period", id="caseclock.compliance.period"),
        Binding(
            "l",
            "focus_list",
            "Breaches",
            tooltip="The breaches and exceptions",
            id="caseclock.compliance.list",
        ),
        Binding(
            "s",
            "show_service",
            "Service data",
            tooltip="Referrals, flow, waiting times, satisfaction and the service users' profile",
            id="caseclock.compliance.service",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Compute again now",
            id="caseclock.compliance.refresh",
        ),
    ]

    wide: reactive[bool] = reactive(False)
    """Whether the terminal is wide enough for one row of tiles."""
    tall: reactive[bool] = reactive(False)
    """Whether the terminal is tall enough for a three-line chart."""

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx, screen_id="compliance-screen")
        self.choice = "quarter"
        self.custom: Period | None = None
        self.pack_id = next(iter(ctx.rules.packs))
        """The rule pack reported (each has its own KPIs); the first enabled one to begin with."""
        self.report: ComplianceReport | None = None
        self.charted: str | None = None
        self._polls = 0

    def compose(self) -> ComposeResult:
        """Period picker, tiles, chart, findings and the service data (beside them when roomy)."""
        yield Header()
        with Horizontal(id="period-bar"):
            packs = list(self.ctx.rules.packs)
            if len(packs) > 1:
                titles = [(self.ctx.pack_by_id(pack).title, pack) for pack in packs]
                yield Select(titles, value=self.pack_id, allow_blank=False, compact=True, id="pack-choice")
            options = [(label, key) for key, (label, _) in PERIODS.items()] + [("Custom…", CUSTOM)]
            yield Select(options, value=self.choice, allow_blank=False, compact=True, id="period-choice")
            yield Input(
                placeholder="FY2026-H1, 2026-05, 2026-04-01..2026-09-30", id="period-text", compact=True
            )
        yield Grid(id="tiles")
        with Vertical(id="chart-panel"):
            yield Sparkline([], id="chart")
        with Horizontal(id="lower"):
            yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
            yield ServicePanel(panel_id="service")
        yield StatusLine(line_id="compliance-status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Set up the findings table and compute the default period."""
        findings = self.query_one("#findings", DataTable)
        findings.border_title = "Breaches and exceptions"
        for title in ("Ref", "KPI", "Due", "Status", "Stopped", "Reason", "Caseworker"):
            findings.add_column(title, key=title.lower())
        self.query_one("#chart-panel").border_title = "Month by month"
        self.query_one(ServicePanel).border_title = "Service data"
        self.query_one("#period-text").display = False
        findings.focus()
        self.compute()

    def on_resize(self, event: events.Resize) -> None:
        """One row of tiles on wide terminals, a taller chart on tall ones, the service data beside the
        breaches on the widest (styled in app.tcss)."""
        self.wide = event.size.width >= WIDE
        self.tall = event.size.height >= TALL
        self.set_class(event.size.width >= ROOMY, "-roomy")

    def watch_wide(self, wide: bool) -> None:
        """Styled in app.tcss."""
        self.set_class(wide, "-wide")

    def watch_tall(self, tall: bool) -> None:
        """Styled in app.tcss."""
        self.set_class(tall, "-tall")

    # ------------------------------------------------------------------ the period

    def period(self) -> Period:
        """The period chosen (a custom one once it has been typed)."""
        if self.choice == CUSTOM and self.custom is not None:
            return self.custom
        return PERIODS.get(self.choice, PERIODS["quarter"])[1](self.ctx.clock.today())

    @on(Select.Changed, "#period-choice")
    def _period_chosen(self, event: Select.Changed) -> None:
        event.stop()
        self.choice = str(event.value)
        box = self.query_one("#period-text", Input)
        box.display = self.choice == CUSTOM
        if self.choice == CUSTOM:
            box.focus()
            return
        self.compute()

    @on(Select.Changed, "#pack-choice")
    def _pack_chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL and event.value != self.pack_id:
            self.pack_id = str(event.value)
            self.compute()

    @on(Input.Submitted, "#period-text")
    def _custom_period(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.custom = parse_period(event.value)
        except CaseclockError as error:
            self.query_one(StatusLine).refuse(error.message.replace("--period", "period", 1))
            return
        self.compute()

    def action_pick_period(self) -> None:
        """Open the period list."""
        self.query_one("#period-choice", Select).action_show_overlay()

    # ------------------------------------------------------------------ computing

    def compute(self) -> None:
        """Compute the report of the chosen period in a worker."""
        period = self.period()
        self.query_one(StatusLine).say(f"Computing {_words(period)}…")
        self._compute(self.pack_id, period, self.ctx.clock.today())

    def poll(self) -> None:
        """Recompute now and then, so a step recorded elsewhere shows here too."""
        self._polls += 1
        if self._polls % REPORT_EVERY == 0:
            self._compute(self.pack_id, self.period(), self.ctx.clock.today())

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _compute(self, pack_id: str, period: Period, as_of: dt.date) -> None:
        try:
            # the provider's own view: the findings name their caseworker; small numbers as an export shows
            control = self.ctx.settings.disclosure
            disclosure = Disclosure(control.method, control.threshold)
            report = compliance_report(
                self.ctx.store, pack_id, period, as_of, disclosure=disclosure, with_caseworkers=True
            )
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        self.post_message(ReportLoaded(report))

    def on_report_loaded(self, message: ReportLoaded) -> None:
        """Show a report of the period still chosen."""
        report = message.report
        if report.period != self.period() or report.pack_id != self.pack_id:
            return  # an answer for a period or pack no longer chosen
        self.report = report
        self._draw_tiles(report)
        self._draw_findings(report)
        self._draw_chart()
        self.query_one(ServicePanel).show(report)
        listed = sum(1 for c in report.clocks if c.status in _LISTED)
        self.query_one(StatusLine).say(
            f"{_words(report.period)}: {len(report.clocks)} clocks due, {listed} breached or excepted"
        )

    def on_store_failed(self, message: StoreFailed) -> None:
        """The report could not be computed: say why."""
        self.query_one(StatusLine).refuse(message.message)

    def _draw_tiles(self, report: ComplianceReport) -> None:
        # the satisfaction KPI, or each group's (a tile of its own), then the clocks
        figures: list[SurveyResult | ClockKpi] = [*report.satisfaction_kpis, *report.kpis]
        tiles = {tile.key: tile for tile in self.query(KpiTile)}
        if list(tiles) == [f.key for f in figures]:
            for figure in figures:
                tiles[figure.key].show(figure)
            return
        grid = self.query_one("#tiles", Grid)
        grid.remove_children()
        grid.mount_all(KpiTile(figure) for figure in figures)
        if self.charted not in {f.key for f in figures}:
            charted = next((f for f in figures if f.percent is not None), figures[0] if figures else None)
            self.charted = charted.key if charted else None

    def _draw_findings(self, report: ComplianceReport) -> None:
        table = self.query_one("#findings", DataTable)
        table.clear()
        colours = self.app.theme_variables
        for line in report.clocks:
            if line.status not in _LISTED:
                continue
            breached = line.status is ClockStatus.BREACHED
            style = urgency_style(colours, Urgency.BREACHED) if breached else ""
            stopped = line.stopped_on or line.ended_on
            cells = (
                line.ref,
                line.kpi,
                line.due_on.isoformat(),
                ("!! " if breached else "") + line.status.value,
                stopped.isoformat() if stopped else "not yet",
                report.label(line.exception_reason),
                line.owner or "",
            )
            table.add_row(
                *(Text(c, style=style) for c in cells), key=f"{line.ref}|{line.clock}|{line.number}"
            )

    # ------------------------------------------------------------------ the chart

    @on(KpiTile.Chosen)
    def _tile_chosen(self, event: KpiTile.Chosen) -> None:
        event.stop()
        self.charted = event.tile.key
        self._draw_chart()

    def _draw_chart(self) -> None:
        report = self.report
        panel = self.query_one("#chart-panel")
        if report is None or self.charted is None:
            return
        figures: list[SurveyResult | ClockKpi] = [*report.satisfaction_kpis, *report.kpis]
        title = next((f"{f.kpi} {f.title}" for f in figures if f.key == self.charted), "")
        panel.border_title = f"Month by month: {title}"
        points = [month.kpis.get(self.charted, (0, 0, None)) for month in report.trend]
        self.query_one("#chart", Sparkline).data = [p[2] if p[2] is not None else 0.0 for p in points]
        words = [
            f"{month.period.start.strftime('%b')} {'–' if p[2] is None else f'{p[2]:.0f}%'}"
            for month, p in zip(report.trend, points, strict=True)
        ]
        panel.border_subtitle = "  ".join(words)

    # ------------------------------------------------------------------ opening a case

    @on(DataTable.RowSelected, "#findings")
    def _open_case(self, event: DataTable.RowSelected) -> None:
        event.stop()
        ref = str(event.row_key.value or "").split("|", 1)[0]
        if ref:
            open_case(self.app, self.ctx, ref)

    def action_focus_list(self) -> None:
        """Move to the breaches and exceptions."""
        self.remove_class("-service")
        self.query_one("#findings").focus()

    def action_show_service(self) -> None:
        """Show the service data in the whole lower panel (again: back to the breaches beside it)."""
        if self.has_class("-service"):
            self.action_focus_list()
            return
        self.add_class("-service")
        self.query_one(ServicePanel).focus()

    def action_refresh(self) -> None:
        """Compute again now."""
        self.compute()


def _words(period: Period) -> str:
    return f"{period.name} ({period.start.isoformat()} to {period.end.isoformat()})"
