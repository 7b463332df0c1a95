"""`caseclock subject-access REF`: everything held about the person on a case, as JSON and a printable page.

A real case on SQLite and PostgreSQL, with a letter emailed through a real SMTP server (aiosmtpd on
127.0.0.1) and an alert delivered through it, so the letter and alert rows are the ones the product writes.
"""

from __future__ import annotations

import json
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.alert_servers import smtp_server, write_config
from tests.letter_cases import EMAIL, NAME, PROVIDER, make_case

REF = "M-0042"
OTHER_NAME = "Zoe Other-Family"
NOTE = 'Prefers calls after 3pm <b>not</b> mornings & "never" Fridays'
SENT_ON = "2026-03-03"
AS_OF = "2026-04-02"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def case(cli, tmp_path: Path) -> Path:
    """M-0042 with a letter emailed, an alert delivered, a voided note and an exception; M-0043 beside it.

    Returns the config file (the [email] server is gone by then: nothing more is sent).
    """
    with smtp_server() as smtp:
        email = (
            f'\n[email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            'sender = "Example Mediation <letters@provider.example>"\nto = ["team@provider.example"]\n'
        )
        config = write_config(tmp_path / "config.toml", PROVIDER + email)

        def run(as_of: str, *args: str) -> str:
            result = cli("--config", str(config), "--as-of", as_of, *args)
            assert result.code == 0, f"{args}: {result.err}"
            return result.out

        assert make_case(cli, config, "la_notification", REF) == SENT_ON
        run(SENT_ON, "record", REF, "details_changed", "--field", "decision_letter_on=2026-02-20")
        run(SENT_ON, "send", REF, "la_notification")
        [letter] = smtp.take(1)
        run(SENT_ON, "record", REF, "note", "--note", NOTE)
        shown = json.loads(run(SENT_ON, "show", REF, "--json"))
        run(SENT_ON, "void", REF, str(shown["events"][-1]["seq"]), "--reason", "meant for another case")
        run(SENT_ON, "open", "M-0043", "--type", "mediation", "--on", "2026-03-02", "--name", OTHER_NAME)
        run(SENT_ON, "record", "M-0043", "mediation_requested", "--on", "2026-03-02")
        run("2026-03-31", "check")  # the kpi5 warnings of both cases, in one email per case
        assert len(smtp.take(2)) == 2
        run(
            "2026-03-31", "record", REF, "exception", "--clock", "kpi5", "--reason", "parent_unavailable",
            "--until", "2026-04-20", "--note", "away until the 20th",
        )  # fmt: skip
    assert letter.message["Message-ID"]
    return config


def subject_access(cli, config: Path, *args: str):
    return cli("--config", str(config), "--as-of", AS_OF, "subject-access", REF, *args)


def test_the_json_holds_the_fields_events_clocks_letters_alerts_and_window(cli, case: Path, tmp_path: Path):
    out = tmp_path / "M-0042-sar.json"
    result = subject_access(cli, case, "--out", str(out))
    assert result.code == 0, result.err
    page = tmp_path / "M-0042-sar.html"
    assert result.out == f"{REF}: subject access written to {out} and {page}\n"
    assert mode(out) == 0o600
    assert mode(page) == 0o600
    body = json.loads(out.read_text(encoding="utf-8"))

    assert body["subject_access"]["ref"] == REF
    assert body["subject_access"]["as_of"] == AS_OF
    assert body["personal"] == {"name": NAME, "email": EMAIL}
    assert body["fields"]["caseworker"] == "Jo Smith"
    assert body["fields"]["decision_letter_on"] == "2026-02-20"

    events = {event["type"]: event for event in body["events"]}
    opened = events["opened"]
    assert (opened["data"]["name"], opened["data"]["email"]) == (NAME, EMAIL)  # as recorded, not masked
    assert opened["recorded_at"]
    assert opened["actor"]
    note = events["note"]
    assert note["data"]["note"] == NOTE
    assert note["voided"] is True
    assert note["void_reason"] == "meant for another case"
    assert events["exception"]["data"]["note"] == "away until the 20th"

    clocks = {clock["clock"]: clock for clock in body["clocks"]}
    assert clocks["kpi2"]["status"] == "met"
    assert clocks["kpi5"]["status"] == "excepted"
    assert clocks["kpi5"]["exception"] == {
        "reason": "parent_unavailable",
        "until": "2026-04-20",
        "note": "away until the 20th",
    }

    [sent] = body["documents"]["letters_sent"]
    la_notified = events["la_notified"]
    assert (sent["kind"], sent["status"], sent["event_seq"]) == (
        "la_notification",
        "recorded",
        la_notified["seq"],
    )
    assert sent["sent_at"]
    assert body["documents"]["letters_recorded"] == [
        {
            "seq": la_notified["seq"],
            "type": "la_notified",
            "on": SENT_ON,
            "message_id": sent["message_id"],
            "voided": False,
        }
    ]

    assert body["alerts"], "the kpi5 warning recorded by check"
    assert {alert["ref"] for alert in body["alerts"]} == {REF}
    assert {alert["status"] for alert in body["alerts"]} == {"sent"}
    assert all(alert["channel"] and alert["recipient"] and alert["created_at"] for alert in body["alerts"])
    assert all(alert["payload"]["ref"] == REF for alert in body["alerts"])

    windows = {window["window"]: window for window in body["windows"]}
    assert windows["reg33_contact"]["due_on"] == "2026-04-20"  # 2 months after the decision letter
    assert windows["tribunal_appeal"]["waiting_for"] == ["certificate_issued"]

    text = out.read_text(encoding="utf-8") + page.read_text(encoding="utf-8")
    assert OTHER_NAME not in text
    assert "M-0043" not in text


