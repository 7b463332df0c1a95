"""Rule packs: the shipped packs validate, broken packs are refused clearly, versions are chosen by date."""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracker.domain.errors import PackError
from tracker.domain.rules import (
    PackRegistry,
    RulePack,
    discover_packs,
    load_pack,
    parse_pack,
    shipped_pack_dir,
)

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
PACK_FILE = RULES_DIR / "send-mediation.toml"
PACK_TEXT = PACK_FILE.read_text(encoding="utf-8")
RAW: dict[str, Any] = tomllib.loads(PACK_TEXT)
SOURCE = "packs/broken.toml"


def raw_copy() -> dict[str, Any]:
    return copy.deepcopy(RAW)


def refused(raw: dict[str, Any], source: str = SOURCE, text: str = "") -> str:
    with pytest.raises(PackError) as info:
        parse_pack(raw, source, text)
    message = str(info.value)
    assert message.startswith(f"{source}: "), message
    assert "\n" not in message
    return message


def version(number: str, effective_from: str, **changes: Any) -> RulePack:
    raw = raw_copy()
    raw["version"] = number
    raw["effective_from"] = dt.date.fromisoformat(effective_from)
    raw.update(changes)
    return parse_pack(raw, f"test:{number}")


# ------------------------------------------------------------------------------------ shipped packs


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_pack_validates(path: Path) -> None:
    pack = load_pack(path)
    assert pack.id
    assert pack.open_event in pack.events
    assert set(pack.terminal_states) <= set(pack.states)


def test_there_is_at_least_one_shipped_pack() -> None:
    assert sorted(p.name for p in RULES_DIR.glob("*.toml"))
    assert shipped_pack_dir().resolve() == RULES_DIR


def test_discover_packs_loads_the_shipped_packs() -> None:
    registry = discover_packs()
    assert "send-mediation" in list(registry)
    assert registry.pack_for_case_type("mediation") == "send-mediation"
    assert registry.pack_for_case_type("disagreement_resolution") == "send-mediation"
    assert registry.pack_for_case_type("adoption") is None
    assert registry.default_case_type == "mediation"


def test_send_mediation_matches_domain() -> None:
    pack = load_pack(PACK_FILE)
    assert pack.open_event == "opened"
    assert pack.states == [
        "opened",
        "mediation_requested",
        "mediation_declined",
        "la_notified",
        "meeting_scheduled",
        "meeting_held",
        "mediation_not_arranged",
        "certificate_issued",
        "closed",
        "withdrawn",
    ]
    assert pack.terminal_states == ["closed", "withdrawn"]
    assert set(pack.case_types) == {"mediation", "disagreement_resolution"}
    assert pack.choices_of(pack.events["meeting_held"].fields["outcome"]) == [
        "agreed",
        "partly_agreed",
        "not_agreed",
    ]
    assert pack.choices_of(pack.events["certificate_issued"].fields["kind"]) == [
        "advice_only",
        "after_mediation",
        "deemed",
    ]
    assert {n for n, f in pack.case_fields.items() if f.personal} == {"name", "contact", "email"}
    assert {n for n, f in pack.case_fields.items() if f.contact} == {"email"}
    assert not pack.case_fields["name"].exportable
    assert pack.case_fields["district"].exportable
    assert pack.satisfaction is not None
    assert pack.satisfaction.agree == ["strongly_agree", "agree"]
    assert pack.satisfaction.target == 90.0


