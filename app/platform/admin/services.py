"""Queries and changes behind the admin pages."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.audit.records import record_change
from app.platform.auth.sessions import end_all_sessions
from app.platform.auth.two_factor import disable_two_factor
from app.platform.extensions import db
from app.platform.models import ApiToken, User
from app.platform.models.enums import TokenKind


def list_users() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).options(so.joinedload(User.team)).order_by(User.role, User.name)
        )
    )


def find_user(user_id: uuid.UUID) -> User | None:
    return db.session.get(User, user_id)


def find_personal_token(token_id: uuid.UUID) -> ApiToken | None:
    """A person's API token (a partner's key is not found here)."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.kind == TokenKind.PERSONAL else None


def reset_two_factor(user: User, *, admin: User, ip_address: str | None) -> bool:
    """Remove ``user``'s authenticator and recovery codes (a lost phone); no commit.

    Their sessions end too: whoever holds the phone or a signed-in browser is
    out, and the user signs in with the password and sets up a new app. Returns
    whether there was anything to reset.
    """
    if not disable_two_factor(user):
        return False
    end_all_sessions(user)
    record_change(
        "users",
        user.id,
        "two_factor_reset",
        {"two_factor": "removed", "sessions": "ended", "email": user.email},
        user_id=admin.id,
        ip_address=ip_address,
    )
    return True
