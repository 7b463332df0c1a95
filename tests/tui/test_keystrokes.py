"""A whole mediation path from the keyboard alone, in a real terminal (tmux), counting the keys of each step.

New case, mediation requested, LA notified, a clock exception, meeting scheduled, confirmation sent, meeting
held, certificate: every key goes through `tmux send-keys` to `caseclock tui`, nothing else touches the app,
and the database is read at the end to check every step was recorded as it should. The counts are printed
(`pytest -s` or the terminal summary) and bounded, so a change that makes a step take more keys fails here.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import shared_rules
from tests.tui.test_terminal import Tmux, start_tui
from tracker.store import Store
from tracker.store.engine import make_engine

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None,
    reason="tmux is not installed (scripts/install-tmux.sh installs it; CI does)",
)

SETTLE_SECONDS = 1.0
"""How long a key may leave the screen unchanged (a Tab between two fields) before the next one is sent."""

# (step, keys sent, what the screen shows once it is done). Keys are tmux's names; a date or a choice is
# typed (`p` jumps to "Parent unavailable" in an open list, `a` to "Agreed").
PATH: list[tuple[str, list[str], str]] = [
    ("new case", ["n", "C-s"], "M-00007 · Mediation · Case opened"),
    ("mediation requested", ["m", "Enter"], "M-00007 · Mediation · Mediation requested"),
    ("notify LA", ["l", "Enter"], "M-00007 · Mediation · LA/ICB notified"),
    ("exception", ["x", "Tab", "Tab", "Enter", "p", "Enter", "C-s"], "Recorded as event 4."),
    ("schedule meeting", ["b", "Enter"], "M-00007 · Mediation · Meeting scheduled"),
    ("send confirmation", ["c", "Enter"], "Recorded as event 6."),
    ("meeting held", ["h", "Tab", "Enter", "a", "Enter", "C-s"], "M-00007 · Mediation · Meeting held"),
    ("certificate", ["i", "Enter"], "M-00007 · Mediation · Certificate issued"),
]
MOST_KEYS = {"new case": 2, "certificate": 2, "exception": 7}
"""The most keys these steps may take (issue 15 measured 35, 6 and 10 before the forms' second pass)."""


def test_a_mediation_path_from_the_keyboard_alone(
    tmp_path: Path, seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tmux = start_tui(tmp_path, seeded_url, (120, 40))
    counts: dict[str, int] = {}
    try:
        tmux.wait_for(lambda text: "M-0001" in text, "case list")
        for step, keys, done in PATH:
            for key in keys:
                before = tmux.screen()
                tmux("send-keys", "-t", "tui", key)
                _until_changed(tmux, before)
                if step == "new case" and key == "n":
                    tmux.wait_for(lambda text: "M-00007" in text, "the suggested reference")
            tmux.wait_for(lambda text, done=done: done in text, f"{step} done ({done!r})")
            counts[step] = len(keys)
        tmux("send-keys", "-t", "tui", "C-q")
        tmux.wait_for(lambda text: "M-00007" not in text or tmux.dead(), "exit after ctrl+q")
    finally:
        tmux.kill()
    engine = make_engine(seeded_url)
    try:
        case = Store(engine, shared_rules()).case("M-00007")
    finally:
        engine.dispose()
    assert [e.type for e in case.events] == [
        "opened",
        "mediation_requested",
        "la_notified",
        "exception",
        "meeting_scheduled",
        "confirmation_sent",
        "meeting_held",
        "certificate_issued",
    ]
    assert case.events[0].data["caseworker"] == "Jo Smith"
    assert case.events[3].data == {"clock": "kpi5", "reason": "parent_unavailable"}
    assert case.events[6].data == {"outcome": "agreed"}
    assert case.events[7].data == {"kind": "after_mediation"}
    with capsys.disabled():
        print("\nkeystrokes per step: " + ", ".join(f"{step} {n}" for step, n in counts.items()))
        print(f"keystrokes in all: {sum(counts.values())}")
    for step, most in MOST_KEYS.items():
        assert counts[step] <= most, f"{step} takes {counts[step]} keys"


def _until_changed(tmux: Tmux, before: str) -> None:
    """Wait until the key shows on the screen, or a moment when it changes nothing visible."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        if tmux.screen() != before:
            return
        time.sleep(0.05)
