"""Real SMTP servers on loopback for tests and benchmarks.

``RecordingSMTPServer`` (aiosmtpd) records every message and can accept mail or refuse it
with a 5xx; ``HangingServer`` accepts TCP connections and never even greets;
``closed_port()`` is a port where nothing listens. The fixtures point Django's SMTP
backend at one of them and stop everything at teardown; import them where needed::

    from .smtp_server import smtp_factory, smtp_hang, smtp_refused, smtp_server
"""

from __future__ import annotations

import email
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
SMTP_BACKEND = "contact.mail.SMTPBackend"
STAFF_SUBJECT = re.compile(r"New consultation request #(\d+)\b")


def free_port() -> int:
    """A port nothing listens on (bound by the kernel, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


closed_port = free_port


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    message: email.message.EmailMessage = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The decoded body."""
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def headers(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in self.message.items())

    @property
    def raw(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def request_id(self) -> int | None:
        """The consultation request a staff notification is about; None for other mail."""
        match = STAFF_SUBJECT.search(self.subject)
        return int(match.group(1)) if match else None


class RecordingHandler:
    """An aiosmtpd handler: records accepted messages; ``mode`` decides the answers.

    - ``"accept"``: 250 to everything, the message is recorded.
    - ``"reject"``: 554 to DATA (a permanent failure after the recipients were accepted).
    - ``"reject_rcpt"``: 550 to every RCPT TO, so no recipient is accepted.

    Addresses in ``refused_recipients`` get a 550 whatever the mode (one unknown mailbox).
    """

    MODES = ("accept", "reject", "reject_rcpt")

    def __init__(self, mode: str = "accept"):
        self.mode = mode
        self.messages: list[ReceivedMessage] = []
        self.refused_recipients: set[str] = set()
        self.rejected = 0
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, not {value!r}")
        self._mode = value

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "reject_rcpt" or address in self.refused_recipients:
            with self._lock:
                self.rejected += 1
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.mode != "accept":
            with self._lock:
                self.rejected += 1
            return "554 5.7.1 Transaction failed"
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        parsed = email.message_from_bytes(content, policy=policy.default)
        with self._lock:
            self.messages.append(
                ReceivedMessage(envelope.mail_from, list(envelope.rcpt_tos), content, parsed)
            )
        return "250 Message accepted for delivery"


class RecordingSMTPServer:
    """An aiosmtpd server on 127.0.0.1 in a background thread."""

    def __init__(self, port: int | None = None, mode: str = "accept"):
        self.handler = RecordingHandler(mode)
        self.requested_port = port
        self.port: int | None = None
        self._controller: Controller | None = None

    def start(self, attempts: int = 5) -> RecordingSMTPServer:
        last_error: OSError | None = None
        for _ in range(attempts):
            port = self.requested_port or free_port()
            controller = Controller(self.handler, hostname=HOST, port=port, ready_timeout=10)
            try:
                controller.start()
            except OSError as exc:  # the port was taken between free_port() and bind
                last_error = exc
                controller.stop(no_assert=True)
                if self.requested_port:
                    break
                continue
            self._controller, self.port = controller, port
            return self
        raise RuntimeError(f"could not start the SMTP server: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def mode(self) -> str:
        return self.handler.mode

    @mode.setter
    def mode(self, value: str) -> None:
        self.handler.mode = value

    @property
    def messages(self) -> list[ReceivedMessage]:
        return list(self.handler.messages)

    def staff_notifications(self) -> list[ReceivedMessage]:
        return [m for m in self.messages if m.request_id is not None]

    def confirmations(self) -> list[ReceivedMessage]:
        return [m for m in self.messages if m.request_id is None]

    def notification_counts(self) -> dict[int, int]:
        """How many staff notifications arrived for each request id."""
        counts: dict[int, int] = {}
        for message in self.staff_notifications():
            counts[message.request_id] = counts.get(message.request_id, 0) + 1
        return counts

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Poll until at least ``count`` messages arrived (or the deadline passes)."""
        deadline = time.monotonic() + timeout
        while len(self.handler.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages


class HangingServer:
    """Accepts TCP connections and never sends a byte: an SMTP server that hangs."""

    def __init__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hanging-smtp", daemon=True)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)  # kept open, never written to

    def start(self) -> HangingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for conn in self.connections:
            conn.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def use_smtp(settings, port: int, timeout: int = 2) -> None:
    """Point Django's mail at a plain-SMTP server on 127.0.0.1:port."""
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = HOST
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = timeout


@pytest.fixture
def smtp_factory(settings):
    """``start(port=None, mode="accept")`` starts a recording server and points mail at it."""
    servers: list[RecordingSMTPServer] = []

    def start(port: int | None = None, mode: str = "accept") -> RecordingSMTPServer:
        server = RecordingSMTPServer(port=port, mode=mode).start()
        servers.append(server)
        use_smtp(settings, server.port)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_factory):
    """A recording SMTP server that accepts everything; Django mail goes to it."""
    return smtp_factory()


@pytest.fixture
def smtp_refused(settings):
    """Django mail goes to a port where nothing listens; yields that port."""
    port = closed_port()
    use_smtp(settings, port)
    return port


@pytest.fixture
def smtp_hang(settings):
    """Django mail goes to a server that accepts the connection and never answers."""
    with HangingServer() as server:
        use_smtp(settings, server.port)
        yield server


# aiosmtpd narrates every SMTP command at INFO; the tests need its messages, not its chatter.
logging.getLogger("mail.log").setLevel(logging.WARNING)
