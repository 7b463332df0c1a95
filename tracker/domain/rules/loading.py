"""Loading packs: reading and validating pack files, and finding the enabled ones.

`discover_packs` reads the shipped and the deployment's packs and applies the configuration's overrides.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tracker.domain.errors import ConfigError, PackError
from tracker.domain.rules.model import PATTERN_HINTS, RulePack
from tracker.domain.rules.registry import PackRegistry
from tracker.domain.toml_errors import did_you_mean, validation_message


def load_pack(path: Path) -> RulePack:
    """Read and validate one pack file; raises PackError naming the file, the key (and line) and the fault."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except OSError as error:
        raise PackError(f"{path}: cannot read the rule pack ({error.strerror})") from error
    except tomllib.TOMLDecodeError as error:
        raise PackError(f"{path}: not valid TOML: {error}") from error
    return parse_pack(raw, str(path), text)


def parse_pack(raw: dict[str, Any], source: str, text: str = "") -> RulePack:
    """Validate an already-parsed pack; `source` names it in error messages."""
    try:
        return RulePack.model_validate(raw)
    except ValidationError as error:
        raise PackError(validation_message(error, RulePack, source, text, PATTERN_HINTS)) from error


def shipped_pack_dir() -> Path:
    """The `rules/` directory shipped with caseclock (a checkout or an installed wheel)."""
    return Path(str(resources.files("rules")))


def apply_overrides(pack: RulePack, override: Mapping[str, Any], where: str) -> RulePack:
    """The pack with a deployment's own clock numbers and targets (`[packs.overrides.<id>]` in config).

    `override` is `{"clocks": {clock: {"working_days_after": 15, "target": 90.0, ...}},
    "satisfaction_target": 75.0, "choices": {"district": [...]}}`; unset values keep the pack's own.
    Raises ConfigError naming the key.
    """
    raw = pack.model_dump(mode="python")
    for clock_id, numbers in (override.get("clocks") or {}).items():
        key = f"{where}.clocks.{clock_id}"
        if clock_id not in raw["clocks"]:
            raise ConfigError(
                f"{key}: pack {pack.id} has no clock {clock_id!r}{did_you_mean(clock_id, raw['clocks'])}"
            )
        clock = raw["clocks"][clock_id]
        for name, value in numbers.items():
            if value is None:
                continue
            if name == "target":
                clock["target"] = value
            elif clock["due"].get(name) is None:
                counted = next(k for k, v in clock["due"].items() if v is not None and k != "field")
                raise ConfigError(f"{key}.{name}: {clock_id} is counted in {counted}; override that instead")
            else:
                clock["due"][name] = value
    for name, values in (override.get("choices") or {}).items():
        if name not in raw["choices"]:
            hint = did_you_mean(name, raw["choices"])
            raise ConfigError(f"{where}.choices.{name}: pack {pack.id} has no choice list {name!r}{hint}")
        raw["choices"][name] = list(values)
    target = override.get("satisfaction_target")
    if target is not None:
        if raw["satisfaction"] is None:
            raise ConfigError(f"{where}.satisfaction_target: pack {pack.id} has no satisfaction KPI")
        raw["satisfaction"]["target"] = target
    return RulePack.model_validate(raw)


def discover_packs(
    extra_dirs: Iterable[Path] = (),
    enabled: Iterable[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> PackRegistry:
    """Load the shipped packs and those in `extra_dirs`, keeping the `enabled` ids.

    Without `enabled`, the packs marked `enabled_by_default` (the SEND mediation pack) are enabled.

    Two files with the same id and version are refused, naming both: a copy of a shipped pack that kept its
    version would otherwise replace it without a word, and the cases counted under that version change.
    """
    found: dict[tuple[str, str], RulePack] = {}
    files: dict[tuple[str, str], Path] = {}
    for directory in [shipped_pack_dir(), *extra_dirs]:
        if not directory.is_dir():
            raise PackError(f"{directory}: the rule pack directory does not exist")
        for path in sorted(directory.glob("*.toml")):
            pack = load_pack(path)
            key = (pack.id, pack.version)
            if key in files:
                raise PackError(
                    f"{path}: pack {pack.id} version {pack.version} is also in {files[key]}; give this copy "
                    "a new version and effective_from (a new contract year), or a new id (another service)"
                )
            files[key] = path
            found[key] = pack
    ids = {pack_id for pack_id, _ in found}
    wanted = list(enabled) if enabled is not None else None
    if wanted is not None:
        for pack_id in wanted:
            if pack_id not in ids:
                raise PackError(
                    f"packs.enabled: no rule pack has id {pack_id!r}{did_you_mean(pack_id, ids)}; "
                    f"found: {', '.join(sorted(ids))}"
                )
    if wanted is None:
        wanted = sorted({p.id for p in found.values() if p.enabled_by_default})
    # Only the enabled packs are ordered (by their place in `packs.enabled`): a shipped pack that is not
    # enabled is never looked up in that list.
    ordered = sorted(
        (p for p in found.values() if p.id in wanted),
        key=lambda p: (wanted.index(p.id), p.id, p.effective_from),
    )
    for pack_id in overrides or {}:
        if pack_id not in ids:
            hint = did_you_mean(pack_id, ids)
            raise ConfigError(f"packs.overrides.{pack_id}: no rule pack has this id{hint}")
    ordered = [
        apply_overrides(p, overrides[p.id], f"packs.overrides.{p.id}")
        if overrides and p.id in overrides
        else p
        for p in ordered
    ]
    return PackRegistry(ordered)
