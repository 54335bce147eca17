"""Signed-in agents' Socket.IO connections for ``benchmarks/e2e.py`` and ``benchmarks/agents.py``.

The agents' browsers would be on their own machines. Here they share the
deployment's two cores, so each must cost the benchmark about what a browser's
socket costs it: python-socketio's client spent about 0.5 ms of CPU on every event
it received, and 50 of them in the benchmark's own process used more CPU than the
whole deployment (28.7 ms a message at 50 msg/s); their backlog was what the
agents' p95 measured. This process speaks Engine.IO 4 and Socket.IO 5 itself over
WebSocket (websocket-client): it answers the open packet with ``40`` (join the
default namespace), every ping with ``3``, and notes when each ``message:new``'s
wamid arrives, reading every connection's frames in one thread.

Both live protocols are understood (:class:`LiveState`): plain ``message:new``
events, and the queued one of app/platform/live_queues.py, where
``live:queue`` names the connection's queue and ``live`` frames carry numbered
batches. An agent keeps its queue and last number over reconnections and asks to
resume with them; a gap, or a queue the server no longer keeps, makes it refresh
its list as the page would (:func:`refresh_inbox`), and so does any reconnection on
the plain protocol (static/js/app.js asks again for what is on screen).

The parent (:class:`AgentSockets`) talks to it over stdin/stdout, one JSON line
each way: the pages' address and every agent's cookie in, ``connected`` back;
then commands (``expect``, ``progress``, ``drop``, ``report``, ``quit``). The
address goes over stdin, not argv: the CPU meter finds the pages process by its
address on its command line. An ``https://`` address (nginx in front of the web
processes) is spoken to over TLS, trusting the CA bundle given with it.

Agents split over several such processes (benchmarks/_web_processes.py) are
reported together: ``firsts`` gives when each message reached this process's first
agent, and ``report`` takes the earliest over all of them and can hand back its
latencies as a histogram (whole milliseconds) the parent adds up.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import queue
import random
import re
import resource
import selectors
import socket
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import websocket

CONNECT_TIMEOUT = 10
# Connections opened at once: a server that holds a thread per socket stops
# answering handshakes when its threads run out, and each refusal costs the timeout.
CONNECT_PARALLEL = 64
# A reconnection that fails is tried again after this long, this many times.
RETRY_SECONDS, RETRIES = 2.0, 5
# Rows the list shows newest first; a refresh reads pages until it is past the gap.
REFRESH_MAX_PAGES = 100
# How long a new connection waits for the live queue's hello and its replay.
GREETING_SECONDS = 0.5
SOCKET_PATH = "/socket.io/?EIO=4&transport=websocket"


def raise_open_files_limit() -> int:
    """Allow as many open files as the hard limit does: one socket per agent, and more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class LiveState:
    """What one agent has taken in over all its connections: the protocol, no sockets.

    ``arrived`` holds each wamid's ``message:new`` as it came live, ``replayed``
    those a resumed queue sent again after a reconnection (late by design, so
    kept apart from the live latencies). ``stale`` says the agent must refresh.
    """

    queue: str | None = None
    last: int | None = None  # the last sequence number handled
    speaks_live: bool = False
    asked_resume: bool = False
    replay_until: int = 0  # numbers up to this one, on this connection, are replays
    # When this connection's queue was resumed (0: a new queue). A hello that names the
    # last number handled instead of the queue's newest does not say where the replay
    # ends: a message heard on a resumed connection that other agents had before its
    # hello was missed while away (:meth:`Agents.report`).
    resumed_at: float = 0.0
    after_resume: dict[str, float] = field(default_factory=dict)
    stale: bool = False
    arrived: dict[str, float] = field(default_factory=dict)
    replayed: dict[str, float] = field(default_factory=dict)
    # Each thread's latest message:new (live or replayed): a refreshed page lists it anew.
    thread_heard: dict[str, float] = field(default_factory=dict)
    # The messages the benchmark waits for, and how many of them came (live or replayed).
    expected: frozenset[str] = frozenset()
    got: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("gaps", "resumed", "not resumed", "replayed events", "duplicates"), 0
        )
    )

    def auth(self) -> dict | None:
        """The CONNECT packet's auth: the queue to resume and the last number handled."""
        if self.queue is None:
            return None
        return {"queue": self.queue, "last": self.last or 0}

    def connecting(self) -> None:
        self.asked_resume = self.queue is not None
        self.replay_until = 0
        self.resumed_at = 0.0

    def packet(self, packet: str, now: float) -> None:
        """One Socket.IO packet (``42[…]``) the server sent."""
        if not packet.startswith("42"):
            return
        if packet.startswith('42["message:new"'):
            _, data = json.loads(packet[2:])
            self._message_new(data, now, replay=False)
        elif packet.startswith('42["live",'):
            _, first, *items = json.loads(packet[2:])
            self._batch(first, items, now)
        elif packet.startswith('42["live:queue"'):
            _, info = json.loads(packet[2:])
            self._queue(info, now)

    def _queue(self, info: dict, now: float) -> None:
        self.speaks_live = True
        if self.asked_resume and info.get("resumed"):
            self.counts["resumed"] += 1
            # What follows at once, up to the queue's newest number, is the replay.
            self.resumed_at = now
            if int(info["seq"]) > (self.last or 0):
                self.replay_until = int(info["seq"])
            return
        if self.asked_resume:
            # The server no longer keeps the queue: what is shown may be stale.
            self.counts["not resumed"] += 1
            self.stale = True
        self.queue = info["queue"]
        self.last = int(info["seq"])

    def _batch(self, first: int, items: list, now: float) -> None:
        if self.last is None:  # a batch before its queue was named: take its numbers
            self.last = first - 1
        if first > self.last + 1:
            self.counts["gaps"] += 1
            self.stale = True  # refresh, then carry on from this frame's numbers
            self.last = first - 1
        for number, item in enumerate(items, start=first):
            if number <= self.last:
                self.counts["duplicates"] += 1
                continue
            self.last = number
            replay = number <= self.replay_until
            if replay:
                self.counts["replayed events"] += 1
            if item and item[0] == "message:new":
                self._message_new(item[1], now, replay=replay)

    def _message_new(self, data: dict, now: float, *, replay: bool) -> None:
        wamid = (data.get("message") or {}).get("external_message_id")
        if data.get("thread_id"):
            self.thread_heard[str(data["thread_id"])] = now
        if not wamid or wamid in self.arrived or wamid in self.replayed:
            return
        (self.replayed if replay else self.arrived)[wamid] = now
        if self.resumed_at and not replay:
            self.after_resume[wamid] = self.resumed_at
        if wamid in self.expected:
            self.got += 1


