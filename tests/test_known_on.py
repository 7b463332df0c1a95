"""`--known-on`: a return sent on a day is produced again later, figure for figure.

The events recorded after that day (steps recorded late, voids) are left out by folding the log again, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from tests.test_compliance import H1, TODAY, half_year_cases
from tracker.cli.context import london_today
from tracker.domain.compliance import report_json
from tracker.reports.report import compliance_report, compliance_report_known_on
from tracker.store import Store

SENT = dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)  # the afternoon the H1 return went out
LATER = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def figures(report) -> dict:
    """Every figure and line of the report, whatever day it says it was produced on."""
    return report_json(dataclasses.replace(report, known_on=None))


def test_a_return_is_produced_again_as_it_was_known(store: Store, cli, db_url: str, tmp_path) -> None:
    cases = half_year_cases()
    store.import_histories([(c.ref, c.events) for c in cases], SENT)
    sent = compliance_report(store, None, H1, TODAY)

    # Later: a step recorded late, a void, a new case opened back in the half year.
    store.record("M-E", "la_notified", dt.date(2026, 9, 25), {}, "jo", LATER, LATER.date())
    voided = next(e.seq for e in next(c for c in cases if c.ref == "M-A").events if e.type == "la_notified")
    store.void("M-A", voided, "recorded on the wrong case", "jo", LATER, LATER.date())
    store.open_case(
        "M-Z", "mediation", dt.date(2026, 6, 1), {"caseworker": "Jo Smith"}, "jo", LATER, LATER.date()
    )
    now = compliance_report(store, None, H1, TODAY)
    assert figures(now) != figures(sent)  # the late records changed the figures

    again = compliance_report_known_on(store, None, H1, TODAY, SENT.date())
    assert again.known_on == SENT.date()
    assert figures(again) == figures(sent)
    assert list(again.clocks) == list(sent.clocks)

    exported = cli(
        "--as-of",
        TODAY.isoformat(),
        "export",
        "--period",
        "FY2026-H1",
        "--format",
        "json",
        "--known-on",
        "2026-10-05",
    )
    assert exported.code == 0, exported.err
    body = json.loads(exported.out)
    assert body["known_on"] == "2026-10-05"
    assert body["kpis"] == report_json(sent)["kpis"]
    assert body["clocks"] == report_json(sent)["clocks"]
    assert body["referrals"] == report_json(sent)["referrals"]
    produced = cli("--as-of", TODAY.isoformat(), "export", "--period", "FY2026-H1", "--format", "json")
    assert produced.code == 0, produced.err
    today = json.loads(produced.out)
    assert today["known_on"] == london_today().isoformat()  # everything recorded when produced
    assert today["kpis"] == report_json(now)["kpis"]
