"""The confirmation that voids one event of a case, with the reason the store requires.

Voiding appends a correction event (`Store.void`); the voided event stays in the timeline, struck through
with this reason. The store refuses when the rest of the history would no longer fit; that refusal is
shown here and nothing is written. Dismissed with the correction's sequence number, or None.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from tracker.domain.errors import CaseclockError
from tracker.domain.events import Event
from tracker.domain.rules import FieldSpec, FieldType, RulePack
from tracker.domain.workflow import CaseState
from tracker.store import CaseRecord
from tui.context import TuiContext
from tui.messages import EventWritten
from tui.screens.form import FormScreen
from tui.widgets.field_input import FieldInput
from tui.words import event_details

_REASON = FieldSpec(type=FieldType.STRING, title="Reason", help="e.g. recorded on the wrong case")


class VoidScreen(FormScreen[int]):
    """Confirm voiding an event and say why.

    Args:
        ctx: The shared services.
        state: The case as last read (its `last_seq` guards against a concurrent change).
        event: The event to void.
    """

    MISFIT = "Not voided"

    def __init__(self, ctx: TuiContext, state: CaseState, event: Event) -> None:
        super().__init__(ctx)
        self.state = state
        self.event = event

    def compose(self) -> ComposeResult:
        """What will be voided, the reason, and the buttons."""
        pack = self.ctx.pack(self.state)
        details = event_details(pack, self.event, None)
        with Vertical(id="dialog", classes="dialog form"):
            yield Label(
                f"Void event {self.event.seq} of {self.state.ref}?", classes="dialog-title", markup=False
            )
            yield Static(
                f"{pack.label(self.event.type)} on {self.event.on.isoformat()}"
                + (f": {details}" if details else "")
                + "\nIt stays in the history, struck through, with your reason.",
                classes="dialog-subtitle",
                markup=False,
            )
            yield FieldInput("reason", _REASON, "Reason", required=True, input_id="reason")
            yield from self.buttons(save="Void event")
        yield from self.compose_footer()

    def written(self, message: EventWritten) -> int:
        """The correction's sequence number."""
        return message.seq

    def on_mount(self) -> None:
        """Start in the reason."""
        self.query_one("#reason", Input).focus()

    def refusal_pack(self) -> RulePack:
        """Refusals use the case's pack's words."""
        return self.ctx.pack(self.state)

    def take_reloaded(self, record: CaseRecord) -> None:
        """Void against the case as another writer left it."""
        self.state = record.state

    def action_save(self) -> None:
        """Void the event in a worker; an empty reason is refused by the store with its own words."""
        if self.saving:
            return
        self.saving = True
        self._write(self.query_one("#reason", Input).value)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False)
    def _write(self, reason: str) -> None:
        ctx = self.ctx
        try:
            event, _state = ctx.store.void(
                self.state.ref,
                self.event.seq,
                reason,
                ctx.actor,
                ctx.clock.now(),
                ctx.clock.today(),
                expected_version=self.state.last_seq,
            )
        except CaseclockError as error:
            self.fail(error)
            return
        self.post_message(EventWritten(self.state.ref, event.seq))
