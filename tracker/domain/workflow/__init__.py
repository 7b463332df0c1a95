"""The case state machine: deciding whether an event fits, and folding events into a case's state.

Commands return events, and a projector folds them:

* `decide_open`, `decide` and `decide_void` validate a proposed event against the rule pack and the case's
  history and return the `Event` to append, or raise `EventRefused`/`InvalidValue` (nothing is written);
* `project(rules, ref, events)` folds a history, skipping voided events, and is what `rebuild` uses;
  `advance(rules, state, history, event)` is the incremental path: one fold step (`apply`) when the new
  event comes after everything folded, else a refold.

There is one order for everything, the *fold order*: business date, then recording order within a day.
The state and the clocks are folded in it, and a new event is judged where it falls in it, so a step
recorded a few days late (caseworkers often do) counts exactly as if it had been recorded on time.

Everything service-specific (event names, states, guards, fields, clocks) comes from the rule pack.
"""

from tracker.domain.workflow.decide import (
    allowed_events,
    clocks_stopped_by,
    decide,
    decide_erase,
    decide_open,
    decide_void,
    fitting_choices,
    warnings_for,
)
from tracker.domain.workflow.fold import advance, apply, fold_key, fold_order, project
from tracker.domain.workflow.state import CASE_TYPE_KEY, CaseRecord, CaseState, Erasure, Fact, Rules

__all__ = [
    "CASE_TYPE_KEY",
    "CaseRecord",
    "CaseState",
    "Erasure",
    "Fact",
    "Rules",
    "advance",
    "allowed_events",
    "apply",
    "clocks_stopped_by",
    "decide",
    "decide_erase",
    "decide_open",
    "decide_void",
    "fitting_choices",
    "fold_key",
    "fold_order",
    "project",
    "warnings_for",
]
