"""The `caseclock` command line: the composition root.

Parses the global options (`--db`, `--config`, `--as-of`) and the command, builds a `Context`, runs the
command, and turns every `CaseclockError` into one line on stderr and its exit code (0 success, 1 failed,
2 refused). Commands live in `tracker.cli.commands.*`, one module per group; the heavy parts (the TUI, the
notifiers, the scheduler, openpyxl) are imported inside the commands that need them, so start-up stays
quick for the others.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from tracker.cli.commands import COMMAND_MODULES
from tracker.cli.context import Context
from tracker.domain.errors import CaseclockError

__all__ = ["build_parser", "main"]


class UsageError(CaseclockError):
    """The command line itself is malformed (argparse's complaints), exit 2."""

    exit_code = 2


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit 2 through our own error path."""

    def error(self, message: str) -> NoReturn:
        # main prints "caseclock: " before every message, so only a subcommand's name is added here.
        command = self.prog.removeprefix("caseclock").strip()
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message}; see `{self.prog} --help`")


def build_parser() -> Parser:
    """The full parser: global options and every command's subparser."""
    parser = Parser(
        prog="caseclock",
        description="Case tracker with statutory-deadline alerting for SEND mediation and adoption support.",
        epilog="Exit codes: 0 success, 1 the operation failed, 2 the input was refused.",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy URL (env CASECLOCK_DB; default: SQLite file in the user data directory)",
    )
    parser.add_argument("--config", metavar="FILE", type=Path, help="TOML config (env CASECLOCK_CONFIG)")
    parser.add_argument(
        "--as-of", metavar="DATE", help="'today' for statuses, reports and alerts (env CASECLOCK_AS_OF)"
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script exits with it)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    context: Context | None = None
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(args_list)
        if extra and not getattr(args, "accepts_extra", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.extra = extra
        context = Context(
            db=args.db,
            config=args.config,
            as_of=args.as_of,
            create_database=getattr(args, "creates_database", False),
        )
        result: int = args.run(context, args)
        return result
    except CaseclockError as error:
        print(f"caseclock: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("caseclock: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a bug: one line for the user, the traceback on request
        if os.environ.get("CASECLOCK_DEBUG"):
            import traceback

            traceback.print_exc()
        print(
            f"caseclock: internal error: {type(error).__name__}: {error} "
            "(set CASECLOCK_DEBUG=1 to see the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1
    finally:
        if context is not None:
            context.close()


class _VersionAction(argparse.Action):
    """`--version`: the installed version is looked up only when asked for (the metadata scan is slow)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        print(f"caseclock {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("caseclock")
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
