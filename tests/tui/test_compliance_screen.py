"""The compliance and alerts screens with Pilot: tile figures for seeded periods, the findings, the outbox."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select

from tests.tui.conftest import AS_OF, NOW, settle
from tracker.alerts.dispatch import Channels, run_pass
from tracker.alerts.notify import DeliveryResult
from tracker.domain.config import Settings
from tracker.domain.periods import month, this_quarter
from tracker.reports.report import compliance_report
from tui.screens.alerts import AlertsScreen
from tui.screens.case import CaseScreen
from tui.screens.compliance import ComplianceScreen
from tui.widgets.kpi_tile import KpiTile
from tui.widgets.service_panel import ServicePanel, service_text
from tui.widgets.status_line import StatusLine


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
        assert str(shown["kpi2"].render()).splitlines() == [
            "RED 66.7%",
            "met 2 breached 1",
            "excepted 0 running 1",
        ]
        assert shown["kpi2"].has_class("-red")
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


async def test_breaches_and_exceptions_are_listed_with_reasons_and_open_their_case(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        findings = app.screen.query_one("#findings", DataTable)
        rows = [[str(c) for c in findings.get_row_at(i)] for i in range(findings.row_count)]
        assert [(r[0], r[1], r[3], r[5]) for r in rows] == [
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


async def test_focusing_a_tile_charts_that_kpi_month_by_month(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        tiles(app)["kpi2"].focus()
        await pilot.pause()
        panel = app.screen.query_one("#chart-panel")
        assert panel.border_title == "Month by month: KPI 2 LA/ICB notified"
        assert panel.border_subtitle == "Jan –  Feb 50%  Mar 100%"  # Feb: M-0001 late, M-0006 on time


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
