"""Shared fixtures: a clean environment, no config discovery, and stores on SQLite and PostgreSQL.

The store fixtures are parametrized over both backends. PostgreSQL runs when CASECLOCK_TEST_DATABASE_URL
names a server (CI starts a throwaway cluster; see scripts/pg-throwaway.sh) and is skipped with that reason
otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tracker.cli import main
from tracker.domain import config as config_module
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade

POSTGRES_URL = os.environ.get("CASECLOCK_TEST_DATABASE_URL")
NO_POSTGRES = "no PostgreSQL server: set CASECLOCK_TEST_DATABASE_URL (CI does, via scripts/pg-throwaway.sh)"
NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)

_SHARED_RULES: Rules | None = None


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CASECLOCK_* or proxy variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("CASECLOCK_") or name.lower() in (
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_discovered_config(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never read the real user's config file."""
    missing = tmp_path_factory.getbasetemp() / "no-such-config.toml"
    monkeypatch.setattr(config_module, "default_config_path", lambda: missing)


def shared_rules() -> Rules:
    """The shipped packs with the statutory calendar (built once: the calendar index takes ~0.1 s)."""
    global _SHARED_RULES
    if _SHARED_RULES is None:
        _SHARED_RULES = Rules(discover_packs(), WorkingCalendar())
    return _SHARED_RULES


@pytest.fixture
def rules() -> Rules:
    return shared_rules()


def reset_postgres(engine: Engine) -> None:
    """Drop everything in the test database so each test starts empty."""
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
        connection.execute(text("DROP FUNCTION IF EXISTS caseclock_events_append_only() CASCADE"))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    engine = make_engine(POSTGRES_URL)
    reset_postgres(engine)
    engine.dispose()
    yield POSTGRES_URL


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine, rules: Rules) -> Store:
    return Store(engine, rules)


@dataclass
class Result:
    """What one `caseclock` run printed and returned."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db_url: str
) -> Callable[..., Result]:
    """Run `caseclock` in-process against the test database, set up as `caseclock init` leaves it (other
    commands never create one): `cli("show", "M-1", "--json")`."""
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("CASECLOCK_DB", db_url)

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
