"""The compliance and alerts screens with Pilot: tile figures for seeded periods, the findings, the outbox."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from textual.widgets import DataTable, Input, Select

from tests.tui.conftest import AS_OF, NOW, settle
from tracker.alerts.dispatch import Channels, run_pass
from tracker.alerts.notify import DeliveryResult
from tracker.domain.compliance import AMBER_BAND, ClockKpi
from tracker.domain.config import Settings
from tracker.domain.periods import month, this_quarter
from tracker.reports.report import compliance_report
from tui.screens.alerts import AlertsScreen
from tui.screens.case import CaseScreen
from tui.screens.compliance import ComplianceScreen
from tui.widgets.caseworker_table import CaseworkerTable
from tui.widgets.kpi_tile import KpiTile, rag_words
from tui.widgets.service_panel import ServicePanel, service_text
from tui.widgets.status_line import StatusLine
from tui.widgets.trend_chart import TrendChart, chart_text


def tiles(app) -> dict[str, KpiTile]:
    return {tile.key: tile for tile in app.screen.query(KpiTile)}


async def test_the_tiles_show_the_shared_computation_for_the_quarter(app, tui_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ComplianceScreen)
        shown = tiles(app)
        assert list(shown) == ["kpi1", "kpi2", "kpi3", "kpi4", "kpi5"]
        kpi2 = shown["kpi2"].figure
        assert (kpi2.met, kpi2.breached, kpi2.excepted, kpi2.running, kpi2.cancelled) == (2, 1, 0, 1, 1)
        # every count behind the percentage, each on its line
        assert str(shown["kpi2"].render()).splitlines() == [
            "RED 66.7%",
            "met 2",
            "breached 1",
            "excepted 0",
            "running 1",
            "cancelled 1",
        ]
        assert shown["kpi2"].has_class("-red")
        assert shown["kpi3"].tooltip == "KPI 3 Meeting confirmation circulated"  # whole, where a title is cut
        kpi5 = shown["kpi5"].figure
        assert (kpi5.met, kpi5.breached, kpi5.excepted) == (0, 1, 1)
        assert str(shown["kpi3"].render()).startswith("no data")
        assert shown["kpi3"].has_class("-none")
        # a result of fewer than 5 surveys is withheld and not rated, on the screen as in an export
        assert str(shown["kpi1"].render()).splitlines()[0] == "withheld: too few"
        assert shown["kpi1"].has_class("-none")
        assert shown["kpi1"].border_subtitle == "target 90%"
        # exactly the report `caseclock export` writes, not a recount
        report = compliance_report(tui_store, None, this_quarter(AS_OF), AS_OF)
        assert [t.figure for t in shown.values()] == [report.satisfaction, *report.kpis]


async def test_a_month_chosen_as_a_custom_period(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#period-choice", Select).value = "custom"
        await pilot.pause()
        assert app.screen.query_one("#period-text", Input).has_focus
        await pilot.press(*"2026-03", "enter")
        await settle(pilot)
        assert app.screen.period() == month(2026, 3)
        kpi2 = tiles(app)["kpi2"].figure
        assert (kpi2.met, kpi2.breached, kpi2.running, kpi2.percent) == (1, 0, 1, 100.0)
        assert str(tiles(app)["kpi2"].render()).startswith("GREEN 100.0%")


async def test_a_period_it_cannot_read_is_refused_inline(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        app.screen.query_one("#period-choice", Select).value = "custom"
        await pilot.pause()
        await pilot.press(*"FY26", "enter")
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.error
        assert "period=FY26: use a month (2026-05)" in str(status.render())


@pytest.mark.parametrize(
    ("keys", "choice", "name"),
    [
        ("m", "month", "2026-03"),
        ("M", "last-month", "2026-02"),
        ("u", "quarter", "FY2025-Q4"),
        ("U", "last-quarter", "FY2025-Q3"),
        ("y", "year", "FY2025"),
        ("Y", "last-year", "FY2024"),
    ],
)
async def test_a_key_chooses_this_or_last_month_quarter_or_year(app, tui_store, keys, choice, name) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        if choice == "quarter":
            await pilot.press("m")  # away from the default first, so that `u` has something to change
            await settle(pilot)
        await pilot.press(keys)
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#period-choice", Select).value == choice
        assert screen.period().name == name
        report = compliance_report(tui_store, None, screen.period(), AS_OF)
        assert [t.figure for t in tiles(app).values()] == [report.satisfaction, *report.kpis]
        assert str(screen.query_one(StatusLine).render()).startswith(name)


async def test_breaches_show_how_late_in_the_days_their_clock_counts(app, tui_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        findings = app.screen.query_one("#findings", DataTable)
        late = {
            (str(findings.get_row_at(i)[0]), str(findings.get_row_at(i)[1])): str(findings.get_row_at(i)[4])
            for i in range(findings.row_count)
        }
        # KPI 2 is due 3 working days after the request (5 Feb): 23 working days to 10 March, still open;
        # KPI 5 is due 30 calendar days after it (4 March): 6 calendar days; an exception is not late
        assert late == {
            ("M-0001", "KPI 2"): "23 working days",
            ("M-0001", "KPI 5"): "6 calendar days",
            ("M-0006", "KPI 5"): "",
        }


async def test_the_caseworkers_view_shows_the_reports_figures_per_caseworker(app, tui_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        staff = app.screen.query_one(CaseworkerTable)
        findings = app.screen.query_one("#findings", DataTable)
        assert (staff.display, findings.display) == (False, True)
        await pilot.press("w")
        await pilot.pause()
        assert (staff.display, findings.display) == (True, False)
        assert staff.has_focus
        report = compliance_report(tui_store, None, this_quarter(AS_OF), AS_OF, with_caseworkers=True)
        rows = [[str(c) for c in staff.get_row_at(i)] for i in range(staff.row_count)]
        assert [r[:4] for r in rows] == [
            [f.name or "No caseworker", str(f.opened), str(f.met), str(f.breached)]
            for f in report.caseworkers
        ]
        assert [r[0] for r in rows] == ["Jo Smith", "Sam Patel"]
        assert [str(c.label) for c in staff.columns.values()][5:] == [
            "KPI 2 met/br",
            "KPI 3 met/br",
            "KPI 4 met/br",
            "KPI 5 met/br",
        ]
        await pilot.press("w")
        await pilot.pause()
        assert (staff.display, findings.display) == (False, True)
        assert findings.has_focus


def _cells(path: Path) -> set[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    found = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row}
    book.close()
    return found


async def test_x_exports_the_period_shown_to_the_documents_folder(app, tmp_path, monkeypatch) -> None:
    docs = tmp_path / "documents"
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(docs))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("M")  # last month: February 2026
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        written = docs / "send-mediation-compliance-2026-02.xlsx"
        assert app.screen.last_export == written
        assert written.is_file()
        status = app.screen.query_one(StatusLine)
        assert not status.error
        assert str(status.render()) == f"Wrote {written}"
        assert [n.message for n in app._notifications] == [f"Wrote {written}"]
        cells = _cells(written)
        assert "2026-02" in " ".join(cells)
        # a commissioner's copy, as `caseclock export` writes it: no caseworker named anywhere
        assert not {"Jo Smith", "Sam Patel"} & cells
        await pilot.press("X")  # the provider's copy, asked for: a file of its own, with the names
        await settle(pilot)
        provider = docs / "send-mediation-compliance-2026-02-with-caseworkers.xlsx"
        assert app.screen.last_export == provider
        assert {"Jo Smith", "Sam Patel"} <= _cells(provider)
        assert "keep it at the provider" in str(status.render())


async def test_an_export_to_a_folder_it_cannot_write_says_so_inline(app, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(blocker / "documents"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ComplianceScreen)  # no error dialog, no traceback
        status = app.screen.query_one(StatusLine)
        assert status.error
        words = str(status.render())
        assert words.startswith(f"Not done: cannot write the workbook to {blocker / 'documents'} (")
        assert "caseclock export --out" in words
        assert app.screen.last_export is None


async def test_breaches_and_exceptions_are_listed_with_reasons_and_open_their_case(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        findings = app.screen.query_one("#findings", DataTable)
        rows = [[str(c) for c in findings.get_row_at(i)] for i in range(findings.row_count)]
        assert [(r[0], r[1], r[3], r[6]) for r in rows] == [
            ("M-0001", "KPI 2", "!! breached", ""),
            ("M-0001", "KPI 5", "!! breached", ""),
            ("M-0006", "KPI 5", "excepted", "School holiday"),
        ]
        await pilot.press("l", "down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "M-0006"
        await pilot.press("escape")
        assert isinstance(app.screen, ComplianceScreen)


async def test_the_service_data_shows_the_reports_referrals_flow_and_waits(app, tui_store) -> None:
    async with app.run_test(size=(100, 40)) as pilot:  # narrow: the panel takes the findings' place
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        panel = app.screen.query_one(ServicePanel)
        findings = app.screen.query_one("#findings", DataTable)
        assert (panel.display, findings.display) == (False, True)
        await pilot.press("s")
        await pilot.pause()
        assert (panel.display, findings.display) == (True, False)
        assert panel.has_focus
        # the provider's own view: the figures per caseworker too
        report = compliance_report(tui_store, None, this_quarter(AS_OF), AS_OF, with_caseworkers=True)
        shown = panel.text.plain
        assert shown == service_text(report).plain  # the shared computation, nothing counted again
        assert report.caseworkers
        for staff in report.caseworkers:
            assert f"{staff.name}: {staff.opened} opened; {staff.met} met, {staff.breached} breached" in shown
        assert f"Referrals: {report.referrals.received} received" in shown
        assert report.flow
        assert all(f"{f.title}: {f.cases}" in shown for f in report.flow)
        assert report.waiting_times
        for wait in report.waiting_times:
            assert f"{wait.kpi} {wait.title}: {wait.stopped} stopped" in shown
        await pilot.press("s")
        await pilot.pause()
        assert (panel.display, findings.display) == (False, True)
        assert findings.has_focus


async def test_a_wide_terminal_shows_the_service_data_beside_the_breaches(app) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        panel = app.screen.query_one(ServicePanel)
        assert panel.display
        assert app.screen.query_one("#findings").display
        assert panel.border_title == "Service data"
        assert "Referrals:" in panel.text.plain


async def test_focusing_a_tile_charts_that_kpi_month_by_month_on_a_0_to_100_scale(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        tiles(app)["kpi2"].focus()
        await pilot.pause()
        panel = app.screen.query_one("#chart-panel")
        assert panel.border_title == "Month by month, 0–100%: KPI 2 LA/ICB notified"
        assert panel.border_subtitle == "Jan –  Feb 50%  Mar 100%"  # Feb: M-0001 late, M-0006 on time
        chart = app.screen.query_one(TrendChart)
        assert chart.points == (("Jan", None), ("Feb", 50.0), ("Mar", 100.0))
        assert chart.target == 100.0
        # four lines of 25 points each: 50% fills the lower two, 100% all four; the target row is dashed
        # where no bar reaches it; January has nothing to judge ("–", never 0%)
        lines = [line.rstrip() for line in str(chart.render()).splitlines()]
        assert lines == [
            "100% ┄┄┄┄┄┄┄┄┄┄┄┄█████┄",
            "                 █████",
            "           █████ █████",
            "  0%   –   █████ █████",
            "     Jan   Feb   Mar",
        ]
        # what GREEN, AMBER and RED mean for the charted KPI: its target and the report's amber band
        rag = str(app.screen.query_one("#rag-line").render())
        amber = f"{100 - AMBER_BAND:g}%"
        assert rag == f"┄ Target 100%: GREEN 100% or more · AMBER {amber} to under 100% · RED under {amber}"
        tiles(app)["kpi1"].focus()
        await pilot.pause()
        assert str(app.screen.query_one("#rag-line").render()).startswith("┄ Target 90%: GREEN 90% or more")


def test_the_chart_keeps_its_scale_whatever_the_data() -> None:
    """95% and 100% are both near the top: the scale is 0-100, not the data's own range."""
    lines = [
        line.rstrip() for line in chart_text([("Apr", 95.0), ("May", 100.0)], 90.0, 2, 40).plain.split("\n")
    ]
    assert lines == ["100% ▇▇▇▇▇┄█████┄", "  0% █████ █████", "     Apr   May"]
    half = chart_text([("Apr", 50.0)], None, 2, 40, labels=False).plain.split("\n")
    assert [line.rstrip() for line in half] == ["100%", "  0% █████"]


