"""Serve an app on a free local port from a thread, for browsers and socket clients."""

from __future__ import annotations

import contextlib
import threading
import time

import requests
import socketio
from werkzeug.serving import make_server

from tests.fakes import SHUTDOWN_POLL_SECONDS
from tests.support.helpers import csrf_token_from, second_factor_code


class LiveServer:
    def __init__(self, app) -> None:
        # Werkzeug's threaded server speaks WebSocket through simple-websocket,
        # exactly as `python wsgi.py` does.
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            daemon=True,
        )

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def signed_in_session(
    base_url: str, email: str, password: str, session: requests.Session | None = None
) -> requests.Session:
    """A requests session signed in through the login form (``session`` when given:
    one that already carries what a browser would, such as its ``Referer``)."""
    session = session or requests.Session()
    # Generous: a sign-in hashes the password, which on a CI machine loaded by four
    # test processes and their browsers once took longer than 10 s.
    timeout = 30
    page = session.get(f"{base_url}/login", timeout=timeout)
    token = csrf_token_from(page.text)
    response = session.post(
        f"{base_url}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=timeout,
    )
    assert response.status_code == 302, response.text[:500]
    if response.headers["Location"].endswith("/login/verify"):
        page = session.get(f"{base_url}/login/verify", timeout=timeout)
        response = session.post(
            f"{base_url}/login/verify",
            data={"code": second_factor_code(email), "csrf_token": csrf_token_from(page.text)},
            allow_redirects=False,
            timeout=timeout,
        )
        assert response.status_code == 302, response.text[:500]
    return session


# How long a connection may take to be accepted or refused on a busy CI machine.
CONNECT_SECONDS = 30.0
ROOT_NAMESPACE = "/"


@contextlib.contextmanager
def socket_client(
    base_url: str,
    session: requests.Session | None,
    origin: str | None = None,
    transports: list[str] | None = None,
    auth: dict | None = None,
):
    """A real Socket.IO client that authenticates with the session's cookie, over
    long-polling unless ``transports`` says otherwise (``["websocket"]``: as a
    browser's connection ends up).

    It waits for the server's answer to joining the namespace itself instead of
    ``connect(wait_timeout=...)``: that gave up after its timeout on a busy machine,
    and both a refusal and the end of the test then went through python-engineio's
    ``disconnect()``, which can leave its write loop before the CLOSE packet is
    sent and then waits out the server's ping interval (25 s) for the long-poll to
    return. Here a refusal raises as soon as the server says so, and the client
    leaves in the background, so no test waits on that long-poll.

    ``auth`` is what a reconnecting page sends: ``{"queue": ..., "last": ...}``
    (app.platform.live_queues).
    """
    headers = {}
    if session is not None:
        headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    if origin is not None:
        headers["Origin"] = origin

    def connecting() -> socketio.Client:
        client = _client()
        client.connect(
            base_url, headers=headers, transports=transports or ["polling"], auth=auth, wait=False
        )
        return client

    client = connecting()
    try:
        try:
            _await_the_answer(client)
        except _NoAnswer as lost:
            # Once, on a CI machine loaded far past its cores, a long-polling client's
            # namespace request left 5 s late and no answer came within 30 s, where a
            # browser's Socket.IO would connect again. So does this client, once; a
            # refusal is never asked again.
            print(f"socket_client: {lost}; connecting once more")
            _leave(client)
            client = connecting()
            _await_the_answer(client)
        yield client
    finally:
        _leave(client)


def _client() -> socketio.Client:
    """A client that keeps what it hears: ``received`` (event, data) in order, and
    ``numbers``, the (first number, how many) of each numbered live frame."""
    received: list[tuple[str, object]] = []
    client = socketio.Client(reconnection=False)

    @client.on("*")
    def _any(event, data=None, *more):
        if event == "live":  # numbered live events (app.platform.live_queues), in order
            client.numbers.append((data, len(more)))
            received.extend((item[0], item[1]) for item in more)
        else:
            received.append((event, data))

    client.numbers = []
    client.received = received
    return client


class _NoAnswer(socketio.exceptions.ConnectionError):
    """The server neither accepted nor refused joining the namespace in time."""


def _await_the_answer(client: socketio.Client) -> None:
    deadline = time.monotonic() + CONNECT_SECONDS
    while ROOT_NAMESPACE not in client.namespaces:
        if ROOT_NAMESPACE in client.failed_namespaces:
            raise socketio.exceptions.ConnectionError(
                f"One or more namespaces failed to connect: {ROOT_NAMESPACE}"
            )
        if time.monotonic() > deadline:
            raise _NoAnswer(f"no answer to joining {ROOT_NAMESPACE} within {CONNECT_SECONDS:.0f} s")
        time.sleep(0.01)


def _leave(client: socketio.Client) -> None:
    """Disconnect as the client does, in the background: the packets go out as
    always, and nobody waits out the long-poll python-engineio may join."""
    leave = client.disconnect if client.connected else client.eio.disconnect
    threading.Thread(target=leave, name="socket-client-leaving", daemon=True).start()


def wait_for_event(client, name: str, timeout: float = 10.0):
    """The data of the first ``name`` event ``client`` (a ``socket_client``) received."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event, data in list(client.received):
            if event == name:
                return data
        time.sleep(0.02)
    raise AssertionError(f"no {name!r} within {timeout}s; got {client.received}")
