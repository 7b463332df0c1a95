"""Commands on personal data: `erase` (one case) and `retention` (what the policy makes due).

Both print references, dates and counts only: never a personal value.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any

from tracker.cli.commands.output import print_json, table
from tracker.cli.context import Context
from tracker.domain.dates import parse_date
from tracker.domain.errors import ConfigError

PAUSE_ENV = "CASECLOCK_TEST_ERASE_FIFO"
"""Test-only fault hook: a FIFO that `erase` writes `ready` to inside its transaction, then waits for ever
(the test kills it there). Never set in production."""


def register(commands: Any) -> None:
    """Add `erase` and `retention` to the `caseclock` parser."""
    eraser = commands.add_parser(
        "erase",
        help="erase a case's personal data and free text (its facts, clocks and counts stay)",
        description=(
            "Erase the case's personal fields (name, contact, ...) and free text (notes, reasons, comments) "
            "everywhere caseclock holds them, and record who erased them and why. Every report, alert and "
            "show keeps working and shows 'erased'. Running it again on an erased case writes nothing. The "
            "reason stays in the record: it may not contain a personal value of the case."
        ),
        epilog="Example: caseclock erase M-0042 --reason 'request of the data subject, 2026-11-30'",
    )
    eraser.add_argument("ref", metavar="REF")
    eraser.add_argument("--reason", required=True, help="why (kept in the record; no personal data in it)")
    eraser.add_argument("--json", action="store_true", help="print the erasure as JSON")
    eraser.set_defaults(run=run_erase)

    keeper = commands.add_parser(
        "retention",
        help="erase the personal data of cases past the configured retention ([retention])",
        description=(
            "List (--dry-run) or erase the personal data of every case that ended at least "
            "[retention] personal_data_years_after_end years before the as-of date. Nothing is erased "
            "unless the configuration sets [retention]."
        ),
        epilog="Example: caseclock retention --dry-run --as-of 2032-04-01",
    )
    keeper.add_argument("--dry-run", action="store_true", help="list what is due; erase nothing")
    keeper.add_argument(
        "--as-of", dest="retention_as_of", metavar="DATE", help="the date the policy is applied on"
    )
    keeper.add_argument("--json", action="store_true", help="print the cases as JSON")
    keeper.set_defaults(run=run_retention)


def run_erase(context: Context, args: argparse.Namespace) -> int:
    """`caseclock erase`."""
    from tracker.store.erasure import erased_on

    done = context.store.erase(
        args.ref, args.reason, context.actor, context.now(), context.as_of, pause=_test_pause(context.environ)
    )
    # Always: a rerun removes what an interrupted erasure left on disk.
    removed = remove_documents(context, args.ref)
    erasure = done.erasure
    if args.json:
        print_json(
            {
                "ref": args.ref,
                "erased": done.new,
                "on": erased_on(erasure),
                "by": erasure.by,
                "reason": erasure.reason,
                "event": erasure.seq,
                "values": done.values,
                "documents_removed": [str(path) for path in removed],
                "space_rewritten": done.compacted,
            }
        )
    elif done.new:
        documents = f", {len(removed)} letter documents removed" if removed else ""
        print(
            f"{args.ref}: personal data erased ({done.values} values{documents}); "
            f"recorded as event {erasure.seq}"
        )
    else:
        print(f"{args.ref}: already erased on {erased_on(erasure)} by {erasure.by}; nothing written")
    if not done.compacted and not args.json:
        print(NOT_COMPACTED.format(ref=args.ref))
    return 0


NOT_COMPACTED = (
    "note: another caseclock program (the TUI, watch) is reading the database, so SQLite's log still holds "
    "the erased values' old pages until its next checkpoint; close it and run `caseclock erase {ref} "
    "--reason ...` again to finish"
)


def remove_documents(context: Context, ref: str) -> list[Path]:
    """Delete the case's letters caseclock wrote to the documents folder (the TUI's `z`), by their names.

    `caseclock letter --out` may have written others anywhere: those are the user's to delete.
    """
    import platformdirs

    from tracker.letters.catalogue import letter_specs

    record = context.store.case(ref)
    specs = letter_specs(context.rules, record.state.pack_id, context.settings.letters.templates_dir)
    folder = Path(platformdirs.user_documents_dir())
    removed: list[Path] = []
    for kind in specs:
        for fmt in ("pdf", "docx"):
            path = folder / f"{ref.replace('/', '-')}-{kind}.{fmt}"
            if path.is_file():
                path.unlink()
                removed.append(path)
    return removed


def run_retention(context: Context, args: argparse.Namespace) -> int:
    """`caseclock retention`."""
    from tracker.store.retention import due_for_erasure

    as_of = (
        parse_date(args.retention_as_of, context.as_of, "--as-of") if args.retention_as_of else context.as_of
    )
    policy = context.settings.retention
    if policy is None:
        if not args.dry_run:
            raise ConfigError(
                f"retention: no policy configured, so nothing is erased; set [retention] "
                f"personal_data_years_after_end = N in {context.config_file or 'the config file'}; "
                f"{pack_defaults(context)}"
            )
        print(f"no retention policy configured ([retention]): nothing is due; {pack_defaults(context)}")
        return 0
    years = policy.personal_data_years_after_end
    due = due_for_erasure(context.store.engine, years, as_of)
    if args.dry_run:
        if args.json:
            print_json([_due_json(d) for d in due])
        elif due:
            rows = [[d.ref, d.ended_on.isoformat(), d.due_since.isoformat()] for d in due]
            print(table(["ref", "ended", "due since"], rows))
            print(f"{len(due)} cases due for erasure as of {as_of.isoformat()} ({years} years after end)")
        else:
            print(f"nothing due for erasure as of {as_of.isoformat()} ({years} years after end)")
        return 0
    erased = apply_retention(context, years, as_of, [d.ref for d in due])
    if args.json:
        print_json({"as_of": as_of.isoformat(), "erased": erased})
    else:
        print(retention_line(len(erased)))
    return 0


def apply_retention(context: Context, years: int, as_of: dt.date, refs: list[str]) -> list[str]:
    """Erase the cases `refs` under the policy, then rewrite the freed space once.

    One transaction each; each case's letter documents are removed too (`remove_documents`).
    """
    from tracker.store.erasure import compact

    store, now = context.store, context.now()
    reason = f"retention policy: {years} years after end"
    erased = []
    for ref in refs:
        if store.erase(ref, reason, context.actor, now, as_of, compact_after=False).new:
            erased.append(ref)
        remove_documents(context, ref)
    if erased:
        compact(store.engine)
    return erased


def retention_line(count: int) -> str:
    """The one line a retention run says (`watch` logs it)."""
    return f"retention: erased {count} cases" if count else "retention: nothing due"


def pack_defaults(context: Context) -> str:
    """The enabled packs' suggested retention, named as defaults (not advice)."""
    packs = context.packs
    found = [
        f"the {pack_id} pack's default is {spec.personal_data_years_after_end} years after the case ends, "
        "a default, not advice"
        for pack_id in packs
        if (spec := packs.latest(pack_id).retention) is not None
    ]
    return "; ".join(found) if found else "no enabled pack suggests a default"


def _due_json(due: Any) -> dict[str, str]:
    return {"ref": due.ref, "ended_on": due.ended_on.isoformat(), "due_since": due.due_since.isoformat()}


def _test_pause(environ: dict[str, str]) -> Any:
    """The test-only fault hook of `PAUSE_ENV`, if set: say ready on the FIFO, then wait to be killed."""
    fifo = environ.get(PAUSE_ENV)
    if not fifo:
        return None

    def pause() -> None:
        with open(fifo, "w", encoding="utf-8") as signal:
            signal.write(f"ready {os.getpid()}\n")
        threading.Event().wait()

    return pause
