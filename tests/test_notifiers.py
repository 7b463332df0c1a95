"""The email and webhook notifiers against real servers on 127.0.0.1, and what a user can get wrong.

Email: aiosmtpd (plain, STARTTLS and implicit TLS with a throwaway certificate, login). Webhooks: a stdlib
ThreadingHTTPServer with scripted answers. Privacy: a case with a name, contact details and a note sends
none of them anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from notifiers.email import EmailNotifier
from notifiers.webhook import WebhookNotifier, retry_after
from tests.alert_servers import HttpServer, Reply, email_config, free_port, smtp_server, write_config
from tests.conftest import shared_rules
from tracker.alerts.notify import Outcome
from tracker.alerts.rules import Alert, OpenClock, Routing, decide_alerts
from tracker.domain.config import AlertsSettings, EmailSettings, WebhookSettings

D = dt.date.fromisoformat
KPI2 = OpenClock(
    "M-0042", "kpi2", 1, "Jo Smith", D("2026-03-02"), D("2026-03-05"), "KPI 2", "LA/ICB notified",
    "Notify the LA & ICB that the parent wishes to <mediate>",
)  # fmt: skip


def alerts(as_of: str = "2026-03-04", breach: bool = True, **routing: object) -> list[Alert]:
    route = Routing(**{"email": True, "email_to": ("team@provider.example",), **routing})  # type: ignore[arg-type]
    settings = AlertsSettings(breach=breach)
    return decide_alerts([KPI2], D(as_of), shared_rules().calendar, settings, route)


def email_settings(port: int, **changes: object) -> EmailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "a@b.example",
    }
    return EmailSettings.model_validate({**values, **changes})


# ------------------------------------------------------------------------------------------ email


def test_an_email_has_a_triage_subject_text_and_html_parts_and_a_stable_message_id() -> None:
    alert = alerts()[0]
    with smtp_server() as smtp:
        notifier = EmailNotifier(email_settings(smtp.port), None)
        assert notifier.send(alert) == notifier.send(alert)
        notifier.close()
        first, second = smtp.take(2)
    message = first.message
    assert message["Subject"] == "[caseclock] KPI 2 due tomorrow: M-0042"
    assert (first.recipients, message["To"]) == (["team@provider.example"], "team@provider.example")
    assert message["Message-ID"] == second.message["Message-ID"] == f"<{alert.id}@caseclock>"
    assert first.alert_id == alert.id
    text, html = first.part("plain"), first.part("html")
    assert "Due: Thu 5 Mar 2026 (due tomorrow)" in text
    assert "Action: Notify the LA & ICB that the parent wishes to <mediate>" in text
    assert "Notify the LA &amp; ICB that the parent wishes to &lt;mediate&gt;" in html
    assert "<mediate>" not in html


@pytest.mark.parametrize(
    ("as_of", "breach", "subject"),
    [
        ("2026-03-05", True, "KPI 2 due today: M-0042"),
        ("2026-03-06", True, "KPI 2 breached (was due Thu 5 Mar 2026): M-0042"),
        # a warning caught up after its due day, where breach alerts are off
        ("2026-03-06", False, "KPI 2 overdue (was due Thu 5 Mar 2026): M-0042"),
    ],
)
def test_subjects_say_how_urgent(as_of, breach, subject) -> None:
    from notifiers.wording import headline

    assert headline(alerts(as_of, breach)[-1]) == subject


def test_a_recipient_the_server_rejects_fails_for_good_and_the_others_still_go() -> None:
    team, jo = alerts(caseworkers={"Jo Smith": "jo@provider.example"})
    with smtp_server() as smtp:
        smtp.refuse.add("team@provider.example")
        notifier = EmailNotifier(email_settings(smtp.port), None)
        refused, delivered = notifier.send(team), notifier.send(jo)
        notifier.close()
        assert [m.recipients for m in smtp.take(1)] == [["jo@provider.example"]]
    assert refused.outcome is Outcome.FAILED
    assert (
        refused.detail
        == "email recipient team@provider.example: the server refused it (550 5.1.1 no such mailbox)"
    )
    assert delivered.outcome is Outcome.DELIVERED


def test_an_unreachable_server_is_retried_and_named_in_one_line() -> None:
    port = free_port()
    notifier = EmailNotifier(email_settings(port), None)
    first, second = (notifier.send(a) for a in alerts(caseworkers={"Jo Smith": "jo@provider.example"}))
    notifier.close()
    assert first.outcome is second.outcome is Outcome.RETRY
    assert first.detail == (
        f"email.host=127.0.0.1, email.port={port}: cannot send (Connection refused); "
        "check email.host and email.port"
    )
    assert second.detail == first.detail  # the second did not wait for another connection attempt


def test_login_with_the_password_from_the_environment() -> None:
    def check(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"s3cret")
        return AuthResult(success=ok, handled=False)

    with smtp_server(authenticator=check, auth_require_tls=False, auth_exclude_mechanism=["LOGIN"]) as smtp:
        good = EmailNotifier(email_settings(smtp.port, username="alerts"), "s3cret")
        assert good.send(alerts()[0]).outcome is Outcome.DELIVERED
        good.close()
        bad = EmailNotifier(email_settings(smtp.port, username="alerts"), "wrong")
        refused = bad.send(alerts()[0])
        bad.close()
        missing = EmailNotifier(email_settings(smtp.port, username="alerts"), None).send(alerts()[0])
        assert len(smtp.take(1)) == 1
    assert refused.outcome is Outcome.RETRY
    assert refused.detail == (
        "email.username=alerts: the server refused the login (535); "
        "check email.username and CASECLOCK_SMTP_PASSWORD"
    )
    assert missing.outcome is Outcome.RETRY
    assert "CASECLOCK_SMTP_PASSWORD is not" in (missing.detail or "")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a throwaway certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_contexts(certificate) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_starttls_and_implicit_tls(certificate) -> None:
    server_tls, client_tls = tls_contexts(certificate)
    with smtp_server(tls_context=server_tls, require_starttls=True) as smtp:
        notifier = EmailNotifier(email_settings(smtp.port, security="starttls"), None, client_tls)
        assert notifier.send(alerts()[0]).outcome is Outcome.DELIVERED
        notifier.close()
        assert len(smtp.take(1)) == 1
    with smtp_server(ssl_context=server_tls) as smtp:
        notifier = EmailNotifier(email_settings(smtp.port, security="ssl"), None, client_tls)
        assert notifier.send(alerts()[0]).outcome is Outcome.DELIVERED
        notifier.close()
        assert len(smtp.take(1)) == 1


def test_a_tls_setting_that_does_not_match_the_server_is_named(certificate) -> None:
    _server_tls, client_tls = tls_contexts(certificate)
    with smtp_server() as smtp:
        starttls = EmailNotifier(email_settings(smtp.port, security="starttls"), None, client_tls)
        no_starttls = starttls.send(alerts()[0])
        starttls.close()
        implicit = EmailNotifier(
            email_settings(smtp.port, security="ssl", timeout_seconds=5), None, client_tls
        )
        no_tls = implicit.send(alerts()[0])
        implicit.close()
        assert smtp.drain() == []
    assert no_starttls.outcome is Outcome.RETRY
    assert (no_starttls.detail or "").startswith("email.security=starttls: 127.0.0.1 does not offer STARTTLS")
    assert no_tls.outcome is Outcome.RETRY
    assert (no_tls.detail or "").startswith("email.security=ssl: TLS with email.host=127.0.0.1")


# ------------------------------------------------------------------------------------------ webhooks


@pytest.fixture
def web():
    server = HttpServer()
    yield server
    server.stop()


def hook(url: str, fmt: str = "generic", **changes: object) -> WebhookSettings:
    return WebhookSettings.model_validate({"name": "ops", "url": url, "format": fmt, **changes})


def test_a_generic_webhook_posts_the_contract_json_signed_with_the_secret(web) -> None:
    alert = alerts(email=False, webhooks=("ops",))[0]
    notifier = WebhookNotifier(hook(web.url()), "s3cret")
    assert notifier.send(alert).outcome is Outcome.DELIVERED
    notifier.close()
    (request,) = web.take(1)
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Caseclock-Signature"] == expected
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == dict(alert.payload)
    assert request.json()["id"] == alert.id == request.headers["X-Caseclock-Alert-Id"]
    unsigned = WebhookNotifier(hook(web.url()), None)
    unsigned.send(alert)
    unsigned.close()
    assert "X-Caseclock-Signature" not in web.take(1)[0].headers


def test_a_teams_webhook_gets_an_adaptive_card_and_slack_gets_blocks(web) -> None:
    alert = alerts("2026-03-06", email=False, webhooks=("ops",))[-1]
    for fmt in ("teams", "slack"):
        notifier = WebhookNotifier(hook(web.url(), fmt), None)
        assert notifier.send(alert).outcome is Outcome.DELIVERED
        notifier.close()
    teams, slack = (r.json() for r in web.take(2))
    card = teams["attachments"][0]
    assert (teams["type"], card["contentType"]) == ("message", "application/vnd.microsoft.card.adaptive")
    assert card["content"]["type"] == "AdaptiveCard"
    assert card["content"]["body"][0]["text"] == "KPI 2 breached (was due Thu 5 Mar 2026): M-0042"
    assert {"title": "Case", "value": "M-0042"} in card["content"]["body"][1]["facts"]
    assert slack["text"] == "KPI 2 breached (was due Thu 5 Mar 2026): M-0042"
    assert slack["blocks"][0]["type"] == "header"
    fields = [f["text"] for f in slack["blocks"][1]["fields"]]
    assert "*Action*\nNotify the LA &amp; ICB that the parent wishes to &lt;mediate&gt;" in fields


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "wait"),
    [
        (500, {}, Outcome.RETRY, None),
        (503, {"Retry-After": "120"}, Outcome.RETRY, 120.0),
        (429, {"Retry-After": "30"}, Outcome.RETRY, 30.0),
        (408, {}, Outcome.RETRY, None),
        (404, {}, Outcome.FAILED, None),
        (400, {}, Outcome.FAILED, None),
        (204, {}, Outcome.DELIVERED, None),
    ],
)
def test_webhook_answers_decide_delivered_retry_or_failed(web, status, headers, outcome, wait) -> None:
    web.script.append(Reply(status, headers, b"nope" if status >= 400 else b""))
    notifier = WebhookNotifier(hook(web.url()), None)
    result = notifier.send(alerts(email=False, webhooks=("ops",))[0])
    notifier.close()
    assert (result.outcome, result.retry_after) == (outcome, wait)
    if outcome is Outcome.FAILED:
        assert (
            result.detail
            == f"webhooks.ops.url: 127.0.0.1 answered {status} {_reason(status)}: nope; not retried"
        )


def _reason(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def test_retry_after_as_an_http_date() -> None:
    now = dt.datetime(2026, 3, 4, 8, 30, tzinfo=dt.UTC)
    assert retry_after("Wed, 04 Mar 2026 08:32:00 GMT", now) == 120.0
    assert retry_after("soon", now) is None
    assert retry_after(None) is None


def test_a_webhook_that_does_not_answer_in_time_is_retried(web) -> None:
    release = threading.Event()
    web.script.append(Reply(200, hold=release))
    notifier = WebhookNotifier(hook(web.url(), timeout_seconds=0.3), None)
    result = notifier.send(alerts(email=False, webhooks=("ops",))[0])
    release.set()
    notifier.close()
    assert result.outcome is Outcome.RETRY
    assert result.hold  # the host, not just this alert: the pass tries it no more
    assert result.detail == (
        "webhooks.ops.url: 127.0.0.1 timed out: no answer within 0.3 s (webhooks.ops.timeout_seconds)"
    )


def test_an_unreachable_or_unusable_url_is_named() -> None:
    down = WebhookNotifier(hook(f"http://127.0.0.1:{free_port()}/hook"), None)
    first = down.send(alerts(email=False, webhooks=("ops",))[0])
    down.close()
    assert first.outcome is Outcome.RETRY
    assert (first.detail or "").startswith("webhooks.ops.url: cannot reach 127.0.0.1 (")
    bad = WebhookNotifier(hook("http://[::1/hook"), None)
    result = bad.send(alerts(email=False, webhooks=("ops",))[0])
    bad.close()
    assert result.outcome is Outcome.FAILED
    assert (result.detail or "").startswith("webhooks.ops.url: not a usable URL")


# ------------------------------------------------------------------------------------------ end to end


def open_case(cli, ref: str = "M-0042") -> None:
    for args in (
        ["open", ref, "--type", "mediation", "--on", "2026-03-02", "--field", "caseworker=Jo Smith",
         "--name", "Ava Brown", "--contact", "12 Elm Road, Norwich NR2 3AB; born 14/05/2012; 07700 900123"],
        ["record", ref, "mediation_requested", "--on", "2026-03-02", "--note", "Mum is anxious about Leo"],
        ["record", ref, "note", "--on", "2026-03-02", "--field", "note=Dad works nights, call after 4pm"],
    ):  # fmt: skip
        result = cli("--as-of", "2026-03-02", *args)
        assert result.code == 0, result.err


SECRETS = [
    "Ava Brown",
    "Elm Road",
    "NR2 3AB",
    "14/05/2012",
    "07700 900123",
    "anxious",
    "Leo",
    "nights",
    "4pm",
]


def test_no_personal_data_or_note_text_reaches_any_message(cli, tmp_path, web, monkeypatch) -> None:
    open_case(cli)
    monkeypatch.setenv("CASECLOCK_WEBHOOK_SECRET_GENERIC", "s3cret")
    hooks = "".join(
        f'[[webhooks]]\nname = "{fmt}"\nurl = "{web.url("/" + fmt)}"\nformat = "{fmt}"\n'
        for fmt in ("generic", "teams", "slack")
    )
    with smtp_server() as smtp:
        config = str(write_config(tmp_path / "c.toml", email_config(smtp.port) + hooks))
        for day in ("2026-03-04", "2026-03-05", "2026-03-06"):
            assert cli("--config", config, "--as-of", day, "check", "--digest").code == 0
        mails = smtp.take((2 + 2) + (2 + 2) + (3 + 3))  # alerts and digests, each day
        assert smtp.drain() == []
        listed = cli("--config", config, "alerts", "--json").out
    posts = web.take(9)
    texts = [m.raw.decode() for m in mails] + [p.body.decode() for p in posts] + [listed]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert any("M-0042" in t for t in texts)
    assert any("Daily digest" in t for t in texts)


def test_settings_a_user_got_wrong_are_each_named_in_one_line_and_the_rest_still_works(
    cli, tmp_path, web, monkeypatch
) -> None:
    open_case(cli)
    port = free_port()
    config = write_config(
        tmp_path / "c.toml",
        email_config(port, extra='username = "alerts@provider.example"')
        + f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n'
        + '[[webhooks]]\nname = "gone"\nurl = "http://127.0.0.1:1/hook"\nformat = "slack"\n',
    )
    result = cli("--config", str(config), "--as-of", "2026-03-04", "check")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert lines == [
        "caseclock: email.username=alerts@provider.example is set but CASECLOCK_SMTP_PASSWORD is not: "
        "set it in the environment",
        "caseclock: webhooks.ops: CASECLOCK_WEBHOOK_SECRET_OPS is not set, so its requests are sent "
        "unsigned: set it to sign them",
        "caseclock: webhooks.gone.url: cannot reach 127.0.0.1 ([Errno 111] Connection refused)",
    ]
    assert len(web.take(1)) == 1
    pending = json.loads(cli("--config", str(config), "alerts", "--pending", "--json").out)
    assert sorted(p["channel"] for p in pending) == ["email", "email", "webhook:gone"]


def test_caseworkers_without_an_email_section_is_named_and_webhooks_still_go(cli, tmp_path, web) -> None:
    open_case(cli)
    config = write_config(
        tmp_path / "c.toml",
        '[caseworkers]\n"Jo Smith" = "jo@provider.example"\n'
        f'[[webhooks]]\nname = "ops"\nurl = "{web.url()}"\n',
    )
    result = cli("--config", str(config), "--as-of", "2026-03-04", "check")
    assert result.code == 0
    assert result.err.splitlines()[0] == (
        "caseclock: caseworkers: addresses are set but there is no [email] section, so no email is sent: "
        "add [email] with host and sender"
    )
    assert len(web.take(1)) == 1


def test_a_caseworker_without_an_address_is_named_and_the_team_still_hears(cli, tmp_path) -> None:
    for args in (
        ["open", "M-7", "--type", "mediation", "--on", "2026-03-02", "--field", "caseworker=Sam Patel"],
        ["record", "M-7", "mediation_requested", "--on", "2026-03-02"],
    ):
        assert cli("--as-of", "2026-03-02", *args).code == 0
    with smtp_server() as smtp:
        config = str(write_config(tmp_path / "c.toml", email_config(smtp.port)))
        result = cli("--config", config, "--as-of", "2026-03-04", "check")
        assert result.code == 0
        assert [m.message["To"] for m in smtp.take(1)] == ["team@provider.example"]
    assert result.err.strip() == (
        "caseclock: caseworkers: no address for 'Sam Patel', so their alerts go to email.to only: "
        "add them under [caseworkers]"
    )
