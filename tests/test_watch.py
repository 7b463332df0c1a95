"""`caseclock watch`: its jobs on a real scheduler, clean shutdown, crash safety, and two watchers at once.

In-process tests run the `Watcher` on a real BackgroundScheduler and wait on its job events. The others run
`caseclock watch` as a subprocess against a real SMTP server: stopped with SIGTERM/SIGINT, killed with
SIGKILL between recording and delivering (using the test-only pause hooks), and run twice at once on one
PostgreSQL database. Time is injected (`--as-of`, a clock parameter); waits are on queues with timeouts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from tests.alert_servers import WAIT, HttpServer, email_config, free_port, smtp_server, write_config
from tests.conftest import NO_POSTGRES, NOW, POSTGRES_URL, reset_postgres, shared_rules
from tracker.alerts import outbox, scheduler
from tracker.cli.commands.alerts import build_channels
from tracker.domain.config import parse_config
from tracker.store import Store
from tracker.store.engine import make_engine, upgrade

D = dt.date.fromisoformat
LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parents[1]
TODAY = D("2026-06-30")


def add_cases(store: Store, count: int, on: str = "2026-03-02") -> None:
    """`count` mediation cases requested on `on` (a Monday): KPI 2 due Thursday, warned Wednesday."""
    for number in range(1, count + 1):
        ref = f"M-{number:04d}"
        store.open_case(ref, "mediation", D(on), {"caseworker": "Jo Smith"}, "tester", NOW, TODAY)
        store.record(ref, "mediation_requested", D(on), {}, "tester", NOW, TODAY)


def watcher(store: Store, config: Path, now, as_of=None, log=None) -> scheduler.Watcher:
    settings = parse_config(__import__("tomllib").loads(config.read_text()), config)
    rules = store.rules
    channels = build_channels(settings, {})
    return scheduler.Watcher(
        store.engine, rules.packs, rules.calendar, settings, channels, now=now, as_of=as_of, log=log
    )


def at(text: str):
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=LONDON)
    return lambda: moment


# ------------------------------------------------------------------------------------------ in process


def test_the_catch_up_job_runs_at_start_on_a_real_scheduler(store, tmp_path, caplog) -> None:
    add_cases(store, 2)
    with smtp_server() as smtp:
        config = write_config(tmp_path / "c.toml", email_config(smtp.port))
        job = watcher(store, config, at("2026-03-04 10:00"), log=logging.getLogger("test.watch"))
        events: queue.Queue = queue.Queue()
        background = scheduler.make_scheduler(blocking=False)
        background.add_listener(events.put, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        job.add_jobs(background)
        caplog.set_level(logging.INFO, "test.watch")
        background.start()
        try:
            event = events.get(timeout=WAIT)
        finally:
            background.shutdown(wait=True)
        assert (event.job_id, event.code, event.exception) == ("catch-up", EVENT_JOB_EXECUTED, None)
        mails = smtp.take(2 + 2 + 1)  # warn-1 to team and Jo per case, and one digest each for team and Jo
        assert sorted(m.message["To"] for m in mails).count("team@provider.example") == 3
    passes = [r.message for r in caplog.records if r.message.startswith("pass as of")]
    assert len(passes) == 1
    assert passes[0].startswith(
        "pass as of 2026-03-04: 6 due, 6 new, 0 cancelled; 6 sent, 0 to retry, 0 failed, 0 pending ("
    )
    assert len(mails) == 5


def test_the_daily_job_is_a_cron_at_send_at_on_weekdays_in_london(store, tmp_path) -> None:
    config = write_config(tmp_path / "c.toml", email_config(free_port()) + '\n[alerts]\nsend_at = "07:45"\n')
    job = watcher(store, config, at("2026-03-04 10:00"))
    background = scheduler.make_scheduler(blocking=False)
    job.add_jobs(background)
    daily = background.get_job("daily")
    fire = daily.trigger.get_next_fire_time(None, dt.datetime(2026, 3, 27, 12, 0, tzinfo=LONDON))
    assert fire == dt.datetime(
        2026, 3, 30, 7, 45, tzinfo=LONDON
    )  # Friday noon -> Monday, after the clocks change
    assert fire.utcoffset() == dt.timedelta(hours=1)
    assert {j.id for j in background.get_jobs()} == {"catch-up", "daily", "retry"}


def test_no_daily_pass_on_a_bank_holiday(store, tmp_path) -> None:
    add_cases(store, 1, on="2026-03-31")  # KPI 2 due Tuesday 7 April (Easter)
    with smtp_server() as smtp:
        config = write_config(tmp_path / "c.toml", email_config(smtp.port))
        assert watcher(store, config, at("2026-04-06 08:30")).daily() is None  # Easter Monday
        assert outbox.list_alerts(store.engine) == []
        report = watcher(store, config, at("2026-04-07 08:30")).daily()
        assert report is not None
        assert report.as_of == D("2026-04-07")
        assert len(smtp.take(report.delivered.sent)) == 6


@pytest.mark.parametrize(
    ("now", "as_of"),
    [
        ("2026-03-10 08:29", "2026-03-09"),
        ("2026-03-10 08:30", "2026-03-10"),
        ("2026-07-14 08:31", "2026-07-14"),
    ],
)
def test_the_catch_up_decides_as_of_the_last_day_whose_send_time_passed(store, tmp_path, now, as_of) -> None:
    config = write_config(tmp_path / "c.toml", email_config(free_port()))
    assert watcher(store, config, at(now)).decision_date() == D(as_of)


def test_the_retry_job_waits_for_the_backoff_then_delivers_once(store, tmp_path) -> None:
    add_cases(store, 1)
    port = free_port()
    config = write_config(tmp_path / "c.toml", email_config(port))
    down = watcher(store, config, at("2026-03-04 08:30")).catch_up()
    assert down is not None
    assert down.pending == 4
    assert not down.ok
    with smtp_server(port) as smtp:
        assert watcher(store, config, at("2026-03-04 08:30:30")).retry().sent == 0  # backoff: a minute
        assert watcher(store, config, at("2026-03-04 08:31:30")).retry().sent == 4
        assert watcher(store, config, at("2026-03-04 08:40")).retry().sent == 0
        assert len(smtp.take(4)) == 4
        assert smtp.drain() == []


# ------------------------------------------------------------------------------------------ subprocesses


class Watch:
    """`caseclock watch` in a subprocess, with its log lines in a queue."""

    def __init__(self, db_url: str, config: Path, as_of: str = "2026-03-04", **env: str) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CASECLOCK_")}
        environ.update(env)
        command = [sys.executable, "-m", "tracker.cli", "--db", db_url, "--config", str(config)]
        self.process = subprocess.Popen(
            [*command, "--as-of", as_of, "watch"],
            cwd=ROOT,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 4 * WAIT) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            self.seen.append(line)
            if text in line:
                return line

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=WAIT)
        self._reader.join(WAIT)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=WAIT)
        self._reader.join(WAIT)
        if self.process.stderr is not None:
            self.process.stderr.close()


def read_fifo(path: Path) -> str:
    """The line a paused `watch` writes to the FIFO `path` (it blocks until we read)."""
    got: queue.Queue[str] = queue.Queue()

    def read() -> None:
        with path.open(encoding="utf-8") as fifo:
            got.put(fifo.readline().strip())

    threading.Thread(target=read, daemon=True).start()
    return got.get(timeout=4 * WAIT)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_watch_sends_at_start_logs_one_line_per_pass_and_stops_cleanly(store, db_url, tmp_path, sig) -> None:
    add_cases(store, 1)
    with smtp_server() as smtp:
        config = write_config(tmp_path / "c.toml", email_config(smtp.port))
        watch = Watch(db_url, config)
        try:
            line = watch.wait_for("pass as of 2026-03-04")
            assert "4 due, 4 new, 0 cancelled; 4 sent, 0 to retry, 0 failed, 0 pending" in line
            assert len(smtp.take(4)) == 4  # warnings and digests to the team and to Jo
            assert watch.stop(sig) == 0
        finally:
            watch.kill()
    log = [*watch.seen, *watch.lines.queue]  # the reader has finished: the process has exited
    passes = [line for line in log if "caseclock watch: pass as of" in line]
    assert len(passes) == 1
    assert log[-1].endswith("caseclock watch: stopped")
    assert f"caseclock watch: stopping ({signal.Signals(sig).name})" in log[-2]
    assert "Traceback" not in "\n".join(log)


def test_a_second_signal_during_the_stop_does_not_cut_it_short(store, db_url, tmp_path) -> None:
    add_cases(store, 2)
    web = HttpServer()
    release = threading.Event()
    web.hold = release  # the first alert stays on the wire until the test lets it go
    config = write_config(tmp_path / "c.toml", f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n')
    watch = Watch(db_url, config)
    try:
        web.take(1)
        watch.process.send_signal(signal.SIGTERM)
        watch.wait_for("stopping (SIGTERM)")
        watch.process.send_signal(signal.SIGTERM)
        watch.wait_for("already stopping (SIGTERM)")
        assert watch.process.poll() is None  # still finishing the alert on the wire
        release.set()
        code = watch.process.wait(timeout=WAIT)
        watch._reader.join(WAIT)
    finally:
        release.set()
        watch.kill()
        web.stop()
    log = [*watch.seen, *watch.lines.queue]
    assert code == 0
    assert log[-1].endswith("caseclock watch: stopped")
    assert "Traceback" not in "\n".join(log)
    assert web.drain() == []  # the second alert was not started after the stop
    statuses = sorted(r.status for r in outbox.list_alerts(store.engine))
    assert statuses == ["pending", "sent"]  # the one on the wire marked, the other handed back


@pytest.mark.parametrize("moment", ["before", "after"])
def test_a_watch_killed_between_recording_and_delivering_loses_nothing(
    store, db_url, tmp_path, moment
) -> None:
    add_cases(store, 3)  # 6 alerts: a warning to the team and to Jo per case (digests off)
    fifo = tmp_path / "pause"
    os.mkfifo(fifo)
    with smtp_server() as smtp:
        config = write_config(tmp_path / "c.toml", email_config(smtp.port) + "\n[alerts]\ndigest = false\n")
        hook = {f"CASECLOCK_TEST_PAUSE_{moment.upper()}_DELIVERY": str(fifo)}
        crashed = Watch(db_url, config, **hook)
        try:
            paused_on = read_fifo(fifo)
        finally:
            crashed.process.send_signal(signal.SIGKILL)
            crashed.kill()
        recorded = {r.id: r.status for r in outbox.list_alerts(store.engine)}
        assert len(recorded) == 6
        # Claimed by the killed process (no transaction was open while it sent): a pass on this machine
        # sees the claimer gone and takes them back without waiting for the lease to run out.
        assert set(recorded.values()) == {"sending"}
        assert paused_on in recorded
        restarted = Watch(db_url, config)
        try:
            restarted.wait_for("pass as of 2026-03-04")
            mails = smtp.take(7 if moment == "after" else 6)
            assert restarted.stop() == 0
        finally:
            restarted.kill()
        assert smtp.drain() == []
    counts = Counter(m.alert_id for m in mails)
    assert set(counts) == set(recorded)  # every alert delivered, none lost
    repeats = {alert for alert, n in counts.items() if n > 1}
    assert repeats == ({paused_on} if moment == "after" else set())  # at most one repeat, with the same id
    assert max(counts.values()) <= 2
    assert {r.status for r in outbox.list_alerts(store.engine)} == {"sent"}


@pytest.mark.postgres
def test_two_watch_processes_on_one_postgres_deliver_each_alert_once(tmp_path) -> None:
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    engine = make_engine(POSTGRES_URL)
    try:
        reset_postgres(engine)
        upgrade(engine)
        add_cases(Store(engine, shared_rules()), 40)  # 80 warnings + 2 digests
        with smtp_server() as smtp:
            config = write_config(tmp_path / "c.toml", email_config(smtp.port))
            watches = [Watch(POSTGRES_URL, config), Watch(POSTGRES_URL, config)]
            try:
                lines = [w.wait_for("pass as of 2026-03-04") for w in watches]
                mails = smtp.take(82)
                for w in watches:
                    assert w.stop() == 0
            finally:
                for w in watches:
                    w.kill()
            assert smtp.drain() == []
        counts = Counter(m.alert_id for m in mails)
        assert len(counts) == 82
        assert set(counts.values()) == {1}
        sent = [int(line.split("; ")[1].split(" sent")[0]) for line in lines]
        assert sum(sent) == 82
    finally:
        engine.dispose()
