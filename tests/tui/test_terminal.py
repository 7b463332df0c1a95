"""`caseclock tui` in a real terminal (tmux): it starts, shows the most urgent case, quits on ctrl+q, cleanly.

The one TUI test that goes through the console script, the terminal driver and the command line's database
and config handling. Polls tmux's screen with a deadline (a real terminal has no Pilot to wait on).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import shared_rules
from tests.tui.conftest import seed
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 30.0

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None,
    reason="tmux is not installed (scripts/install-tmux.sh installs it; CI does)",
)


class Tmux:
    """One tmux server on its own socket, so the test never touches a user's sessions."""

    def __init__(self, socket: Path, environ: dict[str, str]) -> None:
        self.socket = socket
        self.environ = environ

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            env=self.environ,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return result.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "tui")

    def everything(self) -> str:
        """The whole pane, its scroll-back included (what was printed after the app left the screen)."""
        return self("capture-pane", "-p", "-S", "-", "-E", "-", "-t", "tui")

    def dead(self) -> bool:
        return self("display-message", "-p", "-t", "tui", "#{pane_dead}").strip() == "1"

    def wait_for(self, predicate, what: str) -> str:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {DEADLINE_SECONDS:.0f} s; the terminal shows:\n{text}")
            time.sleep(0.2)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    engine = make_engine(url)
    upgrade(engine)
    seed(Store(engine, shared_rules()))
    engine.dispose()
    return url


def test_caseclock_tui_starts_shows_the_most_urgent_case_and_quits(tmp_path: Path, database: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[user]\nname = "Jo Smith"\n', encoding="utf-8")
    environ = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "CASECLOCK_DB": database,
        "CASECLOCK_CONFIG": str(config),
        "CASECLOCK_AS_OF": dt.date(2026, 3, 10).isoformat(),
    }
    # Textual draws on stderr, so nothing is redirected: whatever is printed on exit stays on the pane.
    status = tmp_path / "exit-status"
    command = f"cd {ROOT} && {sys.executable} -m tracker.cli tui; echo $? > {status}"
    tmux = Tmux(tmp_path / "tmux.sock", environ)
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "tui", "-x", "100", "-y", "30", command)
    try:
        tmux("set-option", "-t", "tui", "remain-on-exit", "on")
        shown = tmux.wait_for(lambda text: "M-0001" in text, "case list")
        first_case = next(line for line in shown.splitlines() if "M-" in line or "D-" in line)
        assert "M-0001" in first_case
        assert "!!" in first_case
        assert "as of 2026-03-10 · Jo Smith" in shown
        tmux("send-keys", "-t", "tui", "C-q")
        tmux.wait_for(lambda _text: tmux.dead(), "exit after ctrl+q")
        final = tmux.everything()
    finally:
        subprocess.run(["tmux", "-S", str(tmux.socket), "kill-server"], env=environ, capture_output=True)
    assert status.read_text(encoding="utf-8").strip() == "0"
    assert "Traceback" not in final
    assert "Error" not in final