class _Page(HTMLParser):
    """The page's text and its open elements at the end (an unclosed element means a broken page)."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_opens_in_a_browser_and_shows_the_name_and_the_note_as_text(cli, case, tmp_path):
    out = tmp_path / "sar.json"
    assert subject_access(cli, case, "--out", str(out)).code == 0
    html = (tmp_path / "sar.html").read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    assert "@page { size: A4 portrait;" in html
    assert "<b>not</b>" not in html  # free text is escaped, never markup
    parser = _Page()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    text = " ".join(" ".join(parser.text).split())
    assert f"Subject access: case {REF}" in text
    assert f"Name {NAME}" in text
    assert EMAIL in text
    assert " ".join(NOTE.split()) in text
    assert "void: meant for another case" in text
    assert "Appeal to the First-tier Tribunal" in text
    assert "la_notification recorded" in text  # the letter, and the step it recorded


def test_an_existing_file_is_refused_unless_forced(cli, case, tmp_path: Path) -> None:
    out = tmp_path / "sar.json"
    out.write_text("an earlier response\n", encoding="utf-8")
    out.chmod(0o644)
    result = subject_access(cli, case, "--out", str(out))
    assert result.code == 2
    assert result.err == (
        f"caseclock: --out={out}: choose a file that does not exist, or add --force to replace it\n"
    )
    assert out.read_text(encoding="utf-8") == "an earlier response\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("sar", ".sar"))) == ["sar.json"]

    page_only = tmp_path / "other.json"
    (tmp_path / "other.html").write_text("kept\n", encoding="utf-8")
    assert subject_access(cli, case, "--out", str(page_only)).code == 2
    assert not page_only.exists()
    assert (tmp_path / "other.html").read_text(encoding="utf-8") == "kept\n"

    result = subject_access(cli, case, "--out", str(out), "--force")
    assert result.code == 0, result.err
    assert json.loads(out.read_text(encoding="utf-8"))["ref"] == REF
    assert mode(out) == 0o600


def test_an_unknown_reference_is_refused_and_nothing_is_written(cli, case, tmp_path: Path) -> None:
    out = tmp_path / "sar.json"
    result = cli("--config", str(case), "subject-access", "M-9999", "--out", str(out))
    assert result.code == 2
    assert (
        result.err
        == "caseclock: case M-9999: no case has this reference; `caseclock cases --all` lists them\n"
    )
    assert result.out == ""
    assert list(tmp_path.glob("sar*")) == []


def test_a_folder_gets_the_default_name_and_an_html_name_is_refused(cli, case, tmp_path: Path) -> None:
    folder = tmp_path / "responses"
    folder.mkdir()
    result = subject_access(cli, case, "--out", str(folder), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "ref": REF,
        "json": str(folder / "M-0042-sar.json"),
        "html": str(folder / "M-0042-sar.html"),
    }
    result = subject_access(cli, case, "--out", str(tmp_path / "sar.html"))
    assert result.code == 2
    assert "name the JSON file" in result.err
    assert not (tmp_path / "sar.html").exists()


def test_after_erasure_the_response_says_erased_and_holds_no_personal_value(
    cli, case, tmp_path: Path
) -> None:
    erased = cli(
        "--config", str(case), "--as-of", AS_OF, "erase", REF, "--reason", "request of the data subject"
    )
    assert erased.code == 0, erased.err
    out = tmp_path / "after.json"
    result = subject_access(cli, case, "--out", str(out))
    assert result.code == 0, result.err
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["personal"] == {"name": "erased", "email": "erased"}
    assert body["erased"]["reason"] == "request of the data subject"
    events = {event["type"]: event for event in body["events"]}
    assert events["note"]["data"]["note"] == "erased"
    text = out.read_text(encoding="utf-8") + (tmp_path / "after.html").read_text(encoding="utf-8")
    for value in (NAME, EMAIL, NOTE, "away until the 20th", "meant for another case"):
        assert value not in text
    assert "erased" in (tmp_path / "after.html").read_text(encoding="utf-8")
