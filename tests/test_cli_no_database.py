"""Only `init` and `demo` create a database: every other command on a missing one fails and creates nothing.

A mistyped `--db` path used to create folders and a new, empty database, and `cases` then answered "no
cases" as if all were well. Now such a command exits 1 with `caseclock: no database at PATH: run caseclock
init`, and leaves no file and no folder behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tracker.cli import main
from tracker.store.engine import make_engine

AS_OF = "2026-03-10"

# Each command as a user would type it on a database that has cases. The `import` file is written first.
COMMANDS = [
    ["cases"],
    ["cases", "--all", "--json"],
    ["show", "M-1"],
    ["show", "M-1", "--json"],
    ["open", "M-1", "--on", "2026-03-02"],
    ["record", "M-1", "mediation_requested"],
    ["void", "M-1", "2", "--reason", "wrong case"],
    ["rebuild"],
    ["export", "--period", "FY2025", "--format", "json"],
    ["export", "--period", "FY2025", "--format", "csv", "--out", "{tmp}/report.csv"],
    ["import", "cases", "{tmp}/cases.csv"],
    ["check", "--dry-run"],
    ["alerts"],
    ["watch"],
    ["tui"],
]


class _Terminal:
    """A standard stream that says it is a terminal, so `tui` gets as far as opening the database."""

    def __init__(self, real: object) -> None:
        self._real = real

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder holding only the import file and a config with an alert channel."""
    (tmp_path / "cases.csv").write_text("reference,opened_on\nM-1,2026-03-02\n", encoding="utf-8")
    (tmp_path / "config.toml").write_text(
        '[[webhooks]]\nname = "team"\nurl = "https://example.invalid/hook"\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize("where", ["typo/cases.db", "cases.db"], ids=["missing folder", "missing file"])
def test_a_command_on_a_missing_database_fails_and_creates_nothing(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    where: str,
) -> None:
    # pytest's captured streams are no terminals, so `tui` would stop before it looks for the database.
    # Patched here, not in a fixture: pytest sets its own streams again when the test itself starts.
    for name in ("stdin", "stdout", "stderr"):
        monkeypatch.setattr(sys, name, _Terminal(getattr(sys, name)))
    before = files_under(workdir)
    path = workdir / where
    args = [a.replace("{tmp}", str(workdir)) for a in command]
    code = main(["--db", f"sqlite:///{path}", "--config", "config.toml", "--as-of", AS_OF, *args])
    captured = capsys.readouterr()
    assert (code, captured.out) == (1, "")
    assert captured.err == f"caseclock: no database at {path}: run caseclock init\n"
    assert files_under(workdir) == before


def test_the_default_database_is_not_created_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["cases"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"caseclock: no database at {tmp_path / 'data'}")
    assert err.endswith("caseclock.db: run caseclock init\n")
    assert list(tmp_path.iterdir()) == []


def test_a_relative_path_is_named_as_typed(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", "sqlite:///typo/cases.db", "cases"]) == 1
    assert capsys.readouterr().err == "caseclock: no database at typo/cases.db: run caseclock init\n"
    assert not (workdir / "typo").exists()


def test_init_creates_the_database_and_then_every_command_works(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{workdir / 'new' / 'cases.db'}"
    assert main(["--db", url, "init"]) == 0
    assert main(["--db", url, "--as-of", AS_OF, "open", "M-1", "--on", "2026-03-02"]) == 0
    assert main(["--db", url, "--as-of", AS_OF, "show", "M-1"]) == 0
    assert main(["--db", url, "cases"]) == 0
    assert "M-1" in capsys.readouterr().out


def test_demo_creates_the_database(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{workdir / 'new' / 'demo.db'}"
    assert main(["--db", url, "--as-of", AS_OF, "demo", "--cases", "3"]) == 0, capsys.readouterr().err
    assert main(["--db", url, "--as-of", AS_OF, "cases", "--all", "--json"]) == 0
    assert capsys.readouterr().out.count('"ref"') == 3


def test_a_database_without_caseclock_tables_is_not_set_up_by_other_commands(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing but empty database (a blank SQLite file, a new PostgreSQL database) waits for `init`."""
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).touch()
    for command in (["cases"], ["show", "M-1"], ["export", "--period", "FY2025", "--format", "json"]):
        assert main(["--db", db_url, *command]) == 1, command
        err = capsys.readouterr().err
        assert err.startswith("caseclock: no database at "), err
        assert err.endswith(": run caseclock init\n"), err
    engine = make_engine(db_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert main(["--db", db_url, "init"]) == 0
    assert main(["--db", db_url, "cases"]) == 0
