"""The hub's "test connection" is no port scanner.

An admin types a ROVIDA tenant's base URL and presses "test connection". The
answer used to say "refused: … connected to 127.0.0.1" when something listened
on the port and "failed: ConnectionError" when nothing did, so an admin (or
whoever holds an admin's session) could map which internal ports are open.

Now the name is resolved and every address vetted before any connection is
tried: a private address is refused as "not allowed", whatever listens there,
and nothing is connected to. Where connecting is allowed (a public address; in
tests the explicit exception ``ALLOW_PRIVATE_WEBHOOK_URLS``), every way of not
getting an HTTP answer reads the same.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.fakes.rovida import API_KEY, FakeRovida
from tests.support.helpers import csrf_token_from, reader_language, signed_in_admin

INTRANET = "intranet.example"  # a name the (patched) DNS answers with 127.0.0.1
NOWHERE = "nowhere.example"  # a name the DNS does not know


class Listener:
    """A TCP port on 127.0.0.1 that something listens on, counting who connects.

    ``behaviour``: ``close`` hangs up at once, ``silent`` never says a word.
    """

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.accepted = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed by stop()
                return
            self.accepted += 1
            if self.behaviour == "close":
                conn.close()
            else:
                self._held.append(conn)

    def stop(self) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]  # nothing listens there once it is closed


@contextmanager
def _listening(behaviour: str) -> Iterator[Listener]:
    listener = Listener(behaviour)
    try:
        yield listener
    finally:
        listener.stop()


@pytest.fixture
def dns(monkeypatch):
    """``intranet.example`` answers 127.0.0.1, ``nowhere.example`` nothing; the rest as usual."""
    real = socket.getaddrinfo

    def answer(host, port, *args, **kwargs):
        if host == INTRANET:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        if host == NOWHERE:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", answer)


@pytest.fixture
def admin(client, auth, make_user):
    signed_in_admin(auth, make_user)
    return csrf_token_from(client.get("/integrations/").get_data(as_text=True))


def _tested(client, token: str, base_url: str, api_key: str = API_KEY) -> str:
    """Save a ROVIDA integration at ``base_url`` and press its "test connection":
    the result line the page shows, the URL the admin typed in it as ``<base URL>``."""
    created = client.post(
        "/api/integrations",
        json={"provider": "rovida", "api_key": api_key, "base_url": base_url},
        headers={"X-CSRFToken": token},
    )
    assert created.status_code == 201, created.get_json()
    integration_id = created.get_json()["data"]["id"]
    pressed = client.post(
        f"/integrations/{integration_id}/test",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert pressed.status_code == 200
    page = pressed.get_data(as_text=True)
    shown = re.search(r'data-testid="test-result"[^>]*>(.*?)</p>', page, re.S)
    assert shown, page
    return " ".join(shown.group(1).split()).replace(base_url, "<base URL>")


def test_an_open_and_a_closed_internal_port_answer_alike_and_neither_is_connected_to(
    app, client, admin, dns
):
    app.config["ALLOW_PRIVATE_WEBHOOK_URLS"] = False  # production
    with _listening("silent") as open_port:
        answers = {
            "open": _tested(client, admin, f"https://{INTRANET}:{open_port.port}"),
            "closed": _tested(client, admin, f"https://{INTRANET}:{_closed_port()}"),
        }
        assert open_port.accepted == 0  # vetted before connecting: no connection was tried
    assert answers["open"] == answers["closed"], answers
    assert answers["open"].startswith("Connection failed")
    assert "not allowed" in answers["open"]
    assert "127.0.0.1" not in answers["open"]


def test_every_failure_to_reach_reads_the_same(app, client, admin, dns, monkeypatch):
    # The exception on, as in development: connections are made, and how each
    # one failed (nothing listening, hung up, silent, not TLS, no such name)
    # must not show.
    monkeypatch.setattr("app.integrations.connectors.base.TIMEOUT", (2, 0.5))
    plain_http = FakeRovida().start()
    try:
        with _listening("close") as hangs_up, _listening("silent") as silent:
            answers = {
                "closed": _tested(client, admin, f"https://127.0.0.1:{_closed_port()}"),
                "hangs up": _tested(client, admin, f"https://127.0.0.1:{hangs_up.port}"),
                "silent": _tested(client, admin, f"https://127.0.0.1:{silent.port}"),
                "not tls": _tested(client, admin, plain_http.url.replace("http:", "https:")),
                "no such name": _tested(client, admin, f"https://{NOWHERE}:443"),
            }
            assert hangs_up.accepted and silent.accepted  # these were reached
    finally:
        plain_http.stop()
    assert len(set(answers.values())) == 1, answers
    assert "could not be reached" in answers["closed"]


def test_a_good_server_still_passes(client, admin):
    rovida = FakeRovida().start()
    try:
        assert _tested(client, admin, rovida.url).startswith("Connection works")
        assert _tested(client, admin, rovida.url, api_key="wrong-key").startswith(
            "Connection failed"
        )
        assert len(rovida.requests_to("/v1/work-orders", "GET")) == 2
    finally:
        rovida.stop()


speak = pytest.fixture(reader_language, name="speak")


def test_a_dutch_admin_reads_the_answer_in_dutch(app, client, admin, dns, speak):
    app.config["ALLOW_PRIVATE_WEBHOOK_URLS"] = False
    speak("nl")
    answer = _tested(client, admin, f"https://{INTRANET}:{_closed_port()}")
    assert answer.startswith("Verbinding mislukt")
    assert "niet toegestaan" in answer and "not allowed" not in answer
