"""SIGKILL during `erase` leaves the case either untouched or fully erased, never half.

The erase runs in a subprocess with the test-only fault hook (`CASECLOCK_TEST_ERASE_FIFO`): inside its
transaction, after the delete and the erasure event are written and before the commit, it writes `ready`
to a FIFO and waits. The test reads that line (no sleeping: the read blocks until the process is there),
kills it with SIGKILL and checks the case is untouched; an erase run to the end then leaves it fully erased.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tracker.cli.commands.personal import PAUSE_ENV
from tracker.store.engine import make_engine

AS_OF = "2026-06-30"
NAME = "Quentin Marchbanks-Oduya"
NOTE = "Prefers calls after Evensong"


def caseclock(db_url: str, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASECLOCK_")}
    env.update({"CASECLOCK_DB": db_url, "CASECLOCK_AS_OF": AS_OF, **(extra_env or {})})
    return subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(db_url: str, *args: str) -> str:
    process = caseclock(db_url, *args)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def held(db_url: str) -> tuple[int, int]:
    """(values held apart, erasure events) of the case."""
    engine = make_engine(db_url, create=False)
    try:
        with engine.connect() as connection:
            values = connection.execute(text("SELECT count(*) FROM personal_values")).scalar_one()
            erasures = connection.execute(
                text("SELECT count(*) FROM events WHERE type = 'personal_data_erased'")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(values), int(erasures)


def test_sigkill_inside_the_erase_leaves_the_case_untouched_then_an_erase_completes(
    cli, db_url, tmp_path
) -> None:
    assert cli("--as-of", AS_OF, "open", "M-1", "--on", "2026-06-01", "--name", NAME).code == 0
    assert cli("--as-of", AS_OF, "record", "M-1", "note", "--on", "2026-06-02", "--note", NOTE).code == 0
    assert held(db_url) == (2, 0)

    fifo = tmp_path / "erase.fifo"
    os.mkfifo(fifo)
    process = caseclock(
        db_url, "erase", "M-1", "--reason", "retention test", extra_env={PAUSE_ENV: str(fifo)}
    )
    try:
        with fifo.open(encoding="utf-8") as signal_line:
            line = signal_line.readline()  # blocks until the erase is inside its transaction
        assert line.startswith("ready")
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # reaps it and closes its pipes
    assert process.returncode == -signal.SIGKILL

    assert held(db_url) == (2, 0), "killed before the commit: untouched"
    shown = json.loads(run(db_url, "show", "M-1", "--json", "--personal"))
    assert shown["personal"]["name"] == NAME
    assert shown["erased"] is None

    out = run(db_url, "erase", "M-1", "--reason", "retention test")
    assert out.startswith("M-1: personal data erased (2 values)")
    assert held(db_url) == (0, 1), "fully erased"
    shown = json.loads(run(db_url, "show", "M-1", "--json", "--personal"))
    assert shown["personal"]["name"] == "erased"
    assert shown["erased"]["reason"] == "retention test"
    assert Path(fifo).exists()
