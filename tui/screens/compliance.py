"""How the service stands in a period: KPI tiles, a monthly chart, breaches, caseworkers, service data.

Every figure comes from `tracker.reports.report.compliance_report`, the same computation `caseclock export`
uses, so the screen and a commissioner's spreadsheet always agree. The report is computed in a thread
worker; the period is a preset (this or last month, quarter, financial year; this half-year or contract
year: `m`/`M`, `u`/`U` (`q` goes back), `y`/`Y` or the list) or any period
`tracker.domain.periods.parse_period` reads.
Each breach or exception opens its case. `x` writes the period's workbook as `caseclock export` does
(`tui.screens.compliance_export`); the per-caseworker figures (`w`) are the provider's own view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Header, Input, Select, Static

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
from tui.screens.compliance_export import (
    ExportFailed,
    ExportWritten,
    export_folder,
    failure_words,
    write_workbook,
)
from tui.widgets.caseworker_table import CaseworkerTable
from tui.widgets.findings_table import FindingsTable
from tui.widgets.key_bar import KeyBar
from tui.widgets.kpi_tile import KpiTile, rag_words
from tui.widgets.service_panel import ServicePanel
from tui.widgets.status_line import StatusLine
from tui.widgets.trend_chart import TARGET_MARK, TrendChart


def _last(this: Callable[[dt.date], Period]) -> Callable[[dt.date], Period]:
    """The period of the same kind just before the one containing a date."""
    return lambda today: this(this(today).start - dt.timedelta(days=1))


CUSTOM = "custom"
PERIODS: dict[str, tuple[str, Callable[[dt.date], Period]]] = {
    "month": ("This month", this_month),
    "last-month": ("Last month", _last(this_month)),
    "quarter": ("This quarter", this_quarter),
    "last-quarter": ("Last quarter", _last(this_quarter)),
    "half": ("This half-year", this_half),
    "year": ("This financial year", this_financial_year),
    "last-year": ("Last financial year", _last(this_financial_year)),
    "contract": ("Contract year", this_contract_year),
}
"""Period choice -> (label, the period it is as of a date)."""

WIDE = 120
"""From this many columns the period bar has room for the pack's name."""
ROOMY = 160
"""From this many columns the service data sits beside the breaches (below it, `s` shows it instead)."""
TALL = 32
"""From this many lines the chart is four lines tall (else two)."""
REPORT_EVERY = 10
"""Recompute on every tenth poll: a report reads much more than a page of cases."""
LOWER = {"findings": "#findings", "service": "#service", "staff": "#caseworkers"}
"""What the lower panel can show -> its widget."""


def _key(key: str, action: str, words: str, tooltip: str, name: str, *, show: bool = True) -> Binding:
    return Binding(key, action, words, show=show, tooltip=tooltip, id=f"caseclock.compliance.{name}")


