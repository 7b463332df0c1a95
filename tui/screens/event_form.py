"""The form that records one step on a case, built from the rule pack's declaration of that event.

It asks for the date the step happened (default today) and every field `RulePack.event_fields` lists, marks
the required ones, and writes through `Store.record(..., expected_version=...)` in a thread worker. A
refusal (a value, an event that does not fit, a concurrent change) is shown inline in the domain's words,
the form stays open and nothing is written. A value that is accepted with a warning (a meeting date after
the 30-day deadline) shows the warning as it is typed. Dismissed with the new event's sequence number, or
None.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker

from tracker.domain.dates import parse_date
from tracker.domain.errors import CaseclockError
from tracker.domain.fields import JsonValue, parse_field
from tracker.domain.rules import FieldSpec, FieldType
from tracker.domain.workflow import CaseState, warnings_for
from tui.context import TuiContext
from tui.messages import EventWritten, StoreFailed
from tui.screens.error import show_worker_failure
from tui.widgets.field_input import FieldInput, build_field_inputs
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_line import StatusLine

ON = "on"
"""The form row of the date the step happened; not a pack field (the store takes it separately)."""
ON_SPEC = FieldSpec(type=FieldType.DATE, title="Date it happened", required=True)

ResultT = TypeVar("ResultT")


class FormScreen(ModalScreen[ResultT | None], Generic[ResultT]):
    """What the event, new-case and void forms share: save/cancel keys, the inline error, one write at a time.

    Dismissed with `written(...)` of the store's answer, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without saving", id="caseclock.form.cancel"),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Save (Enter in a field does the same)",
            id="caseclock.form.save",
        ),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.saving = False

    def buttons(self, save: str = "Save") -> ComposeResult:
        """The inline error line and the Save / Cancel buttons."""
        yield StatusLine(line_id="form-error")
        with Horizontal(classes="buttons"):
            yield Button(save, variant="primary", id="save")
            yield Button("Cancel", id="cancel")

    def compose_footer(self) -> ComposeResult:
        """The form's own keys (Save, Cancel) at the bottom of the terminal."""
        yield KeyBar()

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Input.Submitted)
    def _enter_pressed(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_cancel(self) -> None:
        """Close without writing anything."""
        self.dismiss(None)

    def action_save(self) -> None:
        """Check what can be checked here, then write in a worker (overridden)."""

    def refuse(self, message: str) -> None:
        """Show a refusal inline; the form stays open."""
        self.saving = False
        self.query_one("#form-error", StatusLine).refuse(message)

    def on_store_failed(self, message: StoreFailed) -> None:
        """The store refused: say why, in its words."""
        self.refuse(message.message)

    def on_event_written(self, message: EventWritten) -> None:
        """Written: close with the form's result."""
        self.dismiss(self.written(message))

    def written(self, message: EventWritten) -> ResultT:
        """The form's result once the store has written (overridden)."""
        raise NotImplementedError

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        show_worker_failure(self, event)


class EventFormScreen(FormScreen[int]):
    """Record one event of the case's pack.

    Args:
        ctx: The shared services.
        state: The case as last read; its `last_seq` guards against a concurrent change.
        event_type: The event to record (one of `allowed_events`).
    """

    def __init__(self, ctx: TuiContext, state: CaseState, event_type: str) -> None:
        super().__init__(ctx)
        self.state = state
        self.event_type = event_type
        self.pack = ctx.pack(state)

    def compose(self) -> ComposeResult:
        """Title, the date, the event's fields, the error line and the buttons."""
        spec = self.pack.events[self.event_type]
        today = self.ctx.clock.today()
        fields = self.pack.event_fields(self.event_type)
        editing = spec.role == "edit"
        with Vertical(id="dialog", classes="dialog form"):
            yield Label(spec.action or spec.title, classes="dialog-title", markup=False)
            yield Static(
                f"Case {self.state.ref} · {self.pack.label(self.state.state)} · * required",
                classes="dialog-subtitle",
                markup=False,
            )
            with VerticalScroll(id="form-fields"):
                yield FieldInput(ON, ON_SPEC, ON_SPEC.label(ON), value=today.isoformat(), required=True)
                yield from build_field_inputs(
                    self.pack,
                    fields,
                    required=spec.required_fields,
                    values={**self.state.fields, **self.state.personal} if editing else None,
                    clocks=self.state.clocks,
                    today=today,
                )
            yield StatusLine(line_id="form-warning")
            yield from self.buttons()
        yield from self.compose_footer()

    @on(Input.Changed)
    def _warn(self) -> None:
        """Say at once when a value is accepted with a warning (the meeting is after the 30-day deadline)."""
        fields = self.pack.event_fields(self.event_type)
        today = self.ctx.clock.today()
        data: dict[str, JsonValue] = {}
        for row in self.query(FieldInput):
            spec = fields.get(row.field_name)
            if spec is None or spec.warn_after_due is None or not row.raw:
                continue
            try:
                data[row.field_name] = parse_field(self.pack, row.field_name, spec, row.raw, today)
            except CaseclockError:
                continue  # a typing slip is refused on save, in the error line
        warnings = warnings_for(self.ctx.rules, self.state, self.event_type, data)
        self.query_one("#form-warning", StatusLine).say(f"Warning: {'; '.join(warnings)}" if warnings else "")

    def written(self, message: EventWritten) -> int:
        """The new event's sequence number."""
        return message.seq

    def on_mount(self) -> None:
        """Start in the first field after the date (the date is usually today)."""
        rows = list(self.query(FieldInput))
        target = rows[1] if len(rows) > 1 else rows[0]
        target.query_one("Input, Select").focus()

    def action_save(self) -> None:
        """Read the date here (a typing slip is refused at once), then write the event in a worker."""
        if self.saving:
            return
        rows = {row.field_name: row for row in self.query(FieldInput)}
        today = self.ctx.clock.today()
        try:
            on_date = parse_date(rows[ON].raw or "", today, ON)
        except CaseclockError as error:
            self.refuse(error.message)
            return
        fields = {name: row.raw for name, row in rows.items() if name != ON and row.raw is not None}
        self.saving = True
        self.query_one("#form-error", StatusLine).say("Saving…")
        self._write(on_date, fields)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def _write(self, on_date: dt.date, fields: dict[str, object]) -> None:
        ctx = self.ctx
        try:
            event, _state = ctx.store.record(
                self.state.ref,
                self.event_type,
                on_date,
                fields,
                ctx.actor,
                ctx.clock.now(),
                ctx.clock.today(),
                expected_version=self.state.last_seq,
            )
        except CaseclockError as error:
            self.post_message(StoreFailed(error.message))
            return
        self.post_message(EventWritten(self.state.ref, event.seq))
