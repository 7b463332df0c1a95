"""Counting a period: the arithmetic (percentages, RAG, small numbers) and `compute_tallies`, the report.

Pure: `compute_tallies` is called by `tracker.reports.report.compliance_report` with the tallies the store
counts in SQL, and through `compute` with the tallies of facts (`tracker.domain.compliance.tally`): the
fold's, and the tests' hand-built ones. The rules are those of the package docstring
(`tracker.domain.compliance`), applied here once for both; what to count comes from the pack through
`tracker.domain.compliance.selection`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from operator import attrgetter
from typing import Any

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.clocks import ClockStatus
from tracker.domain.compliance.disclosure import HIDDEN, NO_DISCLOSURE, SUPPRESS, Disclosure, protect
from tracker.domain.compliance.flow import (
    Activities,
    ActivityFact,
    FlowFact,
    WaitFact,
    WaitingTime,
    activity_summary,
    flow_counts,
    waiting_times,
)
from tracker.domain.compliance.model import (
    AMBER_BAND,
    NOT_RECORDED,
    Breakdown,
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
from tracker.domain.compliance.stats import Multiset
from tracker.domain.compliance.tally import ReferralTally, Tallies, tally
from tracker.domain.fields import JsonValue
from tracker.domain.periods import Period, months
from tracker.domain.rules import FieldSpec, FieldType, RulePack

# ---------------------------------------------------------------------------------------------- arithmetic


def percent(part: int, whole: int) -> float | None:
    """Part / whole as a percentage rounded half-up to one decimal; None when whole is 0 (no data).

    100.0 only when part is whole: a result just short of it (9,999 of 10,000) shows 99.9, so a report never
    shows 100.0% beside a missed deadline.
    """
    if whole == 0:
        return None
    shown = one_decimal(Fraction(part * 100, whole))
    return 99.9 if shown == 100 and part < whole else shown


def one_decimal(value: Fraction) -> float:
    """A non-negative exact value rounded half-up to one decimal (Python's round() goes half-even)."""
    tenths = value * 10 + Fraction(1, 2)
    return (tenths.numerator // tenths.denominator) / 10


def rate(part: int, whole: int, target: float | None) -> tuple[float | None, bool | None, Rag | None]:
    """(percent, met_target, RAG), judged on the percent as shown; None where there is no data or target.

    The reader sees one decimal, so the rating is of that figure: 89.96% shows 90.0% and meets a 90%
    target; 99.96% shows 99.9% (`percent`) and does not meet 100%.
    """
    result = percent(part, whole)
    if result is None or target is None:
        return result, None, None
    shown, goal = Fraction(str(result)), Fraction(str(target))
    if shown >= goal:
        return result, True, Rag.GREEN
    return result, False, Rag.AMBER if shown >= goal - Fraction(str(AMBER_BAND)) else Rag.RED


def _value_key(value: JsonValue) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _breakdown(
    key: str,
    title: str,
    values: Mapping[Any, int],
    order: Sequence[tuple[str, str]],
    disclosure: Disclosure,
) -> Breakdown:
    """Count values (value -> how many), the counts shown as `disclosure` allows (`protect`).

    Every value of `order` is listed (zeros too), then any other value, then not recorded.
    """
    counts: Counter[str] = Counter()
    for value, count in values.items():  # raw values first: a few distinct ones to translate
        counts[_value_key(value)] += count
    labels = dict(order)
    keys = [v for v, _ in order] + sorted(k for k in counts if k not in labels and k != NOT_RECORDED)
    if counts[NOT_RECORDED]:
        keys.append(NOT_RECORDED)
    shown = protect([counts[k] for k in keys], disclosure)
    rows = tuple(
        (k, labels.get(k, k.replace("_", " ").capitalize()), count)
        for k, count in zip(keys, shown, strict=True)
    )
    return Breakdown(key, title, rows, disclosure.total(sum(counts.values())))


def _choices(pack: RulePack, spec: FieldSpec) -> list[tuple[str, str]]:
    if spec.type is FieldType.BOOLEAN:
        return [("yes", "Yes"), ("no", "No")]
    return [(value, pack.label(value)) for value in pack.choices_of(spec)]


# ---------------------------------------------------------------------------------------------- compute


def compute(
    pack: RulePack,
    period: Period,
    as_of: dt.date,
    clocks: Iterable[ClockFact],
    surveys: Iterable[SurveyFact],
    referrals: Iterable[ReferralFact],
    feedback: Iterable[FeedbackFact] = (),
    *,
    disclosure: Disclosure = SUPPRESS,
    flow: Iterable[FlowFact] = (),
    activities: Iterable[ActivityFact] = (),
    waits: Iterable[WaitFact] = (),
    outcomes: Iterable[OutcomeFact] = (),
    calendar: WorkingCalendar | None = None,
) -> ComplianceReport:
    """The compliance report of one pack for `period`, as of `as_of`, from facts.

    The facts are tallied (`tracker.domain.compliance.tally`) and counted by `compute_tallies`, exactly as the
    store's tallies are.

    Args:
        pack: The pack version whose targets and labels are reported (the one in force at the period's end).
        period: The reporting period.
        as_of: 'Today' for the status of clocks still open.
        clocks: Clock instances; those due in the period and started by `as_of` are counted.
        surveys: Survey events; those dated in the period are counted.
        referrals: Cases; those opened in the period are counted.
        feedback: Feedback events; those dated in the period are listed.
        disclosure: How small numbers of people are shown (`tracker.domain.compliance.disclosure`).
        flow: Events of the pack's `[reporting] flow` types; those dated in the period are counted.
        activities: Sessions (`[reporting.activity]`); those dated in the period are counted.
        waits: Clock instances; those stopped in the period, or waiting at its end, are measured.
        outcomes: Events carrying an outcome field; the cases with one dated in the period are counted.
        calendar: The working-day calendar for waiting times in working days (default: the statutory one).
    """
    start, end = period.start, period.end
    # A clock that started after the as-of date did not exist on it.
    due = [fact for fact in clocks if start <= fact.due_on <= end and fact.starts_on <= as_of]
    lines = sorted((_line(fact, as_of) for fact in due), key=attrgetter("due_on", "ref", "clock", "number"))
    tallies = tally(pack, period, due, surveys, referrals, feedback, flow, activities, waits, outcomes)
    return compute_tallies(
        pack, period, as_of, tallies, LineTuple(tuple(lines)), disclosure=disclosure, calendar=calendar
    )


def compute_tallies(
    pack: RulePack,
    period: Period,
    as_of: dt.date,
    tallies: Tallies,
    lines: ClockLines,
    *,
    disclosure: Disclosure = SUPPRESS,
    calendar: WorkingCalendar | None = None,
) -> ComplianceReport:
    """The compliance report of one pack for `period`, as of `as_of`, from its tallies: every counting rule.

    Args:
        pack: The pack version whose targets and labels are reported (the one in force at the period's end).
        period: The reporting period.
        as_of: 'Today' for the status of clocks still open.
        tallies: The period's facts, counted (`tally`, or the store's SQL).
        lines: The clock lines counted, listed in the report as they are.
        disclosure: How small numbers of people are shown (`tracker.domain.compliance.disclosure`).
        calendar: The working-day calendar for waiting times in working days (default: the statutory one).
    """
    month_periods = months(period)
    month_of = {(m.start.year, m.start.month): i for i, m in enumerate(month_periods)}
    start, end = period.start, period.end
    by_status: Counter[tuple[str, ClockStatus]] = Counter()
    by_month: Counter[tuple[str, int, ClockStatus]] = Counter()
    latest: dict[str, tuple[dt.date, str]] = {}
    earliest: dict[str, dt.date] = {}
    versions: set[str] = set()
    for group in tallies.clocks:
        if not start <= group.due_on <= end:
            continue
        status = group.status(as_of)
        by_status[group.clock, status] += group.instances
        by_month[group.clock, month_of[group.due_on.year, group.due_on.month], status] += group.instances
        versions.add(group.pack_version)
        latest[group.clock] = max(
            latest.get(group.clock, (group.due_on, group.kpi)), (group.due_on, group.kpi)
        )
        earliest[group.clock] = min(earliest.get(group.clock, group.due_on), group.due_on)
    # The pack's clocks in its order, then any other clock counted (an older version's) by first due date;
    # such a clock is labelled with the KPI of its latest instance.
    others = sorted((day, clock) for clock, day in earliest.items() if clock not in pack.clocks)
    clock_ids = [*pack.clocks, *(clock for _day, clock in others)]
    kpis = tuple(
        _clock_kpi(pack, clock, latest[clock][1] if clock in latest else clock, by_status)
        for clock in clock_ids
    )

    in_period = [s for s in tallies.surveys if start <= s.on <= end]
    satisfaction, questions, comments = _surveys(pack, in_period, disclosure)
    groups = _survey_groups(pack, in_period, disclosure)
    referrals = tallies.referrals
    trend = []
    for index, part in enumerate(month_periods):
        if part.start > as_of:  # a month after the as-of date has no results yet: not in the trend
            break
        figures: dict[str, tuple[Count, Count, float | None]] = {}
        month_surveys = [s for s in in_period if part.start <= s.on <= part.end]
        if satisfaction is not None:
            assert pack.satisfaction is not None
            agreed, answered = _answered(month_surveys, pack.satisfaction.question, pack.satisfaction.agree)
            if disclosure.small(answered):  # a month of few surveys: withheld, as any result of few people
                figures[satisfaction.key] = (HIDDEN, answered, None)
            else:
                figures[satisfaction.key] = (agreed, answered, percent(agreed, answered))
        # each group's month is counted as the period's groups are: responses protected, results withheld
        month_groups = {g.key: g for g in _survey_groups(pack, month_surveys, disclosure)} if groups else {}
        for g in groups:
            held = month_groups.get(g.key)
            figures[g.key] = (0, 0, None) if held is None else (held.agree, held.responses, held.percent)
        for kpi in kpis:
            met = by_month[kpi.key, index, ClockStatus.MET]
            judged = met + by_month[kpi.key, index, ClockStatus.BREACHED]
            figures[kpi.key] = (met, judged, percent(met, judged))
        received = sum(n for day, n in referrals.opened.items() if part.start <= day <= part.end)
        trend.append(MonthTrend(part, figures, received))
    return ComplianceReport(
        pack_id=pack.id,
        pack_title=pack.title,
        pack_version=pack.version,
        pack_versions=tuple(sorted(versions)),
        period=period,
        as_of=as_of,
        disclosure=disclosure,
        satisfaction=satisfaction,
        satisfaction_groups=groups,
        questions=questions,
        comments=comments,
        kpis=kpis,
        clocks=lines,
        referrals=_referrals(pack, referrals, tallies.outcomes, disclosure),
        profile=tuple(
            _breakdown(
                name, spec.label(name), referrals.fields.get(name, {}), _choices(pack, spec), disclosure
            )
            for name, spec in breakdown_fields(pack)
            if spec.group != REFERRAL_GROUP
        ),
        feedback=_feedback(pack, [f for f in tallies.feedback if start <= f.on <= end]),
        trend=tuple(trend),
        definitions=definitions(pack),
        labels=labels(pack),
        flow=flow_counts(pack, tallies.flow),
        activities=_activities(activity_summary(pack, period, tallies.activities), disclosure),
        waiting_times=tuple(
            _waits(wait, disclosure)
            for wait in waiting_times(pack, period, as_of, tallies.waits, calendar or WorkingCalendar())
        ),
        satisfaction_responses=_answered(in_period, pack.satisfaction.question, ())[1]
        if pack.satisfaction
        else 0,
    )


def _line(fact: ClockFact, as_of: dt.date) -> ClockLine:
    return ClockLine(*fact, fact.status(as_of))


def _clock_kpi(pack: RulePack, clock: str, kpi: str, counts: Counter[tuple[str, ClockStatus]]) -> ClockKpi:
    spec = pack.clocks.get(clock)
    target = spec.target if spec else None
    met, breached = counts[clock, ClockStatus.MET], counts[clock, ClockStatus.BREACHED]
    result, met_target, rag = rate(met, met + breached, target)
    return ClockKpi(
        key=clock,
        kpi=spec.kpi if spec else kpi,
        title=spec.title if spec else pack.label(clock),
        target=target,
        met=met,
        breached=breached,
        excepted=counts[clock, ClockStatus.EXCEPTED],
        running=counts[clock, ClockStatus.RUNNING],
        cancelled=counts[clock, ClockStatus.CANCELLED],
        percent=result,
        met_target=met_target,
        rag=rag,
    )


def _answered(surveys: Sequence[SurveyFact], question: str, agree: Sequence[str]) -> tuple[int, int]:
    """(agree answers, answers) to one question; a question left out or blank was not answered."""
    agreed = answered = 0
    for survey in surveys:
        answer = survey.answers.get(question)
        if answer is not None and answer != "":
            answered += survey.instances
            if answer in agree:
                agreed += survey.instances
    return agreed, answered


def _survey_result(
    key: str,
    kpi: str,
    title: str,
    counts: tuple[int, int],
    target: float | None,
    disclosure: Disclosure,
    responses: Count | None = None,
) -> SurveyResult:
    """A question's result, withheld (agree "[c]", no percent, no RAG) when too few answered it.

    `responses` is the number of responses as shown, when it is itself a count of a breakdown (a group's).
    """
    agreed, answered = counts
    shown: Count = answered if responses is None else responses
    if disclosure.small(answered) or isinstance(shown, str):
        return SurveyResult(key, kpi, title, shown, HIDDEN, None, target, None, None, suppressed=True)
    result, met_target, rag = rate(agreed, answered, target)
    agree: Count = disclosure.rounded(agreed) if disclosure.method == "round" else agreed
    return SurveyResult(key, kpi, title, shown, agree, result, target, met_target, rag)


def _surveys(
    pack: RulePack, surveys: Sequence[SurveyFact], disclosure: Disclosure
) -> tuple[SurveyResult | None, tuple[SurveyResult, ...], int]:
    spec = pack.satisfaction
    if spec is None:
        return None, (), 0
    fields = pack.event_fields(spec.event)
    answers = _answered(surveys, spec.question, spec.agree)
    exact = dataclasses.replace(disclosure, method="suppress") if disclosure.active else disclosure
    # totals of responses stay exact, rounding or not: only the results of few surveys are withheld
    satisfaction = None  # measured per group (`_survey_groups`): no combined result is rated
    if spec.by_field is None:
        satisfaction = _survey_result(spec.key, spec.kpi, spec.title, answers, spec.target, exact)
    others = []
    for question in spec.other_questions:
        answers = _answered(surveys, question, spec.agree)
        title = fields[question].label(question)
        others.append(_survey_result(question, "", title, answers, None, exact))
    texts = text_fields(pack, spec.event)
    comments = sum(s.instances for s in surveys if any(s.answers.get(name) for name in texts))
    return satisfaction, tuple(others), comments


def _survey_groups(
    pack: RulePack, surveys: Sequence[SurveyFact], disclosure: Disclosure
) -> tuple[SurveyResult, ...]:
    """The satisfaction KPI for each group of service users (`by_field`), every listed value shown.

    Each group is a measure of its own (key "<KPI key>.<value>", KPI "<KPI>: <group label>"), against the
    target. The groups' responses are a breakdown of the people who answered (`protect`); a group whose
    responses are hidden, or too few, has its result withheld.
    """
    spec = pack.satisfaction
    if spec is None or spec.by_field is None:
        return ()
    field = pack.case_fields[spec.by_field]
    order = _choices(pack, field)
    present = {_value_key(s.group) for s in surveys} - {value for value, _label in order}
    groups = [*order, *((v, v.replace("_", " ").capitalize()) for v in sorted(present))]
    answers = [
        _answered([s for s in surveys if _value_key(s.group) == value], spec.question, spec.agree)
        for value, _label in groups
    ]
    shown = protect([answered for _agreed, answered in answers], disclosure)
    return tuple(
        dataclasses.replace(
            _survey_result(
                f"{spec.key}.{value}", f"{spec.kpi}: {label}", spec.title, counts, spec.target, disclosure,
                responses,
            ),
            group=value,
            group_title=label,
        )
        for (value, label), counts, responses in zip(groups, answers, shown, strict=True)
    )  # fmt: skip


def _referrals(
    pack: RulePack,
    tally: ReferralTally,
    outcome_counts: Mapping[str, Mapping[JsonValue, int]],
    disclosure: Disclosure,
) -> Referrals:
    types = [(name, spec.title) for name, spec in pack.case_types.items()]
    by_type = _breakdown("type", "Case type", tally.case_types, types, disclosure)
    breakdowns = tuple(
        _breakdown(name, spec.label(name), tally.fields.get(name, {}), _choices(pack, spec), disclosure)
        for name, spec in breakdown_fields(pack)
        if spec.group == REFERRAL_GROUP
    )
    outcomes = []
    for name, carriers in outcome_fields(pack).items():
        order = list(dict.fromkeys(choice for _event, spec in carriers for choice in _choices(pack, spec)))
        values = outcome_counts.get(name, {})
        # the cases with a carrying event dated in the period (those exited, for an exit reason)
        when = " or ".join(dict.fromkeys(pack.label(event) for event, _spec in carriers))
        title = f"{carriers[0][1].label(name)} ({when} in the period)"
        outcomes.append(_breakdown(name, title, values, order, disclosure))
    times = []
    for event in step_events(pack):
        days = Multiset(tally.steps.get(event, {}))
        if disclosure.small(days.size):  # days of few cases: withheld
            times.append(StepTime(event, pack.label(event), days.size, None, None, None, suppressed=True))
            continue
        times.append(
            StepTime(
                event=event,
                title=pack.label(event),
                cases=days.size,
                median_days=days.median() if days.size else None,
                mean_days=one_decimal(days.mean()) if days.size else None,
                max_days=days.largest() if days.size else None,
            )
        )
    return Referrals(
        tally.received, by_type, breakdowns, tuple(outcomes), tuple(times),
        # the referrals by need and with each professional involved: taken from `breakdowns` as shown
        tuple(pack.reporting.professionals), pack.reporting.professionals_title, pack.reporting.need,
    )  # fmt: skip


def _feedback(pack: RulePack, facts: Sequence[FeedbackFact]) -> tuple[FeedbackSummary, ...]:
    summaries = []
    for event in feedback_events(pack):
        spec = pack.events[event]
        items = tuple(sorted((f for f in facts if f.event == event), key=lambda f: (f.on, f.ref)))
        breakdowns = tuple(
            _breakdown(
                name,
                field.label(name),
                Counter(f.choices.get(name) for f in items),
                _choices(pack, field),
                NO_DISCLOSURE,  # feedback items are listed one by one, by reference: counts of items
            )
            for name, field in spec.fields.items()
            if field.exportable and field.type in (FieldType.CHOICE, FieldType.BOOLEAN)
        )
        summaries.append(FeedbackSummary(event, spec.title, len(items), breakdowns, items))
    return tuple(summaries)


def _waits(wait: WaitingTime, disclosure: Disclosure) -> WaitingTime:
    """A clock's waiting times, the spreads of few clocks withheld."""
    if disclosure.small(wait.stopped):
        wait = dataclasses.replace(wait, calendar_days=None, working_days=None, suppressed=True)
    if disclosure.small(wait.waiting):
        wait = dataclasses.replace(
            wait, longest_waiting_days=None, longest_waiting_working_days=None, waiting_suppressed=True
        )
    return wait


def _activities(activities: Activities | None, disclosure: Disclosure) -> Activities | None:
    """The sessions, their frequency per case withheld when few cases had one."""
    if activities is None or not disclosure.small(activities.cases):
        return activities
    return dataclasses.replace(activities, per_case_mean=None, per_case_median=None, per_case_suppressed=True)
