"""Retention: `[retention]` in the config, `caseclock retention [--dry-run]`, and `watch`'s daily job.

On demo data with fixed dates: what is listed is exactly the cases that ended N whole years before the
as-of date; applying erases those and no other; nothing is erased without a policy; `watch` logs one line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tracker.alerts import scheduler
from tracker.alerts.dispatch import Channels
from tracker.cli.commands.alerts import _retention_job
from tracker.cli.context import Context
from tracker.store.engine import make_engine

DEMO_AS_OF = "2026-06-30"
AS_OF = dt.date(2027, 3, 1)


@pytest.fixture
def demo(cli: Any) -> None:
    result = cli("--as-of", DEMO_AS_OF, "demo", "--cases", "80", "--seed", "4")
    assert result.code == 0, result.err


def policy(tmp_path: Path, years: int) -> Path:
    path = tmp_path / "retention.toml"
    path.write_text(f"[retention]\npersonal_data_years_after_end = {years}\n", encoding="utf-8")
    return path


def query(db_url: str, sql: str) -> list[Any]:
    engine = make_engine(db_url, create=False)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()


def ended(db_url: str) -> dict[str, dt.date]:
    rows = query(db_url, "SELECT ref, closed_on FROM cases WHERE closed_on IS NOT NULL")
    return {ref: dt.date.fromisoformat(str(on)) for ref, on in rows}  # SQLite gives text


def with_values(db_url: str) -> set[str]:
    rows = query(db_url, "SELECT DISTINCT c.ref FROM personal_values p JOIN cases c ON c.id = p.case_id")
    return {row[0] for row in rows}


def test_without_a_policy_nothing_is_erased_and_the_dry_run_names_the_pack_default(cli, demo, db_url) -> None:
    before = with_values(db_url)
    listed = cli("retention", "--dry-run", "--as-of", AS_OF.isoformat())
    assert listed.code == 0
    assert "no retention policy configured" in listed.out
    assert "send-mediation pack's default is 6 years after the case ends, a default, not advice" in listed.out
    refused = cli("retention", "--as-of", AS_OF.isoformat())
    assert refused.code == 2
    assert refused.err.count("\n") == 1
    assert "[retention] personal_data_years_after_end" in refused.err
    assert with_values(db_url) == before


def test_the_dry_run_lists_the_cases_ended_n_years_ago_and_applying_erases_exactly_those(
    cli, demo, db_url, tmp_path, monkeypatch
) -> None:
    config = str(policy(tmp_path, 1))
    ends = ended(db_url)
    due = {ref for ref, on in ends.items() if on.replace(year=on.year + 1) <= AS_OF}
    assert due, "the demo data has cases ended long enough ago"
    assert set(ends) - due, "and cases ended since"
    names = {row[0] for row in query(db_url, "SELECT value FROM personal_values WHERE key = 'name'")}

    listed = cli("--config", config, "retention", "--dry-run", "--as-of", AS_OF.isoformat(), "--json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert {row["ref"] for row in rows} == due
    for row in rows:
        end = dt.date.fromisoformat(row["ended_on"])
        assert end == ends[row["ref"]]
        assert row["due_since"] == end.replace(year=end.year + 1).isoformat()
    words = cli("--config", config, "retention", "--dry-run", "--as-of", AS_OF.isoformat()).out
    assert f"{len(due)} cases due for erasure as of 2027-03-01 (1 years after end)" in words
    assert not any(str(name) in words for name in names)  # references and dates only

    docs = tmp_path / "documents"
    docs.mkdir()
    monkeypatch.setenv("XDG_DOCUMENTS_DIR", str(docs))
    due_letter = docs / f"{min(due)}-certificate_after_mediation.pdf"
    kept_letter = docs / f"{min(set(ends) - due)}-certificate_after_mediation.pdf"
    for letter in (due_letter, kept_letter):
        letter.write_bytes(b"%PDF")

    before = with_values(db_url)
    applied = cli("--config", config, "retention", "--as-of", AS_OF.isoformat())
    assert applied.code == 0, applied.err
    assert applied.out.strip() == f"retention: erased {len(due)} cases"
    assert with_values(db_url) == before - due
    assert not due_letter.exists()  # an erased case's letters go with its data
    assert kept_letter.exists()
    erasures = query(db_url, "SELECT CAST(data AS TEXT) FROM events WHERE type = 'personal_data_erased'")
    assert len(erasures) == len(due)
    assert all("retention policy: 1 years after end" in row[0] for row in erasures)
    again = cli("--config", config, "retention", "--dry-run", "--as-of", AS_OF.isoformat())
    assert "nothing due for erasure as of 2027-03-01" in again.out


def test_watch_applies_the_policy_daily_with_one_log_line(cli, demo, db_url, tmp_path, caplog) -> None:
    config = policy(tmp_path, 1)
    context = Context(db=db_url, config=config, as_of=AS_OF.isoformat())
    log = logging.getLogger("test.retention")
    caplog.set_level(logging.INFO, "test.retention")
    watcher = scheduler.Watcher(
        context.store.engine,
        context.packs,
        context.calendar,
        context.settings,
        Channels(),
        as_of=AS_OF,
        log=log,
        retention=_retention_job(context),
    )
    try:
        listed = cli(
            "--config", str(config), "retention", "--dry-run", "--as-of", AS_OF.isoformat(), "--json"
        )
        due = len(json.loads(listed.out))
        assert due > 0
        first = watcher.apply_retention()
        assert first == f"retention: erased {due} cases"
        assert watcher.apply_retention() == "retention: nothing due"
        lines = [r.getMessage() for r in caplog.records if r.name == "test.retention"]
        assert lines == [first, "retention: nothing due"]
        background = scheduler.make_scheduler(blocking=False)
        watcher.add_jobs(background)
        assert background.get_job("retention") is not None
    finally:
        context.close()


def test_watch_has_no_retention_job_without_a_policy(db_url, tmp_path, engine) -> None:
    context = Context(db=db_url, as_of=AS_OF.isoformat())
    try:
        assert _retention_job(context) is None
        watcher = scheduler.Watcher(engine, context.packs, context.calendar, context.settings, Channels())
        background = scheduler.make_scheduler(blocking=False)
        watcher.add_jobs(background)
        assert background.get_job("retention") is None
        assert watcher.apply_retention() is None
    finally:
        context.close()
