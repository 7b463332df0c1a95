"""The form that records one step on a case, built from the rule pack's declaration of that event.

It asks for the date the step happened (default today, and focused first) and every field
`RulePack.event_fields` lists, marks the required ones, offers only the choices that fit the case (a field
with one possible value is filled in), and writes through `Store.record(..., expected_version=...)` in a
thread worker. A refusal is shown beside the field it concerns, in the caseworker's words, and a change by
another writer meanwhile is offered as "reload and save again" (tui/screens/form.py); the form stays open
and nothing is written. A value that is accepted with a warning (a meeting date after the 30-day deadline)
shows the warning as it is typed. Dismissed with the new event's sequence number, or None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from tracker.domain.dates import parse_date
from tracker.domain.errors import CaseclockError
from tracker.domain.fields import JsonValue, parse_field
from tracker.domain.personal import ERASED
from tracker.domain.rules import FieldSpec, FieldType, RulePack
from tracker.domain.workflow import CaseState, fitting_choices, warnings_for
from tracker.store import CaseRecord
from tui.context import TuiContext
from tui.messages import EventWritten
from tui.screens.form import FormScreen
from tui.widgets.field_input import FieldInput, build_field_inputs
from tui.widgets.status_line import StatusLine

__all__ = ["ON", "ON_SPEC", "EventFormScreen", "FormScreen"]

ON = "on"
"""The form row of the date the step happened; not a pack field (the store takes it separately)."""
ON_SPEC = FieldSpec(type=FieldType.DATE, title="Date it happened", required=True)


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
                    # an erased value is offered empty: saved as it reads, it would record the word "erased"
                    values={**self.state.fields, **_held(self.state.personal)} if editing else None,
                    clocks=self.state.clocks,
                    fitting={
                        name: fitting_choices(self.ctx.rules, self.state, self.event_type, name)
                        for name, field in fields.items()
                        if field.type is FieldType.CHOICE
                    },
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
        """Start in the first field, the date (today, selected, so typing replaces it)."""
        box = self.query_one(f"#input-{ON}", Input)
        box.focus()
        box.select_all()

    def refusal_pack(self) -> RulePack:
        """Refusals use the case's pack's words."""
        return self.pack

    def take_reloaded(self, record: CaseRecord) -> None:
        """Save against the case as another writer left it."""
        self.state = record.state

    def action_save(self) -> None:
        """Read the date here (a typing slip is refused at once), then write the event in a worker."""
        if self.saving:
            return
        rows = {row.field_name: row for row in self.query(FieldInput)}
        today = self.ctx.clock.today()
        try:
            on_date = parse_date(rows[ON].raw or "", today, ON)
        except CaseclockError as error:
            self.post_message(self.Refused(error))
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
            self.fail(error)
            return
        self.post_message(EventWritten(self.state.ref, event.seq))


def _held(personal: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """The personal fields still held (an erased one reads `ERASED`, which is no value to edit)."""
    return {name: value for name, value in personal.items() if value != ERASED}
