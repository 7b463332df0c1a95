"""Every way of enabling rule packs runs the everyday commands: `packs`, `open`, `cases`, `export`.

Enabling one shipped pack once crashed every command that loads the packs, because the registry looked up
every pack it found (enabled or not) in `packs.enabled`. So each combination runs the commands end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.cli import main
from tracker.domain.rules import shipped_pack_dir

AS_OF = "2026-03-10"
MEDIATION = ("M-1", "--type", "mediation")
ADOPTION = ("A-1", "--type", "adoption_support", "--service-user", "adopter")
LOCAL = "local-support"
"""The id of a deployment's own pack: a copy of the adoption support pack, in a `packs.dirs` folder."""


def local_pack_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    text = (shipped_pack_dir() / "adoption-support.toml").read_text(encoding="utf-8")
    assert 'id = "adoption-support"\n' in text
    (folder / "local.toml").write_text(text.replace('id = "adoption-support"', f'id = "{LOCAL}"'), "utf-8")
    return folder


@pytest.mark.parametrize(
    ("enabled", "with_dir", "pack_ids", "opens"),
    [
        pytest.param(None, False, ["send-mediation"], [MEDIATION], id="default"),
        pytest.param(["send-mediation"], False, ["send-mediation"], [MEDIATION], id="send-mediation"),
        pytest.param(["adoption-support"], False, ["adoption-support"], [ADOPTION], id="adoption-support"),
        pytest.param(
            ["send-mediation", "adoption-support"],
            False,
            ["send-mediation", "adoption-support"],
            [MEDIATION, ADOPTION],
            id="both",
        ),
        pytest.param([LOCAL], True, [LOCAL], [ADOPTION], id="dir-pack"),
        pytest.param(["send-mediation"], True, ["send-mediation"], [MEDIATION], id="dir-pack-not-enabled"),
        pytest.param(
            ["send-mediation", LOCAL],
            True,
            ["send-mediation", LOCAL],
            [MEDIATION, ADOPTION],
            id="shipped-and-dir",
        ),
    ],
)
def test_every_pack_combination_runs_packs_open_cases_and_export(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    enabled: list[str] | None,
    with_dir: bool,
    pack_ids: list[str],
    opens: list[tuple[str, ...]],
) -> None:
    lines = ["[packs]"]
    if enabled is not None:
        lines.append(f"enabled = {json.dumps(enabled)}")
    if with_dir:
        lines.append(f"dirs = [{json.dumps(str(local_pack_dir(tmp_path)))}]")
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'cases.db'}", "--as-of", AS_OF]

    def run(*args: str) -> str:
        capsys.readouterr()
        code = main([*options, *args])
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), f"{args}: exit {code}: {err}"
        return out

    assert run("init")
    assert [p["id"] for p in json.loads(run("packs", "--json"))] == pack_ids
    for open_args in opens:
        run("open", *open_args, "--on", "2026-03-02")
    listed = json.loads(run("cases", "--all", "--json"))
    assert sorted(c["ref"] for c in listed) == sorted(a[0] for a in opens)
    for pack_id in pack_ids:
        report = json.loads(run("export", "--period", "FY2025", "--format", "json", "--pack", pack_id))
        assert report["pack"]["id"] == pack_id
        assert report["referrals"]["received"] == 1
    default_report = json.loads(run("export", "--period", "FY2025", "--format", "json"))
    assert default_report["pack"]["id"] == pack_ids[0]
