"""The case screen's next steps and the forms' defaults, with Pilot on a real database.

Steps that stop a running clock come first, marked; each step keeps the pack's key in every state; a form
starts on its date, fills in a field with one possible value; a new case gets the number after the highest
in use and the user as its caseworker.
"""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console
from textual.widgets import Input, OptionList, Select

from tests.tui.conftest import AS_OF, ME, NOW, open_case, settle
from tui.screens.case import STOPS_A_CLOCK, CaseScreen
from tui.screens.event_form import EventFormScreen
from tui.screens.new_case import NewCaseScreen

D = dt.date.fromisoformat


def shown_steps(screen: CaseScreen) -> list[str]:
    """Each step of the list as it reads on a wide screen: marker, key, name."""
    steps = screen.query_one("#steps", OptionList)
    return [_plain(steps.get_option_at_index(i).prompt) for i in range(steps.option_count)]


def _plain(prompt: object) -> str:
    console = Console(width=100, file=io.StringIO(), record=True, color_system=None)
    console.print(prompt)
    return console.export_text().rstrip()


async def test_steps_that_stop_a_running_clock_come_first_marked_with_their_keys(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0002")  # mediation requested: kpi2 and kpi5 running
        assert screen.allowed[0] == "la_notified"
        assert screen.stopping == {"la_notified"}  # kpi5 stops on meeting_held, not offered yet
        shown = shown_steps(screen)
        assert shown[0] == f"{STOPS_A_CLOCK} l LA/ICB notified"
        assert not any(line.startswith(STOPS_A_CLOCK) for line in shown[1:])
        assert "  b Meeting scheduled" in shown
        assert "  x Clock exception" in shown
        assert screen.query_one("#steps").border_subtitle == f"{STOPS_A_CLOCK} stops a clock"


async def test_a_step_keeps_its_key_whatever_the_state_and_digits_record_nothing(app, other_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0002")
        before = shown_steps(screen)
        await pilot.press("1")
        assert app.screen is screen  # positions are no keys any more
        await pilot.press("b")
        assert isinstance(app.screen, EventFormScreen)
        assert app.screen.event_type == "meeting_scheduled"
        await pilot.press("escape")
        other_store.record("M-0002", "la_notified", AS_OF, {}, "Sam Patel", NOW, AS_OF)
        await pilot.press("r")
        await settle(pilot)
        after = shown_steps(screen)
        assert before != after
        assert "  b Meeting scheduled" in after  # the same key in another state, another place
        assert "  x Clock exception" in after
        await pilot.press("l")  # LA notified is no longer offered: its key does nothing
        assert app.screen is screen
        await pilot.press("b")
        assert isinstance(app.screen, EventFormScreen)
        assert app.screen.event_type == "meeting_scheduled"


async def test_the_meeting_held_stops_kpi5_and_leads_once_scheduled(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0003")  # meeting scheduled: kpi3 and kpi5 running
        assert set(screen.allowed[:2]) == {"confirmation_sent", "meeting_held"}
        assert screen.stopping == {"confirmation_sent", "meeting_held"}
        assert shown_steps(screen)[:2] == [
            f"{STOPS_A_CLOCK} c Confirmation circulated",
            f"{STOPS_A_CLOCK} h Meeting held",
        ]


async def test_a_form_starts_on_its_date_selected_so_typing_replaces_it(app, other_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press("l")
        form = app.screen
        date = form.query_one("#input-on", Input)
        assert form.focused is date
        assert date.value == AS_OF.isoformat()
        await pilot.press(*"yesterday", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
    assert other_store.case("M-0002").events[-1].on == D("2026-03-09")


async def test_a_certificate_after_a_meeting_held_is_two_keys(app, other_store) -> None:
    moved = {"meeting_date": "2026-03-09"}
    other_store.record("M-0003", "meeting_scheduled", D("2026-03-06"), moved, "seed", NOW, AS_OF)
    other_store.record("M-0003", "meeting_held", D("2026-03-09"), {"outcome": "agreed"}, "seed", NOW, AS_OF)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        assert screen.allowed[0] == "certificate_issued"  # stops kpi4
        await pilot.press("i")
        assert app.screen.query_one("#input-kind", Select).value == "after_mediation"  # the only kind
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
    last = other_store.case("M-0003").events[-1]
    assert (last.type, last.data, last.actor) == ("certificate_issued", {"kind": "after_mediation"}, ME)


async def test_a_new_case_suggests_the_number_after_the_highest_and_the_user_as_caseworker(
    app, tui_store
) -> None:
    tui_store.open_case("M-00400", "mediation", D("2026-03-02"), {}, "seed", NOW, AS_OF)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewCaseScreen)
        assert form.query_one("#reference", Input).value == "M-00401"
        assert form.query_one("#input-caseworker", Input).value == ME
        assert not form.unsaved  # suggestions and defaults are not typing
        form.query_one("#input-on", Input).value = "4/3"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
    state = tui_store.case("M-00401").state
    assert (state.owner, state.opened_on) == (ME, D("2026-03-04"))


async def test_a_new_cases_date_is_refused_beside_it_in_words(app, tui_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        form.query_one("#input-on", Input).value = "2 Decembre"
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = form.query_one("#field-on")
        assert row.has_class("-invalid")
        assert row.problem.startswith("Opened on: '2 Decembre' is not a date; use a date such as 2026-05-04")
        assert form.focused is form.query_one("#input-on")
    assert tui_store.count_cases(AS_OF, "all") == 6


async def test_a_date_left_empty_is_needed(app, other_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press("l", "ctrl+u", "enter")  # the date emptied, then saved
        await settle(pilot)
        row = app.screen.query_one("#field-on")
        assert row.problem == "Date it happened: needed; fill it in"
    assert other_store.case("M-0002").state.state == "mediation_requested"


async def test_help_names_the_step_each_key_records_now(app, other_store) -> None:
    from tui.screens.help import HelpScreen

    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0002")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {key: words for key, words, _detail in app.screen.keys}
        assert keys["l"] == "Record: LA/ICB notified"
        assert keys["b"] == "Record: Meeting scheduled"
        assert "h" not in keys  # a meeting held is not offered yet: its key is not listed
        await pilot.press("escape")
        other_store.record("M-0002", "withdrawn", AS_OF, {"reason": "moved away"}, "Sam Patel", NOW, AS_OF)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("question_mark")
        keys = {key: words for key, words, _detail in app.screen.keys}
        assert "l" not in keys
        assert keys["n"] == "Record: Note"
        assert screen.keys["n"] == "note"


async def test_enter_on_the_case_screen_records_the_step_that_stops_a_clock(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press("enter")
        assert isinstance(app.screen, EventFormScreen)
        assert app.screen.event_type == "la_notified"
