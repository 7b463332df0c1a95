"""The database tables, as SQLAlchemy Core metadata.

* `cases`: one row per case: the projection of its events (state, fields, the next open clock).
* `events`: the append-only history; `UNIQUE(case_id, seq)` is the concurrency guard, database triggers
  (`tracker.store.guards`) refuse any UPDATE, DELETE, REPLACE or TRUNCATE, and each row carries the hash
  chaining it to the case's event before it (`tracker.domain.chain`).
* `clocks`: one row per clock instance: the projection of the clocks. Its status as of a date follows from
  its own dates (started, due, stopped, ended, excepted: `tracker.domain.clocks.clock_status`); `final_status`
  is the status once no date can change it, NULL while the clock is open (the alert pass's working set).
* `personal_values`: the per-case personal store (migration 0010): every personal value and free text of
  an event, by case, event seq and payload key. The event's own payload holds only a marker in its place
  (`tracker.domain.personal`), so erasing a case is a DELETE here and changes no count, clock or KPI.
* `alert_outbox`: one row per alert, channel and recipient (`tracker.alerts.outbox`), recorded before it is
sent;
  `UNIQUE(ref, clock, number, level, channel, recipient)` makes each go out once. A pass claims rows with a
  lease (`status = 'sending'`, `claimed_by`, `lease_until`) and sends them with no transaction open;
  `not_before` is a receiver's `Retry-After`; `acknowledged_at`/`_by` a failure someone has seen
  (migration 0009).
* `letter_sends`: one row per letter emailed by `caseclock send` (`tracker.store.letters`), written before
  it is sent, so a crash between the send and the recording of its event neither loses nor repeats it.
* `projection_rules`: one row, the fingerprint of the rules (packs and calendar) the `cases` and `clocks`
  projections were last computed with (`Rules.fingerprint`): a report on projections computed with other
  rules is refused until `rebuild` (migration 0007).

Compliance reports read `cases`, `clocks` and `events` as they are (`tracker.reports.queries`): nothing is
copied or kept for them.

The schema itself is created and upgraded by Alembic (`tracker/store/migrations`); `SCHEMA_HEAD` is the
revision this code expects. Used by `tracker.store` and `tracker.alerts.outbox`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from tracker.store.revision import SCHEMA_HEAD as SCHEMA_HEAD  # re-exported beside the tables


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """An aware time to UTC (naive UTC on SQLite); a naive one is a bug and refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """The stored time as an aware UTC one."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
_Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

cases = Table(
    "cases",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    Column("pack", String(48), nullable=False),
    Column("pack_version", String(32), nullable=False),
    Column("case_type", String(48), nullable=False),
    Column("state", String(48), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("owner", String(200)),
    Column("fields", Json, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("next_clock", String(48)),
    Column("next_due_on", Date),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_cases_next_due_on", "next_due_on"),
    Index("ix_cases_owner", "owner"),
    Index("ix_cases_opened_on", "opened_on"),
    Index("ix_cases_pack_opened_on", "pack", "opened_on"),  # a report's referrals and its pack's cases
)
# The case list's order, with the columns its search and views test (migration 0003): a page of the list
# is read by walking this index and stops when the page is full.
Index(
    "ix_cases_list",
    cases.c.next_due_on.is_(None),
    cases.c.next_due_on,
    cases.c.ref,
    cases.c.owner,
    cases.c.closed_on,
)

events = Table(
    "events",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("case_id", _Id, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(48), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("data", Json, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("schema_version", Integer, nullable=False),
    # sha256 of the case's previous event's hash and this row (`tracker.domain.chain`, migration 0011)
    Column("hash", String(64), nullable=False),
    UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
    # The events of a type dated in a range, with their case and number: a report's count of the cases
    # with a step in a period reads this index alone (migration 0007).
    Index("ix_events_type_occurred_on", "type", "occurred_on", "case_id", "seq"),
)

clocks = Table(
    "clocks",
    metadata,
    Column("case_id", _Id, ForeignKey("cases.id"), primary_key=True),
    Column("clock", String(48), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("kpi", String(32), nullable=False),
    Column("pack_version", String(32), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("stopped_on", Date),
    Column("ended_on", Date),
    Column("ended_by", String(48)),
    Column("exception_reason", String(48)),
    Column("exception_until", Date),
    Column("final_status", String(16)),
    Column("excepted_on", Date),
    Index("ix_clocks_due_on", "due_on"),
    # The alert pass's working set (migration 0002): open clocks by due date, without the closed ones.
    Index(
        "ix_clocks_open_due_on",
        "due_on",
        sqlite_where=text("final_status IS NULL"),
        postgresql_where=text("final_status IS NULL"),
    ),
)

personal_values = Table(
    "personal_values",
    metadata,
    Column("case_id", _Id, ForeignKey("cases.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("key", String(48), primary_key=True),
    Column("value", Json, nullable=False),
)
"""The personal values and free text of the events, apart from them (migration 0010)."""

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("alert_id", String(64), nullable=False, unique=True),
    Column("case_id", _Id, ForeignKey("cases.id")),
    Column("ref", String(64), nullable=False),
    Column("clock", String(48), nullable=False),
    Column("number", Integer, nullable=False),
    Column("level", String(32), nullable=False),
    Column("channel", String(80), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("type", String(32), nullable=False),
    Column("due_on", Date),
    Column("decided_on", Date, nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("lease_until", UTCDateTime),
    Column("claimed_by", String(120)),
    Column("not_before", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(120)),
    UniqueConstraint("ref", "clock", "number", "level", "channel", "recipient", name="uq_alert_outbox_key"),
    Index("ix_alert_outbox_status_id", "status", "id"),
)

letter_sends = Table(
    "letter_sends",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("ref", String(64), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("event_seq", Integer),
    Index("ix_letter_sends_ref_kind", "ref", "kind", "status"),
)
"""One row per letter `caseclock send` emails (migration 0008): written `pending` before the email goes,
`sent` once the server took it, `recorded` in the transaction that records its event. A retry finds a `sent`
row and records the event without sending again."""

projection_rules = Table(
    "projection_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)
"""The fingerprint of the rules the projections were computed with (one row, id 1; migration 0007)."""
