"""The `caseclock` command line: the composition root (`main`), its commands and what only they use.

`main` parses the options and runs a command from `commands`, with a `context` of the database, config
and rules; `importing` checks CSV files for `caseclock import`, `demo` makes the demo cases.
"""

from tracker.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
