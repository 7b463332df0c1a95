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

    def kill(self) -> None:
        """Stop the server (and the app, if it is still running)."""
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], env=self.environ, capture_output=True)

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


def start_tui(tmp_path: Path, seeded_url: str, size: tuple[int, int], after: str = "") -> Tmux:
    """`caseclock tui` on the database at `seeded_url` as of 2026-03-10, as Jo Smith, in its own tmux server.

    The pane outlives the app (its last screen and exit status stay readable); `after` runs once it ends.
    Textual draws on stderr, so nothing is redirected: whatever is printed on exit stays on the pane.
    """
    config = tmp_path / "config.toml"
    config.write_text('[user]\nname = "Jo Smith"\n', encoding="utf-8")
    environ = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "CASECLOCK_DB": seeded_url,
        "CASECLOCK_CONFIG": str(config),
        "CASECLOCK_AS_OF": dt.date(2026, 3, 10).isoformat(),
    }
    command = f"cd {ROOT} && {sys.executable} -m tracker.cli tui{after}"
    tmux = Tmux(tmp_path / "tmux.sock", environ)
    width, height = size
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "tui", "-x", str(width), "-y", str(height), command)
    tmux("set-option", "-t", "tui", "remain-on-exit", "on")
    return tmux


def test_caseclock_tui_starts_shows_the_most_urgent_case_and_quits(tmp_path: Path, seeded_url: str) -> None:
    status = tmp_path / "exit-status"
    tmux = start_tui(tmp_path, seeded_url, (100, 30), after=f"; echo $? > {status}")
    try:
        shown = tmux.wait_for(lambda text: "M-0001" in text, "case list")
        first_case = next(line for line in shown.splitlines() if "M-" in line or "D-" in line)
        assert "M-0001" in first_case
        assert "!!" in first_case
        assert "as of 2026-03-10 · Jo Smith" in shown
        tmux("send-keys", "-t", "tui", "C-q")
        tmux.wait_for(lambda _text: tmux.dead(), "exit after ctrl+q")
        final = tmux.everything()
    finally:
        tmux.kill()
    assert status.read_text(encoding="utf-8").strip() == "0"
    assert "Traceback" not in final
    assert "Error" not in final
