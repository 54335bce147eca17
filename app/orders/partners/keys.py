"""Partner API keys and webhook secrets: issued, rotated and revoked.

A key's plain value exists only in the return value of the function that made
it (the page shows it once); the database keeps its SHA-256 hash and a short
prefix so a person can tell keys apart. Rotation issues a new key and leaves
the old one working for a grace period, so a partner can deploy the new key
before the old one stops: both are valid until the old one expires or is
revoked.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.partners.services import new_webhook_secret
from app.platform.audit.records import SECRET_CHANGED, record_change
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken, Organization, PartnerIntegration, User
from app.platform.models.enums import KeyMode, KeyScope, TokenKind

# How long a rotated-out key keeps working unless it is revoked sooner.
ROTATION_GRACE = timedelta(days=7)
MAX_KEY_NAME = 120
# How long a replaced webhook secret keeps signing beside the new one.
DEFAULT_SECRET_OVERLAP = timedelta(hours=24)
MAX_SECRET_OVERLAP = timedelta(days=7)


def partner_keys(partner: Organization) -> list[ApiToken]:
    """The partner's keys, newest first (revoked and expired ones included)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(
                ApiToken.kind == TokenKind.PARTNER,
                ApiToken.partner_organization_id == partner.id,
            )
            .order_by(ApiToken.created_at.desc())
        )
    )


def find_partner_key(partner: Organization, token_id: uuid.UUID) -> ApiToken | None:
    """The partner's key ``token_id``; another partner's, or another kind of token, is not found."""
    token = db.session.get(ApiToken, token_id)
    if (
        token is None
        or token.kind != TokenKind.PARTNER
        or token.partner_organization_id != partner.id
    ):
        return None
    return token


