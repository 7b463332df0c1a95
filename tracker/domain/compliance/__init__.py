"""Compliance for a period: the KPI figures, referrals, profile and satisfaction, by DOMAIN.md's rules.

Pure domain. `tracker.reports.report.compliance_report` reads a period's *tallies* from the store (`Tallies`:
the facts of `ClockFact`, `SurveyFact`, `ReferralFact`, ... grouped and counted in SQL) and calls
`compute_tallies`; `compute` does the same from facts (`tally`), for the fold and the tests. The TUI's
compliance screen and `caseclock export` both show the `ComplianceReport` it returns, so every figure comes
from one computation.
`report_json` gives CONTRACT.md's JSON shape; `tracker.exporters` lays the same report out as xlsx, csv
and html.

The counting rules (also printed in every export, see `COUNTING_RULES`):

* A clock belongs to the period containing its **due date**; its status is taken as of the as-of date.
* KPI % = met / (met + breached), rounded half-up to one decimal (100.0 only when every one was met: just
  short of it shows 99.9); excepted, running and cancelled clocks are counted but not in the percentage; no
  met or breached clock = no data (`percent` None), never 0 or 100.
* Satisfaction questions: the surveys dated in the period that answered the question; agree = the pack's
  agree answers.
* `met_target` and the RAG rating compare the percent *as shown* (one decimal) with the target (89.96% shows
  90.0% and meets 90%): green = target met, amber = below it by at most `AMBER_BAND` points, red = further
  below; None when there is no data or no target.
* Referrals and the profile are the cases opened in the period. Breakdowns are the exportable choice and
  yes/no case fields: those of the pack's `referral` group as referral breakdowns, the others as profile
  breakdowns.
* Outcomes are the exportable choice fields of the plain (role-less) milestone events (an exit reason): the
  cases with an event recording one, or requiring it, dated in the period, each once, by the value of the
  last one (not recorded when none has a value), so the exit reasons add up to the flow's exits.
* Feedback is every event accepted after a case ends, other than the survey, that has fields of its own
  (compliments, complaints, impact stories), by date in period.
* A satisfaction KPI with `by_field` is reported for each value of that case field (each group of service
  users), each a KPI against the target; no combined result is rated (`ComplianceReport.satisfaction_kpis`).
* Flow, activities and waiting times: see `tracker.domain.compliance.flow` (from the pack's `[reporting]`
table
  and its clocks).
* Small numbers (`tracker.domain.compliance.disclosure`, the report's `Disclosure`): in each breakdown of
  people a count of 1-4 becomes "<5", and secondary suppression hides ("[c]") the next-smallest counts
  until no hidden count can be worked out from the total and the others; or, configured instead, counts are
  rounded to the nearest 5. Percentages and medians of fewer than 5 people are withheld and not RAG-rated.
  Totals and KPI counts stay exact.
"""

from tracker.domain.compliance.counting import compute, compute_tallies, percent, rate
from tracker.domain.compliance.disclosure import HIDDEN, NO_DISCLOSURE, SUPPRESS, Disclosure, protect
from tracker.domain.compliance.flow import (
    Activities,
    ActivityFact,
    ActivityType,
    FlowCount,
    FlowFact,
    Spread,
    WaitFact,
    WaitingTime,
    flow_tally,
    nearest_rank,
)
from tracker.domain.compliance.model import (
    AMBER_BAND,
    LISTED,
    NOT_RECORDED,
    SUPPRESSED,
    Breakdown,
    ClockCount,
    ClockFact,
    ClockKpi,
    ClockLine,
    ClockLines,
    ComplianceReport,
    Count,
    FeedbackFact,
    FeedbackSummary,
    LineTuple,
    MonthTrend,
    OutcomeFact,
    Rag,
    ReferralFact,
    Referrals,
    StepTime,
    SurveyFact,
    SurveyResult,
)
from tracker.domain.compliance.selection import (
    REFERRAL_GROUP,
    breakdown_fields,
    definitions,
    feedback_events,
    labels,
    outcome_fields,
    step_events,
    text_fields,
)
from tracker.domain.compliance.shape import COUNTING_RULES, clock_chunks, clock_json, report_json
from tracker.domain.compliance.stats import Multiset
from tracker.domain.compliance.tally import ReferralTally, Tallies, outcome_tally, referral_tally, tally

__all__ = [
    "AMBER_BAND",
    "COUNTING_RULES",
    "HIDDEN",
    "LISTED",
    "NOT_RECORDED",
    "NO_DISCLOSURE",
    "REFERRAL_GROUP",
    "SUPPRESS",
    "SUPPRESSED",
    "Activities",
    "ActivityFact",
    "ActivityType",
    "Breakdown",
    "ClockCount",
    "ClockFact",
    "ClockKpi",
    "ClockLine",
    "ClockLines",
    "ComplianceReport",
    "Count",
    "Disclosure",
    "FeedbackFact",
    "FeedbackSummary",
    "FlowCount",
    "FlowFact",
    "LineTuple",
    "MonthTrend",
    "Multiset",
    "OutcomeFact",
    "Rag",
    "ReferralFact",
    "ReferralTally",
    "Referrals",
    "Spread",
    "StepTime",
    "SurveyFact",
    "SurveyResult",
    "Tallies",
    "WaitFact",
    "WaitingTime",
    "breakdown_fields",
    "clock_chunks",
    "clock_json",
    "compute",
    "compute_tallies",
    "definitions",
    "feedback_events",
    "flow_tally",
    "labels",
    "nearest_rank",
    "outcome_fields",
    "outcome_tally",
    "percent",
    "protect",
    "rate",
    "referral_tally",
    "report_json",
    "step_events",
    "tally",
    "text_fields",
]
