"""The key bar at the foot of each screen: Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer throws its keys away and builds them again (new widgets, styled and laid out) whenever
its screen's bindings may have changed: each time the screen comes back to the top, and each time a screen
calls `refresh_bindings()`. Opening a case does both, and the keys are nearly always the same ones, so that
work was a good part of the time to open a case. This footer looks and behaves exactly like Textual's; it
only skips the rebuild when the keys, their descriptions and whether each is enabled are all unchanged.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer

__all__ = ["KeyBar"]


class KeyBar(Footer):
    """A Footer that rebuilds its keys only when they change."""

    def __init__(self) -> None:
        super().__init__()
        self._drawn: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """The screen's bindings may have changed: rebuild the keys if those shown differ."""
        keys = self._keys(screen)
        if keys == self._drawn and self.children:
            return
        super().bindings_changed(screen)
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._drawn = keys  # the Footer rebuilds its keys from these

    def _keys(self, screen: Screen[Any]) -> tuple[Any, ...]:
        """What the footer draws from the bindings: the keys shown and the command palette's key."""
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple(
            (
                binding.key,
                binding.action,
                binding.description,
                getattr(binding, "group", None),
                enabled,
                tooltip,
            )
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
            if binding.show or binding.key == palette
        )
