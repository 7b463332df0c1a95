"""The alert outbox on SQLite and PostgreSQL: recorded once, cancelled with its clock, claimed, retried.

The lower half drives `caseclock check` and `caseclock alerts` end to end against a real SMTP server
(aiosmtpd) and a real HTTP server on 127.0.0.1, with time injected through --as-of.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from tests.alert_servers import HttpServer, Reply, email_config, free_port, smtp_server, write_config
from tests.conftest import NOW
from tracker.alerts import outbox
from tracker.alerts.dispatch import Channels, run_pass
from tracker.alerts.notify import DeliveryResult
from tracker.alerts.rules import Alert
from tracker.domain.config import Settings
from tracker.store import Store, schema

D = dt.date.fromisoformat
TODAY = D("2026-06-30")
SETTINGS = Settings.model_validate(
    {
        "caseworkers": {"Jo Smith": "jo.smith@provider.example"},
        "email": {
            "host": "127.0.0.1",
            "sender": "alerts@provider.example",
            "to": ["team@provider.example"],
            "escalate_to": ["manager@provider.example"],
        },
    }
)


class Recording:
    """A notifier that records what it is asked to send and answers from a script (default: delivered)."""

    def __init__(self, channel: str = "email", *results: DeliveryResult | Exception) -> None:
        self.channel = channel
        self.sent: list[Alert] = []
        self.results: deque[DeliveryResult | Exception] = deque(results)
        self.closed = 0

    def send(self, alert: Alert) -> DeliveryResult:
        self.sent.append(alert)
        result = self.results.popleft() if self.results else DeliveryResult.delivered()
        if isinstance(result, Exception):
            raise result
        return result

    def close(self) -> None:
        self.closed += 1


def requested(store: Store, ref: str = "M-1", on: str = "2026-03-02", **fields: Any) -> None:
    """A mediation case whose kpi2 clock starts on `on` (due 3 working days later)."""
    store.open_case(ref, "mediation", D(on), {"caseworker": "Jo Smith", **fields}, "tester", NOW, TODAY)
    store.record(ref, "mediation_requested", D(on), {}, "tester", NOW, TODAY)


def run(store: Store, as_of: str, notifier: Recording | None = None, *, at=NOW, **kwargs: Any):
    channels = Channels({notifier.channel: notifier} if notifier else {})
    return run_pass(
        store.engine,
        store.rules.packs,
        store.rules.calendar,
        SETTINGS,
        channels,
        D(as_of),
        lambda: at,
        **kwargs,
    )


def statuses(store: Store) -> list[tuple[str, str, str, str]]:
    rows = outbox.list_alerts(store.engine, limit=None)
    return sorted((r.clock, r.level, r.recipient, r.status) for r in rows)


def test_each_alert_is_recorded_once_and_sent_once(store) -> None:
    requested(store)
    notifier = Recording()
    first = run(store, "2026-03-04", notifier)
    assert (first.due, len(first.new), first.delivered.sent, first.pending) == (2, 2, 2, 0)
    assert first.ok
    again = run(store, "2026-03-04", notifier)
    assert (again.due, len(again.new), again.delivered.sent) == (2, 0, 0)
    assert sorted(a.recipient for a in notifier.sent) == [
        "jo.smith@provider.example",
        "team@provider.example",
    ]
    assert all(r.status == "sent" and r.sent_at == NOW for r in outbox.list_alerts(store.engine))
    assert notifier.closed == 2


def test_the_database_refuses_a_second_row_for_the_same_key(store) -> None:
    requested(store)
    run(store, "2026-03-04")
    with store.engine.connect() as connection:
        row = dict(connection.execute(select(schema.alert_outbox).limit(1)).mappings().one())
    row.pop("id")
    row["alert_id"] = "another-id"
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(insert(schema.alert_outbox).values(row))


def test_a_clock_stopped_before_its_warning_sends_nothing(store) -> None:
    requested(store)
    store.record("M-1", "la_notified", D("2026-03-03"), {}, "tester", NOW, TODAY)
    notifier = Recording()
    report = run(store, "2026-03-06", notifier)
    assert (report.due, notifier.sent) == (0, [])


@pytest.mark.parametrize(
    ("event", "fields"),
    [("la_notified", {}), ("mediation_declined", {}), ("withdrawn", {"reason": "moved away"})],
)
def test_queued_alerts_of_a_clock_that_ends_are_cancelled(store, event, fields) -> None:
    requested(store)
    down = Recording("email", *[DeliveryResult.retry("server down")] * 2)
    assert run(store, "2026-03-04", down).pending == 2
    store.record("M-1", event, D("2026-03-04"), fields, "tester", NOW, TODAY)
    up = Recording()
    report = run(store, "2026-03-05", up)
    assert (report.cancelled, report.pending, up.sent) == (2, 0, [])
    assert {r.status for r in outbox.list_alerts(store.engine)} == {"cancelled"}
    assert report.ok


def test_an_excepted_clock_cancels_what_was_queued_for_it(store) -> None:
    requested(store, on="2026-02-02")  # kpi5 due 4 March (30 days), kpi2 due 5 Feb
    store.record("M-1", "la_notified", D("2026-02-03"), {}, "tester", NOW, TODAY)
    down = Recording("email", *[DeliveryResult.retry("server down")] * 9)
    assert run(store, "2026-03-03", down).pending == 2  # kpi5 warn-1 to team and caseworker
    store.record(
        "M-1",
        "exception",
        D("2026-03-03"),
        {"clock": "kpi5", "reason": "parent_unavailable"},
        "t",
        NOW,
        TODAY,
    )
    report = run(store, "2026-03-05", Recording())
    assert (report.due, report.cancelled, report.pending) == (0, 2, 0)


def test_a_retry_waits_for_its_time_and_keeps_its_id(store) -> None:
    requested(store)
    notifier = Recording(
        "email", DeliveryResult.retry("4xx later"), DeliveryResult.retry("busy", retry_after=600)
    )
    report = run(store, "2026-03-04", notifier)
    assert (report.delivered.retry, report.pending, report.ok) == (2, 2, False)
    rows = {r.recipient: r for r in outbox.list_alerts(store.engine)}
    assert rows["team@provider.example"].next_attempt_at == NOW + dt.timedelta(seconds=60)
    assert rows["jo.smith@provider.example"].next_attempt_at == NOW + dt.timedelta(seconds=600)  # Retry-After
    assert {r.attempts for r in rows.values()} == {1}
    channels = Channels({"email": notifier})
    early = outbox.deliver(
        store.engine, channels.notifiers, lambda: NOW + dt.timedelta(seconds=59), due_only=True
    )
    assert early.sent == 0
    later = outbox.deliver(
        store.engine, channels.notifiers, lambda: NOW + dt.timedelta(seconds=61), due_only=True
    )
    assert later.sent == 1
    last = outbox.deliver(
        store.engine, channels.notifiers, lambda: NOW + dt.timedelta(seconds=601), due_only=True
    )
    assert last.sent == 1
    first_ids = [a.id for a in notifier.sent[:2]]
    assert sorted(a.id for a in notifier.sent[2:]) == sorted(first_ids)
    assert {r.status for r in outbox.list_alerts(store.engine)} == {"sent"}


def test_a_permanent_failure_is_not_retried(store) -> None:
    requested(store)
    notifier = Recording("email", DeliveryResult.failed("550 no such user"), DeliveryResult.failed("550"))
    report = run(store, "2026-03-04", notifier)
    assert (report.delivered.failed, report.pending, report.ok) == (2, 0, False)
    again = run(store, "2026-03-04", notifier)
    # Not retried, and not forgotten either: the pass is not ok while nobody has acknowledged them.
    assert (len(notifier.sent), again.delivered.failed, again.unacknowledged, again.ok) == (2, 0, 2, False)
    failed = outbox.list_alerts(store.engine, "failed")
    assert len(failed) == 2
    assert failed[0].last_error
    assert "550" in failed[0].last_error
    for row in failed:
        seen = outbox.acknowledge(store.engine, row.id[:12], "Sam Lead", NOW)
        assert (seen.acknowledged_by, seen.acknowledged_at, seen.status) == ("Sam Lead", NOW, "failed")
    third = run(store, "2026-03-04", notifier)
    assert (len(notifier.sent), third.unacknowledged, third.ok) == (2, 0, True)


def test_a_notifier_that_crashes_leaves_the_alert_pending(store) -> None:
    requested(store)
    report = run(store, "2026-03-04", Recording("email", RuntimeError("bug")))
    assert report.delivered.retry == 1
    assert report.delivered.sent == 1
    assert "internal error RuntimeError: bug" in report.delivered.errors["email"]


def test_a_blocked_channel_keeps_its_alerts_and_an_unknown_one_fails_them(store) -> None:
    requested(store)
    channels = Channels(blocked={"email": "email.username is set but CASECLOCK_SMTP_PASSWORD is not"})
    report = run_pass(
        store.engine,
        store.rules.packs,
        store.rules.calendar,
        SETTINGS,
        channels,
        D("2026-03-04"),
        lambda: NOW,
    )
    assert (report.delivered.skipped, report.pending, report.ok) == (2, 2, False)
    assert {r.last_error for r in outbox.list_alerts(store.engine)} == {channels.blocked["email"]}
    assert {r.attempts for r in outbox.list_alerts(store.engine)} == {0}
    gone = outbox.deliver(store.engine, {}, lambda: NOW)
    assert gone.failed == 2
    assert "no such channel" in outbox.list_alerts(store.engine)[0].last_error


def test_a_dry_run_writes_nothing(store) -> None:
    requested(store)
    notifier = Recording()
    report = run(store, "2026-03-06", notifier, dry_run=True)
    assert (report.due, len(report.new)) == (3, 3)  # the breach x3 (escalated): it supersedes the warnings
    assert (notifier.sent, outbox.list_alerts(store.engine)) == ([], [])


def test_the_digest_is_recorded_once_per_recipient_and_day(store) -> None:
    requested(store)
    notifier = Recording()
    run(store, "2026-03-04", notifier, digest=True)
    run(store, "2026-03-04", notifier, digest=True)
    digests = [a for a in notifier.sent if a.type == "digest"]
    assert sorted(a.recipient for a in digests) == ["jo.smith@provider.example", "team@provider.example"]


@pytest.mark.postgres
def test_postgres_skips_a_row_another_process_is_sending(store, db_url) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises on its write lock")
    requested(store)
    run(store, "2026-03-04", Recording("email", *[DeliveryResult.retry("down")] * 2))
    oldest = outbox.list_alerts(store.engine)[-1].id  # newest first
    with store.engine.connect() as other, other.begin():
        other.execute(
            select(schema.alert_outbox).where(schema.alert_outbox.c.alert_id == oldest).with_for_update()
        ).one()
        notifier = Recording()
        done = outbox.deliver(store.engine, {"email": notifier}, lambda: NOW)
        assert done.sent == 1
        assert oldest not in {a.id for a in notifier.sent}
    done = outbox.deliver(store.engine, {"email": notifier}, lambda: NOW)
    assert done.sent == 1
    assert len({a.id for a in notifier.sent}) == 2


def test_list_alerts_filters_by_status(store) -> None:
    requested(store)
    run(store, "2026-03-04", Recording("email", DeliveryResult.failed("no")))
    assert [r.status for r in outbox.list_alerts(store.engine, "failed")] == ["failed"]
    assert [r.status for r in outbox.list_alerts(store.engine, "sent")] == ["sent"]
    assert outbox.list_alerts(store.engine, "pending") == []
    entry = outbox.list_alerts(store.engine, limit=1)[0].as_json()
    assert set(entry) >= {
        "id",
        "status",
        "ref",
        "clock",
        "level",
        "channel",
        "recipient",
        "due_on",
        "last_error",
    }


# ------------------------------------------------------------------------ through the command line


@pytest.fixture
def case(cli):
    """M-0042: mediation requested Monday 2 March 2026, so KPI 2 is due Thursday 5 March."""

    def make(ref: str = "M-0042") -> None:
        for args in (
            ["open", ref, "--type", "mediation", "--on", "2026-03-02", "--field", "caseworker=Jo Smith"],
            ["record", ref, "mediation_requested", "--on", "2026-03-02"],
        ):
            assert cli("--as-of", "2026-03-02", *args).code == 0

    make()
    return make


def test_check_sends_each_warning_level_once_and_the_breach_once_with_escalation(cli, case, tmp_path) -> None:
    web = HttpServer()
    with smtp_server() as smtp:
        hook = f'[[webhooks]]\nname = "team"\nurl = "{web.url()}"\n'
        config = str(write_config(tmp_path / "c.toml", email_config(smtp.port) + hook))
        try:
            sent: dict[str, set[str]] = {}
            for day, count in (("2026-03-04", 3), ("2026-03-05", 3), ("2026-03-06", 4)):
                for _ in range(2):  # a second run the same day sends nothing more
                    result = cli("--config", config, "--as-of", day, "check", "--json")
                    assert result.code == 0, result.err
                mails = smtp.take(count - 1)
                posts = web.take(1)
                sent[day] = {m.message["To"] for m in mails}
                levels = {p.json()["type"] for p in posts}
                assert levels == {"clock.breached" if day == "2026-03-06" else "clock.warning"}
            assert smtp.drain() == []
            assert web.drain() == []
            assert sent["2026-03-04"] == {"team@provider.example", "jo.smith@provider.example"}
            assert sent["2026-03-06"] == sent["2026-03-04"] | {"manager@provider.example"}
        finally:
            web.stop()


def test_check_catches_up_after_a_gap(cli, case, tmp_path) -> None:
    with smtp_server() as smtp:
        config = str(write_config(tmp_path / "c.toml", email_config(smtp.port, to="[]")))
        result = cli("--config", config, "--as-of", "2026-03-20", "check", "--json")
        assert result.code == 0, result.err
        assert json.loads(result.out)["sent"] == 2  # the breach to Jo and to the manager; no stale warnings
        mails = smtp.take(2)
        assert cli("--config", config, "--as-of", "2026-03-23", "check").code == 0
        assert smtp.drain() == []
    assert sorted(m.message["To"] for m in mails) == ["jo.smith@provider.example", "manager@provider.example"]
    assert {m.message["Subject"] for m in mails} == {
        "[caseclock] KPI 2 breached (was due Thu 5 Mar 2026): M-0042"
    }


def test_smtp_down_for_one_pass_then_up_delivers_once(cli, case, tmp_path) -> None:
    port = free_port()
    config = str(write_config(tmp_path / "c.toml", email_config(port)))
    down = cli("--config", config, "--as-of", "2026-03-04", "check")
    assert down.code == 1
    assert f"email.host=127.0.0.1, email.port={port}: cannot send" in down.err
    assert "check email.host and email.port" in down.err
    pending = json.loads(cli("--config", config, "alerts", "--pending", "--json").out)
    assert len(pending) == 2
    # The server was tried once: the second alert waited without an attempt counted.
    assert sorted(p["attempts"] for p in pending) == [0, 1]
    assert sum(p["last_error"].startswith("not tried in this pass: ") for p in pending) == 1
    with smtp_server(port) as smtp:
        up = cli("--config", config, "--as-of", "2026-03-04", "check")
        assert up.code == 0, up.err
        mails = smtp.take(2)
        assert cli("--config", config, "--as-of", "2026-03-04", "check").code == 0
        assert smtp.drain() == []
    assert sorted(m.alert_id for m in mails) == sorted(p["id"] for p in pending)
    listed = cli("--config", config, "alerts", "--sent")
    assert listed.code == 0
    assert listed.out.count("sent") >= 2


def test_check_dry_run_lists_and_sends_nothing(cli, case, tmp_path) -> None:
    with smtp_server() as smtp:
        config = str(write_config(tmp_path / "c.toml", email_config(smtp.port)))
        result = cli("--config", config, "--as-of", "2026-03-04", "check", "--dry-run", "--json")
        assert result.code == 0, result.err
        body = json.loads(result.out)
        assert [(w["level"], w["recipient"]) for w in body["would_queue"]] == [
            ("warn-1", "team@provider.example"),
            ("warn-1", "jo.smith@provider.example"),
        ]
        assert json.loads(cli("--config", config, "alerts", "--json").out) == []
        assert smtp.drain() == []


def test_check_without_any_channel_is_refused(cli, case) -> None:
    result = cli("--as-of", "2026-03-04", "check")
    assert result.code == 2
    assert "[email] section or a [[webhooks]] block" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_alerts_on_an_empty_outbox(cli) -> None:
    assert cli("alerts").out.strip() == "no alerts"
    assert json.loads(cli("alerts", "--failed", "--json").out) == []
    assert cli("alerts", "--limit", "0").code == 2


def test_a_webhook_answering_500_then_200_is_delivered_once_with_the_same_id(cli, case, tmp_path) -> None:
    web = HttpServer()
    web.script.extend([Reply(500, body=b"oops"), Reply(200)])
    try:
        config = str(write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n'))
        first = cli("--config", config, "--as-of", "2026-03-04", "check")
        assert first.code == 1
        assert "webhooks.ops.url: 127.0.0.1 answered 500" in first.err
        second = cli("--config", config, "--as-of", "2026-03-04", "check")
        assert second.code == 0, second.err
        attempts = web.take(2)
        assert cli("--config", config, "--as-of", "2026-03-04", "check").code == 0
        assert web.drain() == []
    finally:
        web.stop()
    assert attempts[0].body == attempts[1].body
    assert attempts[0].json()["id"] == attempts[1].json()["id"] == attempts[1].headers["X-Caseclock-Alert-Id"]


def test_a_webhook_answering_400_fails_and_is_not_retried(cli, case, tmp_path) -> None:
    web = HttpServer()
    web.script.append(Reply(400, body=b'{"error": "bad card"}'))
    try:
        config = str(write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n'))
        first = cli("--config", config, "--as-of", "2026-03-04", "check")
        assert first.code == 1
        again = cli("--config", config, "--as-of", "2026-03-04", "check")
        assert again.code == 1  # not retried, but not acknowledged either
        assert "1 alert(s) failed for good and are not acknowledged" in again.err
        assert len(web.take(1)) == 1
        assert web.drain() == []
        failed = json.loads(cli("--config", config, "alerts", "--failed", "--json").out)
        acked = cli("--config", config, "alerts", "--ack", failed[0]["id"][:12])
        assert acked.code == 0, acked.err
        assert (
            f"acknowledged alert {failed[0]['id'][:12]} (M-0042 kpi2 warn-1 to ops by webhook:ops)"
            in acked.out
        )
        assert cli("--config", config, "--as-of", "2026-03-04", "check").code == 0
        assert web.drain() == []
        seen = json.loads(cli("--config", config, "alerts", "--failed", "--json").out)
    finally:
        web.stop()
    assert len(failed) == 1
    assert failed[0]["last_error"] == (
        'webhooks.ops.url: 127.0.0.1 answered 400 Bad Request: {"error": "bad card"}; not retried'
    )
    assert failed[0]["acknowledged_at"] is None
    assert seen[0]["acknowledged_at"] is not None
    assert seen[0]["acknowledged_by"]


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("deadbeef00", "no alert has this id"),
        ("abc", "an alert id is hexadecimal, at least 8 characters"),
        ("not-hex-at-all", "an alert id is hexadecimal"),
    ],
)
def test_ack_of_an_unknown_id_is_refused_in_one_line(cli, given, why) -> None:
    result = cli("alerts", "--ack", given)
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert f"--ack={given}: {why}" in line
    assert "caseclock alerts --failed" in line


def test_ack_of_an_alert_that_did_not_fail_is_refused_and_changes_nothing(cli, case, tmp_path) -> None:
    with smtp_server() as smtp:
        config = str(write_config(tmp_path / "c.toml", email_config(smtp.port)))
        assert cli("--config", config, "--as-of", "2026-03-04", "check").code == 0
        sent = json.loads(cli("--config", config, "alerts", "--json").out)[0]
        result = cli("--config", config, "alerts", "--ack", sent["id"])
    assert result.code == 2
    assert "this alert is sent, not failed: only a failed alert is acknowledged" in result.err
    assert len(result.err.strip().splitlines()) == 1
    after = json.loads(cli("--config", config, "alerts", "--json").out)[0]
    assert after == sent
