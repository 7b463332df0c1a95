"""Case letters: `letter` writes one to a file.

Both print the reference and the kind only: the addressee's name is in the document alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context


def register(commands: Any) -> None:
    """Add `letter` to the `caseclock` parser."""
    letter = commands.add_parser(
        "letter",
        help="write a case's letter (notification, confirmation, certificate) as PDF or DOCX",
        description=(
            "Write one of the case's letters from its template, dated the as-of date. KIND is a letter "
            "of the case's rule pack (send-mediation: la_notification, meeting_confirmation, "
            "certificate_advice_only, certificate_after_mediation, certificate_deemed; adoption-support: "
            "assessment_outcome). The file is readable by its owner only (0600)."
        ),
        epilog="Example: caseclock letter M-0042 certificate_after_mediation --format docx --out letters/",
    )
    letter.add_argument("ref", metavar="REF")
    letter.add_argument("kind", metavar="KIND", help="a letter of the case's rule pack")
    letter.add_argument("--format", dest="fmt", default="pdf", metavar="pdf|docx", help="default: pdf")
    letter.add_argument(
        "--out", type=Path, metavar="PATH", help="a file, or a folder (default: REF-KIND.FORMAT here)"
    )
    letter.add_argument("--json", action="store_true", help="print the file written as JSON")
    letter.set_defaults(run=run_letter)


def run_letter(context: Context, args: argparse.Namespace) -> int:
    """`caseclock letter`."""
    from tracker.letters import write_letter

    record = context.store.case(args.ref)
    written = write_letter(
        context.rules,
        context.settings,
        record,
        args.kind,
        args.fmt,
        args.out,
        context.as_of,
        context.actor,
        context.now(),
    )
    if args.json:
        print_json(
            {"ref": written.ref, "kind": written.kind, "format": written.format, "path": str(written.path)}
        )
    else:
        print(f"{written.ref}: {written.kind} written to {written.path}")
    return 0
