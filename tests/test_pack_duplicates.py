"""A pack file with the same id and version as another is refused, naming both files and the fix.

A deployment's copy of a shipped pack that kept its version used to replace the shipped one without a word,
and every clock counted under that version changed with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.cli import main
from tracker.domain.errors import PackError
from tracker.domain.rules import discover_packs, shipped_pack_dir

SHIPPED = shipped_pack_dir() / "send-mediation.toml"


def copy_of_shipped(folder: Path, name: str = "mine.toml", target: str = "", changed: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    text = SHIPPED.read_text(encoding="utf-8")
    if target:
        assert text.count(target) == 1
        text = text.replace(target, changed)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_copy_with_the_shipped_id_and_version_is_refused_naming_both_files(tmp_path: Path) -> None:
    copy = copy_of_shipped(tmp_path / "packs")
    with pytest.raises(PackError) as caught:
        discover_packs([copy.parent])
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith(f"{copy}: pack send-mediation version ")
    assert f"is also in {SHIPPED}" in message
    assert "give this copy a new version and effective_from" in message


def test_two_deployment_files_with_one_id_and_version_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    first = copy_of_shipped(folder, "a.toml", 'id = "send-mediation"', 'id = "local-mediation"')
    (folder / "b.toml").write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(PackError) as caught:
        discover_packs([folder], enabled=["local-mediation"])
    assert caught.value.message.startswith(f"{folder / 'b.toml'}: pack local-mediation version ")
    assert f"is also in {first}" in caught.value.message


def test_a_copy_with_a_new_version_is_loaded_beside_the_shipped_one(tmp_path: Path) -> None:
    shipped = discover_packs().latest("send-mediation")
    text = SHIPPED.read_text(encoding="utf-8")
    folder = tmp_path / "packs"
    folder.mkdir()
    newer = text.replace(f'version = "{shipped.version}"', 'version = "9.0"', 1).replace(
        f"effective_from = {shipped.effective_from.isoformat()}", "effective_from = 2030-09-01", 1
    )
    assert newer != text
    (folder / "mine.toml").write_text(newer, encoding="utf-8")
    versions = [p.version for p in discover_packs([folder]).versions("send-mediation")]
    assert versions[-1] == "9.0"
    assert shipped.version in versions


def test_the_command_line_refuses_it_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = copy_of_shipped(tmp_path / "packs")
    config = tmp_path / "config.toml"
    config.write_text(f'[packs]\ndirs = ["{copy.parent.as_posix()}"]\n', encoding="utf-8")
    code = main(["--config", str(config), "--db", f"sqlite:///{tmp_path / 'c.db'}", "packs"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert str(copy) in err
    assert str(SHIPPED) in err
