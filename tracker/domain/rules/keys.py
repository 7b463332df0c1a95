"""The key of each step a caseworker records: the pack's own (`key`), else derived once from the event's name.

`RulePack.step_keys` holds them; `check_keys` runs when a pack loads (from `_check_pack`), so a clash is
refused with the file and both events named rather than found on a screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.domain.rules.model import RulePack

SCREEN_KEYS = "prstvz"
"""Keys the case screen keeps for itself (profile, refresh, steps, timeline, void, letters): no step may take
them."""
STEP_KEYS = "".join(c for c in "abcdefghijklmnopqrstuvwxyz0123456789" if c not in SCREEN_KEYS)
"""The keys a step may have: a lower-case letter or a digit, except the screen's own."""


def step_keys(pack: RulePack) -> dict[str, str]:
    """Each recordable event's key: its own, else derived once from its name; ValueError if none is left."""
    steps = [name for name, spec in pack.events.items() if spec.role not in ("open", "void", "erase")]
    keys = {name: key for name in steps if (key := pack.events[name].key)}
    taken = set(keys.values())
    for name in steps:
        if name in keys:
            continue
        words = [word[0] for word in name.split("_") if word]
        key = next(
            (c for c in [*words, *name.replace("_", ""), *STEP_KEYS] if c in STEP_KEYS and c not in taken),
            None,
        )
        if key is None:
            raise ValueError(f"events.{name}.key: every key is taken; give the events fewer or shared keys")
        keys[name] = key
        taken.add(key)
    return keys


def check_keys(pack: RulePack) -> None:
    """The events' `key`s: one character a step may have, on a step, each used once."""
    seen: dict[str, str] = {}
    for name, spec in pack.events.items():
        if spec.key is None:
            continue
        where = f"events.{name}.key"
        if spec.role in ("open", "void", "erase"):
            raise ValueError(f"{where}: the {spec.role} event is not offered as a step, so it takes no key")
        if len(spec.key) != 1 or spec.key not in STEP_KEYS:
            raise ValueError(
                f"{where}: {spec.key!r} is not a step key; use one lower-case letter or digit other than "
                f"{', '.join(SCREEN_KEYS)} (the case screen's own keys)"
            )
        if spec.key in seen:
            raise ValueError(f"{where}: {spec.key!r} is already the key of {seen[spec.key]}")
        seen[spec.key] = name
    step_keys(pack)
