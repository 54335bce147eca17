"""Signed-in agents' Socket.IO connections for ``benchmarks/e2e.py --agents N``.

The agents' browsers would be on their own machines. Here they share the
deployment's two cores, so each must cost the benchmark about what a browser's
socket costs it: python-socketio's client spent about 0.5 ms of CPU on every event
it received, and 50 of them in the benchmark's own process used more CPU than the
whole deployment (28.7 ms a message at 50 msg/s); their backlog was what the
agents' p95 measured. This process speaks Engine.IO 4 and Socket.IO 5 itself over
WebSocket (websocket-client): it answers the open packet with ``40`` (join the
default namespace), every ping with ``3``, and notes when each ``message:new``'s
wamid arrives, reading every connection's frames in one thread.

The parent (:class:`AgentSockets`) talks to it over stdin/stdout, one JSON line
each way: the pages' address and every agent's cookie in; ``connected`` back;
then ``collect`` in, every agent's arrivals out; ``quit``. The address goes over
stdin, not argv: the CPU meter finds the pages process by its address on its
command line.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from pathlib import Path

import websocket

CONNECT_TIMEOUT = 10


class Connection:
    """One agent's socket: the wamid of each ``message:new`` and when it came.

    websocket-client makes the handshake and joins the namespace; after that the
    frames are read here, from every connection in one thread (:func:`serve`): a
    thread per connection spent 0.2 ms of CPU a frame on GIL hand-overs at 200 agents.
    """

    def __init__(self, url: str, cookie: str) -> None:
        self.arrived: dict[str, float] = {}
        self.closed = ""
        self.socket = websocket.create_connection(
            url, header=[f"Cookie: {cookie}"], timeout=CONNECT_TIMEOUT
        )
        opening = self.socket.recv()
        if not opening.startswith("0"):
            raise RuntimeError(f"no Engine.IO open packet: {opening[:80]!r}")
        self.socket.send("40")
        joined = self.socket.recv()
        if not joined.startswith("40"):  # "44…": the server refused the connection
            raise RuntimeError(f"Socket.IO refused the agent: {joined[:120]!r}")
        # Whatever websocket-client read past the last frame it returned.
        self.buffer = bytearray(b"".join(self.socket.frame_buffer.recv_buffer))
        self.fragments = bytearray()
        self.opcode = 0x1
        self.socket.sock.setblocking(False)

    def readable(self) -> None:
        """Read what the socket has and handle every whole frame in it."""
        try:
            data = self.socket.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError as exc:
            self.closed = f"{type(exc).__name__}: {exc}"
            return
        if not data:
            self.closed = "closed by the server"
            return
        self.buffer += data
        while (frame := self._frame()) is not None:
            opcode, payload = frame
            if opcode == 0x1:
                self._text(payload.decode())
            elif opcode == 0x9:  # WebSocket ping
                self._send(bytes(payload), pong=True)
            elif opcode == 0x8:
                self.closed = "closed by the server"

    def _frame(self) -> tuple[int, bytes] | None:
        """The next whole message in the buffer (server frames are never masked)."""
        while True:
            buffer = self.buffer
            if len(buffer) < 2:
                return None
            final, opcode, length, offset = buffer[0] & 0x80, buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return None
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return None
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return None
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode >= 0x8:  # control frames come whole, between fragments
                return opcode, payload
            self.fragments += payload
            if opcode:
                self.opcode = opcode
            if final:
                whole, self.fragments = bytes(self.fragments), bytearray()
                return self.opcode, whole

    def _send(self, data, *, pong: bool = False) -> None:
        """A short answer on the non-blocking socket: blocking for the moment it takes."""
        self.socket.sock.setblocking(True)
        try:
            if pong:
                self.socket.pong(data)
            else:
                self.socket.send(data)
        finally:
            self.socket.sock.setblocking(False)

    def _text(self, packet: str) -> None:
        if packet == "2":  # Engine.IO ping
            self._send("3")
        elif packet.startswith('42["message:new"'):
            now = time.time()
            _, data = json.loads(packet[2:])
            wamid = data["message"].get("external_message_id")
            if wamid:
                self.arrived.setdefault(wamid, now)
        elif packet.startswith("41"):  # the server ended the namespace
            self.closed = "disconnected by the server"


def serve() -> None:
    """The child's side: connect everyone, then read all their frames in one thread and
    answer ``collect`` on stdin until ``quit``."""
    start = json.loads(sys.stdin.readline())
    url = start["url"].replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    connections = [Connection(url, cookie) for cookie in start["cookies"]]
    selector = selectors.DefaultSelector()
    for connection in connections:
        selector.register(connection.socket.sock, selectors.EVENT_READ, connection)
    selector.register(sys.stdin, selectors.EVENT_READ, None)
    print(json.dumps({"connected": len(connections)}), flush=True)
    while True:
        for key, _ in selector.select():
            if key.data is not None:
                key.data.readable()
                if key.data.closed:
                    selector.unregister(key.fileobj)
                continue
            if sys.stdin.readline().strip() != "collect":
                for connection in connections:
                    connection.socket.close()
                return
            answer = {
                "arrived": [c.arrived for c in connections],
                "closed": [c.closed for c in connections if c.closed],
            }
            print(json.dumps(answer), flush=True)


class AgentSockets:
    """The parent's side: the agents' connections in a process of their own."""

    def __init__(self, pages_url: str, cookies: list[str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (this file, run by this Python)
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._say({"url": pages_url, "cookies": cookies})
        answer = self._hear()
        self.count = answer["connected"]
        self.arrived: list[dict[str, float]] = [{} for _ in range(self.count)]
        self.disconnects: list[str] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    def collect(self) -> None:
        """Bring every agent's arrivals so far into ``arrived``."""
        self.process.stdin.write("collect\n")
        self.process.stdin.flush()
        answer = self._hear()
        self.arrived = answer["arrived"]
        self.disconnects = answer["closed"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def _say(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _hear(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the agents' socket process ended; see its stderr above")
        return json.loads(line)


if __name__ == "__main__":
    serve()
