"""Commands on cases: `open`, `record`, `void`, `show`, `cases`.

Event fields come from the rule pack: `--field NAME=VALUE`, or the same as `--name-with-dashes VALUE`
(`--meeting-date 2026-03-01` is `--field meeting_date=2026-03-01`), so the command line knows no event or
field of any particular service.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracker.cli.commands.output import print_json, table
from tracker.cli.context import Context
from tracker.domain.dates import parse_date
from tracker.domain.errors import InvalidValue
from tracker.domain.explain import explain
from tracker.domain.refs import REFERENCE_HELP, is_reference, shown
from tracker.domain.windows import window_warnings
from tracker.domain.workflow import warnings_for
from tracker.reports.views import case_json, clock_json, summary_json


def register(commands: Any) -> None:
    """Add the case commands to the `caseclock` parser."""
    opener = commands.add_parser(
        "open",
        help="open a new case",
        description="Open a case. Case fields come from the rule pack: --field NAME=VALUE or --name VALUE.",
        epilog="Example: caseclock open M-0042 --type mediation --on 2026-03-02 --field source=school",
    )
    opener.add_argument("ref", metavar="REF", help="the case reference, e.g. M-0042")
    opener.add_argument(
        "--type", dest="case_type", help="the case type (default: the first of the enabled packs)"
    )
    _event_options(opener)
    opener.set_defaults(run=run_open, accepts_extra=True)

    recorder = commands.add_parser(
        "record",
        help="record a step (event) on a case",
        description=(
            "Record an event. Its fields come from the case's rule pack: --field NAME=VALUE, or the same "
            "as --name-with-dashes VALUE. `caseclock show REF` lists the events allowed next and "
            "`caseclock events` every event's fields."
        ),
        epilog="Example: caseclock record M-0042 la_notified --on 2026-03-04",
    )
    recorder.add_argument("ref", metavar="REF")
    recorder.add_argument("event", metavar="EVENT", help="an event type of the case's rule pack")
    _event_options(recorder)
    recorder.set_defaults(run=run_record, accepts_extra=True)

    voider = commands.add_parser(
        "void",
        help="void an event (it stays in the history, marked void)",
        epilog="Example: caseclock void M-0042 3 --reason 'recorded on the wrong case'",
    )
    voider.add_argument("ref", metavar="REF")
    voider.add_argument(
        "seq", metavar="SEQ", type=_positive_int, help="the event number, from `caseclock show`"
    )
    voider.add_argument("--reason", required=True, help="why the event is void")
    voider.add_argument("--json", action="store_true", help="print the case as JSON")
    voider.set_defaults(run=run_void)

    shower = commands.add_parser(
        "show", help="one case: state, clocks, events", epilog="Example: caseclock show M-0042 --json"
    )
    shower.add_argument("ref", metavar="REF")
    shower.add_argument("--personal", action="store_true", help="include personal fields (name, contact)")
    shower.add_argument("--json", action="store_true", help="machine-readable output")
    shower.add_argument(
        "--explain",
        metavar="CLOCK",
        help="why a clock's (or the appeal window's) due date is what it is: the trigger, the rule, each day "
        "counted or skipped",
    )
    shower.set_defaults(run=run_show)

    lister = commands.add_parser(
        "cases",
        help="list cases, most urgent first",
        epilog="Example: caseclock cases --due-within 2 --json",
    )
    views = lister.add_mutually_exclusive_group()
    views.add_argument("--open", dest="view", action="store_const", const="open", help="open cases (default)")
    views.add_argument(
        "--overdue", dest="view", action="store_const", const="overdue", help="cases with an overdue clock"
    )
    views.add_argument(
        "--closed", dest="view", action="store_const", const="ended", help="closed and withdrawn cases"
    )
    views.add_argument("--all", dest="view", action="store_const", const="all", help="every case")
    views.add_argument(
        "--due-within",
        type=_non_negative_int,
        metavar="N",
        help="open clocks due within N working days (overdue included)",
    )
    lister.add_argument("--mine", action="store_true", help="only the configured user's cases")
    lister.add_argument("--search", metavar="TEXT", help="part of a reference or caseworker")
    lister.add_argument("--limit", type=_positive_int, metavar="N", help="at most N cases")
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    lister.set_defaults(run=run_cases, view=None)


def _event_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--on", metavar="DATE", help="the date it happened (default: the as-of date)")
    parser.add_argument(
        "--field", action="append", default=[], metavar="NAME=VALUE", help="a field of the event (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the case as JSON")


def _positive_int(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def _non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 0")
    return int(text)


def _check_ref(ref: str) -> str:
    if not is_reference(ref):
        raise InvalidValue("REF", shown(ref), REFERENCE_HELP)
    return ref


def collect_fields(pairs: list[str], extra: list[str]) -> dict[str, object]:
    """`--field NAME=VALUE` pairs and `--name VALUE` options as one dict of field values."""
    fields: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            # What was typed may be a name or an address without its field: never echo it.
            raise InvalidValue(
                "--field",
                pair,
                "write it as NAME=VALUE, e.g. --field source=school",
                withheld="no field named",
            )
        fields[name.strip().replace("-", "_")] = value
    tokens = list(extra)
    while tokens:
        token = tokens.pop(0)
        if not token.startswith("--") or len(token) == 2:
            raise InvalidValue(
                "argument",
                token,
                "give fields as --name VALUE or --field NAME=VALUE",
                withheld="no field named",
            )
        name, sep, value = token[2:].partition("=")
        if not sep:
            if not tokens or tokens[0].startswith("--"):
                raise InvalidValue(token, "(missing)", f"give a value: {token} VALUE")
            value = tokens.pop(0)
        fields[name.replace("-", "_")] = value
    return fields


def run_open(context: Context, args: argparse.Namespace) -> int:
    """`caseclock open`."""
    ref = _check_ref(args.ref)
    on = parse_date(args.on, context.as_of, "--on") if args.on else context.as_of
    fields = collect_fields(args.field, args.extra)
    store = context.store
    store.open_case(ref, args.case_type, on, fields, context.actor, context.now(), context.as_of)
    _warn_windows(context, ref)
    return _report(context, ref, args.json, f"{ref}: opened on {on.isoformat()}")


def run_record(context: Context, args: argparse.Namespace) -> int:
    """`caseclock record`."""
    on = parse_date(args.on, context.as_of, "--on") if args.on else context.as_of
    fields = collect_fields(args.field, args.extra)
    event, state = context.store.record(
        args.ref, args.event, on, fields, context.actor, context.now(), context.as_of
    )
    for warning in warnings_for(context.rules, state, event.type, event.data):
        print(f"caseclock: warning: {args.ref}: {warning}", file=sys.stderr)
    if context.rules.pack(state).events[event.type].role == "edit":
        _warn_windows(context, args.ref)
    return _report(context, args.ref, args.json, f"{args.ref}: {event.type} recorded as event {event.seq}")


def run_void(context: Context, args: argparse.Namespace) -> int:
    """`caseclock void`."""
    event, _state = context.store.void(
        args.ref, args.seq, args.reason, context.actor, context.now(), context.as_of
    )
    return _report(context, args.ref, args.json, f"{args.ref}: event {args.seq} voided (event {event.seq})")


def _warn_windows(context: Context, ref: str) -> None:
    """Warn when a case was opened after a window of the parent's had closed (reg 33)."""
    for warning in window_warnings(context.rules, context.store.case(ref).state):
        print(f"caseclock: warning: {ref}: {warning}", file=sys.stderr)


