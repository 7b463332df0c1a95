"""The question ctrl+q asks when a form holds input not yet saved: quit all the same, or stay."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class QuitScreen(ModalScreen[bool]):
    """Quit and lose what was typed (y), or go back to the form (n, escape). Dismissed with the answer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quit", tooltip="Quit without saving", id="caseclock.quit.yes"),
        Binding("n,escape", "answer(False)", "Stay", tooltip="Back to the form", id="caseclock.quit.no"),
    ]

    def compose(self) -> ComposeResult:
        """The question and its two answers."""
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Quit without saving?", classes="dialog-title")
            yield Static("The form holds what you typed, not yet saved. Quit and lose it?", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Quit (y)", variant="error", id="quit-yes")
                yield Button("Back to the form (n)", variant="primary", id="quit-no")

    def on_mount(self) -> None:
        """Staying is the default."""
        self.query_one("#quit-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "quit-yes")

    def action_answer(self, leave: bool) -> None:
        """Close with the answer."""
        self.dismiss(leave)
