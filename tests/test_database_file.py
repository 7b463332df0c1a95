"""The SQLite file at `--db`: created owner-only whatever the umask, and never through a dangling link.

A symbolic link at `--db` that names no existing file would be followed by SQLite, which would create the
file it names, with the umask's mode: it is refused instead, by every command, and nothing is created. A link
to an existing database is followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.cli import main


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: the modes caseclock sets cannot come from it."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.usefixtures("open_umask")
def test_a_dangling_link_at_db_is_refused_and_nothing_is_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, backup = tmp_path / "source.db", tmp_path / "backup.db"
    assert run(capsys, "--db", f"sqlite:///{source}", "init")[0] == 0
    assert run(capsys, "--db", f"sqlite:///{source}", "backup", str(backup))[0] == 0
    target = tmp_path / "elsewhere" / "cases.db"
    target.parent.mkdir()
    link = tmp_path / "cases.db"
    link.symlink_to(target)
    url = f"sqlite:///{link}"
    expected = (
        f"caseclock: --db={link}: is a symbolic link to {target}, which does not exist: point --db at the "
        "database file itself (caseclock init creates it there)\n"
    )
    for args in (("init",), ("demo", "--cases", "1"), ("cases",), ("restore", str(backup))):
        code, out, err = run(capsys, "--db", url, *args)
        assert (code, out, err) == (2, "", expected), args
    assert list(target.parent.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.db", "cases.db", "elsewhere", "source.db"]


@pytest.mark.usefixtures("open_umask")
def test_a_link_to_an_existing_database_is_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "volume" / "cases.db"
    code, _, err = run(capsys, "--db", f"sqlite:///{target}", "init")
    assert code == 0, err
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    link = tmp_path / "cases.db"
    link.symlink_to(target)
    url = f"sqlite:///{link}"
    assert run(capsys, "--db", url, "open", "M-1", "--type", "mediation", "--on", "2026-03-02")[0] == 0
    assert run(capsys, "--db", f"sqlite:///{target}", "show", "M-1")[0] == 0
    assert mode(target) == 0o600
    assert link.is_symlink()


def test_a_link_to_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "cases.db"
    link.symlink_to(tmp_path)
    code, out, err = run(capsys, "--db", f"sqlite:///{link}", "init")
    assert (code, out) == (2, "")
    assert err == f"caseclock: --db={link}: is a symbolic link to {tmp_path}, which is not a file\n"