def test_send_mediation_clocks_match_domain() -> None:
    clocks = load_pack(PACK_FILE).clocks
    assert list(clocks) == ["kpi2", "kpi3", "kpi4", "kpi5"]
    assert (clocks["kpi2"].start, clocks["kpi2"].stop) == (["mediation_requested"], ["la_notified"])
    assert clocks["kpi2"].due.working_days_after == 3
    assert (clocks["kpi3"].start, clocks["kpi3"].stop) == (["meeting_scheduled"], ["confirmation_sent"])
    assert (clocks["kpi3"].due.working_days_before, clocks["kpi3"].due.field) == (5, "meeting_date")
    assert clocks["kpi3"].restart == "supersede"
    assert clocks["kpi4"].start == ["mediation_declined", "meeting_held", "mediation_not_arranged"]
    assert clocks["kpi4"].stop == ["certificate_issued"]
    assert clocks["kpi4"].due.working_days_after == 3
    assert (clocks["kpi5"].start, clocks["kpi5"].stop) == (["mediation_requested"], ["meeting_held"])
    assert clocks["kpi5"].due.calendar_days_after == 30
    # DOMAIN.md's cancelling events, plus the steps after which the clock can no longer be stopped (a closed
    # case, a meeting held without confirmation): those make the clock final instead of open forever.
    assert set(clocks["kpi2"].cancel) == {"mediation_declined", "withdrawn", "closed"}
    assert set(clocks["kpi3"].cancel) == {
        "mediation_declined",
        "mediation_not_arranged",
        "withdrawn",
        "meeting_held",
        "closed",
    }
    assert set(clocks["kpi4"].cancel) == {"withdrawn"}
    assert set(clocks["kpi5"].cancel) == {"mediation_declined", "mediation_not_arranged", "withdrawn"}
    assert clocks["kpi5"].exception_reasons == [
        "school_holiday",
        "parent_unavailable",
        "young_person_unavailable",
        "other_agreed",
    ]
    assert [c for c, spec in clocks.items() if spec.exception_reasons] == ["kpi5"]
    assert {spec.target for spec in clocks.values()} == {100.0}
    assert clocks["kpi3"].due.describe() == "5 working days before meeting date"


# ------------------------------------------------------------------------------------ broken packs


def test_unknown_event_in_a_guard_with_did_you_mean() -> None:
    raw = raw_copy()
    raw["events"]["la_notified"]["when"][0]["after_any"] = ["mediation_requsted"]
    message = refused(raw)
    assert "events.la_notified.when[0].after_any" in message
    assert "unknown event 'mediation_requsted'" in message
    assert "(did you mean 'mediation_requested'?)" in message


def test_unknown_event_in_none_of_without_a_close_match() -> None:
    raw = raw_copy()
    raw["events"]["mediation_requested"]["when"][0]["none_of"] = ["xyzzy"]
    message = refused(raw)
    assert "events.mediation_requested.when[0].none_of: unknown event 'xyzzy'" in message
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("termnal_states", "terminal_states"), ("refrence_prefix", "reference_prefix"), ("colour", None)],
)
def test_unknown_top_level_key(key: str, suggestion: str | None) -> None:
    raw = raw_copy()
    raw[key] = "x"
    message = refused(raw)
    assert f"{key}: unknown key" in message
    if suggestion:
        assert f"(did you mean '{suggestion}'?)" in message
    else:
        assert "did you mean" not in message
        assert f"{key}: unknown key (valid keys here: id, version, effective_from, " in message


def test_unknown_nested_key_suggests_the_field() -> None:
    raw = raw_copy()
    raw["events"]["opened"]["rol"] = raw["events"]["opened"].pop("role")
    message = refused(raw)
    assert "events.opened.rol: unknown key (did you mean 'role'?)" in message


@pytest.mark.parametrize(
    "due",
    [
        {"working_days_after": 3, "calendar_days_after": 30},
        {"working_days_after": 3, "working_days_before": 5, "field": "meeting_date"},
        {},
    ],
)
def test_clock_due_rule_needs_exactly_one_rule(due: dict[str, Any]) -> None:
    raw = raw_copy()
    raw["clocks"]["kpi2"]["due"] = due
    message = refused(raw)
    assert "clocks.kpi2.due" in message
    assert "give exactly one of working_days_after, working_days_before, calendar_days_after" in message


def test_working_days_before_needs_a_field() -> None:
    raw = raw_copy()
    raw["clocks"]["kpi3"]["due"] = {"working_days_before": 5}
    message = refused(raw)
    assert "clocks.kpi3.due" in message
    assert "name it with `field`" in message


def test_due_field_must_be_a_required_date_of_every_start_event() -> None:
    raw = raw_copy()
    raw["clocks"]["kpi2"]["due"] = {"working_days_before": 5, "field": "meeting_date"}
    message = refused(raw)
    assert "clocks.kpi2.due.field" in message
    assert "'mediation_requested' has none" in message


