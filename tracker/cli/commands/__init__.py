"""The command modules of `caseclock`; each has `register(subparsers)` and sets `args.run`.

Adding a command group is adding a module here and listing it in COMMAND_MODULES.
"""

from __future__ import annotations

from tracker.cli.commands import (
    admin,
    alerts,
    backup,
    cases,
    feed,
    letters,
    packs,
    personal,
    reports,
    subject,
    tui,
)

COMMAND_MODULES = [admin, backup, cases, personal, letters, subject, packs, alerts, tui, reports, feed]
