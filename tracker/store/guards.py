"""The database's own guards of the append-only history, and the check and repair of them.

Events are never changed or removed, and a case with events is never removed or renumbered, whatever SQL is
run against the database. Each backend closes every path it offers:

* SQLite: triggers refuse UPDATE and DELETE on `events`; an INSERT whose id or (case, seq) is taken, which is
  how `INSERT OR REPLACE`, `REPLACE` and `INSERT ... ON CONFLICT` would remove an event (SQLite's REPLACE
  deletes the old row without firing delete triggers), or an INSERT without its chain hash; a DELETE of a
  case with events (which `PRAGMA foreign_keys=OFF` would otherwise allow); an INSERT that would replace a
  case; an UPDATE of a case's id or reference.
* PostgreSQL: the same row triggers, plus TRUNCATE triggers on `events` and `cases`, all `ENABLE ALWAYS` so
  `session_replication_role = replica` does not switch them off; and no role but the owner may UPDATE,
  DELETE or TRUNCATE `events` (`grant_app_role` gives the application's role only SELECT and INSERT on it).

A guard can still be dropped by the database's owner (SQLite: whoever can write the file). `missing_guards`
finds a guard that is gone, disabled or altered, and an UPDATE/DELETE/TRUNCATE privilege granted on
`events`; `restore_guards` puts them back (`caseclock init`, and migration 0011 first). Whatever was done
while a guard was off is what the hash chain is for (`tracker.store.chain_check`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from tracker.domain.errors import InvalidValue, StoreUnavailable
from tracker.store.engine import error_summary

APPEND_ONLY = "events are append-only: void an event instead"
CASE_KEPT = "a case with events is never deleted, replaced or renumbered: events are append-only"
NO_HASH = "an event needs its chain hash: record events through caseclock"

_SQLITE: dict[str, str] = {
    "events_no_update": (
        f"CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    ),
    "events_no_delete": (
        f"CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    ),
    # SQLite's REPLACE (INSERT OR REPLACE, REPLACE, an UPSERT's conflict) deletes the row in the way without
    # firing delete triggers (unless recursive_triggers is on), so an INSERT onto a taken key is refused
    # before it can; the store never makes one (it appends the next seq under the write lock).
    "events_no_replace": (
        "CREATE TRIGGER events_no_replace BEFORE INSERT ON events BEGIN "
        f"SELECT RAISE(ABORT, '{APPEND_ONLY}') WHERE EXISTS (SELECT 1 FROM events WHERE id = NEW.id) "
        "OR EXISTS (SELECT 1 FROM events WHERE case_id = NEW.case_id AND seq = NEW.seq); "
        f"SELECT RAISE(ABORT, '{NO_HASH}') WHERE NEW.hash IS NULL OR length(NEW.hash) <> 64; END"
    ),
    # With foreign keys off (a per-connection pragma) nothing else stops a case's events being orphaned.
    "cases_no_delete": (
        "CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases "
        "WHEN EXISTS (SELECT 1 FROM events WHERE case_id = OLD.id) "
        f"BEGIN SELECT RAISE(ABORT, '{CASE_KEPT}'); END"
    ),
    "cases_no_replace": (
        "CREATE TRIGGER cases_no_replace BEFORE INSERT ON cases "
        "WHEN EXISTS (SELECT 1 FROM cases WHERE id = NEW.id) "
        "OR EXISTS (SELECT 1 FROM cases WHERE ref = NEW.ref) "
        f"BEGIN SELECT RAISE(ABORT, '{CASE_KEPT}'); END"
    ),
    # The chain hashes the reference; a renumbered id would orphan the events (foreign keys off).
    "cases_keep_identity": (
        "CREATE TRIGGER cases_keep_identity BEFORE UPDATE OF id, ref ON cases "
        "WHEN NEW.id IS NOT OLD.id OR NEW.ref IS NOT OLD.ref "
        f"BEGIN SELECT RAISE(ABORT, '{CASE_KEPT}'); END"
    ),
}

_PG_FUNCTIONS: dict[str, str] = {
    "caseclock_events_append_only": f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END",
    "caseclock_cases_kept": (
        "BEGIN IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM events WHERE case_id = OLD.id) "
        f"THEN RETURN OLD; END IF; RAISE EXCEPTION '{CASE_KEPT}'; END"
    ),
}


@dataclass(frozen=True)
class _PgTrigger:
    table: str
    when: str
    """Timing, events and level as in CREATE TRIGGER."""
    function: str
    condition: str = ""
    tgtype: int = 0
    """pg_trigger.tgtype of this definition (1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate)."""


_PG_TRIGGERS: dict[str, _PgTrigger] = {
    "events_append_only": _PgTrigger(
        "events", "BEFORE UPDATE OR DELETE", "caseclock_events_append_only", tgtype=1 | 2 | 8 | 16
    ),
    "events_no_truncate": _PgTrigger(
        "events", "BEFORE TRUNCATE", "caseclock_events_append_only", tgtype=2 | 32
    ),
    "cases_no_delete": _PgTrigger("cases", "BEFORE DELETE", "caseclock_cases_kept", tgtype=1 | 2 | 8),
    "cases_no_truncate": _PgTrigger("cases", "BEFORE TRUNCATE", "caseclock_cases_kept", tgtype=2 | 32),
    "cases_keep_identity": _PgTrigger(
        "cases",
        "BEFORE UPDATE OF id, ref",
        "caseclock_cases_kept",
        "NEW.id IS DISTINCT FROM OLD.id OR NEW.ref IS DISTINCT FROM OLD.ref",
        tgtype=1 | 2 | 16,
    ),
}

_FORBIDDEN_GRANTS = {"events": ("UPDATE", "DELETE", "TRUNCATE"), "cases": ("TRUNCATE",)}
"""Privileges no role but the owner may hold: each would let SQL remove or change the history."""


def missing_guards(connection: Connection) -> list[str]:
    """The guards that are gone, disabled or altered, by name; a granted privilege as `grant: ...`."""
    if connection.dialect.name == "sqlite":
        triggers = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        found: dict[str, str] = {name: sql for name, sql in triggers}
        return [name for name, sql in _SQLITE.items() if found.get(name) != sql]
    missing = [
        f"function {name}"
        for name, body in _PG_FUNCTIONS.items()
        if _pg_function_body(connection, name) != body
    ]
    rows = connection.execute(
        text(
            "SELECT t.tgname, c.relname, t.tgtype, t.tgenabled, p.proname, t.tgqual IS NOT NULL "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND c.oid IN (to_regclass('events'), to_regclass('cases'))"
        )
    ).all()
    found_pg = {
        name: (table, tgtype, enabled, function, qual)
        for name, table, tgtype, enabled, function, qual in rows
    }
    for name, trigger in _PG_TRIGGERS.items():
        # 'A': fires always, in replica sessions too
        expected = (trigger.table, trigger.tgtype, "A", trigger.function, bool(trigger.condition))
        if found_pg.get(name) != expected:
            missing.append(name)
    missing += [
        f"grant: {role} may {privilege} {table}" for table, role, privilege in forbidden_grants(connection)
    ]
    return missing


def _pg_function_body(connection: Connection, name: str) -> str | None:
    body = connection.execute(
        text(
            "SELECT prosrc FROM pg_proc "
            "WHERE proname = :name AND pronamespace = current_schema()::regnamespace"
        ),
        {"name": name},
    ).scalar()
    return None if body is None else " ".join(str(body).split())


def forbidden_grants(connection: Connection) -> list[tuple[str, str, str]]:
    """(table, role, privilege) of every UPDATE, DELETE or TRUNCATE on the history held by a non-owner."""
    found: list[tuple[str, str, str]] = []
    for table, privileges in _FORBIDDEN_GRANTS.items():
        rows = connection.execute(
            text(
                "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, "
                "a.privilege_type "
                "FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
                "WHERE c.oid = to_regclass(:table) AND a.grantee <> c.relowner "
                "ORDER BY 1, 2"
            ),
            {"table": table},
        ).all()
        found += [(table, role, privilege) for role, privilege in rows if privilege in privileges]
    return found


def restore_guards(engine: Engine) -> list[str]:
    """Put back every guard `missing_guards` reports, in one transaction; returns what it restored."""
    missing: list[str] = []
    try:
        with engine.begin() as connection:
            missing = missing_guards(connection)
            if missing:
                install_guards(connection, missing)
    except DBAPIError as error:
        if not missing:
            raise
        raise StoreUnavailable(
            f"the append-only guards {', '.join(missing)} are missing and this role cannot put them back "
            f"({error_summary(error)}): run caseclock init as the owner of the tables"
        ) from None
    return missing


def install_guards(connection: Connection, names: list[str] | None = None) -> None:
    """(Re)create the named guards (all of them by default): dropped first, so an altered one is replaced."""
    if connection.dialect.name == "sqlite":
        for name, sql in _SQLITE.items():
            if names is None or name in names:
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
                connection.execute(text(sql))
        return
    for name, body in _PG_FUNCTIONS.items():
        connection.execute(
            text(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
        )
    for name, trigger in _PG_TRIGGERS.items():
        if names is not None and name not in names and f"function {trigger.function}" not in names:
            continue
        level = "FOR EACH STATEMENT" if "TRUNCATE" in trigger.when else "FOR EACH ROW"
        condition = f" WHEN ({trigger.condition})" if trigger.condition else ""
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {trigger.table}"))
        connection.execute(
            text(
                f"CREATE TRIGGER {name} {trigger.when} ON {trigger.table} {level}{condition} "
                f"EXECUTE FUNCTION {trigger.function}()"
            )
        )
        connection.execute(text(f"ALTER TABLE {trigger.table} ENABLE ALWAYS TRIGGER {name}"))
    quote = connection.dialect.identifier_preparer.quote
    for table, role, privilege in forbidden_grants(connection):
        grantee = "PUBLIC" if role == "PUBLIC" else quote(role)
        connection.execute(text(f"REVOKE {privilege} ON {table} FROM {grantee}"))


def drop_guards(connection: Connection) -> None:
    """Remove the guards this module added to those of migration 0001 (migration 0011's downgrade)."""
    if connection.dialect.name == "sqlite":
        for name in _SQLITE:
            if name not in ("events_no_update", "events_no_delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        return
    for name, trigger in _PG_TRIGGERS.items():
        if name != "events_append_only":
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {trigger.table}"))
    connection.execute(text("DROP FUNCTION IF EXISTS caseclock_cases_kept()"))
    connection.execute(text("ALTER TABLE events ENABLE TRIGGER events_append_only"))


def check_app_role(connection: Connection, role: str) -> None:
    """Refuse `--app-role` on SQLite, for a role that does not exist, or for the role running `init`."""
    if connection.dialect.name != "postgresql":
        raise InvalidValue(
            "--app-role",
            role,
            "SQLite has no roles: the file's permissions (0600) are its access control; leave --app-role out",
        )
    if (
        connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
        is None
    ):
        raise InvalidValue(
            "--app-role",
            role,
            f"no such role: create it first (CREATE ROLE {role} LOGIN), then run init again",
        )
    if role == connection.execute(text("SELECT current_user")).scalar():
        raise InvalidValue(
            "--app-role",
            role,
            "that is the role running init, which owns the tables: "
            "name the role caseclock connects as day to day",
        )


def grant_app_role(engine: Engine, role: str) -> None:
    """Give the application's role what it needs and no more: on `events` only SELECT and INSERT.

    Every other table of the schema gets SELECT, INSERT, UPDATE and DELETE (the projections, the outbox...),
    its sequences USAGE, and `alembic_version` SELECT only: only the owner upgrades the schema. Run it again
    after each upgrade (`caseclock init --app-role NAME`): a new table needs its grant.
    """
    with engine.begin() as connection:
        check_app_role(connection, role)
        quoted = connection.dialect.identifier_preparer.quote(role)
        schema = connection.dialect.identifier_preparer.quote(
            str(connection.execute(text("SELECT current_schema()")).scalar())
        )
        for statement in (
            f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
            f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON events FROM {quoted}",
            f"REVOKE TRUNCATE, TRIGGER, REFERENCES ON cases FROM {quoted}",
            f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {quoted}",
        ):
            connection.execute(text(statement))
