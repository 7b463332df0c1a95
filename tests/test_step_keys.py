"""Each step's key: the pack's own (`key`), else derived from the event's name; unique, checked on load."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tracker.domain.errors import PackError
from tracker.domain.rules import SCREEN_KEYS, STEP_KEYS
from tracker.domain.rules.loading import parse_pack, shipped_pack_dir


def raw_pack(name: str = "send-mediation") -> dict[str, Any]:
    return tomllib.loads((shipped_pack_dir() / f"{name}.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["send-mediation", "adoption-support"])
def test_every_step_of_a_shipped_pack_has_its_own_key(name: str) -> None:
    pack = parse_pack(raw_pack(name), name)
    steps = [e for e, spec in pack.events.items() if spec.role not in ("open", "void", "erase")]
    assert sorted(pack.step_keys) == sorted(steps)
    assert len(set(pack.step_keys.values())) == len(steps)
    assert not set(pack.step_keys.values()) & set(SCREEN_KEYS)


def test_the_mediation_path_keys() -> None:
    keys = parse_pack(raw_pack(), "send").step_keys
    assert [keys[e] for e in ("la_notified", "meeting_scheduled", "meeting_held", "certificate_issued")] == [
        "l",
        "b",
        "h",
        "i",
    ]
    assert keys["exception"] == "x"


def test_a_pack_without_keys_gets_them_from_the_event_names() -> None:
    raw = raw_pack()
    for spec in raw["events"].values():
        spec.pop("key", None)
    keys = parse_pack(raw, "mine").step_keys
    assert keys["mediation_requested"] == "m"  # the first letter of its first word
    assert keys["la_notified"] == "l"
    assert keys["mediation_declined"] == "e"  # m and d taken: the next free letter of its name
    assert len(set(keys.values())) == len(keys)
    assert all(key in STEP_KEYS for key in keys.values())


@pytest.mark.parametrize(
    ("event", "key", "words"),
    [
        (
            "note",
            "t",
            "'t' is not a step key; use one lower-case letter or digit other than p, r, s, t, v, z",
        ),
        ("note", "nn", "'nn' is not a step key"),
        ("note", "z", "'z' is not a step key"),  # the case screen's letters
        ("note", "m", "'m' is already the key of mediation_requested"),
        ("opened", "o", "the open event is not offered as a step, so it takes no key"),
    ],
)
def test_a_bad_key_is_refused_when_the_pack_loads(event: str, key: str, words: str) -> None:
    raw = raw_pack()
    raw["events"][event]["key"] = key
    with pytest.raises(PackError) as refused:
        parse_pack(raw, "mine.toml")
    assert f"events.{event}.key: {words}" in str(refused.value)


def test_a_deployments_pack_file_with_a_duplicate_key_names_the_file(tmp_path: Path) -> None:
    from tracker.domain.rules import load_pack

    text = (shipped_pack_dir() / "send-mediation.toml").read_text(encoding="utf-8")
    path = tmp_path / "mine.toml"
    path.write_text(text.replace('key = "c"', 'key = "l"'), encoding="utf-8")
    with pytest.raises(PackError) as refused:
        load_pack(path)
    assert str(path) in str(refused.value)
    assert "events.confirmation_sent.key: 'l' is already the key of la_notified" in str(refused.value)