class Connection:
    """One WebSocket of an agent: the handshake, then frames read without blocking.

    websocket-client makes the handshake and joins the namespace; after that the
    frames are read here, from every connection in one thread (:func:`serve`): a
    thread per connection spent 0.2 ms of CPU a frame on GIL hand-overs at 200 agents.
    """

    def __init__(
        self, url: str, cookie: str, auth: dict | None = None, ca_bundle: str | None = None
    ) -> None:
        self.closed = ""
        self.socket = websocket.create_connection(
            url,
            header=[f"Cookie: {cookie}"],
            timeout=CONNECT_TIMEOUT,
            sslopt={"ca_certs": ca_bundle} if ca_bundle else None,
        )
        opening = self.socket.recv()
        if not opening.startswith("0"):
            raise RuntimeError(f"no Engine.IO open packet: {opening[:80]!r}")
        self.socket.send("40" + (json.dumps(auth, separators=(",", ":")) if auth else ""))
        joined = self.socket.recv()
        if not joined.startswith("40"):  # "44…": the server refused the connection
            raise RuntimeError(f"Socket.IO refused the agent: {joined[:120]!r}")
        self.early = self._greeting()
        # Whatever websocket-client read past the last frame it returned.
        self.buffer = bytearray(b"".join(self.socket.frame_buffer.recv_buffer))
        self.fragments = bytearray()
        self.opcode = 0x1
        self.socket.sock.setblocking(False)

    def _greeting(self) -> list[tuple[str, float]]:
        """The live queue's hello and, on a resumed queue, the frame sent with it, each
        timed as it came: read here, in the connecting thread, so a busy reading loop
        cannot make them look late. The plain protocol sends no hello: nothing
        comes within the wait."""
        early: list[tuple[str, float]] = []
        self.socket.settimeout(GREETING_SECONDS)
        try:
            while True:
                packet = self.socket.recv()
                early.append((packet, time.time()))
                if packet == "2":
                    self.socket.send("3")
                elif packet.startswith('42["live:queue"') and '"resumed":true' not in packet:
                    break
                elif packet.startswith('42["live",'):
                    break
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.socket.settimeout(CONNECT_TIMEOUT)
        return [(p, at) for p, at in early if p != "2"]

    @property
    def sock(self) -> socket.socket:
        return self.socket.sock

    def drop(self) -> None:
        """Lose the connection as a network does: no close frame, no namespace goodbye."""
        try:
            self.socket.sock.close()
        except OSError:
            pass

    def readable(self) -> list[str]:
        """Read what the socket has; the text packets of every whole frame in it.

        Over TLS, what the socket read may hold more records than one ``recv`` hands
        back, which ``select`` does not see again: read until the layer holds none."""
        sock = self.socket.sock
        try:
            while True:
                data = sock.recv(1 << 16)
                if not data:
                    self.closed = "closed by the server"
                    break
                self.buffer += data
                if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                    break
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError as exc:
            self.closed = f"{type(exc).__name__}: {exc}"
        return self.pending()

    def pending(self) -> list[str]:
        """The text packets of the whole frames buffered so far; answers pings."""
        packets = []
        while (frame := self._frame()) is not None:
            opcode, payload = frame
            if opcode == 0x1:
                packet = payload.decode()
                if packet == "2":  # Engine.IO ping
                    self._send("3")
                elif packet.startswith("41"):  # the server ended the namespace
                    self.closed = "disconnected by the server"
                else:
                    packets.append(packet)
            elif opcode == 0x9:  # WebSocket ping
                self._send(bytes(payload), pong=True)
            elif opcode == 0x8:
                self.closed = "closed by the server"
        return packets

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
        try:
            self.socket.sock.setblocking(True)
            if pong:
                self.socket.pong(data)
            else:
                self.socket.send(data)
            self.socket.sock.setblocking(False)
        except OSError as exc:
            self.closed = f"{type(exc).__name__}: {exc}"


