"""The `?` help: the keys of the screen underneath, what the markers mean, and how dates may be typed.

Built from the bindings themselves (`Screen.active_bindings`), so it can never drift from the keys that
work. Opened by the app's `help` action.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from tracker.domain.dates import DATE_HELP
from tui.words import LEGEND

NOTES = (
    f"Markers: {LEGEND}. Voided events are struck through, with their reason.\n"
    f"Dates: {DATE_HELP}.\n"
    "In a list: j/k or the arrows move, g/G or home/end go to the first/last row, enter opens.  "
    "q or escape: back.  F1 or ?: this help.\n"
    "ctrl+p: every action by name, or type a case reference.  Tab: next pane.  "
    "The mouse works too, but nothing needs it."
)


class HelpScreen(ModalScreen[None]):
    """The keys of one screen.

    Args:
        title: The screen's name.
        keys: (key, what it does, more detail) for each binding.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,q,f1", "close", "Close", tooltip="Close the help", id="caseclock.help.close"
        ),
    ]

    def __init__(self, title: str, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.heading = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        """A table of keys and the notes."""
        with Vertical(id="dialog", classes="dialog help"):
            yield Label(f"Keys: {self.heading}", classes="dialog-title", markup=False)
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="none", zebra_stripes=True)
            table.add_columns("Key", "Action", "Detail")
            for key, description, detail in self.keys:
                table.add_row(key, description, detail if detail != description else "")
            yield table
            yield Static(NOTES, id="help-notes", markup=False)

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
