"""The words and markers the screens share, and `caseclock tui`'s refusals before any screen opens."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import shared_rules
from tracker.cli import main
from tui.widgets.case_table import fit_columns
from tui.words import Urgency, days_left, time_left, urgency

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
    ("left", "breached", "working", "words"),
    [
        (None, False, True, ""),
        (3, False, True, "3 working days"),
        (1, False, True, "1 working day"),
        (5, False, False, "5 days"),
        (1, False, False, "1 day"),
        (0, False, True, "today"),
        (-2, True, True, "2 working days late"),
        (-1, True, False, "1 day late"),
        (0, True, True, "late"),
    ],
)
def test_days_left_in_words_in_the_clocks_unit(
    left: int | None, breached: bool, working: bool, words: str
) -> None:
    assert days_left(left, breached, working=working) == words


def test_time_left_counts_as_the_clock_counts() -> None:
    pack = shared_rules().packs.latest("send-mediation")
    calendar = shared_rules().calendar
    # Due Monday 16 March, as of Tuesday 10 March: 4 working days, 6 calendar days.
    assert time_left(D("2026-03-16"), TUESDAY, calendar, pack.clocks["kpi2"]) == (
        Urgency.FINE,
        "4 working days",
    )
    assert time_left(D("2026-03-16"), TUESDAY, calendar, pack.clocks["kpi5"]) == (Urgency.FINE, "6 days")
    assert time_left(D("2026-03-07"), TUESDAY, calendar, pack.clocks["kpi5"]) == (
        Urgency.BREACHED,
        "3 days late",
    )
    assert time_left(None, TUESDAY, calendar, None) == (Urgency.NONE, "")


NATURAL = {"ref": 6, "type": 23, "state": 19, "next": 59, "due": 10, "left": 22, "owner": 12}


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200])
def test_the_case_columns_fit_the_terminal_and_cut_only_what_cannot_fit(width: int) -> None:
    widths = fit_columns(width, NATURAL)
    assert sum(widths.values()) + 2 * len(widths) + 4 <= width
    assert all(widths[name] == NATURAL[name] for name in ("ref", "due", "left", "state"))  # never cut
    assert widths["next"] >= 6


def test_the_type_shows_only_whole_and_the_next_action_takes_the_rest() -> None:
    assert fit_columns(200, NATURAL) == NATURAL  # room for everything: nothing is cut
    at_120 = fit_columns(120, NATURAL)
    assert "type" not in at_120  # it would not fit whole: the line under the table says it
    assert (at_120["owner"], at_120["state"], at_120["next"]) == (12, 19, 35)
    at_80 = fit_columns(80, NATURAL)
    assert list(at_80) == ["ref", "state", "next", "due", "left"]


def test_tui_refuses_a_bad_poll_interval_in_one_line(tmp_path, capsys) -> None:
    code = main(["--db", f"sqlite:///{tmp_path / 'x.db'}", "tui", "--poll", "0"])
    assert code == 2
    assert capsys.readouterr().err.strip() == "caseclock: --poll=0.0: use a number of seconds from 0.2 to 60"