_ROW = re.compile(
    r'data-thread-id="([0-9a-f-]{36})".*?<time class="muted" datetime="([^"]+)"', re.S
)
_MORE = re.compile(r'id="more-threads">\s*<a href="[^"]*"\s*hx-get="([^"]+)"', re.S)


def refresh_inbox(base: str, cookie: str, since: float, ca_bundle: str | None = None) -> dict:
    """Ask for the conversation list as the page does after a reconnection (htmx, the
    live-refresh header), newest first, reading "load more" pages until the rows are
    older than ``since``: which threads it lists, each with its newest message's time."""
    import requests  # only the refreshing threads need it

    started = time.time()
    rows: dict[str, float] = {}
    pages, url, target = 0, f"{base}/inbox?sort=newest", "inbox"
    with requests.Session() as session:
        while pages < REFRESH_MAX_PAGES:
            answer = session.get(
                url,
                headers={
                    "Cookie": cookie,
                    "HX-Request": "true",
                    "HX-Target": target,
                    "X-Live-Refresh": "1",
                },
                timeout=30,
                verify=ca_bundle or True,
            )
            pages += 1
            answer.raise_for_status()
            found = [
                (t, datetime.fromisoformat(at).timestamp()) for t, at in _ROW.findall(answer.text)
            ]
            rows.update(found)
            more = _MORE.search(answer.text)
            if not found or not more or min(at for _, at in found) < since:
                break
            url, target = base + html.unescape(more.group(1)), "more-threads"
    return {
        "started": started,
        "rows": rows,
        "pages": pages,
        "seconds": time.time() - started,
        "since": since,
    }


