"""`:` on the case list: type a case's reference (or part of one) and go straight to the case.

A small modal that returns what was typed; the cases screen looks it up in every view, opens the one case
it names, or lists the cases whose references contain it when there are several.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GoToScreen(ModalScreen[str | None]):
    """Asks for a reference; dismissed with the text typed, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Back to the case list", id="caseclock.go_to.cancel"),
    ]

    def compose(self) -> ComposeResult:
        """A title and one input."""
        with Vertical(id="dialog", classes="dialog go-to"):
            yield Label("Go to case", classes="dialog-title")
            yield Input(placeholder="Reference, e.g. M-0042 (or part of one)", id="go-to-ref")

    @on(Input.Submitted, "#go-to-ref")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Back without going anywhere."""
        self.dismiss(None)
