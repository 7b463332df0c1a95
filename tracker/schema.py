"""The database tables, as SQLAlchemy Core metadata.

* `cases`: one row per case: the projection of its events (state, fields, the next open clock).
* `events`: the append-only history; `UNIQUE(case_id, seq)` is the concurrency guard, and database
  triggers (created by the first migration) refuse any UPDATE or DELETE.
* `clocks`: one row per clock instance: the projection of the clocks. `final_status` is NULL while the
  clock is open; whether an open clock is running or breached depends on the as-of date of the query.
* `alert_outbox`: one row per alert, channel and recipient (`tracker.outbox`), recorded before it is sent;
  `UNIQUE(ref, clock, number, level, channel, recipient)` makes each go out once.
* `report_clocks` and `report_events`: the clocks and events as compliance reports read them (migration
  0004), each row with its case's pack and reference (and caseworker, opening date). They are copies,
  brought up to date before a report is read (`tracker.report_tables.catch_up`, migration 0005) from the
  notes in `report_stale`: a trigger on `events` notes the case of every event written, one on `cases` a
  case whose reference, pack, opening date or caseworker changed. `report_clocks` is stored in report
  order (pack, due date, reference, clock, number), so a period's clocks are one range read in the order
  they are listed; `report_events` by (pack, opening date, case, seq), so the events of the cases opened in
  a period are one range, and indexed by (pack, type, date) for the steps and surveys dated in it. Voided
  events stay in `report_events`, as in `events`: reports leave them out when they read. The opening
  event's payload (the case's fields, names and contacts) is not copied. `report_clocks.line` holds a final
  clock's line of the JSON export, rendered as it is copied, and `report_day_lines` each day's lines joined
  (migration 0006).
* `report_counts`: the running sums of what reports count, per pack, kind, day and key
  (`tracker.compliance.counts`), so a year's tallies are a few thousand rows; `report_count_packs` holds
  the pack version the sums were made with, and `report_cases` the case columns counted (as the report
  rows hold the clocks and events counted), so a recount can take off what a case counted before. Kept by
  the same catch-up (`tracker.report_counts`, migration 0006).

The schema itself is created and upgraded by Alembic (`tracker/migrations`); `SCHEMA_HEAD` is the revision
this code expects. Used by `tracker.store` and `tracker.outbox`.
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

from tracker.revision import SCHEMA_HEAD as SCHEMA_HEAD  # re-exported beside the tables


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
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
    Column("personal", Json, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("next_clock", String(48)),
    Column("next_due_on", Date),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_cases_next_due_on", "next_due_on"),
    Index("ix_cases_owner", "owner"),
    Index("ix_cases_opened_on", "opened_on"),
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
    UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
    Index("ix_events_type_occurred_on", "type", "occurred_on"),
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
    Column("exception_note", Text),
    Column("final_status", String(16)),
    Index("ix_clocks_due_on", "due_on"),
    # The alert pass's working set (migration 0002): open clocks by due date, without the closed ones.
    Index(
        "ix_clocks_open_due_on",
        "due_on",
        sqlite_where=text("final_status IS NULL"),
        postgresql_where=text("final_status IS NULL"),
    ),
)

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
    UniqueConstraint("ref", "clock", "number", "level", "channel", "recipient", name="uq_alert_outbox_key"),
    Index("ix_alert_outbox_status_id", "status", "id"),
)

# The reference sorts by code point on PostgreSQL too (as on SQLite and in Python): reports list clocks in
# primary-key order.
_Ref = String(64).with_variant(String(64, collation="C"), "postgresql")

report_clocks = Table(
    "report_clocks",
    metadata,
    Column("pack", String(48), primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("ref", _Ref, primary_key=True),
    Column("clock", String(48), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("case_id", _Id, nullable=False),
    Column("kpi", String(32), nullable=False),
    Column("pack_version", String(32), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("stopped_on", Date),
    Column("ended_on", Date),
    Column("ended_by", String(48)),
    Column("exception_reason", String(48)),
    Column("exception_until", Date),
    Column("final_status", String(16)),
    Column("owner", String(200)),
    # The clock's line of an export's JSON while its status is final, without the caseworker (whom a pack
    # may keep from the commissioner): written at catch-up, so a year's lines need no rendering when read.
    Column("line", Text),
    Index("ux_report_clocks_clock", "case_id", "clock", "number", unique=True),
    sqlite_with_rowid=False,
)
"""One row per clock instance (no note: reports never show one); see the module docstring."""

report_events = Table(
    "report_events",
    metadata,
    Column("pack", String(48), primary_key=True),
    Column("opened_on", Date, primary_key=True),
    Column("case_id", _Id, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("type", String(48), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("ref", String(64), nullable=False),
    Column("data", Json),  # None for the opening event: its payload is the case's fields (in `cases`)
    Index("ix_report_events_type", "pack", "type", "occurred_on", "case_id"),
    Index("ix_report_events_case", "case_id", "seq"),
    sqlite_with_rowid=False,
)
"""One row per event (voided ones too, as in `events`); see the module docstring."""

report_stale = Table(
    "report_stale",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("case_id", _Id, nullable=False),
)
"""A note per write since the last catch-up: the report rows of its case are out of date (migration 0005)."""

report_day_lines = Table(
    "report_day_lines",
    metadata,
    Column("pack", String(48), primary_key=True),
    Column("due_on", Date, primary_key=True),
    Column("lines", Text),
    sqlite_with_rowid=False,
)
"""A day's final clock lines joined for the JSON export; NULL while one is open (`tracker.report_days`)."""

report_counts = Table(
    "report_counts",
    metadata,
    Column("pack", String(48), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("since", Date),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,
)
"""The running sums of the cases' count rows (`tracker.compliance.counts`), per pack (migration 0006)."""

report_cases = Table(
    "report_cases",
    metadata,
    Column("case_id", _Id, primary_key=True),
    Column("pack", String(48), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("case_type", String(48), nullable=False),
    Column("state", String(48), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("fields", Json, nullable=False),
)
"""The columns of `cases` the counts read, as of the last catch-up: what a case counted, to take off again."""

report_count_packs = Table(
    "report_count_packs",
    metadata,
    Column("pack", String(48), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)
"""The pack version each pack's counts were made with (`tracker.compliance.counts.fingerprint`)."""