def test_due_offset_is_bounded() -> None:
    raw = raw_copy()
    raw["clocks"]["kpi2"]["due"] = {"working_days_after": 401}
    assert "clocks.kpi2.due.working_days_after: 401 is too large; use at most 400" in refused(raw)
    raw["clocks"]["kpi2"]["due"] = {"working_days_after": -1}
    assert "clocks.kpi2.due.working_days_after: -1 is too small; use at least 0" in refused(raw)


def test_choice_field_without_choices() -> None:
    raw = raw_copy()
    del raw["case_fields"]["gender"]["choices"]
    message = refused(raw)
    assert "case_fields.gender" in message
    assert "a choice field needs `choices`" in message


def test_choices_on_a_field_that_is_not_a_choice() -> None:
    raw = raw_copy()
    raw["case_fields"]["caseworker"]["choices"] = ["a", "b"]
    message = refused(raw)
    assert "case_fields.caseworker" in message
    assert "`choices` only applies to choice fields, not string" in message


def test_choice_field_naming_an_unknown_list() -> None:
    raw = raw_copy()
    raw["case_fields"]["gender"]["choices"] = "gendr"
    message = refused(raw)
    assert "case_fields.gender.choices: unknown choice list 'gendr' (did you mean 'gender'?)" in message


def test_missing_open_role() -> None:
    raw = raw_copy()
    del raw["events"]["opened"]["role"]
    message = refused(raw)
    assert "events" in message
    assert "one event must have role = 'open'" in message


def test_two_events_with_the_open_role() -> None:
    raw = raw_copy()
    raw["events"]["withdrawn"]["role"] = "open"
    assert "more than one event has role 'open'" in refused(raw)


def test_unknown_role() -> None:
    raw = raw_copy()
    raw["events"]["withdrawn"]["role"] = "close"
    assert "events.withdrawn.role: 'close' is not allowed; use 'open', 'edit'," in refused(raw)


def test_terminal_state_must_be_a_milestone() -> None:
    raw = raw_copy()
    raw["terminal_states"] = ["closed", "note"]
    assert "terminal_states: unknown milestone event 'note'" in refused(raw)


def test_clock_stop_event_unknown() -> None:
    raw = raw_copy()
    raw["clocks"]["kpi2"]["stop"] = ["la_notifed"]
    message = refused(raw)
    assert "clocks.kpi2.stop: unknown event 'la_notifed' (did you mean 'la_notified'?)" in message


def test_clock_case_type_unknown() -> None:
    raw = raw_copy()
    raw["clocks"]["kpi5"]["case_types"] = ["mediaton"]
    assert "clocks.kpi5.case_types: unknown case type 'mediaton' (did you mean 'mediation'?)" in refused(raw)


def test_exception_reasons_need_an_exception_event() -> None:
    raw = raw_copy()
    del raw["events"]["exception"]["role"]
    assert "clocks.kpi5.exception_reasons" in refused(raw)


def test_missing_required_key() -> None:
    raw = raw_copy()
    del raw["terminal_states"]
    message = refused(raw)
    assert "terminal_states" in message
    assert "required" in message.lower()


def test_bad_pack_id() -> None:
    raw = raw_copy()
    raw["id"] = "SEND Mediation"
    assert refused(raw).endswith(
        ": id: 'SEND Mediation' is not allowed; use lower-case letters, digits and -, starting with a letter "
        "(such as send-mediation)"
    )


def test_unknown_key_in_a_list_of_tables_is_named_by_its_index() -> None:
    raw = raw_copy()
    raw["events"]["la_notified"]["when"][0]["afterany"] = raw["events"]["la_notified"]["when"][0]["after_any"]
    message = refused(raw)
    assert "events.la_notified.when[0].afterany: unknown key (did you mean 'after_any'?)" in message


