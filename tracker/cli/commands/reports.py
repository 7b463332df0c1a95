"""Commands for commissioners' reports and moving data in: `export` and `import cases|surveys`.

`export` reads the report the TUI's compliance screen shows (`tracker.reports.report.compliance_report`) and
writes it with `tracker.exporters`; `import` checks every row with `tracker.cli.importing` before writing
through the store. The exporters (and XlsxWriter) are imported inside the command, so other commands start
quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.cli.commands.output import print_json
from tracker.cli.context import Context
from tracker.domain.errors import InvalidValue, OperationFailed, Refused

if TYPE_CHECKING:
    from tracker.cli.csv_reading import CsvFile
    from tracker.cli.importing import Checked
    from tracker.domain.compliance import ComplianceReport
    from tracker.domain.periods import Period

FORMATS = ("xlsx", "csv", "json", "html")  # as tracker.exporters.FORMATS, without importing it here


def register(commands: Any) -> None:
    """Add `export` and `import` to the `caseclock` parser."""
    exporter = commands.add_parser(
        "export",
        help="the commissioners' compliance report for a period (xlsx, csv, json, html)",
        description=(
            "Write the compliance report of a period: KPIs, every clock counted, referrals, profile, "
            "satisfaction, monthly trend. Periods: 2026-05, FY2026, FY2026-Q1..Q4, FY2026-H1/H2, CY2026, "
            "2026-04-01..2026-09-30. JSON goes to stdout unless --out is given; the other formats go to "
            "--out or to a file named after the period in the current directory."
        ),
        epilog="Example: caseclock export --period FY2026-H1 --format xlsx --out report.xlsx",
    )
    exporter.add_argument("--period", required=True, metavar="P", help="the reporting period, e.g. FY2026-H1")
    exporter.add_argument("--format", choices=FORMATS, default="xlsx", help="file format (default xlsx)")
    exporter.add_argument("--out", type=Path, metavar="PATH", help="where to write it")
    exporter.add_argument("--pack", metavar="ID", help="the rule pack reported (default: the first enabled)")
    exporter.add_argument(
        "--known-on",
        metavar="DATE",
        help="count only the events recorded by the end of DATE, to produce a return sent then again "
        "(default: everything recorded now)",
    )
    exporter.add_argument(
        "--no-suppression",
        action="store_true",
        help="show every count as it is, not hidden or rounded ([disclosure]) (for internal use only)",
    )
    exporter.add_argument(
        "--with-caseworkers",
        action="store_true",
        help="the provider's copy: name the caseworker of each clock and add the figures per caseworker "
        "(default: a commissioner's copy, with no staff names)",
    )
    exporter.add_argument("--json", action="store_true", help="print where it wrote as JSON")
    exporter.set_defaults(run=run_export)

    importer = commands.add_parser(
        "import",
        help="import cases or survey answers from a CSV file",
        description=(
            "Check every row of a CSV file and write them only when all are good (or, with --skip-bad, "
            "the good ones). Importing the same file again creates nothing twice. The README lists the "
            "columns; names are matched ignoring case, spaces and hyphens."
        ),
        epilog="Example: caseclock import surveys responses.csv --skip-bad",
    )
    importer.add_argument("what", choices=("cases", "surveys"), help="what the file holds")
    importer.add_argument("file", type=Path, metavar="FILE.csv")
    importer.add_argument("--skip-bad", action="store_true", help="write the good rows, list the bad ones")
    importer.add_argument("--json", action="store_true", help="machine-readable output")
    importer.set_defaults(run=run_import)


def run_export(context: Context, args: argparse.Namespace) -> int:
    """`caseclock export`."""
    from tracker.domain.periods import parse_period
    from tracker.exporters import default_path, write, write_json

    period = parse_period(args.period)
    with _compliance_report(context, args, period) as report:
        if args.format == "json" and args.out is None:
            write_json(report, sys.stdout)  # streamed: a year's clocks make tens of megabytes
            return 0
        path: Path = args.out if args.out is not None else default_path(report, args.format, Path.cwd())
        if path.is_dir():
            path = default_path(report, args.format, path)
        try:
            write(report, args.format, path)
        except OSError as error:
            raise OperationFailed(
                f"{path}: cannot write the report ({error.strerror}); choose another --out"
            ) from None
    if args.json:
        print_json({"path": str(path), "format": args.format, "period": period.name})
    else:
        print(f"wrote {path} ({args.format}, {period.name}, as of {context.as_of.isoformat()})")
    return 0


@contextmanager
def _compliance_report(
    context: Context, args: argparse.Namespace, period: Period
) -> Iterator[ComplianceReport]:
    """The report, its clock lines read as a format iterates them, all from one read snapshot.

    A year's lines are ~200,000, so the formats read them as they write, in the snapshot the figures were
    counted in: the sheets list exactly the clocks the Summary counts.
    """
    import dataclasses

    from tracker.cli.context import london_today
    from tracker.domain.compliance import NO_DISCLOSURE, Disclosure
    from tracker.domain.dates import parse_date
    from tracker.reports.report import (
        addressed,
        compliance_report,
        compliance_report_known_on,
        report_snapshot,
    )

    control = context.settings.disclosure
    disclosure = NO_DISCLOSURE if args.no_suppression else Disclosure(control.method, control.threshold)
    today = london_today()
    known_on = parse_date(args.known_on, today, "--known-on") if args.known_on else today
    if known_on < today:  # what was known then: the log refolded (the projections hold what is known now)
        report = compliance_report_known_on(
            context.store, args.pack, period, context.as_of, known_on, disclosure=disclosure,
            with_caseworkers=args.with_caseworkers,
        )  # fmt: skip
        yield addressed(report, context.settings.provider)
        return

    with report_snapshot(context.store):
        report = compliance_report(
            context.store, args.pack, period, context.as_of, disclosure=disclosure, lazy_clocks=True,
            with_caseworkers=args.with_caseworkers,
        )  # fmt: skip
        yield addressed(dataclasses.replace(report, known_on=today), context.settings.provider)


def run_import(context: Context, args: argparse.Namespace) -> int:
    """`caseclock import`."""
    from tracker.cli import importing

    store = context.store
    now, today, actor = context.now(), context.as_of, context.actor
    event = ""
    with importing.open_csv(args.file) as file:
        if args.what == "cases":
            checked = importing.check_cases(context.rules, file, store.existing_refs, actor, now, today)
        else:
            checked, event = _check_surveys(context, file)
    if checked.malformed:
        _report(args, checked, written=0)
        malformed = sum(1 for bad in checked.bad if bad.malformed)
        raise Refused(
            f"{args.file}: {malformed} row(s) are not well-formed CSV ({len(checked.bad)} bad in all, listed "
            "above); nothing was written, --skip-bad or not: correct the file and import it again"
        )
    if checked.bad and not args.skip_bad:
        _report(args, checked, written=0)
        raise Refused(
            f"{args.file}: {len(checked.bad)} bad row(s), listed above; nothing was written: "
            "correct them, or use --skip-bad to import the good rows"
        )
    written = 0
    if checked.cases:
        # Every case was decided while checking; its rows are encoded here too, so the write lock is held
        # for the inserts alone.
        encoded = store.encode_histories(checked.take_histories(), now)
        written += store.write_encoded(encoded)
    if checked.surveys:
        # One transaction for the whole file: a row refused at write time (a case changed meanwhile)
        # leaves nothing half-imported.
        entries = [(ref, event, on, fields) for _line, ref, on, fields in checked.surveys]
        written += len(store.record_many(entries, actor, now, today))
    _report(args, checked, written)
    return 0


def _check_surveys(context: Context, file: CsvFile) -> tuple[Checked, str]:
    """Check a surveys file against the cases it names; returns the outcome and the survey event type."""
    from tracker.cli import importing
    from tracker.domain.errors import UnknownCase

    store = context.store
    # Survey files are small (a form's responses): read whole, so that their cases are read once.
    pack = context.rules.packs.latest(next(iter(context.rules.packs)))
    free_text = set().union(
        *(
            importing.survey_free_text(p)
            for p in map(context.rules.packs.latest, context.rules.packs)
            if p.satisfaction is not None
        )
    )
    rows = list(file.rows(free_text))
    refs = sorted({importing.first_ref(row) for _line, row in rows} - {""})
    cases = {}
    for ref in refs:
        try:
            cases[ref] = store.case(ref)
        except UnknownCase:
            continue
    pack_ids = {case.state.pack_id for case in cases.values()} or {pack.id}
    if len(pack_ids) > 1:
        raise InvalidValue(
            "FILE", "", "the cases named belong to several rule packs; import one pack's at a time"
        )
    pack = context.rules.packs.latest(pack_ids.pop())
    if pack.satisfaction is None:
        raise InvalidValue("FILE", "", f"rule pack {pack.id} has no satisfaction survey to import")
    event = pack.satisfaction.event
    # From the cases as read (their comments put back from the personal store), not the stored facts,
    # so an answer with the same comment is recognised as the same survey.
    recorded = {
        importing.survey_key(ref, e.on, e.data)
        for ref, case in cases.items()
        for e in case.events
        if e.type == event and e.seq not in case.state.voided
    }
    checked = importing.check_surveys(
        context.rules, pack, file.header, rows, cases, recorded, context.actor, context.now(), context.as_of
    )
    checked.add_malformed(file)
    return checked, event


_LISTED = 20
"""Bad rows printed on stderr at most; `--json` lists them all."""


def _report(args: argparse.Namespace, checked: Checked, written: int) -> None:
    if args.json:
        print_json(
            {
                "written": written,
                "skipped": [{"line": n, "ref": ref, "why": why} for n, ref, why in checked.skipped],
                "bad": [
                    {"line": b.line, "column": b.column or None, "value": b.value, "why": b.why}
                    | ({"withheld": b.withheld} if b.withheld else {})
                    for b in checked.bad
                ],
            }
        )
        return
    for bad in checked.bad[:_LISTED]:
        print(f"{args.file}: {bad}", file=sys.stderr)
    if len(checked.bad) > _LISTED:
        more = len(checked.bad) - _LISTED
        print(
            f"{args.file}: and {more} more bad row{'s' if more != 1 else ''} (--json lists them all)",
            file=sys.stderr,
        )
    for line, ref, why in checked.skipped:
        print(f"line {line}: {ref}: skipped: {why}")
    if checked.bad and not args.skip_bad:
        return  # refused: the one-line refusal says that nothing was written
    # Every run that writes says all three counts, even when they are 0: a re-run of the same file with
    # --skip-bad must still show that its rows were already there and that the bad ones were skipped.
    noun = "case" if args.what == "cases" else "survey response"
    bad_rows = len(checked.bad)
    print(
        f"imported {written} {noun}{'s' if written != 1 else ''}; {len(checked.skipped)} already there; "
        f"{bad_rows} bad row{'s' if bad_rows != 1 else ''} skipped"
        + (" (listed on stderr)" if bad_rows else "")
    )
