"""Personal API tokens (``sbp_…``) managed by admins.

A personal token acts as its user on the JSON API (``/api/…``): a person's
script, or a service account's integration. Admins issue one for a user with a
scope (read: GET only; write) and an optional expiry, rotate it (the old one
keeps working for :data:`ROTATION_GRACE`, as partner keys do) and revoke it.
The plain value is returned once; only its hash is kept.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from app.platform.audit.records import record_change
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken, User
from app.platform.models.enums import KeyScope, TokenKind
from app.platform.typed_dates import parse_day

# The grace a rotated partner key gets too (app.orders.partners.keys.ROTATION_GRACE).
ROTATION_GRACE = timedelta(days=7)
MAX_KEY_NAME = 120
# An expiry date on a form is the end of that day where our admins are.
EXPIRY_ZONE = ZoneInfo("Europe/Amsterdam")


def expiry_from_date(value: str | None, now: datetime | None = None) -> datetime | None:
    """A form's expiry date (``YYYY-MM-DD``) as the end of that Dutch day, in UTC.

    Empty is None (never expires). ValueError, with the message to show, for
    something that is not a date (:mod:`app.platform.typed_dates`) or a day already past.
    """
    day = parse_day(value)
    if day is None:
        return None
    # The last minute of that day, so the page says "valid until <that day>".
    end_of_day = datetime.combine(day, time(23, 59), tzinfo=EXPIRY_ZONE)
    moment = end_of_day.astimezone(ZoneInfo("UTC"))
    if moment <= (now or utcnow()):
        raise ValueError(_("The expiry date must be in the future."))
    return moment


def personal_tokens() -> list[ApiToken]:
    """Every personal token, newest first, with its user (revoked and expired included)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.kind == TokenKind.PERSONAL)
            .options(sa.orm.joinedload(ApiToken.user))
            .order_by(ApiToken.created_at.desc())
        )
    )


def issue_personal_token(
    owner: User,
    name: str,
    user: User | None = None,
    *,
    scope: KeyScope = KeyScope.WRITE,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new personal token acting as ``owner``; returns the record and the plain token.

    ``user`` is the admin issuing it (audit). No commit.
    """
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("name: " + _("required"))
    if len(name) > MAX_KEY_NAME:
        raise ValueError("name: " + _("at most %(count)s characters", count=MAX_KEY_NAME))
    if not owner.is_active:
        raise ValueError("user: " + _("This user is deactivated."))
    if expires_at is not None and expires_at <= utcnow():
        raise ValueError("expires_at: " + _("must be in the future"))
    token, plain = issue_token(
        TokenKind.PERSONAL, name, user_id=owner.id, scope=scope, expires_at=expires_at
    )
    _audit(
        token,
        "API_TOKEN_ISSUED",
        user,
        {"user": owner.email, "name": name, "scope": str(scope), "expires_at": _iso(token)},
    )
    return token, plain


def rotate_personal_token(token: ApiToken, user: User | None = None) -> tuple[ApiToken, str]:
    """Replace ``token`` with a new one of the same owner, name, scope and expiry (no commit).

    The old token stays valid for :data:`ROTATION_GRACE` (or less, if it was
    due to expire sooner) and until revoked.
    """
    _require_personal(token)
    if not token.is_usable():
        raise ValueError(_("This token is already revoked or expired; issue a new one instead."))
    new_token, plain = issue_token(
        TokenKind.PERSONAL,
        token.name,
        user_id=token.user_id,
        scope=token.scope,
        expires_at=token.expires_at,
    )
    grace_until = utcnow() + ROTATION_GRACE
    if token.expires_at is None or token.expires_at > grace_until:
        token.expires_at = grace_until
    _audit(
        new_token,
        "API_TOKEN_ROTATED",
        user,
        {
            "replaces": str(token.id),
            "old_prefix": token.prefix,
            "old_token_expires_at": _iso(token),
        },
    )
    return new_token, plain


def revoke_personal_token(token: ApiToken, user: User | None = None) -> None:
    """Stop ``token`` working now (no commit). Revoking twice is refused."""
    _require_personal(token)
    if token.revoked_at is not None:
        raise ValueError(_("This token is already revoked."))
    token.revoked_at = utcnow()
    _audit(token, "API_TOKEN_REVOKED", user, {})


def _require_personal(token: ApiToken) -> None:
    if token.kind != TokenKind.PERSONAL:
        raise ValueError(_("Not a personal API token."))


def _iso(token: ApiToken) -> str | None:
    return token.expires_at.isoformat() if token.expires_at else None


def _audit(token: ApiToken, action: str, user: User | None, extra: dict) -> None:
    record_change(
        ApiToken.__tablename__,
        token.id,
        action,
        {"user_id": str(token.user_id), "prefix": token.prefix, **extra},
        user_id=user.id if user else None,
    )
