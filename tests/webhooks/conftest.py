"""A real HTTP receiver on 127.0.0.1 for the webhook tests: every POST it gets is recorded
(headers and raw body), and it answers with the statuses queued in `answers` (200 once the
queue is empty), after `delay` seconds."""

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts.roles import Role
from tests.factories import UserFactory
from webhooks import services
from webhooks.models import SUBSCRIBABLE_EVENTS


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = state.answers.pop(0) if state.answers else 200
            if state.delay:
                threading.Event().wait(state.delay)
            reply = b'{"ok": true}' if status < 300 else b"receiver broke"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that gave up (timeout tests) closed the connection

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/shop"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def refused_url():
    """An address where nothing listens: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN)


def make_endpoint(admin, url, *, events=None, is_active=True):
    return services.create_endpoint(
        actor=admin,
        fields=services.EndpointFields(
            url=url,
            description="ERP",
            events=[str(event) for event in (events or SUBSCRIBABLE_EVENTS)],
            is_active=is_active,
        ),
    )
