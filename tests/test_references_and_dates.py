"""The next free reference is read from the store (the highest number in use + 1), on SQLite and PostgreSQL;
the command line takes the same date words as the forms."""

from __future__ import annotations

import datetime as dt

from tracker.store import Store

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


def test_the_highest_number_of_a_prefix_counts_numbers_not_cases(store: Store) -> None:
    assert store.highest_number("M-") == 0
    for ref in ["M-00400", "M-0012", "M-00345", "M-12a", "X-99999", "M_00999", "MM-500"]:
        store.open_case(ref, "mediation", TODAY, {}, "test", NOW, TODAY)
    assert store.highest_number("M-") == 400  # not the number of cases (5), nor M_ or MM-
    assert store.highest_number("X-") == 99999
    assert store.highest_number("M_") == 999  # `_` is a character, not a LIKE wildcard
    assert store.highest_number("A-") == 0


def test_the_command_line_takes_the_forms_date_words(cli) -> None:
    as_of = ("--as-of", "2026-03-10")
    assert cli(*as_of, "open", "M-1", "--type", "mediation", "--on", "4/3").code == 0
    assert cli(*as_of, "record", "M-1", "mediation_requested", "--on", "yesterday").code == 0
    scheduled = cli(
        *as_of, "record", "M-1", "meeting_scheduled", "--on", "today", "--meeting-date", "next tue"
    )
    assert scheduled.code == 0
    refused = cli(*as_of, "record", "M-1", "la_notified", "--on", "31/13/26")
    assert refused.code == 2
    assert refused.err.startswith("caseclock: --on=31/13/26: there is no month 13; use a date such as ")
    shown = cli(*as_of, "show", "M-1", "--json")
    assert '"2026-03-04"' in shown.out
    assert '"2026-03-09"' in shown.out
    assert '"2026-03-17"' in shown.out
