"""The cases screen with Pilot: urgency order and markers, views, the filter, paging, live updates."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tui.conftest import AS_OF, ME, NOW, cell, refs, settle
from tracker.cli.demo import generate
from tui.messages import CasesShown
from tui.screens.case import CaseScreen
from tui.screens.cases import PAGE, CasesScreen, end_of_week
from tui.screens.help import HelpScreen
from tui.screens.new_case import NewCaseScreen
from tui.widgets.status_line import StatusLine

OPEN_MOST_URGENT_FIRST = ["M-0001", "M-0002", "M-0003", "D-0004", "M-0006"]


async def test_open_cases_most_urgent_first_with_text_markers(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        assert refs(app) == OPEN_MOST_URGENT_FIRST
        assert cell(app, 0, "left").split() == ["!!", "23", "working", "days", "late"]  # kpi2 due 5 Feb
        assert cell(app, 1, "left").split() == ["!", "today"]  # due today: within 2 working days
        assert not cell(app, 2, "left").startswith("!")
        assert cell(app, 0, "next") == "Notify the LA and ICB that the parent wishes to mediate"
        assert cell(app, 0, "due") == "2026-02-05"
        assert cell(app, 0, "owner") == ME
        assert "5 cases" in str(app.screen.query_one(StatusLine).render())


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("1", OPEN_MOST_URGENT_FIRST),
        ("2", ["M-0001", "M-0002"]),  # due by Sunday 15 March, overdue included
        ("3", ["M-0001"]),
        ("4", ["M-0005"]),
        ("5", ["M-0001", "M-0002", "M-0003", "D-0004", "M-0005", "M-0006"]),
        ("6", ["M-0001", "M-0003"]),  # the configured user's open cases
    ],
)
async def test_views(app, key: str, expected: list[str]) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert refs(app) == expected


def test_the_week_ends_on_sunday() -> None:
    assert end_of_week(AS_OF) == dt.date(2026, 3, 15)
    assert end_of_week(dt.date(2026, 3, 15)) == dt.date(2026, 3, 15)


async def test_mine_without_a_configured_name_says_how_to_set_it(tui_store) -> None:
    from tracker.domain.config import Settings
    from tui.app import make_app

    app = make_app(Settings(), tui_store, AS_OF, actor="someone", poll_seconds=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert refs(app) == []
        status = app.screen.query_one(StatusLine)
        assert status.error
        assert "[user] name" in str(status.render())


async def test_the_filter_narrows_as_you_type_and_escape_clears_it(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "s", "a", "m")
        await settle(pilot)
        assert refs(app) == ["M-0002", "D-0004", "M-0006"]  # caseworker Sam Patel
        await pilot.press("backspace", "backspace", "backspace", "0", "0", "0", "3")
        await settle(pilot)
        assert refs(app) == ["M-0003"]  # part of a reference
        await pilot.press("escape")
        await settle(pilot)
        assert refs(app) == OPEN_MOST_URGENT_FIRST


async def test_a_change_by_another_connection_appears_on_the_next_poll(app, other_store) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        other_store.open_case(
            "M-0099", "mediation", dt.date(2026, 1, 5), {"caseworker": "Sam Patel"}, "cli", NOW, AS_OF
        )
        other_store.record("M-0099", "mediation_requested", dt.date(2026, 1, 5), {}, "cli", NOW, AS_OF)
        await settle(pilot)
        assert "M-0099" not in refs(app)  # nothing pressed, no poll yet
        app.screen._tick()  # what the screen's interval timer calls
        await settle(pilot)
        assert refs(app)[0] == "M-0099"  # kpi2 due 8 January: the most urgent now


async def test_the_timer_polls_by_itself(app_factory, other_store) -> None:
    app = app_factory(poll_seconds=0.05)
    seen: list[object] = []
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await settle(pilot)
        other_store.open_case("M-0098", "mediation", AS_OF, {}, "cli", NOW, AS_OF)
        await pilot.pause(0.3)  # several timer periods: no key is pressed
        await settle(pilot)
        assert "M-0098" in refs(app)
    assert any(isinstance(m, CasesShown) for m in seen)


async def test_the_default_poll_shows_changes_within_two_seconds(app_factory) -> None:
    from tui.app import make_app

    assert make_app.__kwdefaults__["poll_seconds"] <= 2.0 - 0.3  # leaves time for the read itself


async def test_pages_are_read_as_the_cursor_nears_the_end(app, tui_store) -> None:
    histories = generate(tui_store.rules, 2 * PAGE + 50, 3, AS_OF, NOW, start_number=1000)
    tui_store.import_histories(histories, NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")  # all cases
        await settle(pilot)
        assert len(refs(app)) == PAGE
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert len(refs(app)) == 2 * PAGE
        total = tui_store.count_cases(AS_OF, "all")
        assert f"{2 * PAGE:,} of {total:,}" in str(app.screen.query_one(StatusLine).render())


async def test_enter_opens_the_case_under_the_cursor(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "M-0002"
        await pilot.press("escape")
        assert isinstance(app.screen, CasesScreen)
        await pilot.press("5", "slash", *"0005", "enter", "enter")  # find a closed case and open it
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "M-0005"


async def test_help_lists_the_screens_keys(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        described = {description for _key, description, _detail in app.screen.keys}
        assert {"Search", "Go to case", "New case", "Compliance", "Help"} <= described
        await pilot.press("escape")
        assert isinstance(app.screen, CasesScreen)


async def test_the_command_palette_lists_every_action(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert len(commands) == len(set(commands)), commands  # each once: `c` and the app's Compliance
        assert "Keys" not in commands  # Textual's keys panel: Help is ours
        titles = set(commands)
        assert {
            "Search",
            "New case",
            "Compliance",
            "Alerts",
            "Cases",
            "Help",
            "Overdue",
            "Mine",
            "Quit",
        } <= titles


async def test_no_color_keeps_the_text_markers(app_factory, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_factory()
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cell(app, 0, "left").startswith("!!")
        assert cell(app, 1, "left").startswith("!")


async def test_a_new_case_gets_the_next_reference_and_opens(app, tui_store) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewCaseScreen)
        reference = form.query_one("#reference")
        assert reference.value == "M-00007"  # prefix M- and the number after the highest (M-0006)
        form.query_one("#input-caseworker").value = "Ava Brown"
        form.query_one("#input-source").value = "school"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "M-00007"
    state = tui_store.case("M-00007").state
    assert (state.owner, state.fields["source"], state.opened_on) == ("Ava Brown", "school", AS_OF)


async def test_a_taken_reference_is_refused_in_the_form(app, tui_store) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#reference").value = "M-0001"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NewCaseScreen)
        error = app.screen.query_one("#form-error", StatusLine)
        assert error.error
        row = app.screen.query_one("#field-reference")
        assert row.problem == "Reference: another case has this reference; choose another"
    assert tui_store.count_cases(AS_OF, "all") == 6


async def test_the_objects_made_at_start_up_are_left_out_of_later_collections(app, monkeypatch) -> None:
    import gc

    from tui import memory

    gc.unfreeze()
    monkeypatch.setattr(memory, "_frozen", False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert refs(app)
        assert memory._frozen
        assert gc.get_freeze_count() > 0
