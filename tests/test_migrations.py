"""Migration 0007 both ways on a database with cases, on SQLite and PostgreSQL.

Going down remakes the report tables of 0004-0006 and notes every case for their catch-up; coming back up
drops them again, and the projections wait for `caseclock init` (or `rebuild`) before a report is read.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from tests.test_compliance import H1, NOW, TODAY, half_year_cases
from tracker.cli import main
from tracker.reports.queries import StaleProjections
from tracker.reports.report import compliance_report
from tracker.store import Store
from tracker.store.personal import PersonalKeys

REPORT_TABLES = {"report_clocks", "report_events", "report_stale", "report_counts", "report_cases"}


def migrate(engine: Engine, action: str, revision: str, keys: PersonalKeys | None = None) -> None:
    config = Config()
    config.set_main_option("script_location", "tracker.store:migrations")
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        config.attributes["personal_keys"] = keys
        getattr(command, action)(config, revision)
        connection.commit()


def tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_0007_down_and_up_again_keeps_every_figure(
    store: Store, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.import_histories([(c.ref, c.events) for c in half_year_cases()], NOW)
    expected = compliance_report(store, None, H1, TODAY)

    migrate(engine, "downgrade", "0006")
    assert tables(engine) >= REPORT_TABLES
    assert "projection_rules" not in tables(engine)
    with engine.connect() as connection:
        noted = connection.execute(text("SELECT count(DISTINCT case_id) FROM report_stale")).scalar()
        copied = connection.execute(text("SELECT count(*) FROM report_clocks")).scalar()
        clocks = connection.execute(text("SELECT count(*) FROM clocks")).scalar()
    assert noted == len(half_year_cases())  # the 0006 code recounts every case before its next report
    assert copied == clocks

    migrate(engine, "upgrade", "head", PersonalKeys(store.rules.packs))
    assert not REPORT_TABLES & tables(engine)
    with pytest.raises(StaleProjections):
        compliance_report(store, None, H1, TODAY)  # excepted_on is empty until the cases are refolded

    monkeypatch.setenv("CASECLOCK_DB", db_url)
    assert main(["--as-of", TODAY.isoformat(), "init"]) == 0  # refolds the cases
    assert compliance_report(store, None, H1, TODAY) == expected
