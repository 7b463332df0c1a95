"""The command modules of `caseclock`; each has `register(subparsers)` and sets `args.run`.

Adding a command group is adding a module here and listing it in COMMAND_MODULES.
"""

from __future__ import annotations

from tracker.commands import admin, cases

COMMAND_MODULES = [admin, cases]
