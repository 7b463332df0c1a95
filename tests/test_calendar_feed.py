"""The calendar feed: `caseclock ics` and `watch` writing it, read back with the `icalendar` package.

Cases are recorded through the real store on SQLite and PostgreSQL; "today" is injected (`--as-of`, the
watcher's clock), and the files are parsed back to check their entries, UIDs, dates and sequence numbers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import tomllib
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.conftest import NOW
from tracker import calendar_feed
from tracker.alerts import outbox, scheduler
from tracker.cli.commands.alerts import build_channels
from tracker.domain.config import parse_config
from tracker.domain.errors import ConfigError, InvalidValue
from tracker.domain.feed import check_caseworker, meeting_rules
from tracker.domain.rules import discover_packs
from tracker.store import Store, schema

D = dt.date.fromisoformat
TODAY = D("2026-03-10")
NAME, CONTACT = "Alice Example", "12 Acacia Avenue, Norwich NR1 1AA, born 3 Feb 2014"
NOTE = "Mum prefers calls after 3pm; dad's new address is 4 Elm Road"


def seed(store: Store) -> None:
    """Four cases of two caseworkers; only the first two have something ahead of them.

    M-0001 (Jo): requested 2 Mar (KPI 2 due 5 Mar, KPI 5 due 1 Apr), meeting scheduled for 20 Mar (KPI 3 due
    13 Mar), a note. M-0002 (Sam): requested 3 Mar, LA notified 4 Mar (KPI 2 met; KPI 5 due 2 Apr). M-0003
    (Jo): a meeting scheduled, then mediation declined: no meeting, KPI 4 due. M-0004 (Jo): closed.
    """

    def record(ref: str, event: str, on: str, **fields: object) -> None:
        store.record(ref, event, D(on), fields, "tester", NOW, TODAY)

    personal = {"name": NAME, "contact": CONTACT}
    store.open_case(
        "M-0001", "mediation", D("2026-03-02"), {"caseworker": "Jo Smith", **personal}, "t", NOW, TODAY
    )
    record("M-0001", "mediation_requested", "2026-03-02")
    record("M-0001", "meeting_scheduled", "2026-03-03", meeting_date="2026-03-20")
    record("M-0001", "note", "2026-03-04", note=NOTE)
    store.open_case("M-0002", "mediation", D("2026-03-02"), {"caseworker": "Sam Patel"}, "t", NOW, TODAY)
    record("M-0002", "mediation_requested", "2026-03-03")
    record("M-0002", "la_notified", "2026-03-04")
    store.open_case("M-0003", "mediation", D("2026-03-02"), {"caseworker": "Jo Smith"}, "t", NOW, TODAY)
    record("M-0003", "mediation_requested", "2026-03-02")
    record("M-0003", "la_notified", "2026-03-03")
    record("M-0003", "meeting_scheduled", "2026-03-03", meeting_date="2026-03-25")
    record("M-0003", "mediation_declined", "2026-03-09")
    store.open_case(
        "M-0004", "disagreement_resolution", D("2026-03-02"), {"caseworker": "Jo Smith"}, "t", NOW, TODAY
    )
    record("M-0004", "closed", "2026-03-05", outcome="resolved")


def events(content: bytes) -> dict[str, dict[str, object]]:
    """The VEVENTs of an iCalendar file by UID: start, end, summary, sequence, stamp."""
    calendar = Calendar.from_ical(content)
    found: dict[str, dict[str, object]] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event["UID"])
        assert uid not in found, f"UID {uid} twice"
        found[uid] = {
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "summary": str(event["SUMMARY"]),
            "sequence": int(event["SEQUENCE"]),
            "stamp": event.decoded("DTSTAMP"),
        }
    return found


EXPECTED = {
    "M-0001.kpi2@caseclock": (
        D("2026-03-05"),
        "M-0001 KPI 2 due: Notify the LA and ICB that the parent wishes to mediate",
    ),
    "M-0001.kpi3@caseclock": (
        D("2026-03-13"),
        "M-0001 KPI 3 due: Circulate the meeting confirmation to everyone attending",
    ),
    "M-0001.meeting_date@caseclock": (D("2026-03-20"), "M-0001 Meeting"),
    "M-0001.kpi5@caseclock": (
        D("2026-04-01"),
        "M-0001 KPI 5 due: Hold the mediation meeting (or record an agreed exception)",
    ),
    "M-0002.kpi5@caseclock": (
        D("2026-04-02"),
        "M-0002 KPI 5 due: Hold the mediation meeting (or record an agreed exception)",
    ),
    "M-0003.kpi4@caseclock": (D("2026-03-12"), "M-0003 KPI 4 due: Issue the mediation certificate"),
}


def test_the_feed_has_each_planned_meeting_and_open_clock_once_as_an_all_day_entry(store: Store) -> None:
    seed(store)
    found = events(calendar_feed.render(calendar_feed.entries(store), TODAY))
    assert {uid: (e["start"], e["summary"]) for uid, e in found.items()} == EXPECTED
    for entry in found.values():
        assert entry["end"] == entry["start"] + dt.timedelta(days=1)  # type: ignore[operator]
        assert entry["stamp"] == dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    # The met KPI 2 of M-0002, the declined meeting of M-0003 and the closed M-0004 are not in it.
    assert not any(uid.startswith("M-0004") for uid in found)


def test_two_runs_give_the_same_bytes_and_a_moved_due_date_keeps_its_uid_with_a_higher_sequence(
    store: Store,
) -> None:
    seed(store)
    first = calendar_feed.render(calendar_feed.entries(store), TODAY)
    assert calendar_feed.render(calendar_feed.entries(store), TODAY) == first
    before = events(first)

    # Rescheduled to 27 March: the confirmation is now due 20 March (a new instance of the clock).
    store.record(
        "M-0001", "meeting_scheduled", D("2026-03-10"), {"meeting_date": "2026-03-27"}, "t", NOW, TODAY
    )
    after = events(calendar_feed.render(calendar_feed.entries(store), TODAY))

    assert set(after) == set(before)
    for uid, start in [
        ("M-0001.kpi3@caseclock", D("2026-03-20")),
        ("M-0001.meeting_date@caseclock", D("2026-03-27")),
    ]:
        assert after[uid]["start"] == start != before[uid]["start"]
        assert after[uid]["sequence"] > before[uid]["sequence"]  # type: ignore[operator]
    assert after["M-0002.kpi5@caseclock"] == before["M-0002.kpi5@caseclock"]


def test_a_voided_reschedule_moves_the_entry_back_and_the_sequence_still_rises(store: Store) -> None:
    seed(store)
    store.record(
        "M-0001", "meeting_scheduled", D("2026-03-10"), {"meeting_date": "2026-03-27"}, "t", NOW, TODAY
    )
    moved = events(calendar_feed.render(calendar_feed.entries(store), TODAY))
    store.void("M-0001", 5, "wrong case", "t", NOW, TODAY)
    back = events(calendar_feed.render(calendar_feed.entries(store), TODAY))
    meeting = "M-0001.meeting_date@caseclock"
    assert back[meeting]["start"] == D("2026-03-20")
    assert back[meeting]["sequence"] > moved[meeting]["sequence"]  # type: ignore[operator]


def test_a_held_meeting_leaves_the_feed(store: Store) -> None:
    seed(store)
    store.record("M-0001", "meeting_held", D("2026-03-20"), {"outcome": "agreed"}, "t", NOW, D("2026-03-20"))
    found = events(calendar_feed.render(calendar_feed.entries(store), D("2026-03-20")))
    assert "M-0001.meeting_date@caseclock" not in found
    assert "M-0001.kpi5@caseclock" not in found  # stopped by the meeting
    assert found["M-0001.kpi4@caseclock"]["start"] == D("2026-03-25")  # the certificate, 3 working days on


def test_the_caseworker_filter_keeps_only_their_cases(store: Store) -> None:
    seed(store)
    jo = events(calendar_feed.render(calendar_feed.entries(store, "Jo Smith"), TODAY))
    sam = events(calendar_feed.render(calendar_feed.entries(store, "Sam Patel"), TODAY))
    assert set(jo) == {uid for uid in EXPECTED if uid.startswith(("M-0001", "M-0003"))}
    assert set(sam) == {"M-0002.kpi5@caseclock"}


def test_the_file_carries_references_only_never_a_name_contact_or_note(cli, tmp_path: Path) -> None:
    assert cli("open", "M-0001", "--type", "mediation", "--on", "2026-03-02", "--caseworker", "Jo Smith",
               "--field", f"name={NAME}", "--field", f"contact={CONTACT}").code == 0  # fmt: skip
    assert cli("record", "M-0001", "mediation_requested", "--on", "2026-03-02").code == 0
    assert cli("record", "M-0001", "meeting_scheduled", "--on", "2026-03-03", "--meeting-date", "2026-03-20",
               "--note", NOTE).code == 0  # fmt: skip
    shown = cli("--as-of", "2026-03-10", "show", "M-0001", "--personal", "--json").out
    assert NAME in shown  # stored, for the caseworker's eyes
    assert NOTE in shown

    result = cli("--as-of", "2026-03-10", "ics")
    assert result.code == 0
    text = result.out
    assert len(events(text.encode())) == 4  # the meeting and KPI 2, 3, 5
    unfolded = text.replace("\r\n ", "").replace("\\,", ",").replace("\\;", ";")
    for secret in (NAME, "Alice", "Acacia", "NR1", "3 Feb 2014", NOTE, "3pm", "Elm Road", "Jo Smith"):
        assert secret not in unfolded
    summaries = [line for line in unfolded.splitlines() if line.startswith("SUMMARY:")]
    assert len(summaries) == 4
    assert all(line.startswith("SUMMARY:M-0001 ") for line in summaries)


def test_out_writes_a_file_readable_by_its_owner_only_and_replaces_one_atomically(
    cli, store, tmp_path
) -> None:
    seed(store)
    path = tmp_path / "feeds" / "caseclock.ics"
    path.parent.mkdir()
    path.write_text("an older feed")
    path.chmod(0o644)

    result = cli("--as-of", "2026-03-10", "ics", "--out", str(path), "--json")
    assert result.code == 0, result.err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(events(path.read_bytes())) == set(EXPECTED)
    assert os.listdir(path.parent) == ["caseclock.ics"]  # no temporary file left behind
    summary = __import__("json").loads(result.out)
    assert summary == {
        "path": str(path),
        "as_of": "2026-03-10",
        "caseworker": None,
        "meetings": 1,
        "deadlines": 5,
    }

    fresh = tmp_path / "feeds" / "jo.ics"
    result = cli("--as-of", "2026-03-10", "ics", "--caseworker", "Jo Smith", "--out", str(fresh))
    assert result.code == 0
    assert result.out == f"wrote {fresh}: 1 meeting and 4 deadlines (as of 2026-03-10)\n"
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_making_the_feed_writes_nothing_to_the_database(cli, store) -> None:
    seed(store)

    def everything() -> list[object]:
        with store.engine.connect() as connection:
            return [
                connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in (schema.cases, schema.events, schema.clocks, schema.alert_outbox)
            ]

    before = everything()
    assert cli("--as-of", "2026-03-10", "ics").code == 0
    assert everything() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ics", "--caseworker", "Jo Smiht"],
            "caseclock: --caseworker=Jo Smiht: no case has this caseworker (did you mean 'Jo Smith'?); "
            "use a name as it is on the cases: Jo Smith, Kim Lowe, Sam Patel\n",
        ),
        (
            ["ics", "--caseworker", "jo smith"],
            "caseclock: --caseworker=jo smith: no case has this caseworker (did you mean 'Jo Smith'?); "
            "use a name as it is on the cases: Jo Smith, Kim Lowe, Sam Patel\n",
        ),
        (
            ["ics", "--json"],
            "caseclock: --json: give --out PATH too; without --out the calendar itself is printed "
            "on stdout\n",
        ),
    ],
)
def test_refusals_exit_2_with_one_line_and_write_nothing(cli, store, tmp_path, args, message) -> None:
    seed(store)
    config = tmp_path / "c.toml"
    config.write_text('[caseworkers]\n"Kim Lowe" = "kim@provider.example"\n')
    out = tmp_path / "feed.ics"
    result = cli("--config", str(config), *args, *([] if "--json" in args else ["--out", str(out)]))
    assert (result.code, result.out, result.err) == (2, "", message)
    assert not out.exists()


def test_a_caseworker_known_only_from_the_config_gets_an_empty_feed(cli, store, tmp_path) -> None:
    seed(store)
    config = tmp_path / "c.toml"
    config.write_text('[caseworkers]\n"Kim Lowe" = "kim@provider.example"\n')
    result = cli("--config", str(config), "--as-of", "2026-03-10", "ics", "--caseworker", "Kim Lowe")
    assert result.code == 0
    assert events(result.out.encode()) == {}


def test_out_in_a_missing_folder_or_on_a_folder_is_refused(cli, store, tmp_path) -> None:
    seed(store)
    missing = tmp_path / "nowhere" / "feed.ics"
    result = cli("ics", "--out", str(missing))
    assert (result.code, result.err) == (
        2,
        f"caseclock: --out={missing}: the folder {missing.parent} does not exist; create it first\n",
    )
    result = cli("ics", "--out", str(tmp_path))
    assert (result.code, result.err) == (
        2,
        f"caseclock: --out={tmp_path}: is a folder; name the file, e.g. caseclock.ics in that folder\n",
    )
    assert not missing.parent.exists()


def test_no_cases_at_all_and_an_unknown_caseworker_says_there_is_none(store) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_caseworker("--caseworker", "Jo", [])
    assert refused.value.message == (
        "--caseworker=Jo: no case has a caseworker yet; leave it out to include every case"
    )


def test_the_send_pack_plans_its_meeting_by_the_meeting_date_until_held_or_called_off(rules) -> None:
    (rule,) = meeting_rules(rules.packs.latest("send-mediation"))
    assert (rule.scheduled_by, rule.field, rule.held_by, rule.label) == (
        "meeting_scheduled",
        "meeting_date",
        "meeting_held",
        "Meeting",
    )
    assert rule.ended_by == {
        "meeting_held",
        "mediation_declined",
        "mediation_not_arranged",
        "withdrawn",
        "closed",
    }
    adoption = discover_packs(enabled=["adoption-support"]).latest("adoption-support")
    assert meeting_rules(adoption) == []


# ------------------------------------------------------------------------------------------ watch


def feed_config(tmp_path: Path, body: str) -> Path:
    config = tmp_path / "config" / "caseclock.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(body)
    return config


def test_a_watch_pass_writes_the_configured_feed(store: Store, tmp_path: Path, caplog) -> None:
    seed(store)
    (tmp_path / "config" / "feeds").mkdir(parents=True)
    config = feed_config(tmp_path, '[calendar_feed]\npath = "feeds/jo.ics"\ncaseworker = "Jo Smith"\n')
    settings = parse_config(tomllib.loads(config.read_text()), config)
    path = tmp_path / "config" / "feeds" / "jo.ics"
    assert settings.calendar_feed is not None
    assert settings.calendar_feed.path == path  # next to the config
    rules = store.rules
    log = logging.getLogger("test.feed")
    caplog.set_level(logging.INFO, "test.feed")
    watcher = scheduler.Watcher(
        store.engine,
        rules.packs,
        rules.calendar,
        settings,
        build_channels(settings, {}, required=False),  # no email, no webhooks: the feed only
        now=lambda: dt.datetime(2026, 3, 10, 8, 30, tzinfo=dt.UTC),
        log=log,
        feed=calendar_feed.FeedWriter(store, path, settings.calendar_feed.caseworker),
    )

    report = watcher.daily()

    assert report is not None
    assert report.as_of == TODAY
    assert outbox.list_alerts(store.engine) == []
    found = events(path.read_bytes())
    assert set(found) == {uid for uid in EXPECTED if uid.startswith(("M-0001", "M-0003"))}
    assert {e["stamp"] for e in found.values()} == {dt.datetime(2026, 3, 10, tzinfo=dt.UTC)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"calendar feed: 1 meeting and 4 deadlines written to {path}" in caplog.messages

    # The next day's pass sees the meeting rescheduled: the same entry, moved.
    store.record(
        "M-0001", "meeting_scheduled", D("2026-03-10"), {"meeting_date": "2026-03-27"}, "t", NOW, TODAY
    )
    watcher.now = lambda: dt.datetime(2026, 3, 11, 8, 30, tzinfo=dt.UTC)
    assert watcher.daily() is not None
    moved = events(path.read_bytes())
    assert set(moved) == set(found)
    assert moved["M-0001.meeting_date@caseclock"]["start"] == D("2026-03-27")
    assert os.listdir(path.parent) == ["jo.ics"]


def test_a_feed_that_cannot_be_written_is_one_warning_and_the_pass_goes_on(store, tmp_path, caplog) -> None:
    seed(store)
    folder = tmp_path / "share"
    folder.mkdir()
    settings = parse_config({}, tmp_path / "c.toml")
    rules = store.rules
    caplog.set_level(logging.INFO, "test.feed")
    watcher = scheduler.Watcher(
        store.engine,
        rules.packs,
        rules.calendar,
        settings,
        build_channels(settings, {}, required=False),
        now=lambda: dt.datetime(2026, 3, 10, 8, 30, tzinfo=dt.UTC),
        log=logging.getLogger("test.feed"),
        feed=calendar_feed.FeedWriter(store, folder / "feed.ics"),
    )
    folder.rmdir()  # the share went away after `watch` started

    assert watcher.daily() is not None
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("calendar feed as of 2026-03-10 not written: ")


def test_watch_refuses_to_start_with_a_feed_folder_or_caseworker_it_cannot_use(cli, store, tmp_path) -> None:
    seed(store)
    config = feed_config(tmp_path, '[calendar_feed]\npath = "missing/feed.ics"\n')
    result = cli("--config", str(config), "watch")
    folder = tmp_path / "config" / "missing"
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"caseclock: {config}: calendar_feed.path={folder / 'feed.ics'}: the folder {folder} does not exist; "
        "create it first\n",
    )
    config = feed_config(tmp_path, '[calendar_feed]\npath = "feed.ics"\ncaseworker = "Jo Smyth"\n')
    result = cli("--config", str(config), "watch")
    assert result.code == 2
    assert result.err == (
        f"caseclock: {config}: calendar_feed.caseworker=Jo Smyth: no case has this caseworker (did you mean "
        "'Jo Smith'?); use a name as it is on the cases: Jo Smith, Sam Patel\n"
    )
    assert not (tmp_path / "config" / "feed.ics").exists()


def test_the_calendar_feed_section_refuses_unknown_keys(tmp_path) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"calendar_feed": {"path": "feed.ics", "casewroker": "Jo"}}, tmp_path / "c.toml")
    assert "calendar_feed.casewroker" in refused.value.message
    with pytest.raises(ConfigError) as refused:
        parse_config({"calendar_feed": {"caseworker": "Jo"}}, tmp_path / "c.toml")
    assert "calendar_feed.path" in refused.value.message
