"""Who has which conversation open, kept in Redis for every web process to read.

Each open page (one Socket.IO connection, ``sid``) is an entry of the
conversation's sorted set, scored by when it expires. The page renews it with a
heartbeat every ``HEARTBEAT_SECONDS``; a page that goes away says so, but a
killed process or a lost connection cannot, so an entry not renewed for
``EXPIRES_AFTER_SECONDS`` no longer counts and is swept on the next read.
Works the same on real Redis and on the embedded queue's fakeredis.
"""

from __future__ import annotations

import time
import uuid

from app.platform.jobs.queues import broker

HEARTBEAT_SECONDS = 20
# Two missed heartbeats and a little: a slow network is not "gone".
EXPIRES_AFTER_SECONDS = 45
PREFIX = "switchboard:presence"


def _thread_key(thread_id) -> str:
    return f"{PREFIX}:thread:{thread_id}"


def _connection_key(sid: str) -> str:
    return f"{PREFIX}:sid:{sid}"


def _entry(user_id, sid: str) -> str:
    return f"{user_id}|{sid}"


def _now(now: float | None) -> float:
    return time.time() if now is None else now


def enter(thread_id, user_id, sid: str, *, now: float | None = None) -> None:
    """``user_id``'s page ``sid`` shows the conversation (also the heartbeat)."""
    expires = _now(now) + EXPIRES_AFTER_SECONDS
    redis = broker().connection
    pipe = redis.pipeline()
    pipe.zadd(_thread_key(thread_id), {_entry(user_id, sid): expires})
    pipe.expire(_thread_key(thread_id), EXPIRES_AFTER_SECONDS * 2)
    # Which conversations the connection is in, to clear them when it closes.
    pipe.sadd(_connection_key(sid), f"{thread_id}|{user_id}")
    pipe.expire(_connection_key(sid), EXPIRES_AFTER_SECONDS * 2)
    pipe.execute()


def leave(thread_id, user_id, sid: str) -> None:
    redis = broker().connection
    pipe = redis.pipeline()
    pipe.zrem(_thread_key(thread_id), _entry(user_id, sid))
    pipe.srem(_connection_key(sid), f"{thread_id}|{user_id}")
    pipe.execute()


def leave_everywhere(sid: str) -> list[str]:
    """The connection closed: take it out of every conversation; the thread ids it was in."""
    redis = broker().connection
    left = []
    for raw in redis.smembers(_connection_key(sid)):
        thread_id, _, user_id = _text(raw).partition("|")
        redis.zrem(_thread_key(thread_id), _entry(user_id, sid))
        left.append(thread_id)
    redis.delete(_connection_key(sid))
    return left


def sweep(thread_id, *, now: float | None = None) -> int:
    """Drop entries whose heartbeat stopped; how many went."""
    return int(broker().connection.zremrangebyscore(_thread_key(thread_id), "-inf", _now(now)))


def viewers(thread_id, *, now: float | None = None) -> list[uuid.UUID]:
    """The users with the conversation open now (each once, however many tabs)."""
    sweep(thread_id, now=now)
    found: list[uuid.UUID] = []
    for raw in broker().connection.zrange(_thread_key(thread_id), 0, -1):
        user_id = uuid.UUID(_text(raw).partition("|")[0])
        if user_id not in found:
            found.append(user_id)
    return found


def _text(raw) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)
