"""Sessions the server can end, and browsers that stay signed in.

A session cookie is signed, not stored, so the server cannot delete it; instead
it names the user's ``session_version`` (``User.get_id``), and raising the
version makes every older cookie name nobody. "Keep me signed in" is a random
token in its own cookie, stored hashed, exchanged for a new one each time it
brings a session back, and deleted with the rest when the sessions end.

No request in here: :mod:`app.platform.auth.signin` carries the values to and from the
cookies.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.platform.auth.tokens import hash_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import RememberToken, User
from app.platform.realtime import end_live_connections
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user a session names, if it is still valid.

    ``session_id`` is ``"<user id>:<session version>"``; a cookie from before the
    version went up, or in the old form without one, signs nobody in.
    """
    raw_id, sep, raw_version = session_id.partition(":")
    if not sep:
        return None
    try:
        user = db.session.get(User, uuid.UUID(raw_id))
        version = int(raw_version)
    except ValueError:
        return None
    if user is None or user.session_version != version or not user.is_active:
        return None
    return user


def end_all_sessions(user: User) -> None:
    """End every session of ``user``, on every device, and forget every browser.

    The version goes up in SQL (not ``+= 1`` on the loaded value), so two
    sign-outs at once both count. No commit: the caller's transaction carries it.
    """
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(sa.delete(RememberToken).where(RememberToken.user_id == user.id))
    db.session.refresh(user, ["session_version"])
    # Open Socket.IO connections were opened with the ended sessions: they go too.
    user_id = user.id
    after_commit(lambda: end_live_connections(user_id))
    log.info("sessions of user %s ended", user.id)


def remember_lifetime() -> timedelta:
    return timedelta(days=current_app.config["REMEMBER_ME_DAYS"])


def issue_remember_token(
    user: User, *, second_factor: bool, user_agent: str | None = None
) -> tuple[RememberToken, str]:
    """Remember a browser for ``user``: the new row and the token for its cookie.

    Only the token's hash is stored; the plain value goes to the browser alone.
    """
    plain = secrets.token_urlsafe(32)
    record = RememberToken(
        user_id=user.id,
        token_hash=hash_token(plain),
        expires_at=utcnow() + remember_lifetime(),
        second_factor=second_factor,
        user_agent=(user_agent or "")[:200] or None,
    )
    db.session.add(record)
    return record, plain


def redeem_remember_token(
    plain: str, user_agent: str | None = None
) -> tuple[User, RememberToken, str] | None:
    """Trade a remembered browser's token for a new one.

    Returns the user, the new token's row and its plain value, or None when the
    token is unknown (already exchanged, revoked), expired, or its user may not
    sign in. The old token is gone either way: each is good once, so a copy
    taken from the browser stops working the next time the browser uses it.
    """
    # Deleting is the claim: of two requests racing with the same token, one
    # gets the row back and the other nothing.
    claimed = db.session.execute(
        sa.delete(RememberToken)
        .where(RememberToken.token_hash == hash_token(plain))
        .returning(
            RememberToken.user_id,
            RememberToken.expires_at,
            RememberToken.second_factor,
            RememberToken.user_agent,
        )
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if claimed is None or claimed.expires_at <= utcnow():
        return None
    user = db.session.get(User, claimed.user_id)
    if user is None or not user.is_active:
        return None
    new_record, new_plain = issue_remember_token(
        user, second_factor=claimed.second_factor, user_agent=user_agent or claimed.user_agent
    )
    new_record.last_used_at = utcnow()
    return user, new_record, new_plain


def remembered_browsers(user: User) -> list[RememberToken]:
    """The browsers that keep ``user`` signed in, most recently used first."""
    return list(
        db.session.scalars(
            sa.select(RememberToken)
            .where(RememberToken.user_id == user.id, RememberToken.expires_at > utcnow())
            .order_by(sa.func.coalesce(RememberToken.last_used_at, RememberToken.created_at).desc())
        )
    )
