"""The case screen and its forms with Pilot: a mediation path, refusals, voiding, a concurrent change."""

from __future__ import annotations

import datetime as dt

from textual.widgets import Button, Input, OptionList, Select

from tests.tui.conftest import AS_OF, ME, NOW, open_case, settle
from tracker.domain.workflow import allowed_events
from tui.screens.case import CaseScreen
from tui.screens.case import open_case as open_case_screen
from tui.screens.event_form import EventFormScreen
from tui.screens.void import VoidScreen
from tui.widgets.field_input import FieldInput
from tui.widgets.row_table import RowTable
from tui.widgets.status_line import StatusLine
from tui.widgets.text_panel import TextPanel

D = dt.date.fromisoformat


def key_of(app, event: str) -> str:
    """The key the pack gives a step."""
    return app.ctx.rules.packs.latest("send-mediation").step_keys[event]


async def record(pilot, screen: CaseScreen, event: str, on: str, **fields: str) -> None:
    """Pick `event` from the next steps by its key, fill in the form, save."""
    assert event in screen.allowed, f"{event} not offered: {screen.allowed}"
    await pilot.press(key_of(pilot.app, event))
    form = pilot.app.screen
    assert isinstance(form, EventFormScreen)
    form.query_one("#input-on", Input).value = on
    for name, value in fields.items():
        form.query_one(f"#input-{name}").value = value
    await pilot.press("ctrl+s")
    await settle(pilot)


def form_error(app) -> str:
    line = app.screen.query_one("#form-error", StatusLine)
    assert line.error
    return str(line.render())


def field_problem(app, name: str) -> str:
    """The words under a form field, which must be marked as refused."""
    row = app.screen.query_one(f"#field-{name}", FieldInput)
    assert row.has_class("-invalid")
    assert "--" not in row.problem  # no command-line flag in the caseworker's words
    return row.problem


