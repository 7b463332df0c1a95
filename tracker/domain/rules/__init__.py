"""Rule packs: the data that defines a service's events, fields, state machine, clocks and KPI targets.

A rule pack is a TOML file in `rules/` (shipped) or in a deployment's own pack directory. Nothing in the
engine names an event, state, field or clock of a particular service: they all come from here. This package
only *describes and validates* packs (`model`), finds and loads them (`loading`) and looks them up by id,
case type and date (`registry`); `tracker.domain.workflow` decides whether an event fits, and
`tracker.domain.clocks` evaluates the clocks.

Versioning: several files may carry the same pack `id` with different `effective_from` dates. The version in
force on a clock's start date governs that clock; the version in force on the day a case was opened governs
its events and fields. Dates before a pack's first version use the first version.
"""

from tracker.domain.rules.keys import SCREEN_KEYS, STEP_KEYS
from tracker.domain.rules.loading import (
    apply_overrides,
    discover_packs,
    load_pack,
    parse_pack,
    shipped_pack_dir,
)
from tracker.domain.rules.model import (
    ActivitySpec,
    CaseTypeSpec,
    ClockSpec,
    DateBound,
    DueRule,
    DueWarning,
    EventSpec,
    FieldSpec,
    FieldType,
    Guard,
    MonthsFrom,
    ReportingSpec,
    Role,
    RulePack,
    SatisfactionSpec,
    WindowDue,
    WindowSpec,
)
from tracker.domain.rules.registry import PackRegistry
from tracker.domain.toml_errors import did_you_mean

__all__ = [
    "SCREEN_KEYS",
    "STEP_KEYS",
    "ActivitySpec",
    "CaseTypeSpec",
    "ClockSpec",
    "DateBound",
    "DueRule",
    "DueWarning",
    "EventSpec",
    "FieldSpec",
    "FieldType",
    "Guard",
    "MonthsFrom",
    "PackRegistry",
    "ReportingSpec",
    "Role",
    "RulePack",
    "SatisfactionSpec",
    "WindowDue",
    "WindowSpec",
    "apply_overrides",
    "did_you_mean",
    "discover_packs",
    "load_pack",
    "parse_pack",
    "shipped_pack_dir",
]
