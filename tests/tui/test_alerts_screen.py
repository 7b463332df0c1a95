"""The alerts screen with Pilot: the alerts' own words, counts that follow the outbox, and an empty outbox."""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable, Tabs

from tests.tui.conftest import AS_OF, NOW, settle
from tracker.alerts.dispatch import Channels, run_pass
from tracker.alerts.notify import DeliveryResult
from tracker.domain.config import Settings
from tui.messages import PollTick
from tui.screens.alerts import AlertsScreen
from tui.widgets.status_line import StatusLine

EMAIL = {"email": {"host": "127.0.0.1", "sender": "alerts@provider.example", "to": ["team@provider.example"]}}


class Scripted:
    """A notifier that answers from a script, then with `then` for every further alert."""

    channel = "email"

    def __init__(self, *results: DeliveryResult, then: DeliveryResult) -> None:
        self.results = list(results)
        self.then = then

    def send(self, alert):
        return self.results.pop(0) if self.results else self.then

    def close(self) -> None:
        pass


def alert_pass(store, notifier: Scripted, now: dt.datetime = NOW) -> None:
    """One pass of `caseclock check` as of AS_OF, through `notifier`."""
    rules = store.rules
    settings = Settings.model_validate(EMAIL)
    run_pass(
        store.engine, rules.packs, rules.calendar, settings, Channels({"email": notifier}), AS_OF, lambda: now
    )


def tab_labels(app) -> list[str]:
    return [str(tab.label) for tab in app.screen.query_one("#alert-tabs", Tabs).query("Tab")]


def column(table: DataTable, index: int) -> list[str]:
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


async def test_an_empty_outbox_explains_what_alerts_are_and_who_sends_them(app) -> None:
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert screen.has_class("-empty")
        assert not screen.query_one("#alerts", DataTable).display
        words = str(screen.query_one("#alerts-empty").render())
        assert words.startswith("No pending alerts.")
        # the configured [alerts] warnings, in words
        assert (
            "1 working day before it is due, on the day it is due and on the first working day after it is "
            "missed" in " ".join(words.split())
        )
        assert "`caseclock check`" in words
        assert "`caseclock watch`" in words
        assert "No channel is configured yet" in words  # this configuration has neither email nor webhooks
        assert tab_labels(app) == ["Pending 0", "Sent 0", "Failed 0", "Cancelled 0", "All 0"]


async def test_alerts_read_in_their_own_words_with_the_action_under_the_table(app, tui_store) -> None:
    alert_pass(tui_store, Scripted(then=DeliveryResult.retry("server busy")))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        table = app.screen.query_one("#alerts", DataTable)
        words = column(table, 3)
        assert words
        assert not [w for w in words if "clock." in w or "warn-" in w or w.split()[-1] == "breach"]
        # M-0001's KPI 2 was due 5 February and is still open on 10 March
        rows = {(str(table.get_row_at(i)[1]), str(table.get_row_at(i)[3])) for i in range(table.row_count)}
        assert ("M-0001", "KPI 2 LA/ICB notified: deadline missed, 23 working days late") in rows
        # its warnings, stale by the time anything ran, were superseded by the breach: never queued
        assert not [w for ref, w in rows if ref == "M-0001" and w.startswith("KPI 2") and "due in" in w]
        assert ("M-0002", "KPI 2 LA/ICB notified: due today") in rows
        detail = str(app.screen.query_one("#alert-detail").render())
        first = table.get_row_at(0)
        assert detail.startswith(f"{first[1]} {first[3]} · ")
        assert "email to team@provider.example" in detail
        assert "server busy" in detail
        await pilot.press("down")
        await pilot.pause()
        second = table.get_row_at(1)
        assert str(app.screen.query_one("#alert-detail").render()).startswith(f"{second[1]} {second[3]} · ")


async def test_the_counts_follow_the_outbox_as_alerts_are_recorded_and_sent(
    app, tui_store, other_store
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert tab_labels(app)[0] == "Pending 0"
        # `caseclock check` elsewhere: one sent, one refused for good, the rest to try again later
        alert_pass(
            other_store,
            Scripted(
                DeliveryResult.delivered(),
                DeliveryResult.failed("550 no such user"),
                then=DeliveryResult.retry("busy"),
            ),
        )
        screen.post_message(PollTick())  # what the screen's timer posts
        await settle(pilot)
        counts = screen.counts
        assert counts["sent"] == 1
        assert counts["failed"] == 1
        assert counts["pending"] > 0
        assert tab_labels(app)[:3] == [f"Pending {counts['pending']}", "Sent 1", "Failed 1"]
        assert not screen.has_class("-empty")
        screen.query_one("#alert-tabs", Tabs).active = "alerts-failed"
        await settle(pilot)
        # the next pass sends every pending alert: the failed list is unchanged, the counts are not
        alert_pass(other_store, Scripted(then=DeliveryResult.delivered()), now=NOW + dt.timedelta(days=1))
        screen.post_message(PollTick())
        await settle(pilot)
        assert screen.counts["pending"] == 0
        assert tab_labels(app)[:3] == ["Pending 0", f"Sent {counts['pending'] + 1}", "Failed 1"]
        status = str(screen.query_one(StatusLine).render())
        assert status == "Failed: 1 shown, newest first · 0 waiting to be sent · 1 failed"
