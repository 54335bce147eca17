"""Each live connection's event queue: numbered, resumable, sent in gathered frames.

A browser that loses its connection (a train, a closed laptop, a Wi-Fi change, a
web process that fell behind) must not go on showing an inbox that silently
misses what happened meanwhile. As Zulip's event queues do, every connection
gets a queue with an id, and every event it is sent carries the queue's next
number, with no gap. A page that reconnects names its queue and the last number
it handled, and gets what it missed, in order. A page whose queue this process no
longer keeps (away past ``LIVE_QUEUE_KEEP_SECONDS``, a restarted or other web
process), or that sees a gap, is told so and refreshes what it shows.

The wire, on Socket.IO's default namespace:

- after the namespace is joined, ``live:queue`` ``{queue, seq, resumed}``: the
  queue's id, the number the next frame follows, and whether the queue asked for
  was kept (``false`` on a first connection too);
- then ``live`` frames: ``[first, [event, data], [event, data], ...]``, the items
  numbered ``first``, ``first + 1``, ... Everything a connection is owed within
  ``LIVE_GATHER_MS`` goes out as one frame, so a busy inbox costs a frame per
  connection per window instead of one per event.

Which events a queue hears follows from the rooms its connection was given
(:func:`app.conversations.inbox.access.connection_rooms`): an event is published
to rooms, and a queue takes it when the two share a room. Each event is encoded
once, whoever hears it; a connection's frame only joins those encodings.

What is kept to resume from is one log of this process's recent events (their
rooms and encodings), not a copy per queue: a queue is a few numbers, so a
connected agent costs little memory whatever the traffic. A queue's numbers are
the events of that log that match its rooms, counted; resuming walks the log
back from the queue's newest event to the last one the page handled.

Presence (who has a conversation open, who is typing) is a snapshot that a page
asks for again when it rejoins; it stays outside the numbering.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable

from engineio import packet as eio_packet

log = logging.getLogger(__name__)

HELLO = "live:queue"
BATCH = "live"


class Queue:
    """One connection's numbered events (a few fields, whatever the traffic)."""

    __slots__ = (
        "id",
        "user_id",
        "rooms",
        "seq",
        "index",
        "sent",
        "pending",
        "eio_sid",
        "greeted",
        "resumed",
        "detached_at",
    )

    def __init__(self, user_id: str, rooms: frozenset[str], index: int) -> None:
        self.id = secrets.token_urlsafe(12)
        self.user_id = user_id
        self.rooms = rooms
        self.seq = 0  # the number of the newest event this queue was given
        self.index = index  # the log index of that event (or where the queue began)
        self.sent = 0  # the newest number handed to the connection
        self.pending: list[str] = []  # encoded events numbered sent + 1 … seq
        self.eio_sid: str | None = None
        self.greeted = False
        self.resumed = False
        self.detached_at = 0.0


