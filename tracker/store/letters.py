"""The record of letters emailed by `caseclock send` (table `letter_sends`), kept so that none goes twice.

A letter's row is written `pending` in a transaction of its own before the email goes, marked `sent` once
the SMTP server accepted it, and marked `recorded` in the very transaction that records its event on the
case (`Store.record(..., also=...)`). So after a crash:

* between the send and the recording: the row is `sent`, and the next `send` records the event without
  emailing the letter again;
* during the send: the row is `pending`, the server may or may not have the email, and the next `send` sends
  it again under the same Message-ID (a mail client shows one message for one Message-ID).

A send that fails deletes its row: nothing stays recorded. Used by `tracker.letters.sending`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from tracker.domain.events import Event
from tracker.store import schema
from tracker.store.cases import Store
from tracker.store.engine import transaction
from tracker.store.prepared import Prepared

PENDING = "pending"
SENT = "sent"
RECORDED = "recorded"
_T = schema.letter_sends


@dataclass(frozen=True, slots=True)
class LetterSend:
    """One letter's row: its Message-ID and how far it got."""

    message_id: str
    ref: str
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class LetterSendRow:
    """One letter's whole row, as a subject access response lists the documents sent on a case."""

    message_id: str
    kind: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    event_seq: int | None

    def as_json(self) -> dict[str, Any]:
        """The row as JSON values (times ISO 8601 in UTC)."""
        return {
            "kind": self.kind,
            "status": self.status,
            "message_id": self.message_id,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "event_seq": self.event_seq,
        }


class LetterSends:
    """Reads and writes `letter_sends` on the store's database.

    Args:
        store: The event store (its engine, and its `record` for the event).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def unfinished(self, ref: str, kind: str) -> LetterSend | None:
        """The case's letter of this kind that was begun but whose event is not recorded, if any."""
        query = select(_T.c.message_id, _T.c.ref, _T.c.kind, _T.c.status).where(
            _T.c.ref == ref, _T.c.kind == kind, _T.c.status != RECORDED
        )
        with transaction(self.store.engine, write=False) as connection:
            row = connection.execute(query.order_by(_T.c.id.desc())).first()
        return None if row is None else LetterSend(*row)

    def begin(self, message_id: str, ref: str, kind: str, now: dt.datetime) -> None:
        """Write the letter `pending`, before it is sent."""
        with transaction(self.store.engine, write=True) as connection:
            connection.execute(
                insert(_T).values(message_id=message_id, ref=ref, kind=kind, status=PENDING, created_at=now)
            )

    def mark_sent(self, message_id: str, now: dt.datetime) -> None:
        """The SMTP server accepted the letter."""
        with transaction(self.store.engine, write=True) as connection:
            connection.execute(
                update(_T).where(_T.c.message_id == message_id).values(status=SENT, sent_at=now)
            )

    def forget(self, message_id: str) -> None:
        """The send failed: the letter leaves no trace."""
        with transaction(self.store.engine, write=True) as connection:
            connection.execute(delete(_T).where(_T.c.message_id == message_id, _T.c.status != RECORDED))

    def record_event(
        self,
        message_id: str,
        ref: str,
        event_type: str,
        on: dt.date,
        fields: dict[str, object],
        actor: str,
        now: dt.datetime,
        today: dt.date,
    ) -> Event:
        """Record the letter's event and mark the letter `recorded`, in one transaction."""
        mark_recorded = Prepared(
            update(_T)
            .where(_T.c.message_id == bindparam("b_message_id"))
            .values(status=bindparam("v_status"), event_seq=bindparam("v_event_seq")),
            self.store.engine.dialect,
        )

        def mark(cursor: Any, event: Event) -> None:
            mark_recorded.run(
                cursor, {"b_message_id": message_id, "v_status": RECORDED, "v_event_seq": event.seq}
            )

        event, _state = self.store.record(ref, event_type, on, fields, actor, now, today, also=mark)
        return event

    def of_case(self, ref: str) -> list[LetterSendRow]:
        """Every letter row of a case, oldest first (`caseclock subject-access`)."""
        columns = (_T.c.message_id, _T.c.kind, _T.c.status, _T.c.created_at, _T.c.sent_at, _T.c.event_seq)
        with transaction(self.store.engine, write=False) as connection:
            rows = connection.execute(select(*columns).where(_T.c.ref == ref).order_by(_T.c.id)).all()
        return [LetterSendRow(*row) for row in rows]

    def all(self) -> list[LetterSend]:
        """Every letter row, oldest first (tests and support)."""
        with transaction(self.store.engine, write=False) as connection:
            rows = connection.execute(
                select(_T.c.message_id, _T.c.ref, _T.c.kind, _T.c.status).order_by(_T.c.id)
            ).all()
        return [LetterSend(*row) for row in rows]
