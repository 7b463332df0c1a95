"""What the TUI's full screens share: the context, polling the store, palette commands, worker failures.

A `LiveScreen` re-reads the store every `poll_seconds` while it is the screen on top (and at once when it
comes back to the top), so changes written by another TUI, the CLI or an import show up without a
keypress. Its bindings (all given stable `caseclock.*` ids) become command-palette entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker

from tui.context import TuiContext
from tui.messages import PollTick
from tui.screens.error import show_worker_failure


class LiveScreen(Screen[None]):
    """A full screen over the store that keeps itself up to date.

    Args:
        ctx: The shared services.
    """

    PALETTE_SKIP: ClassVar[tuple[str, ...]] = ()
    """Binding id prefixes left out of the command palette (listed there in another form)."""

    def __init__(self, ctx: TuiContext, *, screen_id: str | None = None) -> None:
        super().__init__(id=screen_id)
        self.ctx = ctx
        self._first_resume = True

    def on_mount(self) -> None:
        """Start the refresh timer (subclasses load their data in their own mount handler)."""
        self.set_interval(self.ctx.poll_seconds, self._tick, name="poll")

    def _tick(self) -> None:
        # Only the top screen re-reads: a list under an open case or a form would only waste the disk.
        if self.is_active:
            self.post_message(PollTick())

    def on_poll_tick(self, _message: PollTick) -> None:
        """Re-read the store (the ticks coalesce, so a slow read never queues up a pile of them)."""
        self.poll()

    def on_screen_resume(self) -> None:
        """Back on top (a case closed, a form saved): refresh at once rather than at the next tick."""
        if self._first_resume:
            self._first_resume = False  # the first time is the screen's arrival: its mount handler reads
            return
        self.poll()

    def poll(self) -> None:
        """Re-read what this screen shows; overridden by each screen."""

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Every enabled action of this screen for the command palette; screens add their own extras."""
        for active in self.active_bindings.values():
            binding: Binding = active.binding
            if not (binding.id or "").startswith("caseclock.") or not active.enabled:
                continue
            if binding.id and binding.id.startswith(("caseclock.app.", *self.PALETTE_SKIP)):
                continue  # the app lists its own; a screen may list some in words of its own
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                partial(self.app.run_action, binding.action, active.node),
            )

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        show_worker_failure(self, event)