class LiveHub:
    """This web process's live queues and the log they resume from.

    ``deliver`` is called for every live event this process hears (from the Redis
    message queue's listener, or in process without Redis); ``attach`` and
    ``detach`` by the connection's connect and disconnect handlers; ``greet`` once
    Socket.IO has told the client its namespace is joined.
    """

    def __init__(
        self, server, *, gather_seconds: float, keep_seconds: float, max_events: int
    ) -> None:
        self.server = server
        self.gather_seconds = gather_seconds
        self.keep_seconds = keep_seconds
        self.max_events = max_events
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        # (index, rooms, encoded event, monotonic time), oldest first; indexes follow on.
        self._log: deque[tuple[int, frozenset[str], str, float]] = deque()
        self._last_index = 0
        self._queues: dict[str, Queue] = {}
        self._by_connection: dict[str, Queue] = {}
        self._by_room: dict[str, set[Queue]] = {}
        self._dirty: set[Queue] = set()
        self._wake = threading.Event()
        self._flusher_started = False

    # -- connections ---------------------------------------------------------

    def attach(
        self, eio_sid: str, user_id, rooms: Iterable[str], asked: object
    ) -> tuple[Queue, bool]:
        """The queue for a new connection: the one ``asked`` names if it can resume it
        (``{"queue": id, "last": n}`` from the client), else a new one."""
        rooms, user_id = frozenset(rooms), str(user_id)
        with self._lock:
            self._expire(time.monotonic())
            queue = self._resumable(asked, user_id, rooms)
            if queue is None:
                queue = Queue(user_id, rooms, self._last_index)
                self._queues[queue.id] = queue
            queue.eio_sid = eio_sid
            queue.greeted = False
            self._by_connection[eio_sid] = queue
            for room in rooms:
                self._by_room.setdefault(room, set()).add(queue)
        return queue, queue.resumed

    def greet(self, eio_sid: str) -> None:
        """Tell a just-joined connection its queue, then send what it is owed."""
        with self._sending:
            with self._lock:
                queue = self._by_connection.get(eio_sid)
                if queue is None or queue.greeted:
                    return
                queue.greeted = True
                hello = {"queue": queue.id, "seq": queue.sent, "resumed": queue.resumed}
                frame = self._take_frame(queue)
            self._send(eio_sid, json.dumps([HELLO, hello], separators=(",", ":")))
            if frame is not None:
                self._send(eio_sid, frame)

    def detach(self, eio_sid: str) -> None:
        """The connection ended; its queue is kept ``keep_seconds`` to resume from."""
        with self._lock:
            queue = self._by_connection.get(eio_sid)
            if queue is not None:
                self._unlink(queue)

    def forget_user(self, user_id) -> None:
        """The user's sessions ended: none of their queues may be resumed."""
        user_id = str(user_id)
        with self._lock:
            for queue in [q for q in self._queues.values() if q.user_id == user_id]:
                if queue.eio_sid is not None:
                    self._unlink(queue)
                self._queues.pop(queue.id, None)

    def _unlink(self, queue: Queue) -> None:
        self._by_connection.pop(queue.eio_sid, None)
        for room in queue.rooms:
            members = self._by_room.get(room)
            if members is not None:
                members.discard(queue)
                if not members:
                    del self._by_room[room]
        self._dirty.discard(queue)
        queue.eio_sid = None
        queue.resumed = False
        queue.pending = []
        queue.index = self._last_index  # everything up to here was matched live
        queue.detached_at = time.monotonic()

    def _resumable(self, asked: object, user_id: str, rooms: frozenset[str]) -> Queue | None:
        """The queue ``asked`` names, brought up to date, if it can go on without a gap."""
        if not isinstance(asked, dict):
            return None
        queue_id, last = asked.get("queue"), asked.get("last")
        queue = self._queues.get(queue_id) if isinstance(queue_id, str) else None
        if queue is None or not isinstance(last, int) or isinstance(last, bool):
            return None
        if queue.user_id != user_id or queue.rooms != rooms or not 0 <= last <= queue.seq:
            return None  # another person's queue, a new role or team, or numbers it never sent
        if queue.eio_sid is not None:
            self._unlink(queue)  # the page is back before its old connection was seen to drop
        replay = self._replay(queue, last)
        if replay is None:
            self._queues.pop(queue.id, None)
            return None
        queue.sent = last
        queue.pending = replay
        queue.resumed = True
        return queue

    def _replay(self, queue: Queue, last: int) -> list[str] | None:
        """The events numbered ``last + 1`` on, the missed ones included; None when the
        log no longer holds them all."""
        log_ = self._log
        first_index = log_[0][0] if log_ else self._last_index + 1
        if queue.index + 1 < first_index and self._last_index > queue.index:
            return None  # events since the queue left were dropped from the log
        # Back from the queue's newest event to the one after ``last``.
        wanted = queue.seq - last
        earlier: list[str] = []
        position = queue.index - first_index
        while wanted and position >= 0:
            _index, rooms, item, _at = log_[position]
            if not rooms.isdisjoint(queue.rooms):
                earlier.append(item)
                wanted -= 1
            position -= 1
        if wanted:
            return None
        earlier.reverse()
        # Forward from there: what happened while the page was away.
        later: list[str] = []
        for position in range(max(queue.index + 1 - first_index, 0), len(log_)):
            index, rooms, item, _at = log_[position]
            if not rooms.isdisjoint(queue.rooms):
                later.append(item)
                queue.seq += 1
                queue.index = index
        queue.index = self._last_index
        return earlier + later

    # -- events --------------------------------------------------------------

    def deliver(self, event: str, args: list, rooms: Iterable[str]) -> None:
        """Number ``event`` (with its arguments, as Socket.IO sends them) for every
        attached queue that shares one of ``rooms``."""
        item = json.dumps([event, *args], separators=(",", ":"), default=str)
        rooms = frozenset(rooms)
        now = time.monotonic()
        with self._lock:
            self._last_index += 1
            self._log.append((self._last_index, rooms, item, now))
            self._trim(now)
            hearing: set[Queue] = set()
            for room in rooms:
                members = self._by_room.get(room)
                if members:
                    hearing.update(members)
            for queue in hearing:
                queue.seq += 1
                queue.index = self._last_index
                queue.pending.append(item)
            self._dirty.update(hearing)
        if not hearing:
            return
        if self.gather_seconds <= 0:
            self.flush()
        else:
            self._start_flusher()
            self._wake.set()

    def flush(self) -> int:
        """Send every connection what it is owed, one frame each; how many frames."""
        # One sender at a time, so two frames of one queue never cross on the way out.
        with self._sending:
            with self._lock:
                dirty, self._dirty = self._dirty, set()
                frames = [
                    (queue.eio_sid, frame)
                    for queue in dirty
                    if (frame := self._take_frame(queue)) is not None
                ]
            for eio_sid, frame in frames:
                self._send(eio_sid, frame)
        return len(frames)

    def _take_frame(self, queue: Queue) -> str | None:
        if not queue.pending or not queue.greeted or queue.eio_sid is None:
            return None
        frame = '["%s",%d,%s]' % (BATCH, queue.sent + 1, ",".join(queue.pending))
        queue.sent = queue.seq
        queue.pending = []
        return frame

    def _send(self, eio_sid: str, payload: str) -> None:
        # "2" makes it a Socket.IO event on the default namespace; Engine.IO adds its "4".
        try:
            packet = eio_packet.Packet(eio_packet.MESSAGE, "2" + payload)
            self.server._send_eio_packet(eio_sid, packet)
        except Exception:  # the socket went between the lock and here: its queue resumes
            log.debug("live frame to a closed connection dropped", exc_info=True)

    def _trim(self, now: float) -> None:
        log_ = self._log
        oldest = now - self.keep_seconds
        while log_ and (len(log_) > self.max_events or log_[0][3] < oldest):
            log_.popleft()

    def _expire(self, now: float) -> None:
        oldest = now - self.keep_seconds
        for queue_id in [
            q.id for q in self._queues.values() if q.eio_sid is None and 0 < q.detached_at < oldest
        ]:
            del self._queues[queue_id]

    # -- the gathering loop --------------------------------------------------

    def _start_flusher(self) -> None:
        with self._lock:
            if self._flusher_started:
                return
            self._flusher_started = True
        self.server.start_background_task(self._flush_every_window)

    def _flush_every_window(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.gather_seconds)
            try:
                self.flush()
                with self._lock:
                    self._trim(time.monotonic())
                    self._expire(time.monotonic())
            except Exception:
                log.exception("live frames not sent")

    # -- figures -------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "queues": len(self._queues),
                "connected": len(self._by_connection),
                "log": len(self._log),
            }


def install(server, config) -> LiveHub:
    """Give a Socket.IO server its live queues, greeted once a connection has joined.

    Socket.IO tells the client that it joined the namespace only after the connect
    handler returns, and a client ignores events before that; so the queue is made
    in the handler (:meth:`LiveHub.attach`) and announced here, right after.
    """
    hub = LiveHub(
        server,
        gather_seconds=float(config["LIVE_GATHER_MS"]) / 1000,
        keep_seconds=float(config["LIVE_QUEUE_KEEP_SECONDS"]),
        max_events=int(config["LIVE_QUEUE_MAX_EVENTS"]),
    )
    server.live_hub = hub
    join = server._handle_connect

    def join_then_greet(eio_sid, namespace, data):
        join(eio_sid, namespace, data)
        hub.greet(eio_sid)

    server._handle_connect = join_then_greet
    return hub


def hub_of(server) -> LiveHub | None:
    return getattr(server, "live_hub", None)