class Agent:
    """One signed-in agent: its live state, its connection when it has one, its refreshes."""

    def __init__(self, number: int, cookie: str) -> None:
        self.number = number
        self.cookie = cookie
        self.state = LiveState()
        self.connection: Connection | None = None
        self.ever_connected = False
        self.refreshing = False
        self.refreshed_in_step = False
        self.refreshes: list[dict] = []
        self.failures = 0
        self.down_for = 0.0  # seconds between a drop and the reconnection


class Agents:
    """Every agent's connection, read in one thread; drops, reconnections and refreshes."""

    def __init__(self, base: str, cookies: list[str], ca_bundle: str | None = None) -> None:
        self.base = base
        self.ca_bundle = ca_bundle
        scheme = "wss://" if base.startswith("https://") else "ws://"
        self.url = scheme + base.split("://", 1)[1] + SOCKET_PATH
        self.agents = [Agent(n, cookie) for n, cookie in enumerate(cookies)]
        self.selector = selectors.DefaultSelector()
        self.done: queue.Queue = queue.Queue()
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        self.selector.register(self.wake_read, selectors.EVENT_READ, "wake")
        self.connecting = ThreadPoolExecutor(CONNECT_PARALLEL, thread_name_prefix="connect")
        self.refreshing = ThreadPoolExecutor(4, thread_name_prefix="refresh")
        self.timers: list[tuple[float, str, Agent]] = []
        self.expected: frozenset[str] = frozenset()
        self.counts = dict.fromkeys(
            (
                "dropped",
                "reconnected",
                "reconnect failures",
                "refreshes",
                "refresh pages",
                "refresh errors",
                "server disconnects",
            ),
            0,
        )
        self.disconnects: list[str] = []
        self.refresh_seconds: list[float] = []
        self.since = 0.0
        self.command_ready = False

    # -- connecting -----------------------------------------------------------------

    def connect_all(self) -> dict:
        """Connect every agent at once (a bounded pool); how many made it, and why not."""
        for agent in self.agents:
            self._connect(agent)
        failed: dict[str, int] = {}
        for _ in self.agents:
            kind, agent, result = self.done.get()
            if kind == "connected":
                self._attach(agent, result)
            else:
                failed[result] = failed.get(result, 0) + 1
        with contextlib.suppress(BlockingIOError):
            os.read(self.wake_read, 1 << 16)
        connected = sum(a.connection is not None for a in self.agents)
        return {"connected": connected, "failed": failed}

    def _connect(self, agent: Agent) -> None:
        agent.state.connecting()
        auth = agent.state.auth()

        def attempt():
            try:
                result = (
                    "connected",
                    agent,
                    Connection(self.url, agent.cookie, auth, self.ca_bundle),
                )
            except Exception as exc:  # noqa: BLE001  (any failure is a figure, not a crash)
                result = ("failed", agent, f"{type(exc).__name__}: {str(exc)[:80]}")
            self.done.put(result)
            os.write(self.wake_write, b"x")

        self.connecting.submit(attempt)

    def _attach(self, agent: Agent, connection: Connection) -> None:
        reconnect = agent.ever_connected
        agent.connection, agent.ever_connected, agent.failures = connection, True, 0
        self.selector.register(connection.sock, selectors.EVENT_READ, agent)
        for packet, at in connection.early:
            agent.state.packet(packet, at)
        self._take(agent, connection.pending())
        if reconnect:
            self.counts["reconnected"] += 1
            # The plain protocol replays nothing: the page asks again for what it shows.
            if not agent.state.speaks_live:
                agent.state.stale = True
            self._refresh_if_stale(agent)

    def _take(self, agent: Agent, packets: list[str]) -> None:
        now = time.time()
        for packet in packets:
            agent.state.packet(packet, now)
        self._refresh_if_stale(agent)

    def _refresh_if_stale(self, agent: Agent) -> None:
        if not agent.state.stale or agent.refreshing:
            return
        agent.state.stale = False
        agent.refreshing = agent.refreshed_in_step = True
        since = self.since

        def refresh():
            try:
                result = (
                    "refreshed",
                    agent,
                    refresh_inbox(self.base, agent.cookie, since, self.ca_bundle),
                )
            except Exception as exc:  # noqa: BLE001
                result = ("refresh failed", agent, f"{type(exc).__name__}: {str(exc)[:80]}")
            self.done.put(result)
            os.write(self.wake_write, b"x")

        self.refreshing.submit(refresh)

    def _lost(self, agent: Agent, reason: str, *, dropped: bool, after: float) -> None:
        if agent.connection is not None:
            try:
                self.selector.unregister(agent.connection.sock)
            except (KeyError, ValueError):
                pass
            agent.connection.drop()
            agent.connection = None
        if not dropped:
            self.counts["server disconnects"] += 1
            self.disconnects.append(f"agent {agent.number}: {reason}")
        self.timers.append((time.monotonic() + after, "reconnect", agent))

    # -- the loop -------------------------------------------------------------------

    def finished(self, kind: str, agent: Agent, result) -> None:
        if kind == "connected":
            self._attach(agent, result)
        elif kind == "failed":
            agent.failures += 1
            if agent.failures <= RETRIES:
                self.timers.append((time.monotonic() + RETRY_SECONDS, "reconnect", agent))
            else:
                self.counts["reconnect failures"] += 1
        elif kind == "refreshed":
            agent.refreshing = False
            agent.refreshes.append(result)
            self.counts["refreshes"] += 1
            self.counts["refresh pages"] += result["pages"]
            self.refresh_seconds.append(result["seconds"])
            self._refresh_if_stale(agent)  # a gap while it read
        else:
            agent.refreshing = False
            self.counts["refresh errors"] += 1
            self.disconnects.append(f"agent {agent.number} refresh: {result}")

    def poll(self, timeout: float) -> None:
        """Read whatever came, run the timers due, take finished background work."""
        if self.timers:
            timeout = max(0.0, min(timeout, min(t for t, _, _ in self.timers) - time.monotonic()))
        for key, _ in self.selector.select(timeout):
            if key.data == "wake":
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_read, 1 << 16)
                continue
            if key.data == "stdin":
                self.command_ready = True
                continue
            agent = key.data
            connection = agent.connection
            if connection is None:
                continue
            self._take(agent, connection.readable())
            if connection.closed and agent.connection is connection:
                self._lost(agent, connection.closed, dropped=False, after=1.0)
        while True:
            try:
                self.finished(*self.done.get_nowait())
            except queue.Empty:
                break
        now, due = time.monotonic(), []
        for timer in self.timers:
            if timer[0] <= now:
                due.append(timer)
        for timer in due:
            self.timers.remove(timer)
            _, what, agent = timer
            if what == "drop" and agent.connection is not None:
                self.counts["dropped"] += 1
                self._lost(agent, "dropped", dropped=True, after=agent.down_for)
            elif what == "reconnect" and agent.connection is None:
                self._connect(agent)

    # -- commands -------------------------------------------------------------------

    def drop(self, share: float, seed: int, after: float, low: float, high: float, since: float):
        """In ``after`` seconds, lose ``share`` of the connected agents (chosen by ``seed``),
        each reconnecting after ``low``–``high`` seconds."""
        rng = random.Random(seed)
        connected = [a for a in self.agents if a.connection is not None]
        chosen = rng.sample(connected, round(share * len(connected)))
        at = time.monotonic() + after
        for agent in chosen:
            agent.down_for = rng.uniform(low, high)
            self.timers.append((at, "drop", agent))
        self.since = since
        return {"chosen": len(chosen)}

    def expect(self, wamids: list[str]) -> dict:
        self.expected = frozenset(wamids)
        for agent in self.agents:
            state = agent.state
            state.expected = self.expected
            state.got = sum(w in self.expected for w in (*state.arrived, *state.replayed))
            agent.refreshed_in_step = False
            agent.refreshes = []
        return {"expected": len(self.expected)}

    def progress(self) -> dict:
        """Deliveries still owed to agents that stayed current, and agents not settled yet
        (down, connecting, refreshing, or waiting for a timer)."""
        waiting = {id(a) for _, _, a in self.timers}
        lacking = pending = refreshing = 0
        for agent in self.agents:
            if not agent.ever_connected:
                continue
            refreshing += agent.refreshing
            if agent.connection is None or agent.refreshing or id(agent) in waiting:
                pending += 1
            elif not agent.refreshed_in_step:
                lacking += len(self.expected) - agent.state.got
        return {"lacking": lacking, "pending": pending, "refreshing": refreshing}

    def firsts(self) -> dict[str, float]:
        """When each message reached the first of these agents (live or replayed)."""
        first: dict[str, float] = {}
        for agent in self.agents:
            if not agent.ever_connected:
                continue
            for wamid, at in (*agent.state.arrived.items(), *agent.state.replayed.items()):
                if at < first.get(wamid, float("inf")):
                    first[wamid] = at
        return first

    def report(
        self, messages: list[list], first: dict[str, float] | None = None, histograms=False
    ) -> dict:
        """Every (message, agent) delivery: live (latency from the POST), replayed after a
        resume, shown by a refresh (its thread listed with a row at least as new as the
        message), or missing. Then forgets these messages.

        ``first``: when each message reached the first agent of every agent process
        (else of this one's); ``histograms``: the latencies as whole milliseconds and
        their counts too, for a parent adding up several agent processes."""
        live, replayed, shown, missing, examples = [], [], 0, 0, []
        unheard = 0  # deliveries of messages no agent had by the drain's end
        agents = [a for a in self.agents if a.ever_connected]
        # When the first agent had each message: says where a missing one was held up.
        first = first if first is not None else self.firsts()
        for agent in agents:
            state = agent.state
            for wamid, posted, thread_id, stamp in messages:
                if wamid in state.arrived:
                    at = state.arrived.pop(wamid)
                    state.replayed.pop(wamid, None)
                    resumed = state.after_resume.pop(wamid, 0.0)
                    if resumed and first.get(wamid, at) < resumed:
                        replayed.append(at - posted)  # others had it before this hello
                    else:
                        live.append(at - posted)
                elif wamid in state.replayed:
                    replayed.append(state.replayed.pop(wamid) - posted)
                elif self._shown(agent, thread_id, stamp):
                    shown += 1
                else:
                    missing += 1
                    if wamid not in first:
                        unheard += 1
                    elif len(examples) < 5:
                        seen = [_refresh_note(r, thread_id, stamp) for r in agent.refreshes]
                        came = first.get(wamid, posted) - posted
                        examples.append(
                            f"agent {agent.number}: {wamid} (first agent +{came:.1f} s; "
                            f"{', '.join(seen) or 'no refresh'})"
                        )
        # The pipeline's own latency (webhook to the first agent), beside the fan-out's.
        earliest = [first[w] - posted for w, posted, _, _ in messages if w in first]
        counts = dict(self.counts)
        for agent in agents:
            for name, value in agent.state.counts.items():
                counts[name] = counts.get(name, 0) + value
        counts["still down"] = sum(a.connection is None for a in agents)
        counts["refreshed agents"] = sum(a.refreshed_in_step for a in agents)
        return {
            **(
                {"histograms": {"live": _histogram(live), "replayed": _histogram(replayed)}}
                if histograms
                else {}
            ),
            "agents": len(agents),
            "live": _summary(live),
            "replayed": _summary(replayed),
            "first agent": _summary(earliest),
            "shown": shown,
            "missing": missing,
            "unheard": unheard,
            "examples": examples,
            "counts": counts,
            "refresh seconds": _summary(self.refresh_seconds),
            "disconnects": self.disconnects[-10:],
        }

    @staticmethod
    def _shown(agent: Agent, thread_id: str, stamp: float) -> bool:
        """Whether a refresh showed the message: its thread listed with a row at least as
        new, or a later message:new of the thread heard after a refresh began (the page
        lists the list again on it, the thread on top). A list read page by page misses
        a thread that moves up meanwhile; the page that hears it moving does not."""
        heard = agent.state.thread_heard.get(thread_id, 0)
        return any(
            r["rows"].get(thread_id, 0) >= stamp
            # Only for a message there while the list was read: one after it must come live.
            or (heard >= r["started"] and stamp <= r["started"] + r["seconds"])
            for r in agent.refreshes
        )

    def arrivals(self) -> dict:
        """Every connected agent's live arrivals (e2e.py matches them itself)."""
        connected = [a for a in self.agents if a.ever_connected]
        return {"arrived": [a.state.arrived for a in connected], "closed": self.disconnects}

    def close(self) -> None:
        for agent in self.agents:
            if agent.connection is not None:
                agent.connection.drop()
        self.connecting.shutdown(wait=False, cancel_futures=True)
        self.refreshing.shutdown(wait=False, cancel_futures=True)


