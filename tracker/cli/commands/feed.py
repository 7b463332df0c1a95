"""`caseclock ics`: the meetings and due dates of the open cases as an iCalendar file.

The feed is read and written by `tracker.calendar_feed` (imported inside the command, with the `icalendar`
package only when it runs); `watch` writes the same file on each pass when `[calendar_feed]` is configured
(`tracker.cli.commands.alerts`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context
from tracker.domain.errors import OperationFailed, Refused
from tracker.store.private_files import write_private


def register(commands: Any) -> None:
    """Add `ics` to the `caseclock` parser."""
    ics = commands.add_parser(
        "ics",
        help="meetings and due dates as an iCalendar file (Outlook, Google, Apple calendars)",
        description=(
            "Write an iCalendar file of the open cases: each planned meeting, and the due date of each open "
            "clock, as an all-day entry naming the case by its reference only. Entries keep their UID, so "
            "importing or subscribing to the file again updates them. The file goes to stdout unless --out "
            "is given; `watch` can keep one up to date ([calendar_feed] in the config)."
        ),
        epilog='Example: caseclock ics --caseworker "Jo Smith" --out ~/calendars/caseclock.ics',
    )
    ics.add_argument(
        "--caseworker", metavar="NAME", help="only the cases of this caseworker, as named on them"
    )
    ics.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="write the file here (replaced atomically, readable by you only); default: stdout",
    )
    ics.add_argument("--json", action="store_true", help="with --out: say what was written, as JSON")
    ics.set_defaults(run=run_ics)


def run_ics(context: Context, args: argparse.Namespace) -> int:
    """`caseclock ics`."""
    from tracker import calendar_feed

    if args.json and args.out is None:
        raise Refused("--json: give --out PATH too; without --out the calendar itself is printed on stdout")
    path = calendar_feed.check_path("--out", args.out) if args.out is not None else None
    store = context.store
    if args.caseworker is not None:
        calendar_feed.check_known_caseworker(store, context.settings, "--caseworker", args.caseworker)
    feed = calendar_feed.entries(store, args.caseworker)
    content = calendar_feed.render(feed, context.as_of)
    if path is None:
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            sys.stdout.write(content.decode("utf-8"))
        else:
            out.write(content)
            out.flush()
        return 0
    try:
        write_private(path, content)
    except OSError as error:
        raise OperationFailed(
            f"--out {path}: cannot write the calendar feed ({error.strerror}); choose another --out"
        ) from None
    kinds = [entry.kind for entry in feed]
    if args.json:
        print_json(
            {
                "path": str(path),
                "as_of": context.as_of.isoformat(),
                "caseworker": args.caseworker,
                "meetings": kinds.count("meeting"),
                "deadlines": kinds.count("deadline"),
            }
        )
    else:
        print(f"wrote {path}: {calendar_feed.describe(feed)} (as of {context.as_of.isoformat()})")
    return 0
