"""One case: its profile, its clocks, its timeline, and the steps its rule pack allows next.

The actions offered are exactly `tracker.domain.workflow.allowed_events` for the case's state, those that
stop a running clock first and marked `»`. Each step has one key wherever it is offered, the pack's
(`RulePack.step_keys`: `l` LA notified, `i` certificate), and opens a form built from the pack's field
declarations (tui/screens/event_form.py). `v` voids the timeline event under the cursor behind a
confirmation that asks for a reason; `z` writes one of the case's letters as a PDF to the documents folder
(tui/screens/letter.py). Under the clocks, in a panel of their own, the parent's windows (the tribunal
appeal deadline, the reg 33 contact window: `tracker.domain.windows.case_windows`): information for the
parent, never KPIs. Reads and writes run in thread workers; the case is re-read on the LiveScreen timer, so
a step recorded elsewhere shows up here too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from tracker.domain.errors import CaseclockError
from tracker.domain.events import Event
from tracker.domain.rules import STEP_KEYS, RulePack
from tracker.domain.windows import WindowView, case_windows
from tracker.domain.workflow import allowed_events, clocks_stopped_by
from tracker.letters import LetterFile
from tracker.store import CaseRecord
from tui.context import TuiContext
from tui.messages import CaseLoaded, CaseShown, StoreFailed
from tui.screens.base import LiveScreen
from tui.screens.event_form import EventFormScreen
from tui.screens.letter import SEND_HINT, LetterScreen
from tui.screens.void import VoidScreen
from tui.widgets.case_tables import ClockTable, Timeline
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_line import StatusLine
from tui.widgets.text_panel import TextPanel
from tui.words import profile_lines

STOPS_A_CLOCK = "»"
"""The marker of a step that stops a running clock (the next thing to do), as text so it reads without
colour."""
_INSTALLED = "case"
"""Name of the one case screen kept installed, so opening a case shows an already-built screen."""
_NARROW = 100
"""Below this many columns the side panel narrows (the `-narrow` class) so the clocks still fit."""
SHOW_READING_AFTER = 0.1
"""Seconds a case may take to read before its screen comes up saying "reading…" (a quick read comes up
drawn)."""


def window_line(pack: RulePack, view: WindowView, as_of: dt.date) -> str:
    """A parent's window in one line: "Appeal to the First-tier Tribunal by 2026-05-05 (open, 56 days)",
    what it waits for while a date it counts from is missing, and the pack's warning when there is one."""
    if view.due_on is None:
        missing = ", ".join(_source_label(pack, name) for name in view.waiting_for)
        line = f"{view.title}: waiting for: {missing}"
    elif view.status(as_of) == "open":
        days = (view.due_on - as_of).days
        line = f"{view.title} by {view.due_on.isoformat()} (open, {days} day{'s' if days != 1 else ''})"
    else:
        line = f"{view.title} by {view.due_on.isoformat()} (passed)"
    return line + (f"\n  ! {view.warning}" if view.warning else "")


def _source_label(pack: RulePack, name: str) -> str:
    """A date a window counts from, in the pack's words: a case field's title, else the event's label."""
    field = pack.case_fields.get(name)
    return field.label(name) if field is not None else pack.label(name)


