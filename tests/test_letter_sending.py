"""`caseclock send`: a real SMTP server (aiosmtpd on 127.0.0.1) receives the letter with its PDF, and the
event is recorded once with the Message-ID, on SQLite and PostgreSQL. A failed send records nothing, and a
crash between the send and the recording neither loses the event nor sends the letter twice."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pypdf import PdfReader

from tests.alert_servers import smtp_server, write_config
from tests.letter_cases import EMAIL, LA_ADDRESS, NAME, PROVIDER, make_case
from tracker.store import Store
from tracker.store.engine import make_engine
from tracker.store.letters import PENDING, RECORDED, SENT, LetterSends


def config_for(tmp_path, port: int, extra: str = ""):
    email = f"""
[email]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "Example Mediation <letters@provider.example>"
"""
    return write_config(tmp_path / "config.toml", PROVIDER + email + extra)


def letter_rows(db_url, rules):
    engine = make_engine(db_url)
    try:
        return LetterSends(Store(engine, rules)).all()
    finally:
        engine.dispose()


def events_of(cli, config, ref: str, event_type: str) -> list[dict]:
    shown = json.loads(cli("--config", str(config), "show", ref, "--json").out)
    return [e for e in shown["events"] if e["type"] == event_type]


def attachment_text(mail) -> str:
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_a_certificate_arrives_with_its_pdf_and_the_event_is_recorded_once(
    cli, tmp_path, db_url, rules
) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "certificate_after_mediation", "M-0042")
        sent = cli("--config", str(config), "--as-of", as_of, "send", "M-0042", "certificate_after_mediation")
        assert sent.code == 0, sent.err
        assert (
            sent.out == "M-0042: certificate_after_mediation sent to 2 addresses; "
            "certificate_issued recorded as event 5\n"
        )
        [mail] = smtp.take(1)
        again = cli(
            "--config", str(config), "--as-of", as_of, "send", "M-0042", "certificate_after_mediation"
        )
        assert smtp.drain() == []
    assert sorted(mail.recipients) == sorted([EMAIL, LA_ADDRESS])
    assert mail.message["Subject"] == "Mediation certificate: M-0042"
    text = attachment_text(mail)
    assert "Mediation certificate" in text
    assert f"Issued to: {NAME}" in text
    assert "Certificate: After mediation (s.55(5))" in text
    # The name is in the document alone: not in the subject, the body or the command's output.
    body = mail.message.get_body(preferencelist=("plain",)).get_content()
    assert NAME not in body + str(mail.message["Subject"]) + sent.out + sent.err
    [event] = events_of(cli, config, "M-0042", "certificate_issued")
    assert event["data"] == {"kind": "after_mediation", "message_id": mail.message["Message-ID"]}
    assert event["on"] == as_of
    # Sending it again is refused: a case has one certificate.
    assert again.code == 2
    assert "certificate_issued" in again.err
    assert len(events_of(cli, config, "M-0042", "certificate_issued")) == 1
    assert [(r.kind, r.status) for r in letter_rows(db_url, rules)] == [
        ("certificate_after_mediation", RECORDED)
    ]


@pytest.mark.parametrize(
    ("kind", "event_type", "to"),
    [
        ("la_notification", "la_notified", [LA_ADDRESS]),
        ("meeting_confirmation", "confirmation_sent", [EMAIL, LA_ADDRESS]),
    ],
)
def test_the_notification_and_the_confirmation_record_their_kpi_events(
    cli, tmp_path, kind, event_type, to
) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, kind, "M-1")
        sent = cli("--config", str(config), "--as-of", as_of, "send", "M-1", kind, "--json")
        assert sent.code == 0, sent.err
        [mail] = smtp.take(1)
    assert sorted(mail.recipients) == sorted(to)
    body = json.loads(sent.out)
    assert body["message_id"] == mail.message["Message-ID"]
    assert body["event"]["type"] == event_type
    [event] = events_of(cli, config, "M-1", event_type)
    assert event["data"]["message_id"] == mail.message["Message-ID"]


def test_a_failed_send_records_nothing_and_says_why_in_one_line(cli, tmp_path, db_url, rules) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "la_notification", "M-1")
        smtp.refuse.add(LA_ADDRESS)
        failed = cli("--config", str(config), "--as-of", as_of, "send", "M-1", "la_notification")
        assert smtp.drain() == []
        assert failed.code == 1
        assert failed.err.count("\n") == 1
        assert failed.err.startswith("caseclock: M-1: la_notification not sent, nothing recorded: ")
        assert f"email recipient {LA_ADDRESS}: the server refused it (550" in failed.err
        assert events_of(cli, config, "M-1", "la_notified") == []
        assert letter_rows(db_url, rules) == []
        # Put right, the same command sends it.
        smtp.refuse.clear()
        assert cli("--config", str(config), "--as-of", as_of, "send", "M-1", "la_notification").code == 0
        assert len(smtp.take(1)) == 1
    assert len(events_of(cli, config, "M-1", "la_notified")) == 1


def test_an_unreachable_server_records_nothing(cli, tmp_path, db_url, rules) -> None:
    from tests.alert_servers import free_port

    config = config_for(tmp_path, free_port())
    as_of = make_case(cli, config, "la_notification", "M-1")
    failed = cli("--config", str(config), "--as-of", as_of, "send", "M-1", "la_notification")
    assert failed.code == 1
    assert "check email.host and email.port" in failed.err
    assert events_of(cli, config, "M-1", "la_notified") == []
    assert letter_rows(db_url, rules) == []


def test_a_crash_between_the_send_and_the_record_neither_loses_nor_repeats(
    cli, tmp_path, db_url, rules, monkeypatch
) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "certificate_deemed", "M-9")
        real = LetterSends.record_event

        def crash(*args, **kwargs):
            raise RuntimeError("power cut")

        monkeypatch.setattr(LetterSends, "record_event", crash)
        crashed = cli("--config", str(config), "--as-of", as_of, "send", "M-9", "certificate_deemed")
        assert crashed.code == 1
        [mail] = smtp.take(1)
        assert events_of(cli, config, "M-9", "certificate_issued") == []
        assert [r.status for r in letter_rows(db_url, rules)] == [SENT]

        monkeypatch.setattr(LetterSends, "record_event", real)
        retried = cli("--config", str(config), "--as-of", as_of, "send", "M-9", "certificate_deemed")
        assert retried.code == 0, retried.err
        assert "was sent before the interruption; certificate_issued recorded now" in retried.out
        assert smtp.drain() == []  # not sent twice
    [event] = events_of(cli, config, "M-9", "certificate_issued")
    assert event["data"] == {"kind": "deemed", "message_id": mail.message["Message-ID"]}
    assert [r.status for r in letter_rows(db_url, rules)] == [RECORDED]


def test_a_crash_during_the_send_sends_again_under_the_same_message_id(
    cli, tmp_path, db_url, rules, monkeypatch
) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "la_notification", "M-3")
        real = LetterSends.mark_sent

        def crash(*args, **kwargs):
            raise RuntimeError("power cut")

        monkeypatch.setattr(LetterSends, "mark_sent", crash)
        assert cli("--config", str(config), "--as-of", as_of, "send", "M-3", "la_notification").code == 1
        [first] = smtp.take(1)
        assert [r.status for r in letter_rows(db_url, rules)] == [PENDING]
        monkeypatch.setattr(LetterSends, "mark_sent", real)
        retried = cli("--config", str(config), "--as-of", as_of, "send", "M-3", "la_notification")
        assert retried.code == 0, retried.err
        [second] = smtp.take(1)
    # Whether the server had it is unknown, so it goes again, as the same message to the mail clients.
    assert second.message["Message-ID"] == first.message["Message-ID"]
    [event] = events_of(cli, config, "M-3", "la_notified")
    assert event["data"]["message_id"] == first.message["Message-ID"]


# ------------------------------------------------------------------ refusals: exit 2, nothing written


def test_refusals_name_the_field_the_value_and_the_fix(cli, tmp_path, db_url, rules) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "la_notification", "M-1")
        base = ("--config", str(config), "--as-of", as_of, "send")
        not_yet = cli(*base, "M-1", "certificate_deemed")
        unknown = cli(*base, "M-1", "la_notifcation")
        # A case without an address to send to, and an LA whose address is not configured.
        assert cli(*base[:4], "open", "M-2", "--type", "mediation", "--on", "2026-03-02",
                   "--field", "la=Suffolk County Council").code == 0  # fmt: skip
        assert cli(*base[:4], "record", "M-2", "mediation_requested", "--on", "2026-03-02").code == 0
        no_la = cli(*base, "M-2", "la_notification")
        assert cli(*base[:4], "record", "M-2", "meeting_scheduled", "--meeting-date", "2026-03-20").code == 0
        no_contact = cli(*base, "M-2", "meeting_confirmation")
        assert smtp.drain() == []
    no_email = cli("--config", str(write_config(tmp_path / "bare.toml", PROVIDER)), "--as-of", as_of,
                   "send", "M-1", "la_notification")  # fmt: skip
    for result in (not_yet, unknown, no_la, no_contact, no_email):
        assert result.code == 2, result.out
        assert result.err.count("\n") == 1
    assert "no certificate_deemed yet" in not_yet.err
    assert "(did you mean 'la_notification'?)" in unknown.err
    assert no_la.err == (
        "caseclock: letters.la_addresses=Suffolk County Council: add its address to the config file: "
        '[letters.la_addresses] "Suffolk County Council" = ADDRESS\n'
    )
    assert no_contact.err.startswith(
        "caseclock: email=(empty): M-2 has no address to send meeting_confirmation"
    )
    assert no_email.err.startswith("caseclock: email=(not configured): add an [email] section")
    assert letter_rows(db_url, rules) == []
    assert events_of(cli, config, "M-1", "la_notified") == []


def test_logs_carry_the_reference_and_the_kind_only(cli, tmp_path, caplog) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "meeting_confirmation", "M-5")
        with caplog.at_level(logging.DEBUG, logger="caseclock"):
            assert (
                cli("--config", str(config), "--as-of", as_of, "send", "M-5", "meeting_confirmation").code
                == 0
            )
        smtp.take(1)
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("caseclock")]
    assert lines == ["M-5 meeting_confirmation: sent"]
    for line in lines:
        assert NAME not in line
        assert EMAIL not in line


def test_an_addressee_the_server_refuses_fails_the_send_though_the_others_got_it(
    cli, tmp_path, db_url, rules
) -> None:
    with smtp_server() as smtp:
        config = config_for(tmp_path, smtp.port)
        as_of = make_case(cli, config, "meeting_confirmation", "M-4")
        smtp.refuse.add(LA_ADDRESS)
        failed = cli("--config", str(config), "--as-of", as_of, "send", "M-4", "meeting_confirmation")
        [first] = smtp.take(1)
        assert first.recipients == [EMAIL]
        assert failed.code == 1
        assert f"email recipient {LA_ADDRESS}: the server refused it (550" in failed.err
        assert events_of(cli, config, "M-4", "confirmation_sent") == []
        assert letter_rows(db_url, rules) == []
        # Sent again once the address is put right: the same message to the mail clients.
        smtp.refuse.clear()
        assert cli("--config", str(config), "--as-of", as_of, "send", "M-4", "meeting_confirmation").code == 0
        [second] = smtp.take(1)
    assert second.message["Message-ID"] == first.message["Message-ID"]
    assert len(events_of(cli, config, "M-4", "confirmation_sent")) == 1
