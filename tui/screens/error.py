"""The modal that shows a worker's unexpected failure in one line, never a traceback.

Refusals and database failures (`CaseclockError`) are caught inside the workers and shown inline; what
reaches this modal is a bug, reported in words with a hint to report it. Every screen's single
`@on(Worker.StateChanged)` handler calls `show_worker_failure`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Static
from textual.worker import Worker, WorkerState


class ErrorScreen(ModalScreen[None]):
    """A one-line failure and an OK button."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss_error", "OK", tooltip="Close this message", id="caseclock.error.ok"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        """The message in a small dialog."""
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Something went wrong", classes="dialog-title")
            yield Static(self.message, markup=False, id="error-message")
            yield Button("OK", variant="primary", id="ok")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """OK closes the dialog."""
        event.stop()
        self.dismiss(None)

    def action_dismiss_error(self) -> None:
        """Close the dialog."""
        self.dismiss(None)


def show_worker_failure(screen: Screen[Any], event: Worker.StateChanged) -> None:
    """Turn a worker that ended in error into the error modal (CaseclockErrors never get this far)."""
    if event.state is not WorkerState.ERROR:
        return
    error = event.worker.error
    name = type(error).__name__ if error is not None else "error"
    screen.app.push_screen(
        ErrorScreen(f"internal error: {name}: {error} (please report it; nothing else was changed)")
    )
