"""A live connection holds only as long as what it was opened with.

A socket joins rooms for its user, role and team at ``connect``
(:mod:`app.platform.realtime`), and the server pushes to those rooms without asking the
browser anything, so the session check Flask-Login makes on each event the
browser sends never runs for what the server sends. Three things end a socket:

- the end of the user's sessions sends a control message to every web process
  (:func:`app.platform.realtime.end_live_connections`), at once;
- every handler of an event the browser sends asks :func:`session_still_open`
  first, so a socket that missed that message is dropped the next time it speaks;
- each web process looks over its own sockets every ``LIVE_SESSION_CHECK_SECONDS``
  (:func:`check_live_sessions`), one query for all of them, and drops those whose
  user is gone or deactivated, whose sessions ended (the version went up, the
  control message lost with a Redis restart, say), or whose role or team changed
  (their rooms would be the old role's or team's).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import disconnect

from app.platform.extensions import db, socketio
from app.platform.metrics import SOCKETS
from app.platform.models import User

log = logging.getLogger(__name__)

NAMESPACE = "/"


@dataclass(frozen=True)
class Opened:
    """What a socket was opened with: the rooms it joined follow from it."""

    user_id: uuid.UUID
    session_version: int
    role: str
    team_id: uuid.UUID | None

    @classmethod
    def of(cls, user: User) -> Opened:
        return cls(user.id, user.session_version, str(user.role), user.team_id)


# This process's sockets (sid → what it was opened with).
_opened: dict[str, Opened] = {}
_lock = threading.Lock()
_checker: threading.Event | None = None  # set: the running loop stops


def opened(sid: str, user: User) -> None:
    """A socket was accepted for ``user`` (called at ``connect``)."""
    with _lock:
        _opened[sid] = Opened.of(user)
        SOCKETS.inc()
    _start_checker(current_app._get_current_object())  # type: ignore[attr-defined]


def closed(sid: str) -> None:
    """A socket ended (called at ``disconnect``)."""
    with _lock:
        if _opened.pop(sid, None) is not None:
            SOCKETS.dec()


def session_still_open() -> bool:
    """For every handler of a browser's event: whether the socket still stands for
    a valid session of the same user, role and team. If not, it is dropped."""
    with _lock:
        was = _opened.get(request.sid)
    if (
        current_user.is_authenticated and was is not None and was == Opened.of(current_user)  # type: ignore[arg-type]
    ):
        return True
    log.info("a socket outlived its session: dropped")
    disconnect()
    return False


def check_live_sessions() -> int:
    """Drop this process's sockets whose session or rooms no longer hold; how many.

    Needs an app context. Sockets that closed by themselves are forgotten here.
    """
    manager = socketio.server.manager
    with _lock:
        sockets = dict(_opened)
    gone = [sid for sid in sockets if not manager.is_connected(sid, NAMESPACE)]
    live = {sid: was for sid, was in sockets.items() if sid not in gone}
    now = _current(was.user_id for was in live.values())
    stale = [sid for sid, was in live.items() if now.get(was.user_id) != was]
    with _lock:
        for sid in gone + stale:
            if _opened.pop(sid, None) is not None:
                SOCKETS.dec()
    for sid in stale:
        socketio.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
    if stale:
        log.info("%d live connections outlived their sessions: dropped", len(stale))
    return len(stale)


def _current(user_ids) -> dict[uuid.UUID, Opened]:
    """What each user's sockets would be opened with now (active users only)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(User.id, User.session_version, User.role, User.team_id).where(
            User.id.in_(ids), User.is_active_account.is_(True)
        )
    ).all()
    return {row.id: Opened(row.id, row.session_version, str(row.role), row.team_id) for row in rows}


def _start_checker(app: Flask) -> None:
    """One checking loop per web process, from its first socket on (0: none)."""
    global _checker
    seconds = float(app.config.get("LIVE_SESSION_CHECK_SECONDS") or 0)
    if seconds <= 0:
        return
    with _lock:
        if _checker is not None:
            return
        _checker = stop = threading.Event()
    socketio.start_background_task(_check_every, app, seconds, stop)


def stop_checker() -> None:
    """End this process's checking loop (a test that started one)."""
    global _checker
    with _lock:
        stop, _checker = _checker, None
    if stop is not None:
        stop.set()


def _check_every(app: Flask, seconds: float, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        try:
            with app.app_context():
                check_live_sessions()
        except Exception:  # the database away for a moment: try again next round
            log.warning("could not check live sessions", exc_info=True)