async def test_a_case_shows_its_profile_clocks_timeline_and_exactly_the_allowed_steps(app, tui_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        state = tui_store.case("M-0003").state
        assert sorted(screen.allowed) == sorted(allowed_events(tui_store.rules, state, AS_OF))
        steps = screen.query_one("#steps", OptionList)
        assert [steps.get_option_at_index(i).id for i in range(steps.option_count)] == screen.allowed
        summary = str(screen.query_one("#case-summary").render())
        assert "M-0003" in summary
        assert "Meeting scheduled" in summary
        assert ME in summary
        profile = screen.query_one("#profile", TextPanel).text.plain
        assert "Name: Person M-0003" in profile  # personal fields: this is the caseworker's own screen
        clocks = screen.query_one("#clocks", RowTable)
        assert clocks.row_count == 3
        kpi3 = [str(c) for c in clocks.get_row("kpi3-1")]
        assert kpi3[:4] == [
            "KPI 3 Meeting confirmation circulated",
            "2026-03-23",
            "running",
            "9 working days",
        ]
        kpi5 = [str(c) for c in clocks.get_row("kpi5-1")]
        assert kpi5[3] == "22 days"  # 30 calendar days from 2 March: counted as the clock counts
        timeline = screen.query_one("#timeline", RowTable)
        assert [str(timeline.get_row(str(seq))[2]) for seq in range(1, 5)] == [
            "Case opened",
            "Mediation requested",
            "LA/ICB notified",
            "Meeting scheduled",
        ]
        assert "Meeting date: 2026-03-30" in str(timeline.get_row("4")[4])


async def test_every_step_of_a_mediation_path_through_the_forms(app, tui_store) -> None:
    tui_store.open_case("M-0100", "mediation", D("2026-03-02"), {"caseworker": ME}, "seed", NOW, AS_OF)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0100")
        await record(pilot, screen, "mediation_requested", "2026-03-02")
        await record(pilot, screen, "la_notified", "4/3/26")  # British day-first
        # Back-dated before the notification: the case refolds in date order.
        await record(pilot, screen, "meeting_scheduled", "2026-03-02", meeting_date="2026-03-10")
        await record(pilot, screen, "confirmation_sent", "3/3/26")
        await record(pilot, screen, "meeting_held", "today", outcome="agreed")
        await record(pilot, screen, "certificate_issued", "today", kind="after_mediation")
        await record(pilot, screen, "closed", "today")
        assert isinstance(app.screen, CaseScreen)
        assert "Case closed" in str(screen.query_one("#case-summary").render())
    record_ = tui_store.case("M-0100")
    assert [(e.type, e.on.isoformat()) for e in record_.events] == [
        ("opened", "2026-03-02"),
        ("mediation_requested", "2026-03-02"),
        ("la_notified", "2026-03-04"),
        ("meeting_scheduled", "2026-03-02"),
        ("confirmation_sent", "2026-03-03"),
        ("meeting_held", "2026-03-10"),
        ("certificate_issued", "2026-03-10"),
        ("closed", "2026-03-10"),
    ]
    assert all(e.actor == ME for e in record_.events[1:])
    statuses = {c.clock: c.status(AS_OF).value for c in record_.state.clocks}
    assert statuses == {"kpi2": "met", "kpi3": "met", "kpi4": "met", "kpi5": "met"}


async def test_a_meeting_after_the_30_day_deadline_is_saved_with_a_warning_shown_in_the_form(
    app, other_store
) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await open_case(app, pilot, "M-0002")  # mediation requested on 5 March: kpi5 due 4 April
        await pilot.press(key_of(app, "meeting_scheduled"))
        form = app.screen
        assert isinstance(form, EventFormScreen)
        warning = form.query_one("#form-warning", StatusLine)
        form.query_one("#input-meeting_date", Input).value = "2026-04-04"
        await settle(pilot)
        assert str(warning.render()) == ""
        form.query_one("#input-meeting_date", Input).value = "2026-04-10"
        await settle(pilot)
        assert "the meeting is after the 30-day deadline (due 2026-04-04)" in str(warning.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)  # accepted all the same
    assert other_store.case("M-0002").events[-1].data["meeting_date"] == "2026-04-10"


async def test_a_refused_step_is_worded_beside_its_field_and_writes_nothing(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0002")  # mediation requested on 5 March
        before = other_store.case("M-0002").state.last_seq
        await record(pilot, screen, "la_notified", "2026-03-03")
        assert isinstance(app.screen, EventFormScreen)  # the form stays open
        assert field_problem(app, "on") == (
            "Date it happened: the step does not fit on that date: needs Mediation requested first"
        )
        assert app.screen.focused is app.screen.query_one("#input-on")
        form = app.screen
        form.query_one("#input-on", Input).value = "2026-03-11"
        await pilot.pause()
        assert not form.query_one("#field-on", FieldInput).has_class("-invalid")  # edited: unmarked
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert field_problem(app, "on").startswith("Date it happened: it is after today (2026-03-10)")
        form.query_one("#input-on", Input).value = "31/13/26"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert field_problem(app, "on").startswith(
            "Date it happened: there is no month 13; use a date such as 2026-05-04, 4/5/26, 4/5, 2 Dec"
        )
        assert "Date it happened" in form_error(app)
        await pilot.press("escape")
        assert isinstance(app.screen, CaseScreen)
    assert other_store.case("M-0002").state.last_seq == before


async def test_a_step_that_does_not_fit_the_state_says_which_steps_do(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "la_notified"))
        other_store.record("M-0002", "withdrawn", AS_OF, {"reason": "moved away"}, "Sam Patel", NOW, AS_OF)
        app.screen.state = other_store.case("M-0002").state  # as if read after the withdrawal
        await pilot.press("ctrl+s")
        await settle(pilot)
        words = form_error(app)
        assert words.startswith("Not done: This step does not fit the case now: the case is Withdrawn")
        assert "Steps that fit now: Note, Satisfaction survey" in words
        assert "--" not in words
        assert screen.allowed  # the case screen underneath is untouched


async def test_a_required_field_left_empty_is_marked_and_named_by_its_label(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "meeting_scheduled"))
        form = app.screen
        assert isinstance(form, EventFormScreen)
        assert form.query_one("#input-meeting_date", Input).value == "2026-03-10"  # dates default to today
        form.query_one("#input-meeting_date", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert field_problem(app, "meeting_date") == "Meeting date: needed; fill it in"
        assert form.focused is form.query_one("#input-meeting_date")
    assert other_store.case("M-0002").state.state == "mediation_requested"


async def test_a_certificate_offers_only_the_kinds_that_fit_and_names_them_when_left_out(
    app, other_store
) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        other_store.open_case("M-0200", "mediation", D("2026-03-02"), {"caseworker": ME}, "seed", NOW, AS_OF)
        other_store.record("M-0200", "mediation_requested", D("2026-03-02"), {}, "seed", NOW, AS_OF)
        other_store.record("M-0200", "mediation_declined", D("2026-03-03"), {}, "seed", NOW, AS_OF)
        screen = await open_case(app, pilot, "M-0200")
        await pilot.press(key_of(app, "certificate_issued"))
        form = app.screen
        kind = form.query_one("#input-kind", Select)
        assert kind.value == "advice_only"  # the one kind that fits a declined mediation: filled in
        assert form.query_one("#field-kind", FieldInput).offered == ["advice_only"]  # only what fits
        kind.value = Select.NULL
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert field_problem(app, "kind") == "Certificate: choose one of Advice only (s.55(4))"
        assert screen.record is not None
    assert other_store.case("M-0200").state.state == "mediation_declined"


async def test_a_step_written_elsewhere_meanwhile_is_reloaded_and_saved_again(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "meeting_scheduled"))
        form = app.screen
        form.query_one("#input-meeting_date", Input).value = "2026-03-20"
        form.query_one("#input-note", Input).value = "Parent prefers mornings"
        other_store.record("M-0002", "la_notified", AS_OF, {}, "Sam Patel", NOW, AS_OF)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # not a dead end: the form stays, with what was typed
        words = str(form.query_one("#conflict-words").render())
        assert "While this form was open, Sam Patel recorded LA/ICB notified (10 Mar 2026)" in words
        assert form.query_one("#form-conflict").display
        assert form.focused is form.query_one("#reload", Button)
        assert form.query_one("#input-note", Input).value == "Parent prefers mornings"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is screen
    events = other_store.case("M-0002").events
    assert [(e.type, e.actor) for e in events[-2:]] == [
        ("la_notified", "Sam Patel"),
        ("meeting_scheduled", ME),
    ]
    assert events[-1].data == {"meeting_date": "2026-03-20", "note": "Parent prefers mornings"}


