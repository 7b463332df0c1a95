"""A one-line message under a table or a form: counts and hints, or a refusal in words.

Screens call `say()` for information and `refuse()` for the one-line message of a `CaseclockError`; the
`error` reactive toggles the `-error` CSS class, so the colour lives in app.tcss and the words carry the
meaning on their own (NO_COLOR).
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusLine(Static):
    """A line of status text that turns into an inline error message."""

    DEFAULT_CSS = """
    StatusLine { height: auto; padding: 0 1; }
    StatusLine.-error { color: $text-error; text-style: bold; }
    """

    error: reactive[bool] = reactive(False)
    """Whether the line shows a refusal or failure rather than information."""

    def __init__(self, text: str = "", *, line_id: str | None = None) -> None:
        # messages quote what users typed: never read them as markup
        super().__init__(text, markup=False, id=line_id)

    def say(self, text: str) -> None:
        """Show information."""
        self.error = False
        self.update(text)

    def refuse(self, message: str) -> None:
        """Show a refusal or failure, prefixed so it reads as one without colour."""
        self.error = True
        self.update(f"Not done: {message}")

    def watch_error(self, error: bool) -> None:
        """Style the line as an error (the class is styled in CSS)."""
        self.set_class(error, "-error")
