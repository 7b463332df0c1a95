"""What every command needs, built once from the global options: settings, rules, store, today.

`Context` builds its parts lazily, so a command that needs no database never connects to one and a
command that needs no rule packs never loads them. The CLI creates it; the TUI receives its parts.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings, load_config
from tracker.domain.dates import LONDON, parse_date
from tracker.domain.errors import ConfigError
from tracker.domain.rules import PackRegistry, discover_packs
from tracker.domain.workflow import CaseRecord, Rules

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tracker.store import Store


def default_url() -> str:
    """`caseclock.db` in the user data directory (platformdirs)."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('caseclock')) / 'caseclock.db'}"


def london_today() -> dt.date:
    """Today's date in Europe/London, the date every business rule counts in."""
    return dt.datetime.now(LONDON).date()


class Context:
    """The global options resolved: database URL, config file, as-of date.

    Args:
        db: `--db` (else `CASECLOCK_DB`, else the SQLite file in the user data directory).
        config: `--config` (else `CASECLOCK_CONFIG`, else the user config file if present).
        as_of: `--as-of` as typed (else `CASECLOCK_AS_OF`, else today in Europe/London).
        environ: The environment to read (tests pass their own).
        create_database: Whether the command may create the database (`init`, `demo`). Every other
            command refuses a database that does not exist, so a mistyped path creates nothing.
    """

    def __init__(
        self,
        db: str | None = None,
        config: Path | None = None,
        as_of: str | None = None,
        environ: Mapping[str, str] | None = None,
        create_database: bool = False,
    ) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.create_database = create_database
        self._db = db or self.environ.get("CASECLOCK_DB")
        self._config_path = config
        self._as_of_text = as_of or self.environ.get("CASECLOCK_AS_OF")

    @cached_property
    def settings(self) -> Settings:
        """The configuration, validated."""
        return self._loaded_config[0]

    @property
    def config_file(self) -> Path | None:
        """The configuration file in use, if any."""
        return self._loaded_config[1]

    @cached_property
    def _loaded_config(self) -> tuple[Settings, Path | None]:
        return load_config(self._config_path, self.environ)

    @cached_property
    def as_of(self) -> dt.date:
        """'Today' for every status, report and alert decision."""
        real_today = london_today()
        if not self._as_of_text:
            return real_today
        return parse_date(self._as_of_text, real_today, "--as-of")

    def now(self) -> dt.datetime:
        """The wall-clock time, timezone-aware (when an event was recorded)."""
        return dt.datetime.now(dt.UTC)

    @cached_property
    def actor(self) -> str:
        """Who is recording: the configured user name, else the operating-system user."""
        if self.settings.user.name:
            return self.settings.user.name
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar with the deployment's extra closures."""
        return WorkingCalendar(self.settings.calendar.extra_closures)

    @cached_property
    def packs(self) -> PackRegistry:
        """The enabled rule packs."""
        packs = self.settings.packs
        overrides = {pack_id: o.model_dump() for pack_id, o in packs.overrides.items()}
        try:
            return discover_packs(packs.dirs, packs.enabled, overrides)
        except ConfigError as error:
            raise ConfigError(f"{self.config_file or 'config'}: {error.message}") from None

    @cached_property
    def rules(self) -> Rules:
        """Packs, calendar and configured field defaults together."""
        default_type = self.settings.cases.default_type
        if default_type is not None and self.packs.pack_for_case_type(default_type) is None:
            raise ConfigError(
                f"{self.config_file or 'config'}: cases.default_type: {default_type!r} is not a case type "
                f"of an enabled pack; use one of {', '.join(self.packs.case_types)}"
            )
        return Rules(self.packs, self.calendar, dict(self.settings.cases.defaults), default_type)

    @cached_property
    def db_url(self) -> str:
        """The SQLAlchemy URL in use."""
        return self._db or default_url()

    @cached_property
    def engine(self) -> Engine:
        """The database engine (schema not yet checked).

        A SQLite file that does not exist is refused unless the command may create the database.
        """
        from tracker.store.engine import make_engine

        return make_engine(self.db_url, create=self.create_database)

    def close(self) -> None:
        """Release the database connections, if any were opened."""
        engine = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()

    def case(self, ref: str) -> CaseRecord:
        """One case and its history, for reading (`show`); raises UnknownCase."""
        return self.store.case(ref)

    @cached_property
    def store(self) -> Store:
        """The event store on a database whose schema is current (created if the command may create it)."""
        from tracker.store import Store
        from tracker.store.engine import check_schema

        check_schema(self.engine, create=self.create_database)
        return Store(self.engine, self.rules)
