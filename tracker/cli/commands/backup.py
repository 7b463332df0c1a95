"""Commands that copy and check the database: `backup`, `restore`, `verify`.

On SQLite both use SQLite's online backup API (see `tracker.store.backup`); on PostgreSQL they are refused
with the `pg_dump` / `pg_restore` to use instead. `restore` may create the database file it restores into.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context


def register(commands: Any) -> None:
    """Add the backup commands to the `caseclock` parser."""
    backup = commands.add_parser(
        "backup",
        help="copy the SQLite database to PATH while it is in use (mode 0600)",
        epilog="Example: caseclock backup /var/backups/caseclock/caseclock-2026-03-10.db",
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.add_argument("--json", action="store_true", help="machine-readable output")
    backup.set_defaults(run=run_backup)

    restore = commands.add_parser(
        "restore",
        help="copy a backup into an empty SQLite database, then upgrade it",
        epilog="Example: caseclock --db sqlite:///restored.db restore caseclock-2026-03-10.db",
    )
    restore.add_argument("path", metavar="PATH", type=Path, help="a file written by caseclock backup")
    restore.add_argument("--json", action="store_true", help="machine-readable output")
    restore.set_defaults(run=run_restore)

    verify = commands.add_parser(
        "verify",
        help="check the database: integrity, schema revision, append-only guards, the events' hash chain, "
        "projections against the events",
        epilog="Example: caseclock --db sqlite:///restored.db verify",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(run=run_verify)


def run_backup(context: Context, args: argparse.Namespace) -> int:
    """`caseclock backup PATH`."""
    from tracker.store.backup import backup_sqlite, postgres_refusal, sqlite_path
    from tracker.store.engine import check_schema

    engine = context.engine
    database = sqlite_path(context.db_url)
    if database is None:
        raise postgres_refusal(engine, context.db_url, "backup", "pg_dump (e.g. pg_dump --format=custom)")
    check_schema(engine)
    result = backup_sqlite(database, args.path, force=args.force)
    if args.json:
        print_json({"path": str(result.path), "bytes": result.size, "schema": result.revision})
    else:
        print(f"backed up to {result.path} ({result.size} bytes, schema {result.revision})")
    return 0


def run_restore(context: Context, args: argparse.Namespace) -> int:
    """`caseclock restore PATH`."""
    from tracker.store.backup import backup_revision, postgres_refusal, restore_sqlite, sqlite_path
    from tracker.store.engine import upgrade
    from tracker.store.personal import PersonalKeys
    from tracker.store.revision import SCHEMA_HEAD

    database = sqlite_path(context.db_url)
    if database is None:
        raise postgres_refusal(context.engine, context.db_url, "restore", "pg_restore")
    was = backup_revision(args.path)
    restore_sqlite(args.path, database)
    upgrade(context.engine, PersonalKeys(context.packs))
    store = context.store
    rebuilt = None if store.projections_current() else store.rebuild(context.now())
    if args.json:
        print_json({"database": str(database), "schema": SCHEMA_HEAD, "was": was, "rebuilt": rebuilt})
        return 0
    print(f"restored {args.path} into {database} (schema {SCHEMA_HEAD}; backup was at {was})")
    if rebuilt is not None:
        print(f"recomputed {rebuilt} cases with the rules now loaded")
    return 0


_SHOWN = 5
"""How many differing cases `verify` names."""


def run_verify(context: Context, args: argparse.Namespace) -> int:
    """`caseclock verify`: one line per check; exit 1 when any fails."""
    from sqlalchemy import text

    from tracker.store import Store
    from tracker.store.engine import current_revision
    from tracker.store.revision import SCHEMA_HEAD

    engine = context.engine
    checks: list[dict[str, Any]] = []
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            results = [str(row[0]) for row in connection.execute(text("PRAGMA integrity_check"))]
        ok = results == ["ok"]
        checks.append({"check": "integrity", "ok": ok, "detail": "ok" if ok else "; ".join(results[:3])})
    else:
        checks.append(
            {"check": "integrity", "ok": True, "detail": "skipped: PostgreSQL checks its own pages"}
        )
    revision = current_revision(engine)
    at_head = revision == SCHEMA_HEAD
    checks.append(
        {
            "check": "schema",
            "ok": at_head,
            "detail": f"revision {revision}"
            if at_head
            else f"revision {revision}, this release expects {SCHEMA_HEAD}: run caseclock init",
        }
    )
    if at_head:
        checks += _history_checks(engine)
        differing = Store(engine, context.rules).differing_projections(context.now())
        shown = ", ".join(differing[:_SHOWN]) + (
            f" and {len(differing) - _SHOWN} more" if len(differing) > _SHOWN else ""
        )
        checks.append(
            {
                "check": "projections",
                "ok": not differing,
                "detail": "every case matches its events"
                if not differing
                else f"{len(differing)} cases differ from their events: {shown}; run caseclock rebuild",
                "differing": differing,
            }
        )
    else:
        checks += [
            {"check": name, "ok": False, "detail": "not checked: the schema is not current"}
            for name in ("guards", "hash chain", "projections")
        ]
    passed = all(check["ok"] for check in checks)
    if args.json:
        print_json({"ok": passed, "checks": checks})
    else:
        for check in checks:
            print(f"{check['check']}: {'ok' if check['ok'] else 'FAILED'} ({check['detail']})")
    return 0 if passed else 1


def _history_checks(engine: Any) -> list[dict[str, Any]]:
    """The checks of the append-only history: its guards in place, and every case's hash chain intact."""
    from tracker.store.chain_check import check_chain
    from tracker.store.guards import missing_guards

    with engine.connect() as connection:
        missing = missing_guards(connection)
    guards = {
        "check": "guards",
        "ok": not missing,
        "detail": "every append-only guard is in place"
        if not missing
        else f"missing: {', '.join(missing)}; run caseclock init to restore them",
        "missing": missing,
    }
    report = check_chain(engine)
    breaks = report.breaks
    if not breaks:
        detail = f"{report.events} events of {report.cases} cases match their hashes"
    else:
        first = breaks[0]
        where = {
            "changed": f"{first.case} event {first.seq} differs from its hash",
            "missing": f"{first.case} has lost its events from {first.seq} on",
            "orphaned": f"{first.case} has events but no case row",
        }[first.why]
        detail = (
            f"{len(breaks)} {'case was' if len(breaks) == 1 else 'cases were'} changed outside caseclock, "
            f"first {where}; "
            "compare with a backup before running rebuild, which would build on the changed events"
        )
    chain = {
        "check": "hash chain",
        "ok": not breaks,
        "detail": detail,
        "breaks": [{"case": b.case, "seq": b.seq, "why": b.why} for b in breaks],
    }
    return [guards, chain]
