"""Why this date? The counting of a clock's or a window's due date, step by step.

The steps come from the code that computes the date: a clock's from `clocks.explain_due` (the calendar's
own counting, ending at `due_date`), a window's from `windows.window_due` (which computes it). Nothing here
counts a day.
"""

from __future__ import annotations

from tracker.domain.clocks import Step, explain_due
from tracker.domain.errors import InvalidValue
from tracker.domain.rules import did_you_mean
from tracker.domain.windows import case_windows
from tracker.domain.workflow.state import CaseRecord, Rules


def explain(rules: Rules, record: CaseRecord, name: str) -> list[Step]:
    """The steps that give the due date of clock or window `name` of a case (`kpi3`, `kpi3#1`, ...).

    A clock that ran more than once is explained for its latest run unless `#N` names one. Raises
    InvalidValue (naming the clocks and windows of the case) for a name the case has no date for.
    """
    state = record.state
    pack = rules.pack(state)
    clock_id, _hash, number_text = name.partition("#")
    windows = {view.window: view for view in case_windows(rules, state)}
    if clock_id in windows and not number_text:
        view = windows[clock_id]
        window = pack.windows[clock_id]
        head = [
            Step(
                "rule", f"{window.title}: {window.help} ({state.pack_id} rule pack, version {pack.version})"
            ),
            Step("note", "information for the parent or young person: not a KPI"),
        ]
        return head + list(view.steps)
    instances = [c for c in state.clocks if c.clock == clock_id]
    names = sorted({c.clock for c in state.clocks} | set(windows))
    if not instances:
        fix = (
            f"clock {clock_id} has not started on case {state.ref}"
            if clock_id in pack.clocks
            else f"no clock or window has this name{did_you_mean(clock_id, set(names) | set(pack.clocks))}"
        )
        raise InvalidValue("--explain", name, f"{fix}; use one of {', '.join(names) or 'none'}")
    if number_text:
        chosen = [c for c in instances if str(c.number) == number_text]
        if not chosen:
            runs = ", ".join(f"{clock_id}#{c.number}" for c in instances)
            raise InvalidValue("--explain", name, f"clock {clock_id} of case {state.ref} ran as {runs}")
        instance = chosen[0]
    else:
        instance = instances[-1]
    start = next(e for e in record.events if e.seq == instance.start_seq)
    spec = instance.spec
    steps = [
        Step("trigger", f"started by {start.type} (event {start.seq}) on {start.on.isoformat()}", start.on),
        Step(
            "rule",
            f"{spec.kpi} {spec.title}: due {spec.due.describe()} "
            f"({state.pack_id} rule pack, version {instance.pack_version})",
        ),
        *explain_due(spec, rules.calendar, start.on, start.data),
    ]
    if steps[-1].on != instance.due_on:
        steps.append(
            Step(
                "note",
                f"the case holds due {instance.due_on.isoformat()}, computed with another calendar or pack: "
                "`caseclock rebuild` recomputes it",
            )
        )
    return steps
