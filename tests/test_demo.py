"""The demo's cases are realistic: every step its plans make is one the rules accept where it falls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import tracker.cli.demo as demo
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.errors import Refused
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules

BOTH = Rules(discover_packs(enabled=["send-mediation", "adoption-support"]), WorkingCalendar())


def test_no_step_of_the_demo_plans_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    refused: list[tuple[str, str]] = []
    decide = demo.decide

    def recording(*args: Any) -> Any:
        try:
            return decide(*args)
        except Refused as error:
            refused.append((args[1].ref, str(error)))
            raise

    monkeypatch.setattr(demo, "decide", recording)
    now = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
    histories = list(demo.generate(BOTH, 1500, 7, dt.date(2026, 12, 3), now))
    assert len(histories) == 1500
    assert refused == []  # a refused step leaves a case stuck with a clock overdue for months