def issue_partner_key(
    partner: Organization,
    name: str,
    user: User | None = None,
    *,
    mode: KeyMode = KeyMode.LIVE,
    scope: KeyScope = KeyScope.WRITE,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new API key for ``partner``; returns the record and the plain key (no commit).

    ``mode`` test makes a sandbox key (``sbk_test_…``), ``scope`` read a key that
    may only read; ``expires_at`` None never expires.
    """
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("name: " + _("required"))
    if len(name) > MAX_KEY_NAME:
        raise ValueError("name: " + _("at most %(count)s characters", count=MAX_KEY_NAME))
    token, plain = issue_token(
        TokenKind.PARTNER,
        name,
        partner_organization_id=partner.id,
        mode=mode,
        scope=scope,
        expires_at=expires_at,
    )
    _audit(
        token,
        "PARTNER_KEY_ISSUED",
        user,
        {"name": name, "mode": str(mode), "scope": str(scope), "expires_at": _iso(token)},
    )
    return token, plain


def rotate_partner_key(token: ApiToken, user: User | None = None) -> tuple[ApiToken, str]:
    """Replace ``token`` with a new key of the same name, mode, scope and expiry (no commit).

    The old key stays valid for :data:`ROTATION_GRACE` (or less, if it was due
    to expire sooner) and until someone revokes it.
    """
    _require_partner_key(token)
    if not token.is_usable():
        raise ValueError(_("This key is already revoked or expired; issue a new key instead."))
    new_token, plain = issue_token(
        TokenKind.PARTNER,
        token.name,
        partner_organization_id=token.partner_organization_id,
        mode=token.mode,
        scope=token.scope,
        # A key made to expire on a date keeps that date: rotating is not renewing.
        expires_at=token.expires_at,
    )
    grace_until = utcnow() + ROTATION_GRACE
    if token.expires_at is None or token.expires_at > grace_until:
        token.expires_at = grace_until
    _audit(
        new_token,
        "PARTNER_KEY_ROTATED",
        user,
        {"replaces": str(token.id), "old_prefix": token.prefix, "old_key_expires_at": _iso(token)},
    )
    return new_token, plain


def revoke_partner_key(token: ApiToken, user: User | None = None) -> None:
    """Stop ``token`` working now (no commit). Revoking twice is refused."""
    _require_partner_key(token)
    if token.revoked_at is not None:
        raise ValueError(_("This key is already revoked."))
    token.revoked_at = utcnow()
    _audit(token, "PARTNER_KEY_REVOKED", user, {})


# The columns of each set of callback settings' secret (live, and the sandbox's).
_SECRET_COLUMNS = {
    False: ("webhook_secret", "previous_webhook_secret", "previous_secret_expires_at"),
    True: (
        "sandbox_webhook_secret",
        "previous_sandbox_webhook_secret",
        "previous_sandbox_secret_expires_at",
    ),
}


def rotate_webhook_secret(
    integration: PartnerIntegration,
    user: User | None = None,
    *,
    overlap: timedelta = DEFAULT_SECRET_OVERLAP,
    sandbox: bool = False,
) -> str:
    """A new signing secret for callbacks and the inbound status webhook (no commit).

    Returns the plain secret to show once. The replaced secret keeps working
    beside the new one for ``overlap`` (Svix's habit): callbacks carry a
    signature made with each, and the status webhook accepts either, so the
    partner can switch its verifier without losing a callback. ``overlap`` 0
    stops the old secret at once. Rotating again during an overlap ends the
    older secret: only the one just replaced is kept.

    ``sandbox`` rotates the sandbox's own secret instead, which signs test
    orders' callbacks to the sandbox URL only; the first one is
    made this way for a partner that has none yet.
    """
    if overlap < timedelta(0) or overlap > MAX_SECRET_OVERLAP:
        raise ValueError(
            _(
                "The overlap must be between 0 and %(hours)s hours.",
                hours=int(MAX_SECRET_OVERLAP.total_seconds() // 3600),
            )
        )
    current, previous, expires = _SECRET_COLUMNS[sandbox]
    old = getattr(integration, current)
    secret = new_webhook_secret()
    setattr(integration, current, secret)
    if old and overlap > timedelta(0):
        setattr(integration, previous, old)
        setattr(integration, expires, utcnow() + overlap)
    else:
        setattr(integration, previous, None)
        setattr(integration, expires, None)
    until = getattr(integration, expires)
    record_change(
        PartnerIntegration.__tablename__,
        integration.id,
        "SANDBOX_WEBHOOK_SECRET_ROTATED" if sandbox else "WEBHOOK_SECRET_ROTATED",
        {
            "partner_organization_id": str(integration.partner_organization_id),
            current: SECRET_CHANGED,
            "overlap_hours": round(overlap.total_seconds() / 3600, 2),
            expires: until.isoformat() if until else None,
        },
        user_id=user.id if user else None,
    )
    return secret


def end_secret_overlap(integration: PartnerIntegration, user: User | None = None) -> None:
    """Stop the replaced secret now, before its overlap runs out (no commit)."""
    if not integration.previous_secret_is_valid():
        raise ValueError(_("There is no previous secret in use."))
    integration.previous_webhook_secret = None
    integration.previous_secret_expires_at = None
    record_change(
        PartnerIntegration.__tablename__,
        integration.id,
        "WEBHOOK_SECRET_OVERLAP_ENDED",
        {"partner_organization_id": str(integration.partner_organization_id)},
        user_id=user.id if user else None,
    )


def _require_partner_key(token: ApiToken) -> None:
    if token.kind != TokenKind.PARTNER or token.partner_organization_id is None:
        raise ValueError(_("Not a partner API key."))


def _iso(token: ApiToken) -> str | None:
    return token.expires_at.isoformat() if token.expires_at else None


def _audit(token: ApiToken, action: str, user: User | None, extra: dict) -> None:
    record_change(
        ApiToken.__tablename__,
        token.id,
        action,
        {
            "partner_organization_id": str(token.partner_organization_id),
            "prefix": token.prefix,
            **extra,
        },
        user_id=user.id if user else None,
    )
