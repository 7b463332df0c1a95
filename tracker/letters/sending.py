"""Email a letter to its addressees and record its event, so that a letter is neither lost nor sent twice.

The steps, each its own transaction (`tracker.store.letters`):

1. a letter begun earlier and already `sent` (a crash came before its event was recorded) is not sent
   again: its event is recorded now, under the Message-ID it went with;
2. otherwise the event must fit the case today, and the addressees must be known, or the send is refused
   with nothing written;
3. the letter is written `pending` under a Message-ID made from the case, the kind and the case's version
   (so a retry after a crash during the send re-sends the same message, which mail clients show once);
4. the email goes; a failed send deletes the row (nothing recorded) and fails with one line;
5. the row is marked `sent`, then the event is recorded with the Message-ID and the row marked `recorded` in
   one transaction.

Log lines and the email's subject and body carry the reference and the kind only: the names are in the
attached document alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

from tracker.domain.config import Settings
from tracker.domain.errors import EventRefused, InvalidValue, OperationFailed
from tracker.domain.events import Event
from tracker.domain.personal import ERASED
from tracker.domain.workflow import CaseRecord, Rules
from tracker.letters.catalogue import LetterSpec, check_can_record
from tracker.letters.making import default_name, make_letter
from tracker.letters.render import Letter, to_pdf
from tracker.store import Store
from tracker.store.letters import SENT, LetterSends

log = logging.getLogger("caseclock.letters")


class Mailer(Protocol):
    """Sends one email (`notifiers.email.EmailNotifier` is one)."""

    @property
    def sender(self) -> str:
        """The From address."""
        ...

    def send_message(self, message: EmailMessage, recipients: list[str]) -> str | None:
        """Send it to `recipients`; None when the server took it, else one line saying why not."""
        ...


@dataclass(frozen=True, slots=True)
class SentLetter:
    """A letter emailed and recorded."""

    ref: str
    kind: str
    message_id: str
    event: Event
    recipients: int
    resent: bool
    """False when a crash came between an earlier send and its recording: the event was recorded now, and
    the letter not sent again."""


def recipients(
    rules: Rules, settings: Settings, record: CaseRecord, spec: LetterSpec, kind: str
) -> list[str]:
    """The addresses the letter goes to; refused (naming the field to fill in) when one is missing."""
    pack = rules.pack(record.state)
    found: list[str] = []
    if "contacts" in spec.to:
        contact_fields = [name for name, field in pack.case_fields.items() if field.contact]
        personal = record.state.personal
        # An erased address is no address: the letter would go nowhere, and the person asked to be forgotten.
        addresses = [str(personal[n]) for n in contact_fields if personal.get(n) and personal[n] != ERASED]
        if not addresses and record.erased is not None:
            raise EventRefused(
                f"{record.state.ref}: the case's personal data was erased, so it has no address to send "
                f"{kind} to; write the letter with caseclock letter instead"
            )
        if not addresses:
            field = contact_fields[0] if contact_fields else "email"
            raise InvalidValue(
                field,
                "(empty)",
                f"{record.state.ref} has no address to send {kind} to; "
                f"record it: caseclock record {record.state.ref} details_changed --field {field}=ADDRESS",
            )
        found.extend(addresses)
    if "la" in spec.to:
        la = str(record.state.fields.get("la") or "")
        address = settings.letters.la_addresses.get(la)
        if address is None:
            ref = record.state.ref
            fix = (
                f'add its address to the config file: [letters.la_addresses] "{la}" = ADDRESS'
                if la
                else f"record the case's LA: caseclock record {ref} details_changed --field la=NAME"
            )
            raise InvalidValue("letters.la_addresses", la or "(no la on the case)", fix)
        found.append(address)
    return list(dict.fromkeys(found))


def message_id(ref: str, kind: str, version: int, sender: str) -> str:
    """The letter's Message-ID: the same for the same case version and kind, so a re-send is one message."""
    digest = hashlib.sha256(f"{ref}\n{kind}\n{version}".encode()).hexdigest()[:20]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "caseclock"
    return f"<letter.{digest}@{domain}>"


def build_email(letter: Letter, settings: Settings, sender: str, to: list[str], mid: str) -> EmailMessage:
    """The email carrying the letter as a PDF: subject and body name the reference and the letter only."""
    message = EmailMessage()
    message["Subject"] = f"{letter.title}: {letter.ref}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = mid
    provider = settings.provider.name or settings.provider.service or "the service"
    message.set_content(
        f"Please find attached: {letter.title}, reference {letter.ref}.\n\n"
        f"Sent by {provider}. Please quote the reference {letter.ref} in any reply.\n"
    )
    message.add_attachment(
        to_pdf(letter, settings.letters.font),
        maintype="application",
        subtype="pdf",
        filename=default_name(letter.ref, letter.kind, "pdf"),
    )
    return message


def send_letter(
    store: Store,
    settings: Settings,
    mailer: Mailer,
    ref: str,
    kind: str,
    today: dt.date,
    actor: str,
    now: dt.datetime,
) -> SentLetter:
    """Email a case's letter (as a PDF) and record its event with the Message-ID; see the module docstring.

    Raises:
        Refused: An unknown kind, a case that cannot have the letter yet, or a missing address (nothing
            written).
        OperationFailed: The email could not be sent (nothing recorded).
    """
    rules = store.rules
    sends = LetterSends(store)
    record = store.case(ref)
    letter, spec = make_letter(rules, settings, record, kind, today, actor, now)
    fields: dict[str, object] = dict(spec.fields)
    earlier = sends.unfinished(ref, kind)
    if earlier is not None and earlier.status == SENT:
        recorded = {**fields, "message_id": earlier.message_id}
        event = sends.record_event(earlier.message_id, ref, spec.records, today, recorded, actor, now, today)
        log.info("%s %s: sent earlier, event recorded now", ref, kind)
        return SentLetter(ref, kind, earlier.message_id, event, 0, resent=False)
    check_can_record(rules, record, spec, kind, actor, now, today)
    to = recipients(rules, settings, record, spec, kind)
    if earlier is not None:
        mid = earlier.message_id
    else:
        mid = message_id(ref, kind, record.state.last_seq, mailer.sender)
        sends.begin(mid, ref, kind, now)
    problem = mailer.send_message(build_email(letter, settings, mailer.sender, to, mid), to)
    if problem is not None:
        sends.forget(mid)
        log.warning("%s %s: not sent", ref, kind)
        raise OperationFailed(f"{ref}: {kind} not sent, nothing recorded: {problem}")
    sends.mark_sent(mid, now)
    log.info("%s %s: sent", ref, kind)
    event = sends.record_event(
        mid, ref, spec.records, today, {**fields, "message_id": mid}, actor, now, today
    )
    return SentLetter(ref, kind, mid, event, len(to), resent=True)
