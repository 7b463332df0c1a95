"""The words of an alert, shared by the email and webhook notifiers: a headline a person can triage from.

Everything here is built from the alert's payload (CONTRACT.md): the case reference, the clock, its KPI and
title, the due date, working days left and the action. Nothing else about a case ever reaches a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tracker.alerts.rules import BREACHED, DIGEST, Alert


def day_words(day: dt.date) -> str:
    """`Thu 5 Mar 2026`."""
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def due_on(payload: Mapping[str, Any]) -> dt.date:
    """The due date of a clock alert or digest item."""
    return dt.date.fromisoformat(str(payload["due_on"]))


def when(payload: Mapping[str, Any], decided_on: dt.date) -> str:
    """How urgent, in words, as of the day the alert was decided: `due tomorrow`, `breached (was due …)`."""
    due = due_on(payload)
    left = int(payload["working_days_left"])
    if payload.get("type") == BREACHED:
        return f"breached (was due {day_words(due)})"
    if decided_on > due:
        return f"overdue (was due {day_words(due)})"
    if due == decided_on:
        return "due today"
    if due == decided_on + dt.timedelta(days=1):
        return "due tomorrow"
    if left == 0:  # due on a non-working day: today is the last working day before it
        return f"due by {day_words(due)}"
    return f"due in {left} working day{'s' if left != 1 else ''} ({day_words(due)})"


def headline(alert: Alert) -> str:
    """`KPI 2 due tomorrow: M-0042`, or the digest's summary line."""
    payload = alert.payload
    if payload.get("type") == DIGEST:
        counts = {key: len(payload.get(key, [])) for key in ("due_today", "due_soon", "overdue")}
        return (
            f"Daily digest for {day_words(alert.decided_on)}: {counts['due_today']} due today, "
            f"{counts['due_soon']} due in the next 2 working days, {counts['overdue']} overdue"
        )
    return f"{payload['kpi']} {when(payload, alert.decided_on)}: {payload['ref']}"


def facts(payload: Mapping[str, Any], decided_on: dt.date) -> list[tuple[str, str]]:
    """The label/value lines of one clock alert or digest item."""
    left = int(payload["working_days_left"])
    return [
        ("Case", str(payload["ref"])),
        ("Clock", f"{payload['kpi']}: {payload['title']}"),
        ("Due", f"{day_words(due_on(payload))} ({when(payload, decided_on)})"),
        ("Working days left", str(left) if left >= 0 else f"{left} (overdue)"),
        ("Action", str(payload["action"])),
    ]
