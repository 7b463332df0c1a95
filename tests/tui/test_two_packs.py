"""Two rule packs enabled at once: the TUI takes each screen's words, fields and KPIs from the right pack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from tests.tui.conftest import AS_OF, ME, NOW, refs, seed, settle
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings, UserSettings
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade
from tui.app import CaseclockApp, make_app
from tui.screens.case import CaseScreen
from tui.screens.compliance import ComplianceScreen
from tui.screens.new_case import NewCaseScreen
from tui.widgets.kpi_tile import KpiTile

PACKS = ["send-mediation", "adoption-support"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[CaseclockApp]:
    engine = make_engine(f"sqlite:///{tmp_path / 'two.db'}")
    upgrade(engine)
    store = Store(engine, Rules(discover_packs(enabled=PACKS), WorkingCalendar()))
    seed(store)
    fields = {"caseworker": ME, "service_user": "adopter"}
    store.open_case("A-0001", "adoption_support", AS_OF, fields, "seed", NOW, AS_OF)
    yield make_app(Settings(user=UserSettings(name=ME)), store, AS_OF, poll_seconds=3600)
    engine.dispose()


async def test_a_new_case_of_the_other_pack_gets_its_fields_and_prefix(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewCaseScreen)
        assert form.query_one("#reference", Input).value == "M-00007"
        form.query_one("#case-type", Select).value = "adoption_support"
        await settle(pilot)
        assert form.query_one("#reference", Input).value == "A-00002"
        assert not form.query("#input-decision_disputed")  # a case field of the mediation pack only
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = form.query_one("#field-service_user")  # required here
        assert row.problem.startswith(f"{row.label}: choose one of ")
        form.query_one("#input-service_user", Select).value = "birth_parent"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "A-00002"


async def test_the_compliance_screen_reports_the_chosen_pack(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "A-0001" in refs(app)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ComplianceScreen)
        assert [t.key for t in app.screen.query(KpiTile)] == ["kpi1", "kpi2", "kpi3", "kpi4", "kpi5"]
        app.screen.query_one("#pack-choice", Select).value = "adoption-support"
        await settle(pilot)
        assert app.screen.report.pack_id == "adoption-support"
        # the contract's three outcome measures, a tile each, then the waiting times
        tiles = list(app.screen.query(KpiTile))
        assert [t.key for t in tiles] == [
            "outcome.adopted_adult",
            "outcome.adopter",
            "outcome.birth_parent",
            "assessment",
            "support",
        ]
        assert [t.figure.kpi for t in tiles[:3]] == [
            "Outcome: Adopted adult",
            "Outcome: Adoptive parent",
            "Outcome: Birth parent",
        ]
        assert all(t.figure.target == 75.0 for t in tiles[:3])
        assert [t.border_title for t in tiles[:3]] == ["Adopted adult", "Adoptive parent", "Birth parent"]
        assert {t.border_subtitle for t in tiles[:3]} == {"target 75%"}
