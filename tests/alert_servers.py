"""Real local servers for the alert tests: an aiosmtpd SMTP server and a scriptable HTTP webhook receiver.

Both listen on 127.0.0.1 and record what they receive in a queue, so tests wait on `queue.get(timeout=...)`
instead of sleeping. Used by tests/test_outbox.py, test_notifiers.py and test_watch.py.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import queue
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

WAIT = 10.0
"""Seconds a test waits for something a server should receive before it fails."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (picked beforehand, as aiosmtpd needs)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mail:
    """One message the SMTP server accepted."""

    sender: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def alert_id(self) -> str:
        return str(self.message["X-Caseclock-Alert-Id"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


class _Recorder:
    def __init__(self) -> None:
        self.mail: queue.Queue[Mail] = queue.Queue()
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mail.put(Mail(envelope.mail_from, list(envelope.rcpt_tos), raw, message))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:`port` that records every message; `start` and `stop` at will."""

    def __init__(self, port: int | None = None, **options: Any) -> None:
        self.port = port or free_port()
        self._recorder = _Recorder()
        self._options = options
        self._controller: Controller | None = None

    @property
    def mail(self) -> queue.Queue[Mail]:
        return self._recorder.mail

    @property
    def refuse(self) -> set[str]:
        """Recipient addresses the server rejects with 550."""
        return self._recorder.refuse

    def start(self) -> SmtpServer:
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port, **self._options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def take(self, count: int) -> list[Mail]:
        """Wait for `count` messages."""
        return [self.mail.get(timeout=WAIT) for _ in range(count)]

    def drain(self) -> list[Mail]:
        """Every message received so far, without waiting."""
        got = []
        with contextlib.suppress(queue.Empty):
            while True:
                got.append(self.mail.get_nowait())
        return got


@dataclass
class Request:
    """One request the HTTP server received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What the HTTP server answers to one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hold: threading.Event | None = None
    """Answer only once this is set (to make a client time out without sleeping)."""


class HttpServer:
    """A ThreadingHTTPServer on 127.0.0.1:0 that records requests and answers from a script (default 200)."""

    def __init__(self) -> None:
        self.requests: queue.Queue[Request] = queue.Queue()
        self.script: deque[Reply] = deque()
        self.hold: threading.Event | None = None
        """When set to an Event, every request waits for it before its answer (a hanging receiver)."""
        self._holds: list[threading.Event] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                reply = owner.script.popleft() if owner.script else Reply()
                hold = reply.hold or owner.hold
                if hold is not None:
                    owner._holds.append(hold)
                owner.requests.put(Request(self.path, dict(self.headers.items()), body))
                if hold is not None:
                    hold.wait(WAIT)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def take(self, count: int) -> list[Request]:
        return [self.requests.get(timeout=WAIT) for _ in range(count)]

    def drain(self) -> list[Request]:
        got = []
        with contextlib.suppress(queue.Empty):
            while True:
                got.append(self.requests.get_nowait())
        return got

    def stop(self) -> None:
        for hold in [*self._holds, *(r.hold for r in self.script), self.hold]:
            if hold is not None:
                hold.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(WAIT)


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word (an SMTP server that never
    greets); counts the connections and closes them at `stop`."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # closed at stop
            while True:
                connection, _ = self._socket.accept()
                self.accepted.append(connection)

    @property
    def connections(self) -> int:
        return len(self.accepted)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        self._socket.close()
        for connection in self.accepted:
            connection.close()
        self._thread.join(WAIT)


@contextlib.contextmanager
def smtp_server(port: int | None = None, **options: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(port, **options).start()
    try:
        yield server
    finally:
        server.stop()


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def email_config(port: int, *, to: str = '["team@provider.example"]', extra: str = "") -> str:
    """A config with `[email]` on a local server without TLS, a caseworker and an escalation address."""
    return f"""
[caseworkers]
"Jo Smith" = "jo.smith@provider.example"

[email]
host = "127.0.0.1"
port = {port}
security = "none"
sender = "caseclock <alerts@provider.example>"
to = {to}
escalate_to = ["manager@provider.example"]
timeout_seconds = 5
{extra}
"""
