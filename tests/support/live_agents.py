"""Agents' live connections as a browser keeps them: signed in, resumed after a drop.

A :class:`LiveAgent` is one signed-in agent's Socket.IO connection (python-socketio's
client, over WebSocket unless told otherwise) that follows the live protocol of
``app.platform.live_queues``: it remembers its queue and the last sequence number
it handled, checks that every ``live`` frame starts right after it, and after a
drop connects again with ``auth={"queue": ..., "last": ...}``. Every event it
received, in order, is in :attr:`LiveAgent.events`, whether it came inside a
``live`` frame or on its own (presence, or a server from before the queues).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections import deque

import requests
import socketio

from tests.support.helpers import PASSWORD
from tests.support.live_server import CONNECT_SECONDS, ROOT_NAMESPACE, signed_in_session


def signed_in_through(url: str, email: str, ca_bundle: str) -> requests.Session:
    """A session signed in at ``url`` (https, trusting ``ca_bundle``'s CA) as a browser is:
    Flask-WTF checks the ``Referer`` of a form posted over https."""
    session = requests.Session()
    session.verify = ca_bundle
    session.headers["Referer"] = f"{url}/login"
    return signed_in_session(url, email, PASSWORD, session)


class _Remembered(logging.Handler):
    """Keeps what python-socketio's client logs about one agent, for a failing test."""

    def __init__(self, lines: deque[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.created:.3f} {record.getMessage()[:200]}")


class LiveAgent:
    """One agent's live connection at ``url`` with ``session``'s cookies."""

    def __init__(self, url: str, session: requests.Session, transport: str = "websocket"):
        self.url = url
        self.session = session
        self.transport = transport
        self.name = uuid.uuid4().hex[:6]
        self.client: socketio.Client | None = None
        self.queue: str | None = None
        self.last = 0
        # (event, data) in the order handled.
        self.events: list[tuple[str, object]] = []
        # Each live:queue answer: what was asked (None: a first connect) and what came.
        self.answers: list[tuple[dict | None, dict]] = []
        # Frames whose first number did not follow the last one handled: (last, first).
        self.gaps: list[tuple[int, int]] = []
        # Why each connection ended, as python-socketio tells it, and what it logged.
        self.disconnects: list[object] = []
        # What the client logged each time a connection was lost before joining.
        self.lost_before_joining: list[str] = []
        self.log: deque[str] = deque(maxlen=100)
        self._logger = logging.getLogger(f"{__name__}.{self.name}")
        self._logger.setLevel(logging.INFO)
        self._logger.propagate = False
        self._logger.addHandler(_Remembered(self.log))
        self._lock = threading.Lock()

    # --- the connection -----------------------------------------------------------

    def connect(self) -> "LiveAgent":
        """Connect; with a queue from before, ask to resume it after :attr:`last`.

        A connection whose transport is lost before the server's answer is made
        once more with the same ask, as a browser's Socket.IO client would (noted
        in :attr:`lost_before_joining`, with what the client logged); lost twice
        fails the test.
        """
        asked = {"queue": self.queue, "last": self.last} if self.queue else None
        client = self._open(asked)
        if not self._joined(client, asked):
            self.lost_before_joining.append("\n".join(list(self.log)[-10:]))
            client = self._open(asked)
            if not self._joined(client, asked):
                raise AssertionError(self._lost(client, asked))
        self.client = client
        return self

    def _open(self, asked: dict | None) -> socketio.Client:
        client = socketio.Client(
            reconnection=False,
            http_session=self.session,
            logger=self._logger,
            engineio_logger=self._logger,
        )
        client.on("live:queue", lambda data: self._on_queue(asked, data))
        client.on("live", self._on_live)
        client.on("*", self._on_other)
        client.on("disconnect", lambda reason=None: self.disconnects.append(reason))
        # A page's Origin, which Socket.IO checks; websocket-client sends its own.
        headers = {"Origin": self.url} if self.transport == "polling" else {}
        client.connect(
            self.url,
            headers=headers,
            transports=[self.transport],
            auth=asked or {},
            wait=False,
        )
        return client

    def _joined(self, client: socketio.Client, asked: dict | None) -> bool:
        """Whether ``client`` joined the namespace; False when its transport was lost
        first. A refusal or no answer at all fails the test."""
        deadline = time.monotonic() + CONNECT_SECONDS
        while ROOT_NAMESPACE not in client.namespaces:
            if ROOT_NAMESPACE in client.failed_namespaces:
                raise AssertionError(f"agent {self.name} was refused (asked {asked})")
            if client.eio.state == "disconnected":
                return False
            if time.monotonic() > deadline:
                raise AssertionError(self._lost(client, asked))
            time.sleep(0.01)
        return True

    def _lost(self, client: socketio.Client, asked: dict | None) -> str:
        return (
            f"agent {self.name} did not join {ROOT_NAMESPACE} (asked {asked}, transport"
            f" {client.eio.state}, ended {self.disconnects}); its client logged:\n"
            + "\n".join(list(self.log)[-30:])
        )

    def drop(self) -> None:
        """Cut the connection as a lost network does: the socket closed, no goodbye."""
        transport = self.client.eio.ws if self.client is not None else None
        if transport is None:
            raise AssertionError(f"agent {self.name} has no WebSocket to drop")
        try:
            transport.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone
        deadline = time.monotonic() + 10
        while self.client.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        self.client = None

    def leave(self) -> None:
        """Disconnect in the background (see tests.support.live_server._leave)."""
        client, self.client = self.client, None
        if client is not None:
            leave = client.disconnect if client.connected else client.eio.disconnect
            threading.Thread(target=leave, name="live-agent-leaving", daemon=True).start()

    # --- what it hears ----------------------------------------------------------------

    def _on_queue(self, asked: dict | None, data: dict) -> None:
        with self._lock:
            self.answers.append((asked, data))
            self.queue = data["queue"]
            if not data["resumed"]:
                # A new queue: its numbers start again (a browser refreshes here).
                self.last = data["seq"]

    def _on_live(self, first: int, *items) -> None:
        with self._lock:
            if first != self.last + 1:
                self.gaps.append((self.last, first))
            for item in items:
                event, data = item
                self.events.append((event, data))
            self.last = first + len(items) - 1

    def _on_other(self, event: str, *args) -> None:
        with self._lock:
            self.events.append((event, args[0] if args else None))

    # --- what the test reads ---------------------------------------------------------

    def heard(self, event: str) -> list:
        with self._lock:
            return [data for name, data in self.events if name == event]

    def wamids(self) -> list[str]:
        """The WhatsApp message ids of every ``message:new`` heard, in order."""
        return [data["message"]["external_message_id"] for data in self.heard("message:new")]

    def not_resumed(self) -> list[dict]:
        """The answers to asking to resume that started a new queue instead."""
        with self._lock:
            return [data for asked, data in self.answers if asked and not data["resumed"]]