def _report(context: Context, ref: str, as_json: bool, headline: str) -> int:
    record = context.store.case(ref)
    body = case_json(record, context.rules, context.as_of)
    if as_json:
        print_json(body)
        return 0
    state = record.state
    print(f"{headline}; state {state.state}")
    open_clocks = [c for c in state.clocks if c.open]
    for clock in sorted(open_clocks, key=lambda c: c.due_on):
        view = clock_json(clock, context.as_of, context.calendar)
        print(
            f"  {clock.spec.kpi} {clock.spec.title}: due {view['due_on']}, {view['status']}, "
            f"{_days_left(view['working_days_left'])}"
        )
    return 0


def run_show(context: Context, args: argparse.Namespace) -> int:
    """`caseclock show`."""
    record = context.case(args.ref)
    rules = context.rules
    if args.explain is not None:
        return _explain(record, rules, args.explain, args.json)
    body = case_json(record, rules, context.as_of, include_personal=args.personal)
    if args.json:
        print_json(body)
        return 0
    state = record.state
    pack = rules.pack(state)
    print(f"{state.ref}  {pack.label(state.case_type)}  state: {pack.label(state.state)} ({state.state})")
    print(
        f"opened {state.opened_on.isoformat()}"
        + (f", closed {state.closed_on.isoformat()}" if state.closed_on else "")
    )
    for name, value in state.fields.items():
        spec = pack.case_fields.get(name)
        print(f"  {spec.label(name) if spec else name}: {_value_words(pack, value)}")
    if args.personal:
        for name, value in state.personal.items():
            print(f"  {pack.case_fields[name].label(name)}: {value}")
    if body["erased"] is not None:
        erased = body["erased"]
        print(f"  personal data erased on {erased['on']} by {erased['by']}: {erased['reason']}")
    print()
    print("Clocks (as of " + context.as_of.isoformat() + ")")
    if body["clocks"]:
        print(
            table(
                ["clock", "kpi", "starts", "due", "stopped", "status", "days left", "exception"],
                [
                    [
                        c["clock"] + (f" #{c['number']}" if c["number"] > 1 else ""),
                        c["kpi"],
                        c["starts_on"],
                        c["due_on"],
                        c["stopped_on"] or (f"{c['ended_by']} {c['ended_on']}" if c["ended_on"] else None),
                        c["status"],
                        c["working_days_left"],
                        (c["exception"] or {}).get("reason"),
                    ]
                    for c in body["clocks"]
                ],
            )
        )
    else:
        print("  none")
    if body["windows"]:
        print()
        print("The parent's windows (information for them, not KPIs)")
        print(
            table(
                ["window", "title", "due", "status", "days left", "note"],
                [
                    [
                        w["window"],
                        w["title"],
                        w["due_on"],
                        w["status"],
                        w["days_left"],
                        w["warning"]
                        or (("needs " + ", ".join(w["waiting_for"])) if w["waiting_for"] else None),
                    ]
                    for w in body["windows"]
                ],
            )
        )
    print()
    print("Events")
    print(
        table(
            ["seq", "on", "event", "details", "by"],
            [
                [
                    e["seq"],
                    e["on"],
                    e["type"] + (" (VOID)" if e["voided"] else ""),
                    _details(e),
                    e["actor"],
                ]
                for e in body["events"]
            ],
        )
    )
    from tracker.domain.workflow import allowed_events

    allowed = allowed_events(rules, state, context.as_of)
    print()
    print("Allowed next: " + (", ".join(allowed) if allowed else "nothing"))
    return 0


