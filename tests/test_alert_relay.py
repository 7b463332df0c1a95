"""Alert delivery never makes a caseworker wait: no transaction is open while an alert is on the wire, a dead
endpoint costs its time-out once per pass, `Retry-After` holds the host, a breach supersedes stale
warnings, and an alert whose claim ran out mid-pass is sent by the one sender that took it.

Against real servers on 127.0.0.1: a webhook receiver that holds each request until the test releases it, one
that never answers, an SMTP port that accepts and never greets, and one answering 429 with `Retry-After`.
Time is injected; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from typing import Any

from sqlalchemy import select

from notifiers.webhook import WebhookNotifier
from tests.alert_servers import (
    WAIT,
    HttpServer,
    Reply,
    SilentServer,
    email_config,
    free_port,
    write_config,
)
from tests.conftest import NOW
from tests.test_outbox import requested
from tracker.alerts import outbox
from tracker.alerts.dispatch import Channels, Hooks, PassReport, deliver, run_pass
from tracker.alerts.relay import Delivered
from tracker.domain.config import Settings
from tracker.store import Store, schema

D = dt.date.fromisoformat
TODAY = D("2026-06-30")


def webhook_settings(*hooks: tuple[str, str]) -> Settings:
    return Settings.model_validate({"webhooks": [{"name": name, "url": url} for name, url in hooks]})


def webhook_pass(store: Store, settings: Settings, as_of: str, now=lambda: NOW, **kwargs: Any) -> PassReport:
    channels = Channels({})
    for hook in settings.webhooks:
        notifier = WebhookNotifier(hook, None)
        channels.notifiers[notifier.channel] = notifier
    rules = store.rules
    return run_pass(store.engine, rules.packs, rules.calendar, settings, channels, D(as_of), now, **kwargs)


def cases(store: Store, count: int) -> None:
    for number in range(1, count + 1):
        requested(store, f"M-{number}")


# ------------------------------------------------------------------- 1. nothing held while sending


def test_a_writer_does_not_wait_while_an_alert_is_on_the_wire(store, db_url) -> None:
    requested(store)
    web = HttpServer()
    release = threading.Event()
    web.hold = release
    done: list[PassReport] = []
    sender = threading.Thread(
        target=lambda: done.append(webhook_pass(store, webhook_settings(("ops", web.url())), "2026-03-04"))
    )
    sender.start()
    try:
        on_the_wire = web.take(1)[0].json()["id"]
        if db_url.startswith("sqlite"):
            # The write lock is free: a writer that will not wait at all gets it.
            raw = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            try:
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("ROLLBACK")
            finally:
                raw.close()
        else:
            # The row is claimed, not locked: another session can lock it without waiting.
            with store.engine.connect() as other, other.begin():
                row = other.execute(
                    select(schema.alert_outbox.c.status)
                    .where(schema.alert_outbox.c.alert_id == on_the_wire)
                    .with_for_update(nowait=True)
                ).one()
                assert row.status == "sending"
        # A caseworker opens a case meanwhile, through the store as the command line does.
        store.open_case("M-2", "mediation", D("2026-03-04"), {"caseworker": "Jo Smith"}, "jo", NOW, TODAY)
        assert [r.status for r in outbox.list_alerts(store.engine)] == ["sending"]
    finally:
        release.set()
        sender.join(WAIT)
        web.stop()
    assert done[0].delivered.sent == 1
    assert [r.status for r in outbox.list_alerts(store.engine)] == ["sent"]
    assert [e.type for e in store.case("M-2").events] == ["opened"]


# ------------------------------------------------------------------- 2. a dead endpoint, once per pass


def test_a_hanging_webhook_is_tried_once_per_pass_and_the_healthy_one_still_delivers(cli, tmp_path) -> None:
    for ref in ("M-1", "M-2", "M-3"):
        for args in (
            ["open", ref, "--type", "mediation", "--on", "2026-03-02"],
            ["record", ref, "mediation_requested", "--on", "2026-03-02"],
        ):
            assert cli("--as-of", "2026-03-02", *args).code == 0
    hanging, healthy = HttpServer(), HttpServer()
    hanging.hold = threading.Event()  # accepts, reads, never answers (released at teardown)
    config = write_config(
        tmp_path / "c.toml",
        f'[[webhooks]]\nname = "slow"\nurl = "{hanging.url()}"\ntimeout_seconds = 0.3\n'
        f'[[webhooks]]\nname = "team"\nurl = "{healthy.url()}"\n',
    )
    try:
        result = cli("--config", str(config), "--as-of", "2026-03-04", "check", "--json")
        assert result.code == 1
        report = json.loads(result.out)
        assert len(healthy.take(3)) == 3  # every alert of the healthy webhook, in the same pass
        assert len(hanging.drain()) == 1  # one request: the time-out is paid once
        rows = json.loads(cli("--config", str(config), "alerts", "--pending", "--json").out)
    finally:
        hanging.stop()
        healthy.stop()
    assert (report["sent"], report["retry"], report["deferred"], report["pending"]) == (3, 1, 2, 3)
    assert {r["channel"] for r in rows} == {"webhook:slow"}
    assert sorted(r["attempts"] for r in rows) == [0, 0, 1]  # only the one tried counts an attempt
    timed_out = "webhooks.slow.url: 127.0.0.1 timed out: no answer within 0.3 s"
    assert all(timed_out in r["last_error"] for r in rows)
    assert timed_out in result.err


def test_an_smtp_server_that_never_greets_costs_one_connection_per_pass(cli, tmp_path) -> None:
    for ref in ("M-1", "M-2"):
        for args in (
            ["open", ref, "--type", "mediation", "--on", "2026-03-02", "--field", "caseworker=Jo Smith"],
            ["record", ref, "mediation_requested", "--on", "2026-03-02"],
        ):
            assert cli("--as-of", "2026-03-02", *args).code == 0
    silent, healthy = SilentServer(), HttpServer()
    text = email_config(silent.port).replace("timeout_seconds = 5", "timeout_seconds = 0.3")
    config = write_config(
        tmp_path / "c.toml", text + f'[[webhooks]]\nname = "team"\nurl = "{healthy.url()}"\n'
    )
    try:
        result = cli("--config", str(config), "--as-of", "2026-03-04", "check", "--json")
        assert len(healthy.take(2)) == 2
        connections = silent.connections
        again = cli("--config", str(config), "--as-of", "2026-03-04", "check", "--json")
        connections_again = silent.connections
    finally:
        silent.stop()
        healthy.stop()
    assert result.code == again.code == 1
    # 4 emails (team and Jo, two cases): one connection, never a second try of any message
    assert (connections, connections_again) == (1, 2)
    report = json.loads(result.out)
    assert (report["sent"], report["retry"], report["deferred"], report["pending"]) == (2, 1, 3, 4)
    assert "timed out: the server did not answer within 0.3 s (email.timeout_seconds)" in result.err


def test_a_refused_connection_holds_the_channel_and_the_watch_retry_waits_for_its_backoff(store) -> None:
    cases(store, 3)
    dead = webhook_settings(("ops", f"http://127.0.0.1:{free_port()}/hook"))
    report = webhook_pass(store, dead, "2026-03-04")
    assert (report.delivered.retry, report.delivered.deferred, report.pending) == (1, 2, 3)
    rows = outbox.list_alerts(store.engine)
    # every row waits for the backoff of the one that was tried, so the minutely retry job does not
    # pay the connection failure again for each of them
    assert {r.next_attempt_at for r in rows} == {NOW + dt.timedelta(seconds=60)}
    assert sorted(r.attempts for r in rows) == [0, 0, 1]
    early = outbox.deliver(store.engine, {}, lambda: NOW + dt.timedelta(seconds=59), due_only=True)
    assert (early.sent, early.failed, early.skipped) == (0, 0, 0)


# ------------------------------------------------------------------- 10. Retry-After


def test_a_429_holds_the_host_and_check_honours_retry_after(cli, tmp_path) -> None:
    for ref in ("M-1", "M-2", "M-3"):
        for args in (
            ["open", ref, "--type", "mediation", "--on", "2026-03-02"],
            ["record", ref, "mediation_requested", "--on", "2026-03-02"],
        ):
            assert cli("--as-of", "2026-03-02", *args).code == 0
    web = HttpServer()
    web.script.append(Reply(429, headers={"Retry-After": "120"}, body=b"slow down"))
    config = str(write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n'))
    try:
        first = cli("--config", config, "--as-of", "2026-03-04", "check", "--json")
        assert len(web.take(1)) == 1
        assert web.drain() == []  # the other two waited: the host asked us to
        second = cli("--config", config, "--as-of", "2026-03-04", "check", "--json")
        assert web.drain() == []  # two minutes have not passed: nothing is tried, not even by check
        rows = json.loads(cli("--config", config, "alerts", "--json").out)
    finally:
        web.stop()
    assert first.code == second.code == 1
    assert json.loads(first.out)["deferred"] == 2
    assert "answered 429 Too Many Requests (Retry-After 120 s)" in first.err
    assert {r["status"] for r in rows} == {"pending"}
    assert sorted(r["attempts"] for r in rows) == [0, 0, 1]


def test_after_retry_after_has_passed_the_host_is_tried_again_in_the_same_pass(store) -> None:
    cases(store, 3)
    web = HttpServer()
    web.script.append(Reply(429, headers={"Retry-After": "60"}))
    clock = [NOW]

    def answer_took_a_while(_alert: object) -> None:
        clock[0] += dt.timedelta(seconds=61)

    try:
        hooks = Hooks(after_send=answer_took_a_while)
        report = webhook_pass(
            store, webhook_settings(("ops", web.url())), "2026-03-04", lambda: clock[0], hooks=hooks
        )
        requests = web.take(3)
    finally:
        web.stop()
    assert len(requests) == 3
    assert (report.delivered.sent, report.delivered.retry, report.delivered.deferred) == (2, 1, 0)


# ------------------------------------------------------------------- 11. the breach supersedes


def test_a_long_overdue_clock_gets_exactly_one_delivery_its_breach(cli, tmp_path) -> None:
    for args in (
        ["open", "M-1", "--type", "mediation", "--on", "2026-03-02"],
        ["record", "M-1", "mediation_requested", "--on", "2026-03-02"],
    ):
        assert cli("--as-of", "2026-03-02", *args).code == 0
    web = HttpServer()
    config = str(write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n'))
    try:
        # KPI 2 was due 5 March: its two warnings and its breach are all due on 20 March; KPI 5 not yet
        result = cli("--config", config, "--as-of", "2026-03-20", "check", "--json")
        got = web.take(1)
        assert cli("--config", config, "--as-of", "2026-03-23", "check").code == 0
        assert web.drain() == []
    finally:
        web.stop()
    assert result.code == 0, result.err
    assert [r.json()["type"] for r in got] == ["clock.breached"]
    assert json.loads(result.out)["sent"] == 1


def test_warnings_still_queued_when_the_breach_comes_are_superseded_never_sent(cli, tmp_path) -> None:
    for args in (
        ["open", "M-1", "--type", "mediation", "--on", "2026-03-02"],
        ["record", "M-1", "mediation_requested", "--on", "2026-03-02"],
    ):
        assert cli("--as-of", "2026-03-02", *args).code == 0
    down = str(
        write_config(
            tmp_path / "d.toml", f'[[webhooks]]\nname = "ops"\nurl = "http://127.0.0.1:{free_port()}/h"\n'
        )
    )
    assert cli("--config", down, "--as-of", "2026-03-04", "check").code == 1  # warn-1 queued, not sent
    web = HttpServer()
    config = str(write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n'))
    try:
        result = cli("--config", config, "--as-of", "2026-03-06", "check", "--json")
        got = web.take(1)
        assert web.drain() == []
        superseded = json.loads(cli("--config", config, "alerts", "--superseded", "--json").out)
    finally:
        web.stop()
    assert result.code == 0, result.err
    assert json.loads(result.out)["superseded"] == 1
    assert [r.json()["type"] for r in got] == ["clock.breached"]
    assert [(s["level"], s["attempts"]) for s in superseded] == [("warn-1", 1)]
    assert superseded[0]["last_error"].startswith("not sent: the clock was already breached")


# ------------------------------------------------------------------- 12. a lease that runs out mid-pass


def another_sender(store: Store, settings: Settings, now) -> Delivered:
    """Another sender's pass over the same outbox, as another process's would be: its own claim token."""
    notifier = WebhookNotifier(settings.webhooks[0], None)
    return deliver(store.engine, Channels({notifier.channel: notifier}), now)


def test_a_row_whose_lease_ran_out_behind_a_slow_send_is_sent_once_by_the_sender_that_took_it(store) -> None:
    cases(store, 2)
    web = HttpServer()
    release = threading.Event()
    web.script.append(Reply(hold=release))  # the first row hangs on the wire; later requests answer at once
    settings = webhook_settings(("ops", web.url()))
    clock = [NOW]  # both rows are claimed at NOW, on a lease until NOW + 900 s
    first_sent_at = NOW + dt.timedelta(seconds=600)

    def first_send_starts_late(_alert: object) -> None:
        # The first row goes out 10 minutes after the claim: its renewed lease lasts until NOW + 1500 s,
        # while the second row's still ends at NOW + 900 s.
        clock[0] = max(clock[0], first_sent_at)

    done: list[PassReport] = []
    sender = threading.Thread(
        target=lambda: done.append(
            webhook_pass(
                store,
                settings,
                "2026-03-04",
                lambda: clock[0],
                hooks=Hooks(before_send=first_send_starts_late),
            )
        )
    )
    sender.start()
    try:
        first = web.take(1)[0].json()["id"]
        clock[0] = NOW + dt.timedelta(seconds=901)  # the second row's lease has run out, the first's has not
        other = another_sender(store, settings, lambda: clock[0])
        second = web.take(1)[0].json()["id"]
        release.set()
        sender.join(WAIT)
        assert not sender.is_alive()
        again = web.drain()
    finally:
        release.set()
        web.stop()
    rows = outbox.list_alerts(store.engine)
    assert again == []  # the first pass did not send the second row again
    assert sorted([first, second]) == sorted(r.id for r in rows)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]
    assert (other.sent, other.retry, other.failed) == (1, 0, 0)
    report = done[0]
    assert (report.delivered.sent, report.delivered.retry, report.delivered.failed, report.pending) == (
        1,
        0,
        0,
        0,
    )


def test_a_pass_whose_claim_ran_out_mid_send_does_not_count_the_row_as_its_own(store) -> None:
    cases(store, 1)
    web = HttpServer()
    release = threading.Event()
    web.script.append(Reply(hold=release))
    settings = webhook_settings(("ops", web.url()))
    clock = [NOW]
    done: list[PassReport] = []
    sender = threading.Thread(
        target=lambda: done.append(webhook_pass(store, settings, "2026-03-04", lambda: clock[0]))
    )
    sender.start()
    try:
        web.take(1)
        # The send outlasts even the renewed lease: another sender takes the row and delivers it (at least
        # once, as after a crash); the first pass's late answer then marks nothing and counts nothing.
        clock[0] = NOW + dt.timedelta(seconds=901)
        other = another_sender(store, settings, lambda: clock[0])
        web.take(1)
        release.set()
        sender.join(WAIT)
        assert not sender.is_alive()
    finally:
        release.set()
        web.stop()
    assert (other.sent, done[0].delivered.sent, done[0].delivered.retry, done[0].pending) == (1, 0, 0, 0)
    [row] = outbox.list_alerts(store.engine)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, NOW + dt.timedelta(seconds=901))
