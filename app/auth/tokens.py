"""Bearer tokens: personal tokens for the JSON API, keys for partners.

Only a SHA-256 hash is stored. Tokens are long random strings, so a plain hash
(no salt, no slow KDF) is enough and lets a request find its token by index.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import ApiToken, User
from app.models.enums import TokenKind
from app.transactions import commit

PREFIXES = {TokenKind.PERSONAL: "sbp_", TokenKind.PARTNER: "sbk_"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    kind: TokenKind,
    name: str,
    *,
    user_id: uuid.UUID | None = None,
    partner_organization_id: uuid.UUID | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain value (shown once, never again)."""
    plain = PREFIXES[kind] + secrets.token_urlsafe(32)
    record = ApiToken(
        kind=kind,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:12],
        user_id=user_id,
        partner_organization_id=partner_organization_id,
    )
    db.session.add(record)
    db.session.flush()
    return record, plain


def find_token(plain: str, kind: TokenKind) -> ApiToken | None:
    """The usable token with this value, or None."""
    if not plain or not plain.startswith(PREFIXES[kind]):
        return None
    record = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plain), ApiToken.kind == kind)
    )
    if record is None or not record.is_usable():
        return None
    return record


def user_for_personal_token(plain: str) -> User | None:
    record = find_token(plain, TokenKind.PERSONAL)
    if record is None or record.user is None or not record.user.is_active:
        return None
    now = utcnow()
    # Touch at most once a minute: a busy client should not write on every call.
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        record.last_used_at = now
        commit()
    return record.user
