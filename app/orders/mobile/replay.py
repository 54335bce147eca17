"""Form posts from the phone done once, however often the phone sends them.

A technician in a basement taps "Arrived"; the phone keeps the post and sends it
again when the signal returns, perhaps twice (the first answer was lost on the
way back). Each queued post carries a ``client_action_id`` the phone made up;
the first request with it claims the key ``(user_id, client_action_id)`` in
``mobile_actions`` inside the action's own transaction, so the key exists
exactly when the action was committed. A later request with the same key waits
for that transaction (PostgreSQL's unique index), finds it taken and gets the
answer kept from the first time instead of doing the action again. A refused
action rolls its key back with it: sending it again asks again.

Posts without the field (no script, or an old page) are done as before.

The phone marks posts it sends from its queue with ``X-Offline-Replay: 1``:
:func:`is_offline_replay` lets a route treat them as decided long ago (no Undo
window to wait out: the technician is no longer looking at that card).
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import make_response, request
from flask_login import current_user
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import MobileAction, PushDelivery
from app.platform.transactions import commit

log = logging.getLogger(__name__)
FIELD = "client_action_id"
# Kept answers larger than this are not worth keeping: the replay gets the
# current state of the page instead (see _kept_answer).
MAX_KEPT_BODY = 200_000
# A replay that arrives while the first request is still being answered: the
# phone tries again shortly (it treats 503 like a lost connection).
RETRY_AFTER_SECONDS = "2"
REPLAY_HEADER = "X-Offline-Replay"


def replayable(view):
    """Do the decorated ``/m/`` post once per ``client_action_id`` of the signed-in user."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        action_id = _action_id()
        if action_id is None:
            return view(*args, **kwargs)
        if not _claim(current_user.id, action_id):
            db.session.rollback()
            return _kept_answer(current_user.id, action_id)
        response = make_response(view(*args, **kwargs))
        _keep_answer(current_user.id, action_id, response)
        response.headers["X-Client-Action"] = "done"
        return response

    # Copied up through the decorators above (functools.wraps), so a test can
    # find every phone post that is not yet done once.
    wrapper.replayable = True
    return wrapper


def is_offline_replay() -> bool:
    """True for a post the phone kept while offline and sends now, with its action id."""
    return request.headers.get(REPLAY_HEADER) == "1" and _action_id() is not None


def _action_id() -> uuid.UUID | None:
    raw = request.form.get(FIELD, "")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        log.info("ignored malformed client_action_id %r", raw[:60])
        return None


def _claim(user_id: uuid.UUID, action_id: uuid.UUID) -> bool:
    """Insert the key in the current transaction; False when it was already taken."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    claimed = db.session.execute(
        insert(MobileAction)
        .values(id=uuid.uuid4(), user_id=user_id, client_action_id=action_id)
        .on_conflict_do_nothing(index_elements=["user_id", "client_action_id"])
        .returning(MobileAction.id)
    ).scalar()
    return claimed is not None


def _keep_answer(user_id: uuid.UUID, action_id: uuid.UUID, response) -> None:
    """Store the answer with the key, when the action's transaction kept the key."""
    body = None
    if not response.direct_passthrough and not response.is_streamed:
        text = response.get_data(as_text=True)
        body = text if len(text) <= MAX_KEPT_BODY else None
    db.session.execute(
        sa.update(MobileAction)
        .where(
            MobileAction.user_id == user_id,
            MobileAction.client_action_id == action_id,
            MobileAction.status_code.is_(None),
        )
        .values(
            status_code=response.status_code,
            body=body,
            location=(response.headers.get("Location") or "")[:500] or None,
        )
    )
    commit()


def _kept_answer(user_id: uuid.UUID, action_id: uuid.UUID):
    action = db.session.scalar(
        sa.select(MobileAction).where(
            MobileAction.user_id == user_id, MobileAction.client_action_id == action_id
        )
    )
    if action is None or action.status_code is None:
        response = make_response("", 503)
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    if action.location:
        response = make_response("", action.status_code)
        response.headers["Location"] = action.location
    else:
        response = make_response(action.body or "", action.status_code)
    response.headers["X-Client-Action"] = "replayed"
    return response


# A phone sends its queue within hours; a week covers a technician off sick
# with posts still on the phone.
KEEP_ANSWERS_DAYS = 7


def forget_old_actions() -> int:
    """Periodic job: drop kept answers (and push claims) older than a week."""
    cutoff = utcnow() - timedelta(days=KEEP_ANSWERS_DAYS)
    removed = db.session.execute(
        sa.delete(MobileAction).where(MobileAction.created_at < cutoff)
    ).rowcount
    removed += db.session.execute(
        sa.delete(PushDelivery).where(PushDelivery.created_at < cutoff)
    ).rowcount
    commit()
    return removed
