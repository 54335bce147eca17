"""Live updates over Socket.IO.

Browsers connect with their session cookie; anonymous connections and partners'
portal users are refused (:mod:`app.conversations.presence.socket` accepts them). Each
connection joins the rooms :func:`app.conversations.inbox.access.connection_rooms` gives its
user (a technician: their own user room only), and events are sent to rooms,
never broadcast, so a user only hears about what they may open.

A connection lives no longer than the sign-in it was opened with: when a
user's sessions end (sign-out, "sign out everywhere", a new password,
deactivation) :func:`end_live_connections` drops every connection in the
user's room, on whichever web process holds it. It travels as a control
message on the same queue as the events (never sent to a browser), and each
process's manager disconnects its own sockets in the room. A socket that
tries to connect with the ended cookie is refused at ``connect``. What that
message cannot catch (a deactivation or a new role written straight to the
database, the message lost) :mod:`app.platform.live_sessions` does.

``publish`` works from any process: with ``REDIS_URL`` set, web processes and
``worker.py`` share the Redis message queue, so a job's event reaches browsers
connected to any web process. Inside a batch job (:mod:`app.platform.jobs.coalescing`) the
events are held and go out together, in order, in one Redis round trip.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Iterable
from urllib.parse import urlsplit

import redis
import socketio as socketio_server

from app.platform.extensions import socketio
from app.platform.jobs.broker import POOL_SIZE as REDIS_POOL_SIZE
from app.platform.jobs.broker import POOL_WAIT_SECONDS as REDIS_POOL_WAIT_SECONDS
from app.platform.jobs.coalescing import hold
from app.platform.live_queues import hub_of

log = logging.getLogger(__name__)

# Between our processes only: "disconnect every socket in this room".
END_CONNECTIONS = "switchboard:end-connections"

EVENTS = frozenset(
    {
        "message:new",
        "thread:updated",
        "task:assigned",
        "sla:alert",
        "notification:new",
        # The desk's count of orders waiting for a person; no order data (app.orders.core.waiting).
        "orders:waiting",
    }
)


def async_mode() -> str:
    """How Socket.IO waits: on gevent's loop under ``gunicorn --worker-class gevent``
    (it patched the standard library before the app was loaded), where an open
    connection costs a greenlet instead of a thread; else on threads (``python
    wsgi.py``, the tests, the workers)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return "gevent"
    return "threading"


def user_room(user_id) -> str:
    return f"user:{user_id}"


def role_room(role) -> str:
    return f"role:{role}"


def team_room(team_id) -> str:
    return f"team:{team_id}"


def publish(event: str, data: dict, *, rooms: Iterable[str]) -> None:
    """Send ``event`` to every connection in ``rooms``.

    Call after the database commit that the event reports, so a browser that
    reacts by fetching never sees older data than the event describes.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    targets = sorted(set(rooms))
    if not targets:
        return
    if not hold("live-updates", _emit_together, (event, data, targets)):
        socketio.emit(event, data, to=targets)


def end_live_connections(user_id) -> None:
    """Disconnect every live connection of ``user_id``, on every web process.

    Call after the commit that ended the user's sessions (see the module notes).
    """
    socketio.emit(END_CONNECTIONS, {}, to=user_room(user_id))


class _EndsConnections:
    """Acts on :data:`END_CONNECTIONS` instead of sending it to browsers."""

    def _end_connections(self, namespace: str | None, room: str | None) -> None:
        namespace = namespace or "/"
        if not isinstance(room, str):
            return
        hub = hub_of(self.server)  # type: ignore[attr-defined]
        if hub is not None and room.startswith("user:"):
            hub.forget_user(room.removeprefix("user:"))
        for sid, _eio_sid in list(self.get_participants(namespace, room)):  # type: ignore[attr-defined]
            self.server.disconnect(sid, namespace=namespace, ignore_queue=True)  # type: ignore[attr-defined]
        log.info("live connections in %s ended with the sessions", room)


class _NumbersLiveEvents:
    """Hands the live events to the process's live queues (app.platform.live_queues),
    which number them per connection; anything else goes to Socket.IO's rooms."""

    def _to_live_queues(self, event, data, room) -> bool:
        if event not in EVENTS:
            return False
        hub = hub_of(self.server)  # type: ignore[attr-defined]
        if hub is not None and room is not None:
            # Socket.IO hands an event's arguments on as a tuple or list (one: its data).
            args = list(data) if isinstance(data, (list, tuple)) else [data]
            hub.deliver(event, args, [room] if isinstance(room, str) else room)
        return True


