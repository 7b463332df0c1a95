"""`caseclock tui`: the caseworkers' terminal UI over the same database, config and as-of date as the CLI.

The Textual app is imported inside the command (never at module top), so every other command starts
without loading Textual; the import-linter contract "The tracker package never imports the TUI" lists this
one lazy import as its only exception.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracker.cli.context import Context, london_today


def register(commands: Any) -> None:
    """Add `tui` to the `caseclock` parser."""
    tui = commands.add_parser(
        "tui",
        help="the caseworkers' terminal UI: live cases, steps, compliance",
        description=(
            "Open the terminal UI: the cases most urgent first, each case's clocks and timeline, the steps "
            "its rule pack allows, and KPI compliance for a period. Press ? in any screen for its keys."
        ),
        epilog="Example: caseclock --db sqlite:///cases.db tui",
    )
    tui.add_argument(
        "--poll",
        type=float,
        default=1.5,
        metavar="SECONDS",
        help="how often to re-read the database for other people's changes (default 1.5)",
    )
    tui.set_defaults(run=run_tui)


def run_tui(context: Context, args: argparse.Namespace) -> int:
    """`caseclock tui`."""
    from tracker.domain.errors import InvalidValue, Refused

    if not 0.2 <= args.poll <= 60:
        raise InvalidValue("--poll", args.poll, "use a number of seconds from 0.2 to 60")
    # Without a terminal (cron, a pipe) Textual never exits and spins a core; it reads keys from stdin and
    # draws on stderr. So refuse before Textual is even imported.
    if not all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout, sys.stderr)):
        raise Refused(
            "tui needs a terminal: run it in an interactive terminal, with no input or output redirected "
            "(scripts and cron jobs use `caseclock cases` and `caseclock check`)"
        )
    from tui.app import Clock, make_app

    store = context.store  # checks the schema first: a refusal is one line on stderr, before the screen opens
    as_of = context.as_of
    # Without --as-of "today" follows the real date, so a TUI left open overnight moves on to the new day.
    clock = (
        Clock(today=london_today, now=context.now)
        if as_of == london_today()
        else Clock(today=lambda: as_of, now=context.now)
    )
    app = make_app(context.settings, store, clock, actor=context.actor, poll_seconds=args.poll)
    app.run()
    return 0 if app.return_code in (None, 0) else int(app.return_code)
