"""The case screen's parent's windows, with Pilot over a real store."""

from __future__ import annotations

import datetime as dt

from textual.widgets import Static

from tests.tui.conftest import AS_OF, ME, NOW, open_case, settle
from tui.screens.case import CaseScreen
from tui.widgets.row_table import RowTable

D = dt.date.fromisoformat


def open_with_decision_letter(store, ref: str, opened: str, decision_letter_on: str) -> None:
    """A mediation case whose LA decision letter date is recorded, opened through the store."""
    fields = {
        "caseworker": ME,
        "source": "school",
        "name": f"Person {ref}",
        "decision_letter_on": decision_letter_on,
    }
    store.open_case(ref, "mediation", D(opened), fields, "seed", NOW, AS_OF)
    store.record(ref, "mediation_requested", D(opened), {}, "seed", NOW, AS_OF)


def windows(screen: CaseScreen) -> str:
    panel = screen.query_one("#windows", Static)
    assert panel.display
    return str(panel.render())


async def test_a_case_with_its_decision_letter_date_shows_the_appeal_deadline(
    app, tui_store, other_store
) -> None:
    open_with_decision_letter(tui_store, "M-0010", "2026-03-02", "2026-03-01")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(app, pilot, "M-0010")
        text = windows(screen)
        assert "Contact a mediation adviser (reg 33) by 2026-05-01 (open, 52 days)" in text
        assert "Appeal to the First-tier Tribunal: waiting for: Certificate issued" in text  # r.20
        other_store.record("M-0010", "mediation_declined", D("2026-03-03"), {}, "seed", NOW, AS_OF)
        other_store.record(
            "M-0010", "certificate_issued", D("2026-03-04"), {"kind": "advice_only"}, "seed", NOW, AS_OF
        )
        screen.action_refresh()
        await settle(pilot)
        text = windows(screen)
        # the later of 2 calendar months after the decision letter (Friday 1 May, a working day) and 1 month
        # after the certificate (4 April); 52 days after 10 March
        # 2 calendar months after 1 March 2026: Friday 1 May, a working day; 52 days after 10 March
        assert "Appeal to the First-tier Tribunal by 2026-05-01 (open, 52 days)" in text
        assert "Contact a mediation adviser (reg 33) by 2026-05-01 (open, 52 days)" in text
        assert "waiting for" not in text
        assert "!" not in text  # opened in time: no warning
        assert screen.query_one("#windows").border_title == "For the parent (not KPIs)"
        clocks = screen.query_one("#clocks", RowTable)
        assert clocks.row_count > 0
        assert not [row for row in clocks.rows if "Appeal" in " ".join(row.cells)]  # not a clock


async def test_a_case_without_a_decision_letter_date_says_what_the_deadline_waits_for(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        text = windows(screen)
        assert "Appeal to the First-tier Tribunal: waiting for: LA decision letter sent" in text
        assert "Contact a mediation adviser (reg 33): waiting for: LA decision letter sent" in text
        assert " by " not in text


async def test_a_case_opened_after_the_reg_33_window_closed_warns(app, tui_store) -> None:
    open_with_decision_letter(tui_store, "M-0011", "2026-03-02", "2025-12-01")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(app, pilot, "M-0011")
        text = windows(screen)
        assert "Contact a mediation adviser (reg 33) by 2026-02-01 (passed)" in text
        assert text.count("!") == 1  # the reg 33 window only
        assert "! opened after the reg 33 window closed on 2026-02-01" in text


async def test_a_case_type_without_windows_shows_no_panel(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(app, pilot, "D-0004")
        assert not screen.query_one("#windows").display
