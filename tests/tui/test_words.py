"""The words and markers the screens share, and `caseclock tui`'s refusals before any screen opens."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import shared_rules
from tracker.cli import main
from tui.widgets.case_table import column_widths
from tui.words import Urgency, days_left, urgency

D = dt.date.fromisoformat
TUESDAY = D("2026-03-10")


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (None, (Urgency.NONE, None)),
        ("2026-03-09", (Urgency.BREACHED, -1)),
        ("2026-03-10", (Urgency.SOON, 0)),
        ("2026-03-12", (Urgency.SOON, 2)),
        ("2026-03-13", (Urgency.FINE, 3)),
        ("2026-04-07", (Urgency.FINE, 18)),  # Good Friday and Easter Monday are not working days
    ],
)
def test_urgency_counts_working_days(due: str | None, expected: tuple[Urgency, int | None]) -> None:
    assert urgency(D(due) if due else None, TUESDAY, shared_rules().calendar) == expected


@pytest.mark.parametrize(
    ("left", "breached", "words"),
    [(None, False, ""), (3, False, "3"), (0, False, "today"), (-2, True, "2 late"), (0, True, "late")],
)
def test_days_left_in_words(left: int | None, breached: bool, words: str) -> None:
    assert days_left(left, breached) == words


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_the_case_columns_fit_the_terminal(width: int) -> None:
    widths = column_widths(width)
    assert sum(widths.values()) + 2 * len(widths) + 4 <= max(width, 80)
    assert min(widths.values()) >= 6


def test_tui_refuses_a_bad_poll_interval_in_one_line(tmp_path, capsys) -> None:
    code = main(["--db", f"sqlite:///{tmp_path / 'x.db'}", "tui", "--poll", "0"])
    assert code == 2
    assert capsys.readouterr().err.strip() == "caseclock: --poll=0.0: use a number of seconds from 0.2 to 60"
