"""Live updates over Socket.IO (CONTRACT §7).

Browsers connect with their session cookie; anonymous connections are refused.
Each connection joins rooms for its user, role and team, and events are sent to
rooms, never broadcast, so a user only hears about what concerns them.

``publish`` works from any process: with ``REDIS_URL`` set, web processes and
``worker.py`` share the Redis message queue, so a job's event reaches browsers
connected to any web process.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from flask_login import current_user
from flask_socketio import join_room

from app.extensions import socketio

log = logging.getLogger(__name__)

EVENTS = frozenset(
    {"message:new", "thread:updated", "task:assigned", "sla:alert", "notification:new"}
)


def user_room(user_id) -> str:
    return f"user:{user_id}"


def role_room(role) -> str:
    return f"role:{role}"


def team_room(team_id) -> str:
    return f"team:{team_id}"


@socketio.on("connect")
def on_connect(auth: Any = None):
    if not current_user.is_authenticated:
        log.info("refused an unauthenticated Socket.IO connection")
        return False
    join_room(user_room(current_user.id))
    join_room(role_room(current_user.role))
    if current_user.team_id:
        join_room(team_room(current_user.team_id))
    return True


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
    socketio.emit(event, data, to=targets)


def publish_to_users(event: str, data: dict, user_ids: Iterable) -> None:
    publish(event, data, rooms=[user_room(user_id) for user_id in user_ids])
