"""A live connection's Socket.IO events: connect, and the conversation page's
open, heartbeat, leave, typing.

At ``connect`` the session cookie is checked: anonymous connections and
partners' portal users are refused; anyone else joins the rooms
:func:`app.conversations.inbox.access.connection_rooms` gives them, and nothing more.

A page asks to join its conversation's room (``presence:join``); the room is
joined only if the signed-in user may open the conversation, so nobody hears
who views or types in a conversation they cannot see. Each heartbeat checks
again: a conversation moved to another team stops being shared at once. Every
event first asks whether the socket's session still holds
(:func:`app.platform.live_sessions.session_still_open`); a socket that outlived it is dropped.
Answers come back as the event's acknowledgement: ``{"ok": true, "viewers":
[...]}``, or ``{"ok": false, "error": ...}``.

Server → browser, to the conversation's room only:
- ``presence:update`` ``{thread_id, viewers: [{id, name, initials}]}``
- ``presence:typing`` ``{thread_id, user: {...}, kind: reply|note, typing}``
"""

from __future__ import annotations

import logging
import uuid

from flask import request
from flask_login import current_user
from flask_socketio import join_room, leave_room, rooms

from app.conversations.inbox.access import can_access_thread, connection_rooms
from app.conversations.presence import board
from app.conversations.presence.people import people, person
from app.platform.extensions import db, socketio
from app.platform.live_queues import hub_of
from app.platform.live_sessions import closed, opened, session_still_open
from app.platform.models import CommunicationThread
from app.platform.models.enums import Role

log = logging.getLogger(__name__)

TYPING_KINDS = ("reply", "note")


def conversation_room(thread_id) -> str:
    return f"conversation:{thread_id}"


def init_app(app) -> None:
    """Register the handlers on the app's Socket.IO server (made by ``create_app``)."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("presence:join", on_join)
    socketio.on_event("presence:heartbeat", on_heartbeat)
    socketio.on_event("presence:leave", on_leave)
    socketio.on_event("presence:typing", on_typing)
    socketio.on_event("disconnect", on_disconnect)


def on_connect(auth=None):
    if not current_user.is_authenticated:
        log.info("refused an unauthenticated Socket.IO connection")
        return False
    if current_user.role == Role.PARTNER:
        # Partner users see the portal only; the live events are our staff's.
        log.info("refused a partner user's Socket.IO connection")
        return False
    rooms = connection_rooms(current_user)
    for room in rooms:
        join_room(room)
    # The live events are numbered per connection; a page that reconnects names the
    # queue it had and the last number it handled (``auth``), and resumes from there.
    hub = hub_of(socketio.server)
    if hub is not None:
        hub.attach(_engine_sid(), current_user.id, rooms, auth)
    # The rooms hold as long as the session, the role and the team they follow from.
    opened(request.sid, current_user._get_current_object())
    return True


def _engine_sid() -> str:
    return socketio.server.manager.eio_sid_from_sid(request.sid, "/")


def _allowed_thread(data) -> CommunicationThread | None:
    """The conversation ``data`` names, if the signed-in user may open it."""
    if not session_still_open():
        return None
    if not isinstance(data, dict):
        return None
    try:
        thread_id = uuid.UUID(str(data.get("thread_id")))
    except ValueError:
        return None
    thread = db.session.get(CommunicationThread, thread_id)
    if thread is None or not can_access_thread(current_user, thread):
        return None
    return thread


def _refused() -> dict:
    return {"ok": False, "error": "not_allowed"}


def snapshot(thread_id) -> dict:
    return {"thread_id": str(thread_id), "viewers": people(board.viewers(thread_id))}


def announce(thread_id) -> None:
    """Tell the conversation's room who has it open now (every web process's)."""
    socketio.emit("presence:update", snapshot(thread_id), to=conversation_room(thread_id))


def on_join(data=None):
    thread = _allowed_thread(data)
    if thread is None:
        log.info("presence: a page may not join %r", data)
        return _refused()
    join_room(conversation_room(thread.id))
    board.enter(thread.id, current_user.id, request.sid)
    announce(thread.id)
    return {"ok": True, **snapshot(thread.id)}


def on_heartbeat(data=None):
    if not session_still_open():
        return _refused()
    thread = _allowed_thread(data)
    if thread is None:
        _quit(data)
        return _refused()
    board.enter(thread.id, current_user.id, request.sid)
    if board.sweep(thread.id):
        announce(thread.id)  # someone's page stopped beating: their avatar goes
    return {"ok": True, **snapshot(thread.id)}


def on_leave(data=None):
    if not session_still_open():
        return _refused()
    _quit(data)
    return {"ok": True}


def _quit(data) -> None:
    """Leave the room ``data`` names, if this connection is in it."""
    raw = data.get("thread_id") if isinstance(data, dict) else None
    try:
        thread_id = uuid.UUID(str(raw))
    except ValueError:
        return
    if conversation_room(thread_id) not in rooms():
        return
    leave_room(conversation_room(thread_id))
    board.leave(thread_id, current_user.id, request.sid)
    announce(thread_id)


def on_typing(data=None):
    """Pass "typing" (or "stopped") on to the others in the room this page joined."""
    if not session_still_open():
        return _refused()
    if not isinstance(data, dict) or data.get("kind") not in TYPING_KINDS:
        return {"ok": False, "error": "invalid_kind"}
    try:
        thread_id = uuid.UUID(str(data.get("thread_id")))
    except ValueError:
        return _refused()
    room = conversation_room(thread_id)
    # Only a page that passed the access check on joining is in the room.
    if room not in rooms():
        return _refused()
    socketio.emit(
        "presence:typing",
        {
            "thread_id": str(thread_id),
            "user": person(current_user),
            "kind": data["kind"],
            "typing": data.get("typing", True) is not False,
        },
        to=room,
        skip_sid=request.sid,
    )
    return {"ok": True}


def on_disconnect(*_reason):
    closed(request.sid)
    hub = hub_of(socketio.server)
    if hub is not None:
        hub.detach(_engine_sid())
    for thread_id in board.leave_everywhere(request.sid):
        announce(thread_id)
