"""Commands that describe the enabled rule packs: `packs` and `events`.

Everything printed comes from the packs themselves, so these commands are the reference for what `open`
and `record` accept in a given deployment.
"""

from __future__ import annotations

import argparse
from typing import Any

from tracker.cli.commands.output import print_json, table
from tracker.cli.context import Context
from tracker.domain.errors import InvalidValue
from tracker.domain.rules import ClockSpec, FieldSpec, FieldType, RulePack


def register(commands: Any) -> None:
    """Add the pack commands to the `caseclock` parser."""
    packs = commands.add_parser(
        "packs",
        help="list the enabled rule packs, their versions and clocks",
        epilog="Example: caseclock packs --json",
    )
    packs.add_argument("--json", action="store_true", help="machine-readable output")
    packs.set_defaults(run=run_packs)

    events = commands.add_parser(
        "events",
        help="list the event types a case type accepts, with their fields",
        epilog="Example: caseclock events --type mediation",
    )
    events.add_argument("--type", dest="case_type", help="a case type (default: the first enabled)")
    events.add_argument("--json", action="store_true", help="machine-readable output")
    events.set_defaults(run=run_events)


def _field_json(pack: RulePack, case_type: str, event: str, name: str, spec: FieldSpec) -> dict[str, Any]:
    """One field of `caseclock events --json`; `choices` is every value it takes, or null for free input.

    A clock field's choices are the clocks it may name; an exception reason's are those clocks' reasons,
    with each clock's own list in `choices_by_clock`.
    """
    body: dict[str, Any] = {
        "name": name,
        "option": f"--{name.replace('_', '-')}",
        "type": spec.type.value,
        "title": spec.label(name),
        "required": spec.required,
        "choices": None,
        "personal": spec.personal,
    }
    if spec.type is FieldType.CHOICE:
        body["choices"] = pack.choices_of(spec)
    elif spec.type is FieldType.CLOCK:
        body["choices"] = list(_clocks_named_by(pack, case_type, event))
    elif spec.type is FieldType.EXCEPTION_REASON:
        # Which reasons are allowed depends on the clock: the union, and each clock's own list beside it.
        by_clock = {
            cid: list(c.exception_reasons) for cid, c in _clocks_named_by(pack, case_type, event).items()
        }
        body["choices"] = list(dict.fromkeys(r for reasons in by_clock.values() for r in reasons))
        body["choices_by_clock"] = by_clock
    body["choices"] = body["choices"] or None
    return body


def _clocks_named_by(pack: RulePack, case_type: str, event: str) -> dict[str, ClockSpec]:
    """The clocks a clock field of `event` may name: for an exception, those that allow exceptions."""
    clocks = {cid: c for cid, c in pack.clocks.items() if c.case_types is None or case_type in c.case_types}
    if pack.events[event].role == "except_clock":
        clocks = {cid: c for cid, c in clocks.items() if c.exception_reasons}
    return clocks


def _values_text(field: dict[str, Any]) -> str:
    """The `values` column of `caseclock events`: the choices, per clock where the clocks differ."""
    by_clock: dict[str, list[str]] = field.get("choices_by_clock") or {}
    if len({tuple(reasons) for reasons in by_clock.values()}) > 1:
        return "; ".join(f"{cid}: {', '.join(reasons)}" for cid, reasons in by_clock.items())
    return ", ".join(field["choices"]) if field["choices"] else str(field["title"])


def run_packs(context: Context, args: argparse.Namespace) -> int:
    """`caseclock packs`."""
    body: list[dict[str, Any]] = []
    for pack_id in context.packs:
        for pack in context.packs.versions(pack_id):
            body.append(
                {
                    "id": pack.id,
                    "version": pack.version,
                    "effective_from": pack.effective_from.isoformat(),
                    "title": pack.title,
                    "case_types": list(pack.case_types),
                    "clocks": [
                        {
                            "clock": cid,
                            "kpi": c.kpi,
                            "title": c.title,
                            "due": c.due.describe(),
                            "target": c.target,
                        }
                        for cid, c in pack.clocks.items()
                    ],
                }
            )
    if args.json:
        print_json(body)
        return 0
    for entry in body:
        print(f"{entry['id']} {entry['version']} (from {entry['effective_from']}): {entry['title']}")
        print(f"  case types: {', '.join(entry['case_types'])}")
        for clock in entry["clocks"]:
            target = f", target {clock['target']:g}%" if clock["target"] is not None else ""
            print(f"  {clock['clock']} {clock['kpi']} {clock['title']}: {clock['due']}{target}")
    return 0


def run_events(context: Context, args: argparse.Namespace) -> int:
    """`caseclock events`."""
    packs = context.packs
    case_type = args.case_type or packs.default_case_type
    pack_id = packs.pack_for_case_type(case_type)
    if pack_id is None:
        raise InvalidValue("--type", case_type, f"use one of {', '.join(packs.case_types)}")
    pack = packs.in_force(pack_id, context.as_of)
    body: list[dict[str, Any]] = []
    for name, spec in pack.events.items():
        if spec.case_types is not None and case_type not in spec.case_types:
            continue
        if spec.role in ("void", "erase"):  # recorded by `void` and `erase`, never by `record`
            continue
        fields = pack.event_fields(name)
        body.append(
            {
                "event": name,
                "title": spec.title,
                "action": spec.action,
                "fields": [
                    _field_json(pack, case_type, name, field, fspec) for field, fspec in fields.items()
                ],
            }
        )
    if args.json:
        print_json(body)
        return 0
    print(
        f"{case_type} ({pack.id} {pack.version}): caseclock record REF EVENT [--on DATE] [--NAME VALUE ...]"
    )
    for event in body:
        print()
        print(f"{event['event']}: {event['title']}")
        rows = [
            [
                f["option"],
                f["type"] + (" (required)" if f["required"] else ""),
                _values_text(f),
            ]
            for f in event["fields"]
        ]
        if rows:
            print(table(["  option", "type", "values"], [["  " + r[0], r[1], r[2]] for r in rows]))
    return 0