def test_a_kpi_without_a_target_is_explained_as_not_rated() -> None:
    report = ClockKpi("kpi9", "KPI 9", "Assessed", None, 1, 0, 0, 0, 0, 100.0, None, None)
    assert rag_words(report) == "Target not set: not rated"


class Recording:
    """A notifier that answers from a script: sent, then refused for good, then try later."""

    channel = "email"

    def __init__(self) -> None:
        self.results = [DeliveryResult.delivered(), DeliveryResult.failed("550 no such user")]

    def send(self, alert):
        return self.results.pop(0) if self.results else DeliveryResult.retry("server busy")

    def close(self) -> None:
        pass


async def test_the_alerts_screen_lists_pending_sent_and_failed_alerts(app, tui_store) -> None:
    settings = Settings.model_validate(
        {"email": {"host": "127.0.0.1", "sender": "alerts@provider.example", "to": ["team@provider.example"]}}
    )
    rules = tui_store.rules
    run_pass(
        tui_store.engine,
        rules.packs,
        rules.calendar,
        settings,
        Channels({"email": Recording()}),
        AS_OF,
        lambda: NOW,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one("#alerts", DataTable)
        pending = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert pending
        assert set(pending) == {"… pending"}
        for tab, status in (("alerts-sent", "✓ sent"), ("alerts-failed", "!! failed")):
            app.screen.query_one("#alert-tabs").active = tab
            await settle(pilot)
            assert {str(table.get_row_at(i)[0]) for i in range(table.row_count)} == {status}
        assert "550 no such user" in str(table.get_row_at(0)[7])  # Problem
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)  # an alert names its case by reference: Enter opens it
