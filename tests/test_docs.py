"""The README's examples work: its `sh` blocks run in order, and its commands table parses.

The rules, kept small so that a README writer can predict them:

- A ```sh block that has no line starting with `caseclock ` or `export CASECLOCK_` is set-up (make, sudo,
  systemctl, journalctl ...) and is skipped. Any other block runs, and then every line in it must be one of
  those two kinds (a line ending in a backslash is continued on the next; blank lines are skipped).
- The blocks run in README order, in one fresh directory, on one fresh SQLite file made by the test:
  `export CASECLOCK_DB=...` is rewritten to that file, any other `export CASECLOCK_NAME=VALUE` is set.
- `caseclock ARGS` runs `tracker.cli.main(ARGS)` and must exit 0, or N when the line ends with the comment
  `# refused: exits N`. A trailing `> FILE` writes the command's output to FILE.
- Every example in the Commands table names its command, and its options parse.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from pathlib import Path

import pytest

from tracker.cli import build_parser, main
from tracker.cli.commands.cases import collect_fields

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
REFUSED = re.compile(r"#\s*refused: exits (\d+)\s*$")
TABLE_ROW = re.compile(r"^\| `(\w+)` \| .* \| `(caseclock [^`]*)` \|$", re.MULTILINE)


def readme_lines() -> list[tuple[int, str]]:
    """(README line number, command) for every line of the runnable blocks, continuations joined."""
    text = README.read_text(encoding="utf-8")
    lines: list[tuple[int, str]] = []
    for block in BLOCK.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        commands: list[tuple[int, str]] = []
        pending: str | None = None
        for offset, raw in enumerate(block.group(1).splitlines()):
            if pending is None:
                start, pending = first + offset, ""
            if raw.endswith("\\"):
                pending += raw[:-1]
                continue
            if line := (pending + raw).strip():
                commands.append((start, line))
            pending = None
        if any(line.startswith(("caseclock ", "export CASECLOCK_")) for _, line in commands):
            lines.extend(commands)
    return lines


def test_readme_blocks_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    database = f"sqlite:///{tmp_path / 'cases.db'}"
    lines = readme_lines()
    assert any(line.startswith("caseclock init") for _, line in lines)
    for number, line in lines:
        where = f"README.md line {number}: {line}"
        words = shlex.split(line, comments=True)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            assert name.startswith("CASECLOCK_"), where
            monkeypatch.setenv(name, database if name == "CASECLOCK_DB" else value)
            continue
        assert words[0] == "caseclock", f"{where}: not a caseclock command or an export"
        expected = int(refused.group(1)) if (refused := REFUSED.search(line)) else 0
        out_file = None
        if len(words) > 2 and words[-2] == ">":
            out_file, words = words[-1], words[:-2]
        if out_file:
            with Path(out_file).open("w", encoding="utf-8") as out, contextlib.redirect_stdout(out):
                code = main(words[1:])
        else:
            code = main(words[1:])
        error = capsys.readouterr().err
        assert code == expected, f"{where}\nexit {code}, expected {expected}: {error}"


def test_commands_table_examples_parse() -> None:
    table = TABLE_ROW.findall(README.read_text(encoding="utf-8"))
    assert len(table) >= 10, "the Commands table was not found"
    for command, example in table:
        args, extra = build_parser().parse_known_args(shlex.split(example)[1:])
        assert args.command == command, example
        assert not extra or getattr(args, "accepts_extra", False), f"{example}: unknown options {extra}"
        collect_fields(getattr(args, "field", []), extra)
