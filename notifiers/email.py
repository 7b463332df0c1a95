"""Email alerts over SMTP (`starttls`, `ssl` or `none`), one message per outbox row and recipient.

Who calls what: `caseclock check` and `caseclock watch` build one `EmailNotifier` from `[email]` and the
password in CASECLOCK_SMTP_PASSWORD, and pass it to the delivery pass (`tracker.alerts.outbox.deliver`), which
calls `send` for each recorded alert and `close` at the end of the pass. One SMTP connection serves a whole
pass.

Each message has a plain-text and an HTML part, a subject a person can triage from their inbox
(`[caseclock] KPI 2 due tomorrow: M-0042`), and a Message-ID made from the alert's stable id, so a repeat
after a crash is the same message to the mail client. Failures are reported, never raised: a server that
cannot be reached, refuses the login or the TLS set-up is retried later, and the one-line error names the
setting to check; a recipient the server rejects for good fails permanently. A server that cannot be
reached, times out or refuses the login holds back the channel for the rest of the pass (`hold`): no message
is tried twice in a pass, so a server that never answers costs its time-out once.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr

from notifiers.wording import day_words, due_on, facts, headline
from tracker.alerts.notify import DeliveryResult, Outcome
from tracker.alerts.rules import DIGEST, EMAIL, Alert
from tracker.domain.config import EmailSettings

_SMTP_LINES = compat32.clone(linesep="\r\n")  # smtplib sends bytes as they are: lines must end CRLF
_SECTIONS = (
    ("overdue", "Overdue"),
    ("due_today", "Due today"),
    ("due_soon", "Due in the next 2 working days"),
)


class EmailNotifier:
    """Sends alerts by email through the configured SMTP server.

    Args:
        settings: The `[email]` section.
        password: From CASECLOCK_SMTP_PASSWORD (`tracker.domain.config.smtp_password`); needed with a
            username.
        ssl_context: For `starttls` and `ssl` (default: the system's trusted certificates).
    """

    def __init__(
        self, settings: EmailSettings, password: str | None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self._password = password
        self._context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self._down: str | None = None
        self.endpoint = f"smtp://{settings.host}:{settings.port}"
        """The SMTP server: a pass holds back its channel once it is found down."""

    @property
    def channel(self) -> str:
        """`email`."""
        return EMAIL

    @property
    def _where(self) -> str:
        return f"email.host={self.settings.host}, email.port={self.settings.port}"

    def send(self, alert: Alert) -> DeliveryResult:
        """Send one alert to its recipient."""
        if self._down is not None:  # found down earlier in this pass: don't wait for its timeout again
            return DeliveryResult.retry(self._down, hold=True)
        if self.settings.username and self._password is None:
            return DeliveryResult.retry(missing_password(self.settings))
        message = build_message(alert, self.settings.sender).as_bytes(policy=_SMTP_LINES)
        return self._deliver(message, [alert.recipient])

    @property
    def sender(self) -> str:
        """The From address (`[email] sender`)."""
        return self.settings.sender

    def send_message(self, message: Message, recipients: list[str]) -> str | None:
        """Send one ready-made email (a case letter) to `recipients` on its own connection.

        Returns None when the server took it, else one line naming the setting or address to check.
        """
        try:
            if self.settings.username and self._password is None:
                return missing_password(self.settings)
            result = self._deliver(message.as_bytes(policy=_SMTP_LINES), recipients)
            return None if result.outcome is Outcome.DELIVERED else result.detail
        finally:
            self.close()

    def _deliver(self, message: bytes, recipients: list[str]) -> DeliveryResult:
        sender = parseaddr(self.settings.sender)[1]
        shown = ", ".join(recipients)
        for attempt in (1, 2):
            kept = self._smtp is not None
            try:
                refused = self._connection().sendmail(sender, recipients, message)
                if refused:  # some of several recipients (a letter's): the message did not reach them all
                    address, (code, reply) = next(iter(refused.items()))
                    return self._refused(code, reply, f"email recipient {address}")
                return DeliveryResult.delivered()
            except smtplib.SMTPServerDisconnected as error:
                self._drop()
                if attempt == 1 and kept:  # a connection kept from an earlier message may have been closed
                    continue
                if _timed_out(error):
                    return self._retry(self._timed_out(), down=True)
                return self._retry(f"{self._where}: the server closed the connection ({error})", down=True)
            except smtplib.SMTPRecipientsRefused as error:
                address, (code, reply) = next(iter(error.recipients.items()))
                return self._refused(code, reply, f"email recipient {address}")
            except smtplib.SMTPSenderRefused as error:
                return self._refused(
                    error.smtp_code, error.smtp_error, f"email.sender={self.settings.sender}"
                )
            except smtplib.SMTPDataError as error:
                return self._refused(error.smtp_code, error.smtp_error, f"email to {shown}")
            except smtplib.SMTPAuthenticationError as error:
                return self._retry(
                    f"email.username={self.settings.username}: the server refused the login "
                    f"({error.smtp_code}); check email.username and CASECLOCK_SMTP_PASSWORD",
                    down=True,
                )
            except smtplib.SMTPNotSupportedError:
                return self._retry(
                    f"email.security={self.settings.security}: {self.settings.host} does not offer "
                    'STARTTLS; use security = "ssl" (usually port 465) or "none" for a local relay',
                    down=True,
                )
            except ssl.SSLError as error:
                return self._retry(
                    f"email.security={self.settings.security}: TLS with {self._where} failed "
                    f"({error.reason or error}); check email.security and email.port",
                    down=True,
                )
            except TimeoutError:
                return self._retry(self._timed_out(), down=True)
            except (OSError, smtplib.SMTPException) as error:
                reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
                return self._retry(
                    f"{self._where}: cannot send ({reason}); check email.host and email.port", down=True
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Say goodbye to the server and forget a failure seen in this pass."""
        self._drop(polite=True)
        self._down = None

    # ------------------------------------------------------------------ internals

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            if s.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, self._password or "")
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _drop(self, polite: bool = False) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()

    def _timed_out(self) -> str:
        return (
            f"{self._where}: timed out: the server did not answer within {self.settings.timeout_seconds:g} s "
            "(email.timeout_seconds); check email.host and email.port"
        )

    def _retry(self, detail: str, down: bool = False) -> DeliveryResult:
        self._drop()
        if down:
            self._down = detail
        return DeliveryResult.retry(detail, hold=down)

    def _refused(self, code: int, reply: bytes | str, what: str) -> DeliveryResult:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
        detail = f"{what}: the server refused it ({code} {text.strip()})"
        # 4xx is "try again later" in SMTP; 5xx is final.
        return DeliveryResult.retry(detail) if 400 <= code < 500 else DeliveryResult.failed(detail)


