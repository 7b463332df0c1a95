"""The chain hash of an event: the same bytes from the same stored row, different from any other."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tracker.domain.chain import GENESIS, event_hash

RECORDED = dt.datetime(2026, 3, 10, 9, 30, 0, 123456, tzinfo=dt.UTC)
ROW = {
    "previous": None,
    "ref": "M-1",
    "seq": 1,
    "event_type": "opened",
    "occurred_on": dt.date(2026, 3, 2),
    "data": {"caseworker": "Jo Smith", "role": "parent_carer", "health_involved": False},
    "actor": "tester",
    "recorded_at": RECORDED,
    "schema_version": 1,
}


def test_the_first_event_chains_to_the_genesis_value() -> None:
    assert event_hash(**ROW) == event_hash(**{**ROW, "previous": GENESIS})
    assert len(event_hash(**ROW)) == 64


def test_key_order_and_time_zone_do_not_change_the_hash() -> None:
    reordered = dict(reversed(list(ROW["data"].items())))  # type: ignore[attr-defined]
    london = RECORDED.astimezone(ZoneInfo("Europe/London"))
    assert event_hash(**{**ROW, "data": reordered, "recorded_at": london}) == event_hash(**ROW)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("previous", "1" * 64),
        ("ref", "M-2"),
        ("seq", 2),
        ("event_type", "note"),
        ("occurred_on", dt.date(2026, 3, 3)),
        ("data", {"caseworker": "Jo Smith", "role": "parent_carer", "health_involved": True}),
        ("data", {"caseworker": "Jo Smith", "role": "parent_carer"}),
        ("actor", "someone else"),
        ("recorded_at", RECORDED + dt.timedelta(microseconds=1)),
        ("schema_version", 2),
    ],
)
def test_every_part_of_the_row_is_covered(name: str, value: object) -> None:
    assert event_hash(**{**ROW, name: value}) != event_hash(**ROW)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        event_hash(**{**ROW, "recorded_at": RECORDED.replace(tzinfo=None)})
