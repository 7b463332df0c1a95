"""Migration 0010: a database at 0009, its personal values inside the events, upgrades to the same cases.

The database at 0009 is made by the downgrade of 0010, which puts every value back into its event's payload
(as releases before 0010 wrote them). `caseclock init` then moves them out again: the events hold markers
only, and every case (personal fields and free text included) and every export reads as before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from tests.test_personal_data import NAME, SECRETS, cases, exports, run_ok
from tracker.store.engine import current_revision, make_engine
from tracker.store.personal import PersonalKeys

__all__ = ["cases"]  # the fixture, shared with the erasure tests


def migrate(db_url: str, action: str, revision: str, keys: PersonalKeys | None = None) -> None:
    engine = make_engine(db_url, create=False)
    config = Config()
    config.set_main_option("script_location", "tracker.store:migrations")
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            config.attributes["personal_keys"] = keys
            getattr(command, action)(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def stored(db_url: str) -> tuple[str | None, str, set[str]]:
    """(revision, every event payload as text, the tables)."""
    engine = make_engine(db_url, create=False)
    try:
        with engine.connect() as connection:
            payloads = "\n".join(
                json.dumps(d) for d in connection.execute(text("SELECT data FROM events")).scalars()
            )
            tables = set(inspect(connection).get_table_names())
        return current_revision(engine), payloads, tables
    finally:
        engine.dispose()


def every_case(cli: Any) -> dict[str, Any]:
    return {
        ref: json.loads(run_ok(cli, "show", ref, "--json", "--personal").out) for ref in ("M-1", "M-2", "M-3")
    }


def test_a_database_at_0009_upgrades_to_the_same_cases_and_exports(cli, cases, db_url, tmp_path) -> None:
    shown = every_case(cli)
    before = exports(cli, tmp_path, "before")

    migrate(db_url, "downgrade", "0009")
    revision, payloads, tables = stored(db_url)
    assert revision == "0009"
    assert "personal_values" not in tables
    for secret in SECRETS.values():
        assert secret in payloads  # inside the events, as 0009 kept them

    # Without the rule packs the move is refused, and the database stays at 0009.
    with pytest.raises(RuntimeError, match="needs the rule packs"):
        migrate(db_url, "upgrade", "head")
    assert stored(db_url)[0] == "0009"

    upgraded = run_ok(cli, "init")
    assert "was 0009" in upgraded.out
    assert "recomputed 3 cases" in upgraded.out
    revision, payloads, tables = stored(db_url)
    assert revision == "0011"
    assert "personal_values" in tables
    for secret in SECRETS.values():
        assert secret not in payloads
    assert every_case(cli) == shown
    assert json.loads(run_ok(cli, "show", "M-1", "--json", "--personal").out)["personal"]["name"] == NAME
    assert exports(cli, tmp_path, "after") == before
