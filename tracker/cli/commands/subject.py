"""`caseclock subject-access REF`: everything held about the person on a case, as JSON and a printable page.

The one command that writes personal data and free text out of the database on purpose (the answer to a
subject access request): the files are owner-only (0600) and the output line names the files only.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context


def register(commands: Any) -> None:
    """Add `subject-access` to the `caseclock` parser."""
    parser = commands.add_parser(
        "subject-access",
        help="everything held about the person on a case, as JSON and a printable HTML page (mode 0600)",
        description=(
            "Write everything held about the person on a case: its fields (personal ones included), every "
            "event as recorded (voids marked, who recorded it and when), the clocks as of the as-of date, "
            "the appeal window, the letters emailed and the alerts recorded. FILE is the JSON; a printable "
            "HTML page with the same name and .html goes beside it. Both are readable by their owner only."
        ),
        epilog="Example: caseclock subject-access M-0042 --out M-0042-sar.json",
    )
    parser.add_argument("ref", metavar="REF")
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="the JSON file, or a folder (default: REF-sar.json here)"
    )
    parser.add_argument("--force", action="store_true", help="replace the files if they exist")
    parser.add_argument("--json", action="store_true", help="print the files written as JSON")
    parser.set_defaults(run=run_subject_access)


def run_subject_access(context: Context, args: argparse.Namespace) -> int:
    """`caseclock subject-access`."""
    from tracker.alerts.outbox import list_alerts
    from tracker.exporters.subject_access import output_paths, write_subject_access
    from tracker.reports.subject_access import subject_access_json
    from tracker.store.letters import LetterSends

    store = context.store
    record = store.case(args.ref)
    files = output_paths(args.out, record.state.ref)
    document = subject_access_json(
        record,
        context.rules,
        context.as_of,
        letters=LetterSends(store).of_case(record.state.ref),
        alerts=list_alerts(store.engine, limit=None, ref=record.state.ref),
        generated_at=context.now(),
        generated_by=context.actor,
    )
    write_subject_access(document, context.rules.pack(record.state), files, force=args.force)
    if args.json:
        print_json({"ref": record.state.ref, "json": str(files.json), "html": str(files.html)})
    else:
        print(f"{record.state.ref}: subject access written to {files.json} and {files.html}")
    return 0