def _timed_out(error: smtplib.SMTPServerDisconnected) -> bool:
    # smtplib reports a read that timed out as "Connection unexpectedly closed: timed out".
    return isinstance(error.__cause__ or error.__context__, TimeoutError) or "timed out" in str(error)


def missing_password(settings: EmailSettings) -> str:
    """The one-line complaint when a login is configured without its password."""
    return (
        f"email.username={settings.username} is set but CASECLOCK_SMTP_PASSWORD is not: "
        "set it in the environment"
    )


def build_message(alert: Alert, sender: str) -> MIMEMultipart:
    """The email of one alert (or digest) to its recipient: plain text and HTML.

    Built with the `email.mime` classes: several times quicker than `EmailMessage`'s header registry, which
    dominated the delivery rate.
    """
    text, body = _digest(alert) if alert.payload.get("type") == DIGEST else _single(alert)
    message = MIMEMultipart("alternative")
    message["Subject"] = _header("[caseclock] " + headline(alert))
    message["From"] = formataddr(parseaddr(sender), charset="utf-8")
    message["To"] = alert.recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{alert.id}@caseclock>"
    message["X-Caseclock-Alert-Id"] = alert.id
    message["Auto-Submitted"] = "auto-generated"
    message.attach(MIMEText(text, "plain", "utf-8"))
    message.attach(MIMEText(body, "html", "utf-8"))
    return message


def _header(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _single(alert: Alert) -> tuple[str, str]:
    lines = facts(alert.payload, alert.decided_on)
    footer = f"Alert id {alert.id} (the same on every repeat of this alert). Sent by caseclock."
    text = "\n".join([headline(alert), "", *(f"{label}: {value}" for label, value in lines), "", footer])
    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in lines
    )
    body = (
        f"<html><body><h2>{html.escape(headline(alert))}</h2><table>{rows}</table>"
        f"<p><small>{html.escape(footer)}</small></p></body></html>"
    )
    return text + "\n", body


def _digest(alert: Alert) -> tuple[str, str]:
    payload = alert.payload
    text_parts = [headline(alert), ""]
    html_parts = [f"<html><body><h2>{html.escape(headline(alert))}</h2>"]
    for key, title in _SECTIONS:
        items = payload.get(key, [])
        if not items:
            continue
        text_parts.append(f"{title} ({len(items)})")
        html_parts.append(f"<h3>{html.escape(title)} ({len(items)})</h3><ul>")
        for item in items:
            due = day_words(due_on(item))
            line = f"{item['ref']}  {item['kpi']} {item['title']}: due {due}. {item['action']}"
            text_parts.append("  " + line)
            html_parts.append(f"<li>{html.escape(line)}</li>")
        text_parts.append("")
        html_parts.append("</ul>")
    text_parts.append("Sent by caseclock.")
    html_parts.append("<p><small>Sent by caseclock.</small></p></body></html>")
    return "\n".join(text_parts) + "\n", "".join(html_parts)
