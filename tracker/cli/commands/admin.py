"""Commands on the database as a whole: `init`, `rebuild`, `demo`.

`init` and `demo` are the only commands that may create a database (`creates_database`, read by the CLI when
it builds the Context); every other command on a database that does not exist fails and creates nothing.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context
from tracker.domain.errors import InvalidValue


def register(commands: Any) -> None:
    """Add the database commands to the `caseclock` parser."""
    init = commands.add_parser(
        "init",
        help="create or upgrade the database (idempotent)",
        epilog="Example: caseclock --db sqlite:///cases.db init",
    )
    init.add_argument(
        "--app-role",
        metavar="NAME",
        help="PostgreSQL: the role caseclock connects as day to day gets SELECT and INSERT only on events "
        "(run init as the owner of the tables)",
    )
    init.add_argument("--json", action="store_true", help="machine-readable output")
    init.set_defaults(run=run_init, creates_database=True)

    rebuild = commands.add_parser(
        "rebuild",
        help="recompute every case from its events (after a rule or calendar change)",
        epilog="Example: caseclock rebuild",
    )
    rebuild.add_argument("--json", action="store_true", help="machine-readable output")
    rebuild.set_defaults(run=run_rebuild)

    demo = commands.add_parser(
        "demo",
        help="fill the database with realistic synthetic cases",
        epilog="Example: caseclock --db sqlite:///demo.db demo --cases 300 --seed 7",
    )
    demo.add_argument("--cases", type=int, default=300, metavar="N", help="how many cases (default 300)")
    demo.add_argument("--seed", type=int, default=1, metavar="S", help="random seed: same seed, same cases")
    demo.add_argument("--json", action="store_true", help="machine-readable output")
    demo.set_defaults(run=run_demo, creates_database=True)


def run_init(context: Context, args: argparse.Namespace) -> int:
    """`caseclock init`."""
    from tracker.store.engine import safe_url, upgrade
    from tracker.store.guards import check_app_role, grant_app_role, restore_guards
    from tracker.store.personal import PersonalKeys
    from tracker.store.revision import SCHEMA_HEAD

    if args.app_role is not None:
        with context.engine.connect() as connection:  # refused before anything is written
            check_app_role(connection, args.app_role)
    before = upgrade(context.engine, PersonalKeys(context.packs))
    # A guard dropped, disabled or altered since (by hand, or by a tool that rebuilt a table) is put back.
    restored = restore_guards(context.engine)
    if args.app_role is not None:
        grant_app_role(context.engine, args.app_role)
    store = context.store
    # Projections computed before an upgrade, or with other rules, are refolded now: reports refuse them.
    rebuilt = None if store.projections_current() else store.rebuild(context.now())
    result = {
        "database": safe_url(context.db_url),
        "schema": SCHEMA_HEAD,
        "was": before,
        "rebuilt": rebuilt,
        "guards_restored": restored,
        "app_role": args.app_role,
    }
    if args.json:
        print_json(result)
        return 0
    if before == SCHEMA_HEAD:
        print(f"database {result['database']} is up to date (schema {SCHEMA_HEAD})")
    else:
        print(f"database {result['database']} ready (schema {SCHEMA_HEAD}; was {before or 'empty'})")
    if restored:
        print(f"restored the append-only guards that were missing: {', '.join(restored)}")
    if args.app_role is not None:
        print(
            f"role {args.app_role} may read and add events but never change or remove them "
            "(SELECT, INSERT on events; SELECT, INSERT, UPDATE, DELETE on the other tables)"
        )
    if rebuilt is not None:
        print(f"recomputed {rebuilt} cases with the rules now loaded")
    return 0


def run_rebuild(context: Context, args: argparse.Namespace) -> int:
    """`caseclock rebuild`."""
    started = time.perf_counter()
    count = context.store.rebuild(context.now())
    seconds = time.perf_counter() - started
    if args.json:
        print_json({"cases": count, "seconds": round(seconds, 3)})
    else:
        print(f"rebuilt {count} cases from their events in {seconds:.1f} s")
    return 0


def run_demo(context: Context, args: argparse.Namespace) -> int:
    """`caseclock demo`."""
    from tracker.cli.demo import generate

    if args.cases < 1 or args.cases > 1_000_000:
        raise InvalidValue("--cases", args.cases, "use a number from 1 to 1000000")
    store = context.store
    existing = store.count_cases(context.as_of, "all")
    started = time.perf_counter()
    histories = generate(
        context.rules, args.cases, args.seed, context.as_of, context.now(), start_number=existing + 1
    )
    count = store.import_histories(histories, context.now())
    seconds = time.perf_counter() - started
    if args.json:
        print_json(
            {
                "cases": count,
                "seed": args.seed,
                "as_of": context.as_of.isoformat(),
                "seconds": round(seconds, 3),
            }
        )
    else:
        as_of = context.as_of.isoformat()
        print(f"added {count} demo cases (seed {args.seed}, as of {as_of}) in {seconds:.1f} s")
    return 0