def test_load_pack_names_the_file_and_the_line(tmp_path: Path) -> None:
    text = PACK_TEXT.replace(
        '[case_fields.gender]\ntype = "choice"\nchoices = "gender"\n',
        '[case_fields.gender]\ntype = "choice"\n',
    )
    assert text != PACK_TEXT
    path = tmp_path / "send-mediation.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_pack(path)
    message = str(info.value)
    assert message.startswith(f"{path}: case_fields.gender")
    line = text.splitlines().index("[case_fields.gender]") + 1
    assert f"(line {line})" in message


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(PACK_TEXT.replace('version = "2025.1"', "version = 2025.1.1"), encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_pack(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid TOML")
    assert re.search(r"line \d+", message)


def test_unreadable_pack_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(PackError, match="cannot read the rule pack"):
        load_pack(path)


def test_a_broken_pack_in_a_pack_directory_stops_discovery(tmp_path: Path) -> None:
    (tmp_path / "local.toml").write_text("id = \n", encoding="utf-8")
    with pytest.raises(PackError, match=r"local\.toml: not valid TOML"):
        discover_packs([tmp_path])


def test_missing_pack_directory(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="does not exist"):
        discover_packs([tmp_path / "nowhere"])


def test_enabled_names_an_unknown_pack() -> None:
    with pytest.raises(PackError) as info:
        discover_packs(enabled=["send-mediaton"])
    message = str(info.value)
    assert message.startswith("packs.enabled: no rule pack has id 'send-mediaton'")
    assert "(did you mean 'send-mediation'?)" in message


# ------------------------------------------------------------------------------------ versions


V1 = version("2025.1", "2025-09-01")
V2 = version("2026.1", "2026-03-01")
V3 = version("2027.1", "2027-01-01")


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("2020-01-01", "2025.1"),  # before the first version took effect: the first version
        ("2025-08-31", "2025.1"),
        ("2025-09-01", "2025.1"),
        ("2026-02-28", "2025.1"),
        ("2026-03-01", "2026.1"),  # the day it takes effect
        ("2026-12-31", "2026.1"),
        ("2027-01-01", "2027.1"),
        ("2100-12-31", "2027.1"),
    ],
)
def test_in_force_picks_the_version_by_date(on: str, expected: str) -> None:
    registry = PackRegistry([V3, V1, V2])  # any order
    assert registry.in_force("send-mediation", dt.date.fromisoformat(on)).version == expected


def test_versions_are_sorted_and_latest_is_the_newest() -> None:
    registry = PackRegistry([V2, V3, V1])
    assert [p.version for p in registry.versions("send-mediation")] == ["2025.1", "2026.1", "2027.1"]
    assert registry.latest("send-mediation").version == "2027.1"
    assert list(registry) == ["send-mediation"]


def test_single_version_is_in_force_on_every_date() -> None:
    registry = PackRegistry([V2])
    assert registry.in_force("send-mediation", dt.date(2000, 1, 1)) is V2
    assert registry.in_force("send-mediation", dt.date(2100, 1, 1)) is V2


def test_two_versions_on_the_same_date_are_refused() -> None:
    with pytest.raises(PackError, match="two versions take effect on the same date"):
        PackRegistry([V1, version("2025.2", "2025-09-01")])


def test_a_case_type_in_two_packs_is_refused() -> None:
    other = raw_copy()
    other["id"] = "other-mediation"
    with pytest.raises(PackError, match="declared by both"):
        PackRegistry([V1, parse_pack(other, "test:other")])


def _write_version(
    directory: Path, number: str, effective_from: str, edit: Callable[[str], str] = str
) -> Path:
    text = PACK_TEXT.replace('version = "2025.1"', f'version = "{number}"')
    text = text.replace("effective_from = 2025-09-01", f"effective_from = {effective_from}")
    path = directory / f"send-mediation-{number}.toml"
    path.write_text(edit(text), encoding="utf-8")
    return path


def test_discover_packs_adds_a_deployment_version(tmp_path: Path) -> None:
    _write_version(tmp_path, "2026.1", "2026-03-01")
    registry = discover_packs([tmp_path])
    assert [p.version for p in registry.versions("send-mediation")] == ["2025.1", "2026.1"]
    assert registry.in_force("send-mediation", dt.date(2026, 2, 28)).version == "2025.1"
    assert registry.in_force("send-mediation", dt.date(2026, 3, 1)).version == "2026.1"


def test_a_deployment_pack_with_the_same_version_as_the_shipped_one_is_refused(tmp_path: Path) -> None:
    def retitle(text: str) -> str:
        return text.replace('title = "SEND mediation and', 'title = "Local')

    _write_version(tmp_path, "2025.1", "2025-09-01", retitle)
    with pytest.raises(PackError, match=r"pack send-mediation version 2025\.1 is also in"):
        discover_packs([tmp_path])