async def test_a_step_that_no_longer_fits_after_the_reload_is_refused_not_doubled(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "la_notified"))
        other_store.record("M-0002", "la_notified", AS_OF, {}, "someone else", NOW, AS_OF)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "someone else recorded LA/ICB notified" in str(
            app.screen.query_one("#conflict-words").render()
        )
        await pilot.press("enter")  # the focused button: reload and save again
        await settle(pilot)
        assert "LA/ICB notified was already recorded on 2026-03-10" in form_error(app)
    assert [e.actor for e in other_store.case("M-0002").events if e.type == "la_notified"] == ["someone else"]


async def test_ctrl_q_in_a_form_with_nothing_typed_quits_at_once(app) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "la_notified"))
        assert isinstance(app.screen, EventFormScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def test_ctrl_q_asks_before_losing_what_was_typed(app_factory) -> None:
    from tui.screens.quit import QuitScreen

    app = app_factory()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "meeting_scheduled"))
        form = app.screen
        await pilot.press("tab", *"2026-03-20")
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("n")
        assert app.screen is form
        assert form.query_one("#input-meeting_date", Input).value.endswith("2026-03-20")
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_voiding_an_event_strikes_it_through_with_the_reason(app, other_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        await pilot.press("t")  # the timeline; its cursor starts on the latest event
        await pilot.press("v")
        assert isinstance(app.screen, VoidScreen)
        assert app.screen.event.seq == 4
        await pilot.press(*"wrong date")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        row = screen.query_one("#timeline", RowTable).row("4")
        assert "strike" in row.style
        assert row.cells[4].startswith("VOID (wrong date)")
        assert "LA/ICB notified" in str(screen.query_one("#case-summary").render())
    state = other_store.case("M-0003").state
    assert (state.voided, state.state) == ({4: "wrong date"}, "la_notified")


async def test_a_void_that_would_break_the_history_is_refused(app, other_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot, "M-0003")
        await pilot.press("t", "up", "up")  # event 2: mediation requested, which later steps need
        await pilot.press("v")
        assert app.screen.event.seq == 2
        await pilot.press("enter")  # no reason
        await settle(pilot)
        assert field_problem(app, "reason") == "Reason: say why the event is void, e.g. wrong case"
        await pilot.press(*"typo", "enter")
        await settle(pilot)
        assert "would no longer fit" in form_error(app)
        await pilot.press("escape")
        assert app.screen is screen
    assert other_store.case("M-0003").state.voided == {}


async def test_a_note_and_a_survey_after_the_case_closed(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0005")  # closed
        assert "note" in screen.allowed
        assert "survey" in screen.allowed
        assert "la_notified" not in screen.allowed
        await record(pilot, screen, "note", "today", note="Parent rang to say thank you")
        await record(pilot, screen, "survey", "today", satisfied="strongly_agree", understood="agree")
    events = other_store.case("M-0005").events
    assert (events[-2].type, events[-2].data) == ("note", {"note": "Parent rang to say thank you"})
    assert (events[-1].type, events[-1].data) == (
        "survey",
        {"satisfied": "strongly_agree", "understood": "agree"},
    )


async def test_an_exception_offers_the_running_clocks_and_their_reasons(app, other_store) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0002")
        await pilot.press(key_of(app, "exception"))
        form = app.screen
        clock = form.query_one("#input-clock")
        reason = form.query_one("#input-reason")
        assert [v for _l, v in clock._options if v is not clock.NULL] == ["kpi5"]
        assert clock.value == "kpi5"  # the one clock that can be excepted: filled in
        assert "parent_unavailable" in [v for _l, v in reason._options]
        reason.value = "parent_unavailable"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    kpi5 = next(c for c in other_store.case("M-0002").state.clocks if c.clock == "kpi5")
    assert kpi5.exception is not None
    assert kpi5.exception.reason == "parent_unavailable"


async def test_an_unknown_case_says_so(app) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await app.push_screen(CaseScreen(app.ctx, "M-9999"))
        await settle(pilot)
        status = app.screen.query_one(StatusLine)
        assert status.error
        assert "no case has this reference" in str(status.render())


async def test_the_palette_offers_each_allowed_step(app) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_case(app, pilot, "M-0002")
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"Record: LA/ICB notified", "Record: Meeting scheduled", "Void event", "Back"} <= titles
        assert not any(t.startswith("Step ") for t in titles)


async def test_the_case_screen_is_reused_and_comes_up_with_the_next_case_drawn(app, tui_store) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        open_case_screen(app, app.ctx, "M-0002")
        await settle(pilot)
        first = app.screen
        assert isinstance(first, CaseScreen)
        first.query_one(StatusLine).say("Recorded as event 9.")
        await pilot.press("escape")
        open_case_screen(app, app.ctx, "M-0003")
        # the screen stays down until the case is drawn in it
        assert app.screen is not first
        await settle(pilot)
        assert app.screen is first
        assert first.ref == "M-0003"
        summary = str(first.query_one("#case-summary").render())
        assert summary.startswith("M-0003 · ")
        assert "reading" not in summary
        timeline = first.query_one("#timeline", RowTable)
        assert timeline.row_count == len(tui_store.case("M-0003").events)
        assert str(first.query_one(StatusLine).render()) == ""


async def test_a_slow_read_brings_the_case_screen_up_saying_so(app, monkeypatch) -> None:
    import threading

    import tui.screens.case as case_module

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        open_case_screen(app, app.ctx, "M-0002")
        await settle(pilot)
        await pilot.press("escape")
        gate = threading.Event()
        read = app.ctx.store.case
        monkeypatch.setattr(app.ctx.store, "case", lambda ref: gate.wait(30) and read(ref))
        monkeypatch.setattr(case_module, "SHOW_READING_AFTER", 0.001)
        try:
            open_case_screen(app, app.ctx, "M-0003")
            for _ in range(10_000):  # until the screen's timer brings it up, the read still held
                if isinstance(app.screen, CaseScreen):
                    break
                await pilot.pause()
            assert str(app.screen.query_one("#case-summary").render()) == "M-0003: reading…"
        finally:
            gate.set()
        await settle(pilot)
        assert str(app.screen.query_one("#case-summary").render()).startswith("M-0003 · ")


async def test_an_unknown_case_brings_the_case_screen_up_with_the_reason(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        open_case_screen(app, app.ctx, "M-0002")
        await settle(pilot)
        await pilot.press("escape")
        open_case_screen(app, app.ctx, "M-9999")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        line = app.screen.query_one(StatusLine)
        assert line.error
        assert "M-9999: no case has this reference" in str(line.render())
