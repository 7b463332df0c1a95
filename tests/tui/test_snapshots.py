"""How the screens look, at 80×24 and 120×40, as SVG snapshots (pytest-textual-snapshot).

A fixed as-of date, a seeded store, no cursor blink. After a deliberate change of looks, review the report
of the failing run, then accept with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.conftest import AS_OF, NOW, settle
from tests.tui.test_alerts_screen import Scripted, alert_pass
from tracker.alerts.notify import DeliveryResult
from tui.screens.case import CaseScreen
from tui.screens.event_form import EventFormScreen

SMALL = (80, 24)
LARGE = (120, 40)


class TestCasesScreen:
    async def _ready(self, pilot) -> None:
        await settle(pilot)

    def test_open_cases_small(self, snap_compare, app) -> None:
        """The home screen in a small terminal: most urgent first, markers beside the colours."""
        assert snap_compare(app, run_before=self._ready, terminal_size=SMALL)

    def test_open_cases_large(self, snap_compare, app) -> None:
        """The home screen in a large terminal: the columns widen."""
        assert snap_compare(app, run_before=self._ready, terminal_size=LARGE)

    async def _searched_elsewhere(self, pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"0005")
        await settle(pilot)

    def test_search_found_only_in_another_view_small(self, snap_compare, app) -> None:
        """A search with no match in Open says where its match is and which key shows it."""
        assert snap_compare(app, run_before=self._searched_elsewhere, terminal_size=SMALL)

    def test_search_found_only_in_another_view_large(self, snap_compare, app) -> None:
        """The same in a large terminal."""
        assert snap_compare(app, run_before=self._searched_elsewhere, terminal_size=LARGE)


class TestCaseScreen:
    async def _open(self, pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(CaseScreen(pilot.app.ctx, "M-0003"))
        await settle(pilot)

    def test_case_small(self, snap_compare, app) -> None:
        """A case with running clocks: the side panel narrows at 80 columns."""
        assert snap_compare(app, run_before=self._open, terminal_size=SMALL)

    def test_case_large(self, snap_compare, app) -> None:
        """The same case with room for its profile."""
        assert snap_compare(app, run_before=self._open, terminal_size=LARGE)


class TestForms:
    async def _refused(self, pilot) -> None:
        await settle(pilot)
        screen = CaseScreen(pilot.app.ctx, "M-0002")
        await pilot.app.push_screen(screen)
        await settle(pilot)
        await pilot.press("b")  # the meeting's key, wherever it is offered
        form = pilot.app.screen
        assert isinstance(form, EventFormScreen)
        form.query_one("#input-meeting_date", Input).value = "2026-03-01"
        await pilot.press("ctrl+s")
        await settle(pilot)

    async def _conflict(self, pilot) -> None:
        await settle(pilot)
        await pilot.app.push_screen(CaseScreen(pilot.app.ctx, "M-0002"))
        await settle(pilot)
        await pilot.press("b")
        form = pilot.app.screen
        form.query_one("#input-meeting_date", Input).value = "2026-03-20"
        store = pilot.app.ctx.store
        store.record("M-0002", "la_notified", AS_OF, {}, "Sam Patel", NOW, AS_OF)
        await pilot.press("ctrl+s")
        await settle(pilot)

    async def _new_case(self, pilot) -> None:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)

    def test_event_form_with_a_refusal_small(self, snap_compare, app) -> None:
        """A step the domain refuses: its words inline, the form still open, required fields marked."""
        assert snap_compare(app, run_before=self._refused, terminal_size=SMALL)

    def test_event_form_after_a_conflict_small(self, snap_compare, app) -> None:
        """Someone else recorded a step meanwhile: who and what, the input kept, reload and save again."""
        assert snap_compare(app, run_before=self._conflict, terminal_size=SMALL)

    def test_new_case_form_large(self, snap_compare, app) -> None:
        """The new-case form with its suggested reference and the pack's case fields."""
        assert snap_compare(app, run_before=self._new_case, terminal_size=LARGE)


class TestComplianceScreen:
    async def _open(self, pilot) -> None:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)

    def test_quarter_small(self, snap_compare, app) -> None:
        """This quarter's tiles, chart and breaches in a small terminal."""
        assert snap_compare(app, run_before=self._open, terminal_size=SMALL)

    def test_quarter_large(self, snap_compare, app) -> None:
        """One row of tiles and a taller chart in a large terminal."""
        assert snap_compare(app, run_before=self._open, terminal_size=LARGE)

    async def _service(self, pilot) -> None:
        await self._open(pilot)
        await pilot.press("s")
        await pilot.pause()

    def test_service_data_large(self, snap_compare, app) -> None:
        """`s`: referrals, days from referral, flow, waiting times and the profile instead of the breaches."""
        assert snap_compare(app, run_before=self._service, terminal_size=LARGE)

    async def _caseworkers(self, pilot) -> None:
        await self._open(pilot)
        await pilot.press("w")
        await pilot.pause()

    def test_caseworkers_small(self, snap_compare, app) -> None:
        """`w`: each caseworker's cases opened and clocks met and breached, per KPI too."""
        assert snap_compare(app, run_before=self._caseworkers, terminal_size=SMALL)


class TestAlertsScreen:
    async def _empty(self, pilot) -> None:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    async def _recorded(self, pilot) -> None:
        store = pilot.app.ctx.store
        alert_pass(store, Scripted(DeliveryResult.delivered(), then=DeliveryResult.retry("server busy")))
        await self._empty(pilot)

    def test_empty_small(self, snap_compare, app) -> None:
        """No alerts yet: what alerts are, and that `caseclock check`/`watch` send them."""
        assert snap_compare(app, run_before=self._empty, terminal_size=SMALL)

    def test_pending_large(self, snap_compare, app) -> None:
        """Pending alerts in their own words, counted on the tabs, the first one's action below."""
        assert snap_compare(app, run_before=self._recorded, terminal_size=LARGE)

    def test_pending_small(self, snap_compare, app) -> None:
        """The same alerts at 80 columns: the line below says in full what the columns cut."""
        assert snap_compare(app, run_before=self._recorded, terminal_size=SMALL)

    def test_empty_large(self, snap_compare, app) -> None:
        """The explanation with room to spare."""
        assert snap_compare(app, run_before=self._empty, terminal_size=LARGE)