class ComplianceScreen(LiveScreen):
    """KPI compliance for a period."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _key("escape", "app.pop_screen", "Back", "Back to the case list", "back"),
        _key("p", "pick_period", "Period", "Choose the period", "period"),
        _key("m", "preset('month')", "This month", "This calendar month", "month", show=False),
        _key(
            "M",
            "preset('last-month')",
            "Last month",
            "The calendar month before this",
            "last-month",
            show=False,
        ),
        _key("u", "preset('quarter')", "This quarter", "This financial-year quarter", "quarter", show=False),
        _key(
            "U",
            "preset('last-quarter')",
            "Last quarter",
            "The quarter before this",
            "last-quarter",
            show=False,
        ),
        _key("y", "preset('year')", "This year", "This financial year (from 1 April)", "year", show=False),
        _key(
            "Y", "preset('last-year')", "Last year", "The financial year before this", "last-year", show=False
        ),
        _key("l", "show_lower('findings')", "Breaches", "The breaches (days late) and exceptions", "list"),
        _key(
            "w",
            "show_lower('staff')",
            "Caseworkers",
            "Each caseworker's cases and clocks (provider only)",
            "staff",
        ),
        _key(
            "s",
            "show_lower('service')",
            "Service",
            "The service data: referrals, flow, waiting times, satisfaction and the service users' profile",
            "service",
        ),
        _key("x", "export", "Export", "Write this period's workbook (xlsx, no caseworker names)", "export"),
        _key(
            "X",
            "export(True)",
            "Export with caseworkers",
            "Write the provider's copy of the workbook: caseworker names and figures included",
            "export-staff",
            show=False,
        ),
        _key("r", "refresh", "Refresh", "Compute again now", "refresh", show=False),
    ]

    wide: reactive[bool] = reactive(False)
    """Whether the terminal is wide (120 columns or more)."""
    tall: reactive[bool] = reactive(False)
    """Whether the terminal is tall enough for a four-line chart."""
    lower: reactive[str] = reactive("findings")
    """What the lower panel shows: `findings`, `staff` or `service` (a key of LOWER)."""

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx, screen_id="compliance-screen")
        self.choice = "quarter"
        self.custom: Period | None = None
        self.pack_id = next(iter(ctx.rules.packs))
        """The rule pack reported (each has its own KPIs); the first enabled one to begin with."""
        self.report: ComplianceReport | None = None
        self.charted: str | None = None
        self.last_export: Path | None = None
        """Where the last export from this screen went."""
        self._polls = 0

    def compose(self) -> ComposeResult:
        """Period picker, tiles, chart, then the breaches, caseworkers or service data."""
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
            yield TrendChart(id="chart")
            yield Static("", id="rag-line", markup=False)
        with Horizontal(id="lower"):
            yield FindingsTable(id="findings", cursor_type="row", zebra_stripes=True)
            yield CaseworkerTable(id="caseworkers", cursor_type="row", zebra_stripes=True)
            yield ServicePanel(panel_id="service")
        yield StatusLine(line_id="compliance-status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Title the panels and compute the default period."""
        self.query_one("#findings").border_title = "Breaches and exceptions"
        self.query_one("#caseworkers").border_title = "Caseworkers (this provider's view only)"
        self.query_one("#chart-panel").border_title = "Month by month, 0–100%"
        self.query_one(ServicePanel).border_title = "Service data"
        self.query_one("#period-text").display = False
        self.query_one("#findings").focus()
        self.compute()

    def on_resize(self, event: events.Resize) -> None:
        """A taller chart on tall terminals, the service data beside the breaches on the widest (app.tcss)."""
        self.wide = event.size.width >= WIDE
        self.tall = event.size.height >= TALL
        self.set_class(event.size.width >= ROOMY, "-roomy")

    def watch_wide(self, wide: bool) -> None:
        """Styled in app.tcss."""
        self.set_class(wide, "-wide")

    def watch_tall(self, tall: bool) -> None:
        """Styled in app.tcss."""
        self.set_class(tall, "-tall")

    def watch_lower(self, old: str, new: str) -> None:
        """Show one panel below the chart (styled in app.tcss: `-service`, `-staff`)."""
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

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

    def action_preset(self, choice: str) -> None:
        """Choose a preset period (the list follows, and its change computes the report)."""
        self.query_one("#period-choice", Select).value = choice

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
        if report == self.report:
            return  # a poll found nothing new: keep what the status line says (an export's notice)
        self.report = report
        self._draw_tiles(report)
        listed = self.query_one(FindingsTable).show(report, self.ctx.rules.packs, self.ctx.calendar)
        self.query_one(CaseworkerTable).show(report)
        self._draw_chart()
        self.query_one(ServicePanel).show(report)
        provisional = ", provisional" if report.provisional else ""
        self.query_one(StatusLine).say(
            f"{_short(report.period)}{provisional}: {len(report.clocks)} clocks, "
            f"{len(listed)} breached or excepted"
        )

    def on_store_failed(self, message: StoreFailed) -> None:
        """The report could not be computed: say why."""
        self.query_one(StatusLine).refuse(message.message)

    def _draw_tiles(self, report: ComplianceReport) -> None:
        # the satisfaction KPI, or each group's (a tile of its own), then the clocks
        figures: list[SurveyResult | ClockKpi] = [*report.satisfaction_kpis, *report.kpis]
        definitions = dict(report.definitions)
        tiles = {tile.key: tile for tile in self.query(KpiTile)}
        if list(tiles) == [f.key for f in figures]:
            for figure in figures:
                tiles[figure.key].show(figure)
        else:
            grid = self.query_one("#tiles", Grid)
            grid.remove_children()
            tiles = {figure.key: KpiTile(figure) for figure in figures}
            grid.mount_all(tiles.values())
        for figure in figures:
            tiles[figure.key].tooltip = definitions.get(figure.kpi)
        if self.charted not in {f.key for f in figures}:
            charted = next((f for f in figures if f.percent is not None), figures[0] if figures else None)
            self.charted = charted.key if charted else None

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
        figure = next((f for f in figures if f.key == self.charted), None)
        if figure is None:
            return
        panel.border_title = f"Month by month, 0–100%: {figure.kpi} {figure.title}"
        points = [month.kpis.get(self.charted, (0, 0, None)) for month in report.trend]
        months = [month.period.start.strftime("%b") for month in report.trend]
        self.query_one(TrendChart).show(
            [(name, p[2]) for name, p in zip(months, points, strict=True)], figure.target
        )
        panel.border_subtitle = "  ".join(
            f"{name} {'–' if p[2] is None else f'{p[2]:.0f}%'}"
            for name, p in zip(months, points, strict=True)
        )
        mark = f"{TARGET_MARK} " if figure.target is not None else ""
        self.query_one("#rag-line", Static).update(mark + rag_words(figure))

    # ------------------------------------------------------------------ the lower panel

    @on(DataTable.RowSelected, "#findings")
    def _open_case(self, event: DataTable.RowSelected) -> None:
        event.stop()
        ref = str(event.row_key.value or "").split("|", 1)[0]
        if ref:
            open_case(self.app, self.ctx, ref)

    @on(DataTable.RowSelected, "#caseworkers")
    def _caseworker_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()  # the figures are the whole story here: nothing to open

    def action_show_lower(self, panel: str) -> None:
        """Show the breaches, the caseworkers or the service data below the chart (again: the breaches)."""
        self.lower = "findings" if self.lower == panel else panel
        self.query_one(LOWER[self.lower]).focus()

    def action_focus_list(self) -> None:
        """Move to the breaches and exceptions."""
        self.lower = "findings"
        self.query_one("#findings").focus()

    # ------------------------------------------------------------------ exporting

    def action_export(self, with_caseworkers: bool = False) -> None:
        """Write the period shown to an xlsx workbook in the documents folder."""
        copy = "the provider's copy" if with_caseworkers else "a workbook"
        self.query_one(StatusLine).say(f"Writing {copy} of {_words(self.period())} to {export_folder()}…")
        self._export(self.pack_id, self.period(), self.ctx.clock.today(), with_caseworkers)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export(self, pack_id: str, period: Period, as_of: dt.date, with_caseworkers: bool) -> None:
        try:
            path = write_workbook(self.ctx, pack_id, period, as_of, with_caseworkers=with_caseworkers)
        except (OSError, CaseclockError) as error:
            self.post_message(ExportFailed(failure_words(export_folder(), error)))
            return
        self.post_message(ExportWritten(path, with_caseworkers))

    def on_export_written(self, message: ExportWritten) -> None:
        """Say where the file went."""
        self.last_export = message.path
        names = " (with caseworker names: keep it at the provider)" if message.with_caseworkers else ""
        words = f"Wrote {message.path}{names}"
        self.query_one(StatusLine).say(words)
        self.notify(words, title="Exported")

    def on_export_failed(self, message: ExportFailed) -> None:
        """Say why nothing was written, inline."""
        self.query_one(StatusLine).refuse(message.message)

    def action_refresh(self) -> None:
        """Compute again now."""
        self.compute()


def _words(period: Period) -> str:
    return f"{period.name} ({period.start.isoformat()} to {period.end.isoformat()})"


def _short(period: Period) -> str:
    """ "FY2026-Q3 1 Oct–31 Dec 2026" (the status line fits 80 columns)."""
    start, end = period.start, period.end
    first = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{period.name} {first}–{end.day} {end:%b %Y}"
