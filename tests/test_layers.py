"""Architecture and documentation checks: import hygiene, no service names in the engine, documentation."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tracker.cli import build_parser
from tracker.domain.rules import discover_packs, load_pack

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("textual", "apscheduler", "sqlalchemy", "httpx", "openpyxl", "smtplib", "alembic")


def _imported_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return result.stdout.split()


def test_the_domain_imports_no_framework() -> None:
    modules = (
        "tracker.domain.calendar, tracker.domain.rules, tracker.domain.workflow, tracker.domain.clocks, "
        "tracker.domain.events, tracker.domain.config"
    )
    assert _imported_after(f"import {modules}") == []


def test_the_command_line_starts_without_ui_network_or_spreadsheet_code() -> None:
    loaded = _imported_after("import tracker.cli; tracker.cli.build_parser()")
    assert not set(loaded) & {"textual", "apscheduler", "httpx", "openpyxl", "smtplib", "alembic"}


def _pack_names() -> set[str]:
    """Every event, state and clock name of every shipped pack, enabled by default or not."""
    names: set[str] = set()
    ids = [load_pack(path).id for path in sorted((ROOT / "rules").glob("*.toml"))]
    packs = discover_packs(enabled=list(dict.fromkeys(ids)))
    for pack_id in packs:
        for pack in packs.versions(pack_id):
            names |= set(pack.events) | set(pack.clocks) | set(pack.states)
    return names


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


CONTRACT_JSON_KEYS = {"exception", "note"}
"""Keys of CONTRACT.md's JSON shapes that happen to be event names of the shipped pack too."""


def test_no_event_state_or_clock_name_of_a_pack_in_engine_code() -> None:
    names = _pack_names() - CONTRACT_JSON_KEYS
    offenders = []
    for folder in ("tracker", "notifiers", "tui"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "demo.py" or "migrations" in path.parts:
                continue
            for line, value in _string_constants(path):
                if value in names:
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {value!r}")
    assert offenders == []


def test_every_command_has_help_and_appears_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    for name in subparsers.choices:
        assert helps.get(name), f"`caseclock {name}` has no help text"
        assert f"`{name}`" in readme, f"`caseclock {name}` is not in README.md"


@pytest.mark.slow
def test_the_wheel_ships_the_rule_packs_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("caseclock-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for pack in (ROOT / "rules").glob("*.toml"):
        assert f"rules/{pack.name}" in names
    assert "tracker/store/migrations/versions/0001_initial.py" in names
    assert "tracker/store/migrations/script.py.mako" in names