def _refresh_note(refresh: dict, thread_id: str, stamp: float) -> str:
    """A refresh as a missing message saw it: when, its row, how far back it read."""
    rows = refresh["rows"]
    return (
        f"refresh at {refresh['started'] - stamp:+.1f} s, row "
        f"{rows.get(thread_id, 0) - stamp:+.0f} s, {refresh['pages']} pages back to "
        f"{min(rows.values(), default=0) - stamp:+.0f} s"
    )


def _histogram(values: list[float]) -> dict[int, int]:
    """How many of ``values`` (seconds) round to each whole millisecond."""
    counts: dict[int, int] = {}
    for value in values:
        bucket = round(value * 1000)
        counts[bucket] = counts.get(bucket, 0) + 1
    return counts


def _summary(values: list[float]) -> dict:
    """Count and nearest-rank percentiles, so the parent is not sent every sample."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    pick = lambda pct: ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]  # noqa: E731
    return {
        "count": len(ordered),
        "p50": pick(50),
        "p95": pick(95),
        "p99": pick(99),
        "max": ordered[-1],
    }


def serve() -> None:
    """The child's side: connect everyone, then read all their frames in one thread and
    answer the parent's commands on stdin until ``quit``."""
    raise_open_files_limit()
    start = json.loads(sys.stdin.readline())
    agents = Agents(start["url"], start["cookies"], start.get("ca_bundle"))
    print(json.dumps(agents.connect_all()), flush=True)
    agents.selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    while True:
        agents.command_ready = False
        agents.poll(0.5)
        if not agents.command_ready:
            continue
        line = sys.stdin.readline()
        command = json.loads(line) if line.strip() else {"cmd": "quit"}
        name = command.pop("cmd")
        if name == "quit":
            agents.close()
            return
        answer = getattr(agents, name)(**command)
        print(json.dumps(answer), flush=True)


class AgentSockets:
    """The parent's side: the agents' connections in a process of their own."""

    def __init__(
        self, pages_url: str, cookies: list[str], ca_bundle: str | None = None, *, wait=True
    ) -> None:
        """Start the process and hand it the agents; ``wait=False``: call
        :meth:`connected` later (several processes connecting at once)."""
        self.process = subprocess.Popen(  # noqa: S603  (this file, run by this Python)
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._say({"url": pages_url, "cookies": cookies, "ca_bundle": ca_bundle})
        if wait:
            self.connected()

    def connected(self) -> None:
        """Wait until every agent has connected or failed to."""
        answer = self._hear()
        self.count = answer["connected"]
        self.failed: dict[str, int] = answer["failed"]
        self.arrived: list[dict[str, float]] = [{} for _ in range(self.count)]
        self.disconnects: list[str] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    def command(self, name: str, **arguments) -> dict:
        self._say({"cmd": name, **arguments})
        return self._hear()

    def collect(self) -> None:
        """e2e.py's question: every connected agent's live arrivals so far in ``arrived``."""
        answer = self.command("arrivals")
        self.arrived = answer["arrived"]
        self.disconnects = answer["closed"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
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
