"""The compliance report of a period, read from the store: THE computation behind every compliance figure.

`compliance_report` is what the TUI's compliance screen and `caseclock export` (every format) both call, so
the screen and the files a commissioner receives can never disagree. It reads the period's *tallies* with a
handful of set-based queries over the projections (`tracker.reports.queries`: the clocks grouped by KPI and
their dates; the referrals counted by field value, outcome and days to each step; the flow steps; the waits
grouped by their dates) and hands them to the pure `tracker.domain.compliance.compute_tallies`, which owns
every counting rule. The clock lines (a year of a large service lists ~200,000) are read as well, or, for the
exports, when a format iterates them (`lazy_clocks`), inside the same `report_snapshot`. Reads never write.

An adapter: may use the store (SQLAlchemy); knows no rule pack by name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from tracker.domain.compliance import SUPPRESS, ComplianceReport, Disclosure, LineTuple, compute_tallies
from tracker.domain.compliance.facts import case_facts, report_from_facts
from tracker.domain.compliance.selection import report_version
from tracker.domain.compliance.staff import provider_copy
from tracker.domain.config import ProviderSettings
from tracker.domain.dates import end_of_day
from tracker.domain.periods import Period
from tracker.domain.workflow import project
from tracker.reports.queries import StoreClockLines, read_opened_by_caseworker, read_tallies, snapshot
from tracker.store import Store


def compliance_report(
    store: Store,
    pack_id: str | None,
    period: Period,
    as_of: dt.date,
    *,
    disclosure: Disclosure = SUPPRESS,
    lazy_clocks: bool = False,
    with_caseworkers: bool = False,
) -> ComplianceReport:
    """The compliance report of one rule pack for a period, as of a date.

    The one computation shared by the TUI's compliance screen and `caseclock export`: call it, never
    recount.

    Args:
        store: The event store to read.
        pack_id: The rule pack reported (None: the first enabled pack).
        period: The reporting period (`tracker.domain.periods.parse_period`).
        as_of: 'Today' for the clocks' statuses: what had happened by then (the CLI's `--as-of`).
        disclosure: How small numbers of people are shown: the config's `[disclosure]`, or
            `NO_DISCLOSURE` (`--no-suppression`).
        lazy_clocks: Read the report's clock lines from the store each time they are iterated, instead of
            holding them (a year's exports); use it inside `report_snapshot` so that they are the clocks
            the figures count.
        with_caseworkers: The provider's copy: clock lines name their caseworker, and the figures are
            broken down by caseworker (`--with-caseworkers`, the TUI). Off: a commissioner's copy, which
            names no member of staff.

    Raises:
        InvalidValue: `pack_id` is not an enabled pack.
        StoreUnavailable: the database cannot be read.
        StaleProjections: the projections were computed with other rules; `rebuild` first.
    """
    pack = report_version(store.rules.packs, pack_id, period)
    with snapshot(store.engine, store.rules):
        tallies = read_tallies(store.engine, store.rules.packs, pack, period, as_of)
        total = sum(group.instances for group in tallies.clocks)
        lines = StoreClockLines(store.engine, pack, period, as_of, total, with_caseworkers=with_caseworkers)
        listing = lines if lazy_clocks else LineTuple(tuple(lines))
        opened = read_opened_by_caseworker(store.engine, pack, period) if with_caseworkers else None
    report = compute_tallies(
        pack, period, as_of, tallies, listing, disclosure=disclosure, calendar=store.rules.calendar
    )
    if opened is None:
        return report
    with snapshot(store.engine, store.rules):  # lazy lines: in the caller's `report_snapshot`
        return provider_copy(pack, report, opened)


@contextmanager
def report_snapshot(store: Store) -> Iterator[None]:
    """Read a report and its clock lines (`lazy_clocks`) inside one read transaction, one view of the data.

    Writers are not blocked: SQLite readers see a snapshot (WAL), PostgreSQL's is REPEATABLE READ.
    """
    with snapshot(store.engine, store.rules):
        yield


def compliance_report_known_on(
    store: Store,
    pack_id: str | None,
    period: Period,
    as_of: dt.date,
    known_on: dt.date,
    *,
    disclosure: Disclosure = SUPPRESS,
    with_caseworkers: bool = False,
) -> ComplianceReport:
    """The report as it could have been produced at the end of `known_on` (`--known-on`).

    The projections hold what is known now, so a return sent earlier is reproduced from the log: each case
    of the pack is folded again from the events recorded by the end of that day (a void recorded later does
    not count, nor does a step recorded late), and counted by the same rules
    (`tracker.domain.compliance.facts.report_from_facts`, the fold the store's reads are tested against).
    It folds every case of the pack, so it is slower than `compliance_report`.
    """
    pack = report_version(store.rules.packs, pack_id, period)
    facts = [
        case_facts(pack, project(store.rules, ref, events), events)
        for ref, events in store.histories_recorded_before(pack.id, end_of_day(known_on))
    ]
    report = report_from_facts(
        pack,
        period,
        as_of,
        facts,
        disclosure=disclosure,
        calendar=store.rules.calendar,
        with_caseworkers=with_caseworkers,
    )
    return dataclasses.replace(report, known_on=known_on)


def addressed(report: ComplianceReport, provider: ProviderSettings) -> ComplianceReport:
    """The report with who it is from and whom it is for (`[provider]`), as every export prints first."""
    details = (
        ("Provider", provider.name),
        ("Commissioner", provider.commissioner),
        ("Contract reference", provider.contract_reference),
        ("Contact", provider.contact_role),
    )
    return dataclasses.replace(
        report,
        service=provider.service or report.pack_title,
        sender=tuple((label, value) for label, value in details if value),
    )