def _explain(record: Any, rules: Any, name: str, as_json: bool) -> int:
    steps = explain(rules, record, name)
    if as_json:
        print_json([step.as_json() for step in steps])
        return 0
    print(f"{record.state.ref} {name}: why this date?")
    for step in steps:
        day = step.on.strftime("%a %Y-%m-%d") if step.on is not None else ""
        print(f"  {day:<14}  {step.text}")
    return 0


def _details(event: dict[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in event["data"].items()]
    if event["voided"]:
        parts.append(f"void: {event['void_reason']}")
    text = "; ".join(parts)
    return text if len(text) <= 70 else text[:69] + "…"


def _value_words(pack: Any, value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return pack.label(str(value)) if isinstance(value, str) and value in pack.labels else str(value)


def _days_left(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"{-days} working day{'s' if days != -1 else ''} overdue"
    if days == 0:
        return "due today"
    return f"{days} working day{'s' if days != 1 else ''} left"


def run_cases(context: Context, args: argparse.Namespace) -> int:
    """`caseclock cases`."""
    view = args.view or "open"
    due_by = None
    if args.due_within is not None:
        view = "open"
        due_by = context.calendar.working_days_after(context.as_of, args.due_within)
    owner = None
    if args.mine:
        owner = context.settings.user.name
        if not owner:
            raise InvalidValue("--mine", "", 'set your name in the config file: [user] name = "Jo Smith"')
    store = context.store
    summaries = store.cases(context.as_of, view, due_by, args.search, owner, args.limit)
    rows = [summary_json(s, context.as_of, context.calendar) for s in summaries]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no cases")
        return 0
    print(
        table(
            ["ref", "type", "state", "caseworker", "next", "due", "status", "days left"],
            [
                [
                    r["ref"],
                    r["type"],
                    r["state"],
                    r["caseworker"],
                    (r["next"] or {}).get("clock"),
                    (r["next"] or {}).get("due_on"),
                    _marker((r["next"] or {}).get("status"), (r["next"] or {}).get("working_days_left")),
                    (r["next"] or {}).get("working_days_left"),
                ]
                for r in rows
            ],
        )
    )
    return 0


def _marker(status: str | None, days: int | None) -> str | None:
    if status is None:
        return None
    if status == "breached":
        return "OVERDUE"
    if days is not None and days <= 2:
        return "due soon"
    return status
