"""Case letters: `letter` writes one to a file, `send` emails it and records its event.

Both print the reference and the kind only: the addressee's name is in the document alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context
from tracker.domain.config import smtp_password
from tracker.domain.errors import InvalidValue


def register(commands: Any) -> None:
    """Add `letter` and `send` to the `caseclock` parser."""
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

    send = commands.add_parser(
        "send",
        help="email a case's letter as a PDF and record its event (la_notified, ...)",
        description=(
            "Email one of the case's letters as a PDF through the [email] server, to the case's contact "
            "fields and the LA's address ([letters.la_addresses]), and record its event with the email's "
            "Message-ID. A failed send records nothing; a send interrupted after the email went records the "
            "event when run again, without sending it twice."
        ),
        epilog="Example: caseclock send M-0042 certificate_after_mediation",
    )
    send.add_argument("ref", metavar="REF")
    send.add_argument("kind", metavar="KIND", help="a letter of the case's rule pack")
    send.add_argument("--json", action="store_true", help="print what was sent as JSON")
    send.set_defaults(run=run_send)


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


def run_send(context: Context, args: argparse.Namespace) -> int:
    """`caseclock send`."""
    from notifiers.email import EmailNotifier
    from tracker.letters import send_letter

    settings = context.settings
    if settings.email is None:
        raise InvalidValue(
            "email", "(not configured)", "add an [email] section to the config file to send letters"
        )
    mailer = EmailNotifier(settings.email, smtp_password(context.environ))
    sent = send_letter(
        context.store, settings, mailer, args.ref, args.kind, context.as_of, context.actor, context.now()
    )
    if args.json:
        print_json(
            {
                "ref": sent.ref,
                "kind": sent.kind,
                "message_id": sent.message_id,
                "event": {"seq": sent.event.seq, "type": sent.event.type},
                "sent": sent.resent,
            }
        )
    elif sent.resent:
        print(
            f"{sent.ref}: {sent.kind} sent to {sent.recipients} address"
            f"{'es' if sent.recipients != 1 else ''}; {sent.event.type} recorded as event {sent.event.seq}"
        )
    else:
        print(
            f"{sent.ref}: {sent.kind} was sent before the interruption; "
            f"{sent.event.type} recorded now as event {sent.event.seq}"
        )
    return 0