def _step_prompt(mark: str, key: str, label: str) -> Table:
    """A step as the list shows it: the marker and key in a column of their own, so a long name that wraps
    on a narrow screen lines up under the name, not under the marker."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(f"{mark} {key}", label)
    return grid


class CaseScreen(LiveScreen):
    """A case and what can be done next.

    Args:
        ctx: The shared services.
        ref: The case's reference.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "app.pop_screen",
            "Back",
            tooltip="Back to the previous screen",
            id="caseclock.case.back",
        ),
        Binding(
            "v",
            "void",
            "Void event",
            tooltip="Void the timeline event under the cursor, with a reason",
            id="caseclock.case.void",
        ),
        Binding(
            "t", "focus_timeline", "Timeline", tooltip="Move to the timeline", id="caseclock.case.timeline"
        ),
        Binding("s", "focus_steps", "Steps", tooltip="Move to the next steps", id="caseclock.case.steps"),
        Binding(
            "p",
            "toggle_profile",
            "Profile",
            show=False,
            tooltip="Show or hide the profile",
            id="caseclock.case.profile",
        ),
        Binding(
            "r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the case again now",
            id="caseclock.case.refresh",
        ),
        Binding(
            "z",
            "letter",
            "Letter",
            show=False,  # the key bar is full at 80 columns: `?` and the palette list it
            tooltip="Write one of the case's letters as a PDF to your documents folder. " + SEND_HINT,
            id="caseclock.case.letter",
        ),
        # One binding per key a step may have; `check_action` keeps those of the steps offered now.
        *(
            Binding(
                key,
                f"step_key('{key}')",
                "Record the step with this key",
                show=False,
                tooltip="Record the next step shown with this key",
                id=f"caseclock.case.step.{key}",
            )
            for key in STEP_KEYS
        ),
    ]

    PALETTE_SKIP = ("caseclock.case.step",)

    narrow: reactive[bool] = reactive(False)
    """Whether the terminal is too narrow for the full side panel."""

    def __init__(self, ctx: TuiContext, ref: str) -> None:
        super().__init__(ctx, screen_id="case-screen")
        self.ref = ref
        self.record: CaseRecord | None = None
        self.allowed: list[str] = []
        """The steps offered, in the order shown: those that stop a running clock first."""
        self.stopping: set[str] = set()
        """The steps offered that stop a running clock."""
        self.keys: dict[str, str] = {}
        """The key of each step offered (the pack's), by key."""
        self._shown: tuple[int, object] | None = None
        self._waiting = False
        """Whether `show_case` is reading a case before coming to the top."""
        self._wait_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Summary, clocks and timeline on the left; next steps and profile on the right."""
        yield Header()
        yield Static(f"{self.ref}: reading…", id="case-summary", markup=False)
        with Horizontal(id="case-body"):
            with Vertical(id="case-main"):
                yield ClockTable(table_id="clocks")
                yield Static("", id="windows", markup=False)
                yield Timeline(table_id="timeline")
            with Vertical(id="case-side"):
                yield OptionList(id="steps")
                yield TextPanel(panel_id="profile")
        yield StatusLine(line_id="case-status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Set up the panels and read the case."""
        self.query_one("#steps").border_title = "Next steps"
        self.query_one("#steps").border_subtitle = f"{STOPS_A_CLOCK} stops a clock"
        self.query_one("#profile").border_title = "Profile"
        self.query_one("#windows").border_title = "For the parent (not KPIs)"
        self.query_one("#windows").display = False
        self.query_one(ClockTable).fit(self.narrow)
        self.query_one("#steps").focus()
        self.poll()

    def show_case(self, ref: str) -> None:
        """Read another case into this screen while it is not shown (it is installed, and reused).

        The screen comes to the top once the case is drawn, so it is composed on the terminal once, with
        the case, rather than first empty and again when the case arrives; if the read takes longer than
        `SHOW_READING_AFTER`, or fails, it comes to the top at once, saying so."""
        self.ref = ref
        self.record, self.allowed, self._shown = None, [], None
        self.stopping, self.keys = set(), {}
        self.query_one("#case-summary", Static).update(f"{ref}: reading…")
        self.query_one(ClockTable).clear()
        self.query_one("#windows", Static).update("")
        self.query_one("#windows").display = False
        self.query_one(Timeline).forget()
        self.query_one("#steps", OptionList).clear_options()
        self.query_one("#profile", TextPanel).update("")
        self.query_one(StatusLine).say("")
        self.query_one("#steps").focus()
        self._first_resume = True  # the case is being read: no need to read it again on arrival
        self._waiting = True
        if self._wait_timer is not None:
            self._wait_timer.stop()
        self._wait_timer = self.set_timer(SHOW_READING_AFTER, self._come_to_the_top, name="show-reading")
        self.poll()

    def _come_to_the_top(self) -> None:
        """Push this screen, if `show_case` is waiting to."""
        if not self._waiting:
            return
        self._waiting = False
        if self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        self.app.push_screen(self)

    # ------------------------------------------------------------------ reading

    def poll(self) -> None:
        """Read the case again."""
        self._load()

    @work(thread=True, exclusive=True, group="case", exit_on_error=False)
    def _load(self) -> None:
        try:
            record = self.ctx.store.case(self.ref)
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        self.post_message(
            CaseLoaded(record, allowed_events(self.ctx.rules, record.state, self.ctx.clock.today()))
        )

    async def on_case_loaded(self, message: CaseLoaded) -> None:
        """Draw the case, unless nothing changed since it was last drawn (or another case is asked for)."""
        key = (message.record.state.last_seq, self.ctx.clock.today())
        if message.record.state.ref != self.ref or key == self._shown:
            return
        self._shown = key
        self.record = message.record
        state = message.record.state
        self.stopping = {e for e in message.allowed if clocks_stopped_by(self.ctx.rules, state, e)}
        self.allowed = sorted(message.allowed, key=lambda e: e not in self.stopping)  # stable: pack order
        step_keys = self.ctx.pack(state).step_keys
        self.keys = {step_keys[e]: e for e in self.allowed if e in step_keys}
        self._describe_step_keys()
        self._draw()
        self.refresh_bindings()
        if self._waiting:
            # Let the widgets send the screen their requests for a new layout before it comes to the top,
            # so it is laid out and drawn once on arrival rather than a second time as they come in.
            await asyncio.sleep(0)
        self._come_to_the_top()
        self.post_message(CaseShown(self.ref))  # handled after the screen's arrival on top, if it was pushed

    def _describe_step_keys(self) -> None:
        """Give each step key offered its step's name, so `?` and the palette say what the key records.

        The bindings are declared once for every key a step may have; this screen's own copy of them
        (`_bindings`, copied per node by Textual) takes the names of the case's pack."""
        if self.record is None:
            return
        pack = self.ctx.pack(self.record.state)
        for bindings in self._bindings.key_to_bindings.values():
            for n, binding in enumerate(bindings):
                key = binding.action.removeprefix("step_key('").removesuffix("')")
                if binding.action.startswith("step_key(") and key in self.keys:
                    spec = pack.events[self.keys[key]]
                    bindings[n] = dataclasses.replace(
                        binding, description=f"Record: {spec.title}", tooltip=spec.action or spec.title
                    )

    def on_store_failed(self, message: StoreFailed) -> None:
        """A read failed (the case is unknown, the database is down): say so."""
        self.query_one(StatusLine).refuse(message.message)
        self._come_to_the_top()

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        assert self.record is not None
        state = self.record.state
        pack = self.ctx.pack(state)
        today = self.ctx.clock.today()
        opened = f"opened {state.opened_on.isoformat()}"
        closed = (
            f", {pack.label(state.state).lower()} {state.closed_on.isoformat()}" if state.closed_on else ""
        )
        owner = f" · {state.owner}" if state.owner else ""
        self.query_one("#case-summary", Static).update(
            f"{state.ref} · {pack.label(state.case_type)} · {pack.label(state.state)}"
            f" · {opened}{closed}{owner}"
        )
        self.query_one(ClockTable).show(self.record, pack, today, self.ctx.calendar)
        lines = [window_line(pack, view, today) for view in case_windows(self.ctx.rules, state)]
        windows = self.query_one("#windows", Static)
        windows.update("\n".join(lines))
        windows.display = bool(lines)
        self.query_one(Timeline).show(self.record, pack)
        steps = self.query_one("#steps", OptionList)
        was = steps.highlighted_option.id if steps.highlighted_option is not None else None
        steps.clear_options()
        if self.allowed:
            keys = pack.step_keys
            steps.add_options(
                Option(
                    _step_prompt(
                        STOPS_A_CLOCK if event in self.stopping else " ",
                        keys.get(event, " "),
                        pack.label(event),
                    ),
                    id=event,
                )
                for event in self.allowed
            )
            # Enter records the highlighted step: the first (it stops a clock, if any does), or the one
            # highlighted before the case was read again.
            steps.highlighted = self.allowed.index(was) if was in self.allowed else 0
        else:
            steps.add_option(Option("Nothing: the case takes no more steps", disabled=True))
        profile = Text()
        group = None
        for field_group, label, value in profile_lines(pack, state.fields, state.personal):
            if field_group != group:
                group = field_group
                profile.append(("\n" if profile else "") + field_group.capitalize() + "\n", style="bold")
            profile.append(f"{label}: {value}\n")
        self.query_one("#profile", TextPanel).update(profile or "No details recorded")

    # ------------------------------------------------------------------ steps

    @on(OptionList.OptionSelected, "#steps")
    def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.action_record(event.option.id)

    def action_step_key(self, key: str) -> None:
        """Open the form of the step offered with `key`."""
        if key in self.keys:
            self.action_record(self.keys[key])

    def action_record(self, event_type: str) -> None:
        """Open the form of an allowed step."""
        if self.record is None or event_type not in self.allowed:
            return
        self.app.push_screen(EventFormScreen(self.ctx, self.record.state, event_type), self._written)

    def _written(self, seq: int | None) -> None:
        if seq is None:
            return
        self.query_one(StatusLine).say(f"Recorded as event {seq}.")
        self.poll()

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The screen's keys, and one command per allowed step."""
        yield from super().palette_commands()
        if self.record is None:
            return
        pack = self.ctx.pack(self.record.state)
        for event in self.allowed:
            spec = pack.events[event]
            key = pack.step_keys.get(event)
            yield SystemCommand(
                f"Record: {spec.title}",
                (spec.action or spec.title) + (f" (key {key})" if key else ""),
                partial(self.action_record, event),
            )

    # ------------------------------------------------------------------ letters

    def action_letter(self) -> None:
        """Offer the case's letters; the one chosen is written as a PDF to the documents folder."""
        if self.record is None:
            return
        self.app.push_screen(LetterScreen(self.ctx, self.record), self._letter_written)

    def _letter_written(self, letter: LetterFile | None) -> None:
        """Say where the letter went: its reference, kind and path only (the name is in the file)."""
        if letter is None:
            return
        words = f"Wrote the {letter.kind} letter of {letter.ref} to {letter.path}"
        self.query_one(StatusLine).say(words)
        self.notify(words, title="Letter written")

    # ------------------------------------------------------------------ voiding

    def _event_under_cursor(self) -> Event | None:
        return self.query_one(Timeline).current_event if self.record is not None else None

    def action_void(self) -> None:
        """Ask for a reason and void the event under the timeline's cursor."""
        event = self._event_under_cursor()
        if event is None or self.record is None:
            return
        state = self.record.state
        if event.seq in state.voided:
            self.query_one(StatusLine).refuse(
                f"event {event.seq} is already void ({state.voided[event.seq]})"
            )
            return
        self.app.push_screen(VoidScreen(self.ctx, state, event), self._voided)

    def _voided(self, seq: int | None) -> None:
        if seq is None:
            return
        self.query_one(StatusLine).say(f"Event voided (correction recorded as event {seq}).")
        self.poll()

    # ------------------------------------------------------------------ focus and layout

    def on_resize(self, event: events.Resize) -> None:
        """Narrow the side panel on small terminals (80 columns)."""
        self.narrow = event.size.width < _NARROW

    def watch_narrow(self, narrow: bool) -> None:
        """Narrow the side panel (in app.tcss) and the clock names."""
        self.set_class(narrow, "-narrow")
        if self.is_mounted:
            self.query_one(ClockTable).fit(narrow)
            if self.record is not None:
                self._draw()

    def action_focus_timeline(self) -> None:
        """Move to the timeline (to pick an event to void)."""
        self.query_one("#timeline").focus()

    def action_focus_steps(self) -> None:
        """Move to the next steps."""
        self.query_one("#steps").focus()

    def action_toggle_profile(self) -> None:
        """Show or hide the profile panel."""
        self.toggle_class("-no-profile")

    def action_refresh(self) -> None:
        """Read the case again now."""
        self._shown = None
        self.poll()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out voiding without a voidable event; keep only the keys of the steps offered.

        While a case is being read, voiding stays as it was (a case always has an event to void once read):
        greying it out for those few milliseconds would only make the key bar rebuild itself twice."""
        if action == "void":
            return self.record is None or self._event_under_cursor() is not None or None
        if action == "step_key":
            return bool(parameters) and parameters[0] in self.keys
        return True


def open_case(app: App[Any], ctx: TuiContext, ref: str) -> None:
    """Show a case: the installed case screen is reused (building a screen costs more than reading a case;
    it comes to the top once the case is drawn), unless it is already open further down the stack, in
    which case a new one is pushed."""
    if app.is_screen_installed(_INSTALLED):
        screen = app.get_screen(_INSTALLED)
        if isinstance(screen, CaseScreen) and screen not in app.screen_stack:
            screen.show_case(ref)
            return
        app.push_screen(CaseScreen(ctx, ref))
        return
    screen = CaseScreen(ctx, ref)
    app.install_screen(screen, _INSTALLED)
    app.push_screen(screen)
