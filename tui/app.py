"""The caseworkers' terminal UI: a thin Textual App over the screens of tui/screens/.

`make_app(settings, store, clock)` builds it; `caseclock tui` (tracker/cli/commands/tui.py) and the tests both
call it, so what is tested is what runs. The app holds only the global keys, the command palette's
entries and the navigation between screens; each screen owns its bindings, workers and handlers.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tracker.domain.config import Settings
from tracker.store import Store
from tui.commands import CaseFinder
from tui.context import Clock, TuiContext
from tui.screens.base import LiveScreen
from tui.screens.cases import CasesScreen
from tui.screens.help import HelpScreen

__all__ = ["CaseclockApp", "Clock", "make_app"]


class CaseclockApp(App[None]):
    """caseclock's TUI. The cases screen is the home screen; others are pushed on top of it.

    Args:
        ctx: The shared services every screen receives.
    """

    CSS_PATH = "app.tcss"
    TITLE = "caseclock"
    COMMANDS = App.COMMANDS | {CaseFinder}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark,f1", "help", "Help", tooltip="The keys of this screen", id="caseclock.app.help"
        ),
        Binding(
            "q",
            "go_back",
            "Back",
            show=False,
            tooltip="Back to the previous screen (as escape)",
            id="caseclock.app.back",
        ),
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="Leave caseclock", id="caseclock.app.quit"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__()
        self.ctx = ctx

    def get_default_screen(self) -> Screen[Any]:
        """The home screen: the case list."""
        return CasesScreen(self.ctx)

    def on_mount(self) -> None:
        """Keep the "as of" date in the header current (it follows the real date unless fixed)."""
        self._stamp()
        self.set_interval(60, self._stamp, name="as-of")

    def _fatal_error(self) -> None:
        # Textual's own handler prints a traceback with local variables, which may hold personal data:
        # show one line instead, as the CLI does, and the traceback only when CASECLOCK_DEBUG is set.
        if os.environ.get("CASECLOCK_DEBUG"):
            super()._fatal_error()
            return
        error = sys.exc_info()[1]
        self.bell()
        self._exit_renderables.append(
            Text(
                f"caseclock: internal error: {type(error).__name__}: {error} "
                "(set CASECLOCK_DEBUG=1 to see the traceback, and please report it)"
            )
        )
        self._close_messages_no_wait()

    async def action_quit(self) -> None:
        """Leave caseclock; a form holding input not yet saved asks first."""
        ask = getattr(self.screen, "ask_before_quitting", None)
        if callable(ask) and ask():
            return
        self.exit()

    def _stamp(self) -> None:
        self.sub_title = f"as of {self.ctx.clock.today().isoformat()} · {self.ctx.actor}"

    # ------------------------------------------------------------------ navigation

    def action_cases(self) -> None:
        """Back to the case list."""
        while len(self.screen_stack) > 1 and not isinstance(self.screen, CasesScreen):
            self.pop_screen()

    def action_go_back(self) -> None:
        """`q`: back to the screen underneath (never past the case list)."""
        if self.check_action("go_back", ()):
            self.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`q` goes back from the case, compliance and alerts screens only (in a form it is a letter)."""
        if action == "go_back":
            return len(self.screen_stack) > 1 and isinstance(self.screen, LiveScreen)
        return True

    def action_compliance(self) -> None:
        """The KPI compliance of a period (its screen is imported when first asked for: quicker start-up)."""
        from tui.screens.compliance import ComplianceScreen

        if not isinstance(self.screen, ComplianceScreen):
            self.push_screen(ComplianceScreen(self.ctx))

    def action_alerts(self) -> None:
        """Pending, sent and failed alerts."""
        from tui.screens.alerts import AlertsScreen

        if not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen(self.ctx))

    def action_help(self) -> None:
        """The keys of the screen on top."""
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        keys = []
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.description and (binding.id or "").startswith("caseclock."):
                keys.append((self.get_key_display(binding), binding.description, binding.tooltip))
        title = screen.sub_title or type(screen).__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(title, keys))

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, the app's screens, and every action of the current screen, each once.

        A screen's key for a command the app lists too (`c`: Compliance) is the same command, and Textual's
        "Keys" panel is our Help: the first of each title is kept."""
        seen = {"Keys"}
        for command in self._all_commands(screen):
            if command.title not in seen:
                seen.add(command.title)
                yield command

    def _all_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Cases", "The case list, most urgent first", self.action_cases)
        yield SystemCommand("Compliance", "KPI compliance for a period", self.action_compliance)
        yield SystemCommand("Alerts", "Pending, sent and failed alerts", self.action_alerts)
        yield SystemCommand("Help", "The keys of this screen", self.action_help)
        if isinstance(screen, LiveScreen):
            yield from screen.palette_commands()


def make_app(
    settings: Settings,
    store: Store,
    clock: Clock | dt.date,
    *,
    actor: str | None = None,
    poll_seconds: float = 1.5,
) -> CaseclockApp:
    """Build the TUI over a store.

    Args:
        settings: The validated configuration (`[user] name` is the "Mine" view and the actor).
        store: The event store (its rules carry the packs and the calendar).
        clock: A `Clock`, or a date to fix "today" at (tests, `--as-of`).
        actor: Who records events; default the configured user, else the operating-system user.
        poll_seconds: How often screens re-read the store.
    """
    if isinstance(clock, dt.date):
        clock = Clock.fixed(clock)
    who = actor or settings.user.name or _os_user()
    return CaseclockApp(TuiContext(settings, store, clock, who, poll_seconds))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