class LocalManager(_NumbersLiveEvents, _EndsConnections, socketio_server.Manager):
    """One process's rooms (no Redis: ``make run``, the tests)."""

    def emit(self, event, data, namespace, room=None, **kwargs):
        if event == END_CONNECTIONS:
            return self._end_connections(namespace, room)
        if self._to_live_queues(event, data, room):
            return None
        return super().emit(event, data, namespace, room=room, **kwargs)


def _emit_together(emits: list[tuple[str, dict, list[str]]]) -> None:
    manager = getattr(socketio.server, "manager", None)
    together = getattr(manager, "together", nullcontext)
    with together():
        for event, data, targets in emits:
            socketio.emit(event, data, to=targets)


class PipelinedRedisManager(_NumbersLiveEvents, _EndsConnections, socketio_server.RedisManager):
    """Socket.IO's Redis message queue, able to send several events in one round trip.

    Each ``emit`` is a Redis ``PUBLISH`` of its own; inside :meth:`together`
    the publishes are gathered and sent in one pipeline when the block ends,
    in the order they were emitted. Gathering is per thread.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._gathering = threading.local()

    def _redis_connect(self):
        """As the library connects, with the broker's waiting pool (app.platform.jobs.broker):
        a burst of tabs closing at once each publishes, and redis-py 8 refuses the
        101st connection asked for at once."""
        if urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            return super()._redis_connect()  # Sentinel: the library's own way
        pool = redis.BlockingConnectionPool.from_url(
            self.redis_url,
            max_connections=REDIS_POOL_SIZE,
            timeout=REDIS_POOL_WAIT_SECONDS,
            **self.redis_options,
        )
        self.redis = redis.Redis(connection_pool=pool)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self.connected = True
        return None

    @contextmanager
    def together(self) -> Iterator[None]:
        if getattr(self._gathering, "messages", None) is not None:
            yield
            return
        self._gathering.messages = []
        try:
            yield
        finally:
            messages, self._gathering.messages = self._gathering.messages, None
            if messages:
                self._publish_all(messages)

    def _handle_emit(self, message):
        # Every process hears each emit here, the sender included.
        if message.get("event") == END_CONNECTIONS:
            return self._end_connections(message.get("namespace"), message.get("room"))
        if self._to_live_queues(message.get("event"), message.get("data"), message.get("room")):
            return None
        return super()._handle_emit(message)

    def _publish(self, data):
        messages = getattr(self._gathering, "messages", None)
        if messages is None:
            return super()._publish(data)
        messages.append(data)
        return None

    def _publish_all(self, messages: list[dict]) -> None:
        # Two attempts, as the manager's own publish makes.
        for retries_left in (1, 0):
            try:
                if not self.connected:
                    self._redis_connect()
                pipeline = self.redis.pipeline(transaction=False)
                for message in messages:
                    pipeline.publish(self.channel, self.json.dumps(message))
                pipeline.execute()
                return
            except Exception:  # Redis away: the commit stands, browsers refresh later
                if retries_left:
                    log.warning("cannot publish live updates to Redis; retrying", exc_info=True)
                    self.connected = False
                else:
                    log.exception("%d live updates not published", len(messages))


def publish_to_users(event: str, data: dict, user_ids: Iterable) -> None:
    publish(event, data, rooms=[user_room(user_id) for user_id in user_ids])
