"""Webhook alerts over HTTP (httpx): signed generic JSON, a Teams Adaptive Card, or a Slack Block Kit message.

Who calls what: `caseclock check` and `caseclock watch` build one `WebhookNotifier` per `[[webhooks]]` entry
(with its secret from CASECLOCK_WEBHOOK_SECRET_<NAME>) and pass it to the delivery pass
(`tracker.alerts.outbox.deliver`), which calls `send` per recorded alert and `close` at the end of the pass.

* `generic`: a POST of the CONTRACT.md JSON, with `X-Caseclock-Signature: sha256=<hex HMAC-SHA256 of the
  body>` when a secret is set. The alert `id` is stable across retries, so a receiver can drop a repeat.
* `teams`: a message with an Adaptive Card, as a Teams Workflows ("When a Teams webhook request is
  received") webhook expects.
* `slack`: Block Kit blocks with a plain-text fallback, for a Slack incoming webhook.

A 2xx answer is delivered; 408, 429, 5xx and network errors are retried later (honouring `Retry-After`);
any other answer fails permanently, with the status and the start of the response recorded. A time-out, a
connection failure, a 429, or a 503 with `Retry-After` holds back the webhook's host (`endpoint`) for the
rest of the pass (or until `Retry-After`), so a dead or busy receiver costs its time-out once per pass.
Error lines name the setting (`webhooks.<name>.url`) and the host, never the whole URL: Teams and Slack
URLs are secrets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from notifiers.wording import facts, headline
from tracker.alerts.notify import DeliveryResult
from tracker.alerts.rules import BREACHED, Alert, webhook_channel
from tracker.domain.config import WebhookSettings

SIGNATURE_HEADER = "X-Caseclock-Signature"
_RETRIED = {408, 425, 429}


def signature(secret: str, body: bytes) -> str:
    """The `X-Caseclock-Signature` value of a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    """Posts alerts to one configured webhook.

    Args:
        settings: The `[[webhooks]]` entry.
        secret: Its HMAC secret from the environment (`tracker.domain.config.webhook_secret`), or None:
        unsigned. transport: An httpx transport (tests only; default: the network).
    """

    def __init__(
        self, settings: WebhookSettings, secret: str | None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._secret = secret
        self._transport = transport
        self._client: httpx.Client | None = None
        self._down: str | None = None
        self._where = f"webhooks.{settings.name}.url"
        self._host = _host(settings.url)
        self.endpoint = _endpoint(settings.url)
        """The host this webhook posts to: a pass holds back every webhook of a host that is down or busy."""

    @property
    def channel(self) -> str:
        """`webhook:<name>`."""
        return webhook_channel(self.settings.name)

    def send(self, alert: Alert) -> DeliveryResult:
        """Post one alert."""
        if self._down is not None:  # found unreachable earlier in this pass
            return DeliveryResult.retry(self._down, hold=True)
        body = json.dumps(render(self.settings.format, alert), separators=(",", ":"), ensure_ascii=False)
        content = body.encode()
        headers = {"Content-Type": "application/json", "X-Caseclock-Alert-Id": alert.id}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = signature(self._secret, content)
        try:
            response = self._http().post(self.settings.url, content=content, headers=headers)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            return DeliveryResult.failed(f"{self._where}: not a usable URL ({error}); correct it")
        except httpx.TimeoutException:
            self._down = (
                f"{self._where}: {self._host} timed out: no answer within "
                f"{self.settings.timeout_seconds:g} s (webhooks.{self.settings.name}.timeout_seconds)"
            )
            return DeliveryResult.retry(self._down, hold=True)
        except httpx.TransportError as error:
            self._down = f"{self._where}: cannot reach {self._host} ({error or type(error).__name__})"
            return DeliveryResult.retry(self._down, hold=True)
        return self._judge(response)

    def close(self) -> None:
        """Close the connections of this pass and forget a failure seen in it."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
        self._down = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.settings.timeout_seconds,
                follow_redirects=False,
                transport=self._transport,
                headers={"User-Agent": "caseclock"},
            )
        return self._client

    def _judge(self, response: httpx.Response) -> DeliveryResult:
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult.delivered()
        said = f"{self._where}: {self._host} answered {status} {response.reason_phrase}".rstrip()
        if status in _RETRIED or status >= 500:
            wait = retry_after(response.headers.get("Retry-After"))
            # A 429 is about the host, not this alert; so is a 503 that says when to come back.
            busy = status == 429 or (status == 503 and wait is not None)
            if wait is not None:
                said = f"{said} (Retry-After {wait:g} s)"
            return DeliveryResult.retry(said, wait, hold=busy)
        excerpt = " ".join(response.text.split())[:200]
        return DeliveryResult.failed(f"{said}: {excerpt}; not retried" if excerpt else f"{said}; not retried")


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"


def _endpoint(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return f"webhook {url}"
    return f"{parsed.scheme}://{parsed.host}:{parsed.port or ''}"


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


def render(fmt: str, alert: Alert) -> dict[str, Any]:
    """The JSON body of one alert in a webhook format (`generic`, `teams`, `slack`)."""
    if fmt == "teams":
        return _teams(alert)
    if fmt == "slack":
        return _slack(alert)
    return dict(alert.payload)


def _teams(alert: Alert) -> dict[str, Any]:
    payload: Mapping[str, Any] = alert.payload
    breach = payload.get("type") == BREACHED
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": headline(alert),
                "size": "Medium",
                "weight": "Bolder",
                "color": "Attention" if breach else "Warning",
                "wrap": True,
            },
            {
                "type": "FactSet",
                "facts": [
                    {"title": label, "value": value} for label, value in facts(payload, alert.decided_on)
                ],
            },
            {"type": "TextBlock", "text": f"Alert id {alert.id}", "isSubtle": True, "size": "Small"},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _slack(alert: Alert) -> dict[str, Any]:
    lines = facts(alert.payload, alert.decided_on)
    title = headline(alert)
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": False}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{_escape(value)}"} for label, value in lines
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Alert id {alert.id}"}]},
        ],
    }


def _escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
