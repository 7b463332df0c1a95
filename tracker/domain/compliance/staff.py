"""Caseworker (staff) names in a report: left out of a commissioner's copy, broken down in the provider's.

DOMAIN.md, "Reporting a period": caseworker names stay with the provider. A report is a commissioner's copy
by default: its clock lines name no caseworker (`commissioner_copy`). The provider's copy
(`caseclock export --with-caseworkers`, and the TUI's compliance screen) keeps them and adds, per
caseworker, the cases opened in the period and the clocks met and breached (`provider_copy`).

Pure: the store path (`tracker.reports.report`) and the facts path (`report_from_facts`) both call it, with
the clock lines the report lists and the cases opened counted by caseworker, so the two paths agree.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance.counting import percent
from tracker.domain.compliance.model import CaseworkerFigures, ClockLine, ClockLines, ComplianceReport
from tracker.domain.compliance.selection import owner_shown
from tracker.domain.rules import RulePack


class _Unnamed(ClockLines):
    """Clock lines with the caseworker left out (None) of every line."""

    def __init__(self, lines: ClockLines) -> None:
        self.lines = lines

    def __iter__(self) -> Iterator[ClockLine]:
        return _unnamed(iter(self.lines))

    def __len__(self) -> int:
        return len(self.lines)

    def of_clock(self, clock: str) -> Iterator[ClockLine]:
        return _unnamed(self.lines.of_clock(clock))

    def listed(self) -> Iterator[ClockLine]:
        return _unnamed(self.lines.listed())


def _unnamed(lines: Iterator[ClockLine]) -> Iterator[ClockLine]:
    return (line if line.owner is None else line._replace(owner=None) for line in lines)


def commissioner_copy(report: ComplianceReport) -> ComplianceReport:
    """The commissioner's copy: no caseworker in any clock line, no per-caseworker figures."""
    clocks = report.clocks if isinstance(report.clocks, _Unnamed) else _Unnamed(report.clocks)
    return dataclasses.replace(report, clocks=clocks, with_caseworkers=False, caseworkers=())


def provider_copy(
    pack: RulePack, report: ComplianceReport, opened: Mapping[str | None, int]
) -> ComplianceReport:
    """The provider's copy: the figures per caseworker, from the report's clock lines and `opened`.

    Args:
        pack: The pack reported (its owner field names the caseworker).
        report: The report, its clock lines naming their caseworker.
        opened: Caseworker (None: none) -> cases opened in the period.
    """
    if not owner_shown(pack, with_caseworkers=True):
        return dataclasses.replace(report, with_caseworkers=True, caseworkers=())
    figures = caseworker_figures(report.clocks, opened, [kpi.key for kpi in report.kpis])
    return dataclasses.replace(report, with_caseworkers=True, caseworkers=figures)


def caseworker_figures(
    lines: Iterable[ClockLine], opened: Mapping[str | None, int], clocks: Iterable[str]
) -> tuple[CaseworkerFigures, ...]:
    """Per caseworker: cases opened, clocks met and breached (of each of `clocks`); no caseworker last."""
    judged: Counter[tuple[str, str, ClockStatus]] = Counter()
    for line in lines:
        if line.status in (ClockStatus.MET, ClockStatus.BREACHED):
            judged[line.owner or "", line.clock, line.status] += 1
    cases: Counter[str] = Counter()
    for name, count in opened.items():
        cases[name or ""] += count
    names = sorted({name for name, _clock, _status in judged} | {n for n, count in cases.items() if count})
    order = list(dict.fromkeys([*clocks, *sorted({clock for _n, clock, _s in judged})]))
    found = []
    for name in [n for n in names if n] + [n for n in names if not n]:
        by_clock = tuple(
            (clock, judged[name, clock, ClockStatus.MET], judged[name, clock, ClockStatus.BREACHED])
            for clock in order
        )
        met = sum(m for _clock, m, _b in by_clock)
        breached = sum(b for _clock, _m, b in by_clock)
        found.append(
            CaseworkerFigures(name, cases[name], met, breached, percent(met, met + breached), by_clock)
        )
    return tuple(found)


def caseworkers_json(report: ComplianceReport) -> dict[str, Any]:
    """The JSON's `caseworkers` key: the provider's copy only (a commissioner's copy has no such key)."""
    if not report.with_caseworkers:
        return {}
    return {
        "caseworkers": [
            {
                "name": figures.name or None,
                "cases_opened": figures.opened,
                "met": figures.met,
                "breached": figures.breached,
                "percent": figures.percent,
                "by_clock": {
                    clock: {"met": met, "breached": breached} for clock, met, breached in figures.by_clock
                },
            }
            for figures in report.caseworkers
        ]
    }
