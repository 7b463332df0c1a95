"""What every form shares (recording a step, opening a case, voiding an event).

Save and cancel keys, one write at a time, and the three ways a write can end other than written:

* refused: the words of `tui/refusals.py` go under the field concerned, which is marked and focused (a
  refusal about no field goes in the form's error line); nothing is written and what was typed stays;
* a conflict: another writer changed the case while the form was open (`ConcurrencyError` from the store's
  `expected_version`). The worker reads the case again and the form says who recorded what since, keeps
  what was typed and offers "Reload and save again" (ctrl+r), which saves against the case as it is now;
* a failure of the database: its one line, in the error line.

ctrl+q with something typed asks first (`ask_before_quitting`, called by the app's quit action).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static
from textual.worker import Worker

from tracker.domain.errors import CaseclockError, ConcurrencyError
from tracker.domain.events import Event
from tracker.domain.rules import RulePack
from tracker.store import CaseRecord
from tui.context import TuiContext
from tui.messages import EventWritten, StoreFailed
from tui.refusals import Refusal, word_refusal
from tui.screens.error import show_worker_failure
from tui.widgets.field_input import FieldInput
from tui.widgets.key_bar import KeyBar
from tui.widgets.status_line import StatusLine

ResultT = TypeVar("ResultT")


def changes_words(pack: RulePack, events: list[Event]) -> str:
    """Who recorded what, in a sentence: "Sam Patel recorded LA/ICB notified (10 Mar 2026)"."""
    return "; ".join(f"{e.actor} recorded {pack.label(e.type)} ({e.on.day} {e.on:%b %Y})" for e in events)


class FormScreen(ModalScreen[ResultT | None], Generic[ResultT]):
    """The keys, the refusals, the conflict and the unsaved-input question every form shares.

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
        Binding(
            "ctrl+r",
            "reload",
            "Reload and save",
            tooltip="The case changed meanwhile: take it as it is now and save what you typed again",
            id="caseclock.form.reload",
        ),
    ]

    DEFAULT_CSS = """
    #form-conflict { height: auto; padding: 0 0 1 0; }
    #conflict-words { height: auto; }
    """

    MISFIT = "This step does not fit the case now"
    """How a refusal about the case's state begins."""

    @dataclass
    class Refused(Message, bubble=False):
        """The store or the domain refused the write; nothing was written."""

        error: CaseclockError

    @dataclass
    class Changed(Message, bubble=False):
        """Another writer changed the case while the form was open; the case as it is now."""

        record: CaseRecord
        read_version: int

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.saving = False
        self.reloaded: CaseRecord | None = None
        """The case as read after a conflict, until "Reload and save again" takes it."""
        self._typed: dict[str, str | None] = {}

    # ------------------------------------------------------------------ composing

    def buttons(self, save: str = "Save") -> ComposeResult:
        """The conflict panel (hidden), the inline error line and the Save / Cancel buttons."""
        with Vertical(id="form-conflict"):
            yield Static("", id="conflict-words", markup=False)
            yield Button("Reload and save again (ctrl+r)", variant="warning", id="reload")
        yield StatusLine(line_id="form-error")
        with Horizontal(classes="buttons"):
            yield Button(save, variant="primary", id="save")
            yield Button("Cancel", id="cancel")

    def compose_footer(self) -> ComposeResult:
        """The form's own keys (Save, Cancel) at the bottom of the terminal."""
        yield KeyBar()

    def on_mount(self) -> None:
        """Remember what the form opened with (a form's own `on_mount` runs first); hide the conflict."""
        self.query_one("#form-conflict").display = False
        self.remember_typed()

    def remember_typed(self) -> None:
        """Take what the controls hold now as what the form opened with (a suggestion filled in later)."""
        self._typed = self.values()

    # ------------------------------------------------------------------ what was typed

    def values(self) -> dict[str, str | None]:
        """What each control holds now, by its id (to tell whether anything was typed)."""
        found: dict[str, str | None] = {}
        for control in self.query("Input, Select"):
            value = getattr(control, "value", None)
            found[control.id or ""] = None if value is None or value is Select.NULL else str(value)
        return found

    @property
    def unsaved(self) -> bool:
        """Whether anything was typed or chosen since the form opened."""
        return bool(self._typed) and self.values() != self._typed

    def ask_before_quitting(self) -> bool:
        """ctrl+q: with unsaved input, ask before quitting (True: asked, so the app does not quit yet)."""
        if not self.unsaved:
            return False
        from tui.screens.quit import QuitScreen

        def answered(leave: bool | None) -> None:
            if leave:
                self.app.exit()

        self.app.push_screen(QuitScreen(), answered)
        return True

    # ------------------------------------------------------------------ keys and buttons

    @on(Button.Pressed, "#save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Button.Pressed, "#reload")
    def _reload_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_reload()

    @on(Input.Submitted)
    def _enter_pressed(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Input.Changed)
    @on(Select.Changed)
    def _edited(self, event: Input.Changed | Select.Changed) -> None:
        """A field edited is no longer marked as refused."""
        for row in event.control.ancestors:
            if isinstance(row, FieldInput):
                row.unmark()
                break

    def action_cancel(self) -> None:
        """Close without writing anything."""
        self.dismiss(None)

    def action_save(self) -> None:
        """Check what can be checked here, then write in a worker (overridden)."""

    def action_reload(self) -> None:
        """Take the case as another writer left it, and save what was typed against it."""
        if self.reloaded is None or self.saving:
            return
        self.take_reloaded(self.reloaded)
        self.reloaded = None
        self.query_one("#form-conflict").display = False
        self.refresh_bindings()
        self.action_save()

    def take_reloaded(self, record: CaseRecord) -> None:
        """Use the case as it is now for the next save (overridden by forms on a case)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reload is offered only after a conflict."""
        if action == "reload":
            return self.reloaded is not None
        return True

    # ------------------------------------------------------------------ answers from the workers

    def fail(self, error: CaseclockError) -> None:
        """From a worker thread: report a refusal, a conflict (with the case read again) or a failure."""
        if isinstance(error, ConcurrencyError) and error.ref is not None and error.read_version is not None:
            try:
                record = self.ctx.store.case(error.ref)
            except CaseclockError as again:
                self.post_message(self.Refused(again))
                return
            self.post_message(self.Changed(record, error.read_version))
            return
        self.post_message(self.Refused(error))

    def refusal_pack(self) -> RulePack | None:
        """The pack whose words the refusals use (overridden)."""
        return None

    def on_form_screen_refused(self, message: Refused) -> None:
        """Say why, beside the field it concerns when there is one."""
        pack = self.refusal_pack()
        rows = {row.field_name: row for row in self.query(FieldInput)}
        if pack is None:
            self.refuse(message.error.message)
            return
        refusal = word_refusal(
            pack,
            message.error,
            {name: row.label for name, row in rows.items()},
            {name: row.offered for name, row in rows.items() if row.offered},
            self.MISFIT,
        )
        self.show_refusal(refusal, rows)

    def show_refusal(self, refusal: Refusal, rows: dict[str, FieldInput] | None = None) -> None:
        """Mark the field and say why under it, or say it in the error line."""
        rows = rows if rows is not None else {row.field_name: row for row in self.query(FieldInput)}
        row = rows.get(refusal.field or "")
        if row is None:
            self.refuse(refusal.text)
            return
        row.mark(refusal.text)
        row.control.focus()
        row.scroll_visible()
        self.saving = False
        self.query_one("#form-error", StatusLine).refuse(f"{row.label}: see the field marked !")

    def on_form_screen_changed(self, message: Changed) -> None:
        """Say who changed what meanwhile; keep what was typed; offer to reload and save again."""
        self.saving = False
        self.reloaded = message.record
        pack = self.ctx.pack(message.record.state)
        since = [e for e in message.record.events if e.seq > message.read_version]
        who = changes_words(pack, since) or "another writer changed the case"
        self.query_one("#conflict-words", Static).update(
            f"While this form was open, {who}. Nothing of yours was saved; what you typed is kept."
        )
        self.query_one("#form-conflict").display = True
        self.query_one("#form-error", StatusLine).refuse("the case changed meanwhile (see above)")
        self.query_one("#reload", Button).focus()
        self.refresh_bindings()

    def refuse(self, message: str) -> None:
        """Show a refusal inline; the form stays open."""
        self.saving = False
        self.query_one("#form-error", StatusLine).refuse(message)

    def on_store_failed(self, message: StoreFailed) -> None:
        """A read failed (a suggestion, say): say why, in its words."""
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
