"""Benchmark of deadline alerts: one `check` pass (decide and enqueue) over 100,000 demo cases, and the
delivery rate to a local SMTP server.

Run from the project root:

    PYTHONPATH=. .venv/bin/python bench/bench_alerts.py [--cases 100000] [--messages 1000]

Targets (issue 3): at most 2 s per pass at 100,000 cases; at least 50 messages/s.

* The cases come from `tracker.cli.demo.generate` (seed 7), imported with `Store.import_histories` into a
  temporary SQLite file. Routing: `email.to`, a caseworker address for each demo caseworker, an escalation
  address and one webhook, so every due alert becomes 4-5 outbox rows.
* "first pass" is the first decision ever on that database (every alert of every open clock is new:
  catch-up); "same day again" is a rerun that records nothing new; "next working day" decides the next day.
  Each pass is `tracker.alerts.outbox.enqueue` with the pure rules: read open clocks, decide, insert, cancel.
* Delivery: N synthetic alerts recorded in a fresh SQLite outbox, delivered by `tracker.alerts.outbox.deliver`
and
  the real `EmailNotifier` (one SMTP connection per pass, one transaction per message) to aiosmtpd on
  127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from notifiers.email import EmailNotifier
from tracker.alerts import outbox
from tracker.alerts.dispatch import decide
from tracker.alerts.rules import EMAIL, Alert, alert_id, horizon
from tracker.cli.demo import generate
from tracker.domain.calendar import WorkingCalendar
from tracker.domain.config import Settings
from tracker.domain.rules import discover_packs
from tracker.domain.workflow import Rules
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade

AS_OF = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 8, 30, tzinfo=dt.UTC)
SETTINGS = Settings.model_validate(
    {
        "caseworkers": {
            name: name.lower().replace(" ", ".") + "@provider.example"
            for name in ["Jo Smith", "Sam Patel", "Alex Turner", "Priya Shah", "Chris Evans", "Morgan Lee"]
        },
        "email": {
            "host": "127.0.0.1",
            "sender": "alerts@provider.example",
            "to": ["team@provider.example"],
            "escalate_to": ["manager@provider.example"],
        },
        "webhooks": [{"name": "team-channel", "url": "https://example.invalid/hook"}],
    }
)


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores"


def build(path: Path, cases: int, rules: Rules) -> float:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    started = time.perf_counter()
    Store(engine, rules).import_histories(generate(rules, cases, 7, AS_OF, NOW), NOW)
    engine.dispose()
    return time.perf_counter() - started


def one_pass(engine: Any, rules: Rules, as_of: dt.date) -> tuple[float, outbox.Enqueued]:
    started = time.perf_counter()
    result = outbox.enqueue(
        engine,
        rules.packs,
        horizon(as_of, rules.calendar, SETTINGS.alerts),
        decide(SETTINGS, rules.calendar, as_of, digest=True),
        NOW,
    )
    return time.perf_counter() - started, result


def bench_pass(cases: int, rules: Rules) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        seconds = build(path, cases, rules)
        print(f"built {cases:,} demo cases in {seconds:.1f} s ({path.stat().st_size / 1e6:.0f} MB SQLite)")
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as connection:
                clocks, _ids, _unknown = outbox.open_clocks(connection, rules.packs, dt.date.max)
            print(f"open clocks: {len(clocks):,}")
            next_day = rules.calendar.next_working_day(AS_OF)
            for label, as_of in (
                ("first pass", AS_OF),
                ("same day again", AS_OF),
                ("next working day", next_day),
            ):
                seconds, result = one_pass(engine, rules, as_of)
                print(
                    f"  {label:<17} as of {as_of}: {seconds:6.2f} s  "
                    f"({result.due:,} alerts due, {len(result.new):,} recorded, {result.cancelled} cancelled)"
                )
        finally:
            engine.dispose()


class _Count:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def bench_delivery(messages: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Count()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'outbox.db'}")
            try:
                upgrade(engine)
                alerts = [_alert(number) for number in range(messages)]
                outbox.enqueue(engine, discover_packs(), AS_OF, lambda _clocks: alerts, NOW)
                email = SETTINGS.email
                assert email is not None
                notifier = EmailNotifier(email.model_copy(update={"port": port, "security": "none"}), None)
                started = time.perf_counter()
                done = outbox.deliver(engine, {EMAIL: notifier}, lambda: NOW)
                seconds = time.perf_counter() - started
                notifier.close()
            finally:
                engine.dispose()
    finally:
        controller.stop()
    assert done.sent == handler.count == messages, (done, handler.count)
    print(
        f"delivered {messages:,} emails to aiosmtpd on 127.0.0.1 in {seconds:.2f} s: "
        f"{messages / seconds:,.0f} messages/s"
    )


def _alert(number: int) -> Alert:
    ref = f"M-{number:06d}"
    ident = alert_id(ref, "bench", 1, "warn-1", EMAIL, "team@provider.example")
    payload = {
        "id": ident,
        "type": "clock.warning",
        "ref": ref,
        "clock": "bench",
        "kpi": "KPI 2",
        "title": "LA/ICB notified",
        "due_on": "2026-03-11",
        "working_days_left": 1,
        "action": "Notify the LA and ICB that the parent wishes to mediate",
    }
    return Alert(ident, ref, "bench", 1, "warn-1", EMAIL, "team@provider.example", AS_OF, payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    print(f"bench_alerts on {machine()}")
    rules = Rules(discover_packs(), WorkingCalendar())
    bench_pass(args.cases, rules)
    bench_delivery(args.messages)


if __name__ == "__main__":
    main()
