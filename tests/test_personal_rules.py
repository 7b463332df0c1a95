"""The domain's side of personal data: which values are held apart, how they come back, the erasure event's
rules in a pack, whole years after a date, and the `[retention]` setting's refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.test_step_keys import raw_pack
from tracker.domain.config import load_config
from tracker.domain.errors import ConfigError, PackError
from tracker.domain.events import REASON
from tracker.domain.personal import (
    ERASED,
    HELD_APART,
    personal_keys,
    rejoin,
    split,
    years_after,
)
from tracker.domain.rules.loading import parse_pack


def test_personal_fields_free_text_and_a_voids_reason_are_held_apart() -> None:
    pack = parse_pack(raw_pack(), "send-mediation.toml")
    assert personal_keys(pack, "opened") >= {"name", "contact", "email", "note"}
    assert "caseworker" not in personal_keys(pack, "opened")  # staff, not the person
    assert personal_keys(pack, "meeting_scheduled") == {"meeting_place", "note"}
    assert personal_keys(pack, "survey") == {"comment", "note"}
    assert REASON in personal_keys(pack, "correction")
    assert "reason" not in personal_keys(pack, "personal_data_erased")  # the accountability stays
    assert personal_keys(pack, "no_such_event") == frozenset()


def test_a_split_keeps_the_fact_and_a_rejoin_puts_the_value_or_erased_back() -> None:
    data = {"satisfied": "agree", "comment": "Kind staff", "note": ""}
    facts, apart = split(data, {"comment", "note"})
    assert facts == {"satisfied": "agree", "comment": HELD_APART, "note": ""}  # empty: nothing given
    assert apart == {"comment": "Kind staff"}
    assert rejoin(facts, apart) == data
    assert rejoin(facts, {}) == {"satisfied": "agree", "comment": ERASED, "note": ""}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"milestone": True}, "must have milestone = false and after_terminal = true"),
        ({"after_terminal": False}, "must have milestone = false and after_terminal = true"),
        ({"fields": {"why": {"type": "text"}}}, "would be erased with the data they record"),
    ],
)
def test_the_erasure_event_is_refused_where_it_could_change_the_case(change: dict, words: str) -> None:
    raw = raw_pack()
    raw["events"]["personal_data_erased"].update(change)
    with pytest.raises(PackError, match=words):
        parse_pack(raw, "mine.toml")


def test_whole_years_after_a_date() -> None:
    assert years_after(dt.date(2020, 4, 30), 6) == dt.date(2026, 4, 30)
    assert years_after(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)


@pytest.mark.parametrize("value", ["0", "101", '"six"'])
def test_a_retention_policy_out_of_range_is_refused_naming_the_key(tmp_path: Path, value: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[retention]\npersonal_data_years_after_end = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(config, environ={})
    assert "retention.personal_data_years_after_end" in str(refused.value)
    assert refused.value.exit_code == 2
