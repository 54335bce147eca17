"""A live connection on gevent keeps no greenlet waiting but the one serving it
(app.platform.live_sockets), and still speaks Engine.IO as the browser expects.

In this process, on gevent's loop without monkey-patching: a python-socketio
server in gevent mode, with :func:`install`, serves a WebSocket request over a
socket pair, as gunicorn's gevent worker hands it one; the test is the browser at
the other end, writing and reading the WebSocket frames itself. The deployment's
side (gunicorn, nginx, Redis, drops and resumes) is
tests/platform/test_web_processes_behind_nginx.py.
"""

from __future__ import annotations

import gc
import json
import os
import struct

import gevent
import gevent.socket
import greenlet
import pytest
import socketio
from engineio.socket import Socket

from app.platform import live_sockets


def _server(**options) -> socketio.Server:
    server = socketio.Server(async_mode="gevent", **options)
    live_sockets.install(server)
    return server


def _request(sock) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/socket.io/",
        "QUERY_STRING": "EIO=4&transport=websocket",
        "HTTP_HOST": "localhost",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        "wsgi.url_scheme": "http",
        "gunicorn.socket": sock,
    }


class Browser:
    """The client's end of the socket pair: masked text frames out, frames in."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.buffer = b""
        answer = self._until(b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 101"), answer

    def _until(self, end: bytes) -> bytes:
        while end not in self.buffer:
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(end)
        return head

    def _recv(self) -> bytes:
        with gevent.Timeout(5):
            data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        return data

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._recv()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def send(self, data: str | bytes, opcode: int = 1) -> None:
        payload, mask = data.encode() if isinstance(data, str) else data, os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def frame(self) -> tuple[int, bytes]:
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return first & 0x0F, self._take(length)

    def text(self) -> str:
        opcode, payload = self.frame()
        assert opcode == 1, (opcode, payload)
        return payload.decode()


def _connect(server):
    """A browser joined to the default namespace, the greenlet serving it, and its socket."""
    ours, theirs = gevent.socket.socketpair()
    serving = gevent.spawn(server.handle_request, _request(ours), lambda *a: None)
    browser = Browser(theirs)
    opening = browser.text()
    assert opening.startswith("0"), opening
    browser.send("40")
    joined = browser.text()
    assert joined.startswith("40"), joined
    eio_sid = json.loads(opening[1:])["sid"]
    return browser, serving, server.eio.sockets[eio_sid]


def _waiting_greenlets() -> list:
    """This thread's greenlets that ran and now wait (each keeps its stack); a timer's,
    not started yet, is not one."""
    gevent.sleep(0.05)
    hub = gevent.get_hub()
    return [
        g
        for g in gc.get_objects()
        if isinstance(g, greenlet.greenlet) and g.gr_frame is not None and g.parent is hub
    ]


def test_install_leaves_a_threaded_server_as_the_library_makes_it():
    server = socketio.Server(async_mode="threading")
    websocket, connect = server.eio._async["websocket"], server.eio.handlers["connect"]
    live_sockets.install(server)
    assert server.eio._async["websocket"] is websocket
    assert server.eio.handlers["connect"] is connect


def test_an_idle_connection_keeps_only_the_greenlet_that_serves_it():
    server = _server()
    browser, serving, socket = _connect(server)
    assert isinstance(socket, live_sockets.LeanSocket)
    assert socket._writer is None  # no writer once what was queued is sent
    assert not socket.queue.qsize()
    waiting = _waiting_greenlets()
    # The request's greenlet reads the WebSocket itself; the service task watches pings.
    assert serving in waiting
    assert len([g for g in waiting if g is not serving]) <= 1
    server.eio.disconnect(socket.sid)  # as a session that ended (app.platform.live_sessions)
    assert browser.text() == "1"  # Engine.IO's close, then the WebSocket's
    assert browser.frame() == (8, struct.pack("!H", 1000))
    browser.send(struct.pack("!H", 1000), opcode=8)  # the browser answers; the request ends
    serving.join(timeout=5)
    assert serving.dead
    assert socket._writer is None


def test_events_are_written_in_order_and_pings_come_from_a_timer():
    # A second, not less: the first ping must come after the fifty events, however
    # slowly a loaded machine connects.
    server = _server(ping_interval=1, ping_timeout=5)
    heard = []
    server.on("hello", lambda sid, data: heard.append(data))
    browser, serving, socket = _connect(server)
    sid = server.manager.sid_from_eio_sid(socket.sid, "/")
    for n in range(50):
        server.emit("tick", n, to=sid)
    assert [json.loads(browser.text()[2:])[1] for _ in range(50)] == list(range(50))
    assert browser.text() == "2"  # the ping, from the timer
    browser.send("3")
    assert browser.text() == "2"  # answered: the next one is scheduled
    browser.send("3")
    browser.send('42["hello","there"]')
    with gevent.Timeout(5):
        while not heard:
            gevent.sleep(0.01)
    assert heard == ["there"]
    browser.sock.close()  # the network goes: no close frame
    serving.join(timeout=5)
    assert serving.dead
    assert socket.closed


@pytest.mark.parametrize(
    "name", ["schedule_ping", "_send_ping", "_websocket_handler", "send", "close", "poll"]
)
def test_what_the_lean_socket_builds_on_is_still_in_engineio(name):
    assert callable(getattr(Socket, name))


def test_a_browser_that_reads_slowly_holds_up_only_its_own_writer():
    server = _server()
    slow, slow_serving, slow_socket = _connect(server)
    quick, quick_serving, quick_socket = _connect(server)
    slow_sid = server.manager.sid_from_eio_sid(slow_socket.sid, "/")
    quick_sid = server.manager.sid_from_eio_sid(quick_socket.sid, "/")
    text = "x" * 20_000
    with gevent.Timeout(2):  # far more than the socket pair buffers: never waits here
        for n in range(200):
            server.emit("big", {"n": n, "text": text}, to=slow_sid)
        server.emit("small", 1, to=quick_sid)
    assert slow_socket._writer is not None  # the rest waits in the slow one's writer
    assert quick.text() == '42["small",1]'
    for n in range(200):
        event, data = json.loads(slow.text()[2:])
        assert (event, data["n"], len(data["text"])) == ("big", n, 20_000)
    gevent.sleep(0.05)
    assert slow_socket._writer is None
    for browser, serving in ((slow, slow_serving), (quick, quick_serving)):
        browser.sock.close()
        serving.join(timeout=5)
