"""Finding and moving with Pilot: views start at their most urgent case, a search covers every view, `:`
and the command palette go to a reference, and the keys people expect (j/k, g/G, q, F1)."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.tui.conftest import AS_OF, ME, NOW, cell, refs, settle
from tracker.cli.demo import generate
from tracker.domain.config import Settings, TuiSettings, UserSettings
from tui.app import make_app
from tui.screens.case import CaseScreen
from tui.screens.cases import CasesScreen
from tui.screens.compliance import ComplianceScreen
from tui.screens.go_to import GoToScreen
from tui.screens.help import HelpScreen
from tui.widgets.case_table import CaseTable
from tui.widgets.case_tables import Timeline
from tui.widgets.status_line import StatusLine


def table(app) -> CaseTable:
    return app.screen.query_one(CaseTable)


def status(app) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def test_a_view_starts_at_its_most_urgent_case_and_the_list_keeps_its_place_when_you_return(
    app, tui_store
) -> None:
    tui_store.import_histories(generate(tui_store.rules, 80, 3, AS_OF, NOW, start_number=1000), NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("G")  # the last row: the table scrolls
        await settle(pilot)
        assert table(app).cursor_row > 20
        assert table(app).scroll_y > 0
        await pilot.press("1")  # another view: its most urgent case, at the top
        await settle(pilot)
        assert (table(app).cursor_row, table(app).scroll_y) == (0, 0)
        await pilot.press("j", "j", "j")
        assert table(app).cursor_row == 3
        kept = table(app).current_ref
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("q")  # back: the list is where it was left
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        assert table(app).current_ref == kept
        await pilot.press("k", "g")
        assert table(app).cursor_row == 0
        await pilot.press("slash", "0")  # a search is another list too: its most urgent case first
        await settle(pilot)
        assert table(app).cursor_row == 0


async def test_opening_another_case_starts_it_afresh(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"0003", "enter", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseScreen)
        assert screen.ref == "M-0003"
        await pilot.press("t", "k", "k")  # up the timeline
        timeline = screen.query_one(Timeline)
        assert timeline.cursor_row == len(timeline.rows) - 3
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("g", "enter")  # the most urgent case: M-0001
        await settle(pilot)
        assert app.screen is screen
        assert screen.ref == "M-0001"
        timeline = screen.query_one(Timeline)
        assert timeline.cursor_row == len(timeline.rows) - 1  # on its latest event, not where M-0003 was
        assert screen.focused is screen.query_one("#steps")


async def test_a_search_covers_every_view_and_says_where_the_other_matches_are(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"0005")  # M-0005 is closed
        await settle(pilot)
        assert refs(app) == []
        assert app.screen.has_class("-empty")
        empty = str(app.screen.query_one("#empty").render())
        assert 'No case in Open matches "0005"' in empty
        assert "1 more in Closed (4)" in empty
        assert "1 more in Closed (4)" in status(app)
        await pilot.press("enter", "4")
        await settle(pilot)
        assert refs(app) == ["M-0005"]
        assert 'Closed matching "0005": 1 case ' in status(app)
        assert "1 more" not in status(app)
        await pilot.press("1", "slash", "backspace", "backspace", "backspace", "backspace", *"jo")
        await settle(pilot)
        assert refs(app) == ["M-0001", "M-0003"]  # Jo Smith's open cases
        assert "1 more in Closed (4)" in status(app)


async def test_a_search_typed_in_one_burst_goes_into_the_box(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for key, character in [("slash", "/"), ("s", "s"), ("a", "a"), ("m", "m")]:
            app.post_message(events.Key(key, character))  # as a terminal hands over fast typing: at once
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)  # "a" did not open the alerts
        box = app.screen.query_one("#filter", Input)
        assert box.value == "sam"
        assert refs(app) == ["M-0002", "D-0004", "M-0006"]
        await pilot.press("slash")  # in the box, / is a character
        assert box.value == "sam/"


async def test_a_search_matches_the_local_authority(app, other_store) -> None:
    other_store.open_case("M-0100", "mediation", AS_OF, {"la": "Suffolk"}, "cli", NOW, AS_OF)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"suff")
        await settle(pilot)
        assert refs(app) == ["M-0100"]


async def test_the_service_users_name_is_matched_only_where_the_config_allows_it(tui_store) -> None:
    for allowed, expected in [(False, []), (True, ["M-0002"])]:
        settings = Settings(user=UserSettings(name=ME), tui=TuiSettings(search_names=allowed))
        app = make_app(settings, tui_store, AS_OF, actor=ME, poll_seconds=3600)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"person m-0002")  # the seeded name of M-0002
            await settle(pilot)
            assert refs(app) == expected


async def test_percent_and_underscore_are_searched_as_themselves(app, other_store) -> None:
    other_store.open_case("M-0101", "mediation", AS_OF, {"caseworker": "Al_Li"}, "cli", NOW, AS_OF)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5", "slash", "_")
        await settle(pilot)
        assert refs(app) == ["M-0101"]
        await pilot.press("backspace", "percent_sign")
        await settle(pilot)
        assert refs(app) == []


async def test_empty_views_say_why_and_what_to_do(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3", "slash", *"sam")  # Sam Patel has nothing overdue
        await settle(pilot)
        empty = str(app.screen.query_one("#empty").render())
        assert 'No case in Overdue matches "sam"' in empty
        assert "3 more in Open (1)" in empty
        await pilot.press("escape", "2")
        await settle(pilot)
        assert refs(app)  # something is due this week
        assert not app.screen.has_class("-empty")


async def test_colon_goes_to_a_reference_in_any_view(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        assert isinstance(app.screen, GoToScreen)
        await pilot.press(*"m-0005", "enter")  # a closed case, not in the Open view
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "M-0005"
        await pilot.press("escape", "colon", *"M-9", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        assert "no case has a reference like" in status(app)
        await pilot.press("colon", *"M-000", "enter")  # several: listed in All to pick one
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        assert len(refs(app)) == 5
        assert app.screen.view == "all"


async def test_the_command_palette_opens_a_case_by_reference(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"M-0006")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert app.screen.ref == "M-0006"


async def test_q_goes_back_and_f1_opens_the_help(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("q")  # on the case list q does nothing (ctrl+q quits)
        assert isinstance(app.screen, CasesScreen)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ComplianceScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        keys = {key for key, _description, _detail in app.screen.keys}
        assert {"q", "f1"} & {k.lower() for key in keys for k in key.split()}
        await pilot.press("f1")
        assert isinstance(app.screen, ComplianceScreen)
        await pilot.press("q")
        assert isinstance(app.screen, CasesScreen)


async def test_the_view_tabs_carry_their_keys(app) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        labels = [str(tab.label) for tab in app.screen.query("Tab")]
        assert labels == ["1 Open", "2 Due this week", "3 Overdue", "4 Closed", "5 All", "6 Mine"]


async def test_left_says_working_or_calendar_days_as_the_clock_counts(app, other_store) -> None:
    # kpi2 is due 3 working days after the request, kpi5 30 calendar days after: the case list shows the
    # clock due first; a request today leaves kpi2 3 working days.
    other_store.open_case("M-0102", "mediation", AS_OF, {}, "cli", NOW, AS_OF)
    other_store.record("M-0102", "mediation_requested", AS_OF, {}, "cli", NOW, AS_OF)
    other_store.record("M-0102", "la_notified", AS_OF, {}, "cli", NOW, AS_OF)  # kpi5 is next
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        row = refs(app).index("M-0102")
        assert cell(app, row, "left").split() == ["30", "days"]
        assert cell(app, row, "next") == "Hold the mediation meeting (or record an agreed exception)"
        first = refs(app).index("M-0002")  # kpi2 due today
        assert cell(app, first, "left").split() == ["!", "today"]
        detail = str(app.screen.query_one("#case-detail").render())
        assert detail.startswith("M-0001 · Mediation · Jo Smith: ")
        assert "Notify the LA and ICB that the parent wishes to mediate" in detail
        assert detail.endswith(", due 2026-02-05, 23 working days late")


async def test_at_80_columns_the_state_stays_whole(app_factory) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert [column.key for column in table(app).columns] == ["ref", "state", "next", "due", "left"]
        assert cell(app, 0, "state") == "Mediation requested"
        widths = {column.key: column.width for column in table(app).columns}
        assert widths["state"] >= len("Mediation requested")  # drawn whole, not "Mediation request…"
        assert widths["left"] >= len("!! 23 working days late")
        assert cell(app, 0, "left").split() == ["!!", "23", "working", "days", "late"]
