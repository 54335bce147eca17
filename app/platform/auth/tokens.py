"""Bearer tokens: personal tokens for the JSON API, keys for partners.

Only a SHA-256 hash is stored. Tokens are long random strings, so a plain hash
(no salt, no slow KDF) is enough and lets a request find its token by index.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken
from app.platform.models.enums import KeyMode, KeyScope, TokenKind
from app.platform.transactions import commit

PREFIXES = {TokenKind.PERSONAL: "sbp_", TokenKind.PARTNER: "sbk_"}
# A partner key says its mode in its prefix, as Stripe's sk_live_/sk_test_ do, so
# a test key pasted into production is seen at a glance. Keys issued before
# modes existed ("sbk_" and random) are live keys.
MODE_PREFIXES = {KeyMode.LIVE: "sbk_live_", KeyMode.TEST: "sbk_test_"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    kind: TokenKind,
    name: str,
    *,
    user_id: uuid.UUID | None = None,
    partner_organization_id: uuid.UUID | None = None,
    mode: KeyMode = KeyMode.LIVE,
    scope: KeyScope = KeyScope.WRITE,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain value (shown once, never again)."""
    prefix = MODE_PREFIXES[mode] if kind == TokenKind.PARTNER else PREFIXES[kind]
    plain = prefix + secrets.token_urlsafe(32)
    record = ApiToken(
        kind=kind,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[: len(prefix) + 4],
        user_id=user_id,
        partner_organization_id=partner_organization_id,
        mode=mode,
        scope=scope,
        expires_at=expires_at,
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


def personal_token(plain: str, address: str | None = None) -> ApiToken | None:
    """The usable personal token with this value whose user is active, or None.

    Records when (at most once a minute) and from where (``address``, each
    time it changes) the token was used; commits that small write.
    """
    record = find_token(plain, TokenKind.PERSONAL)
    if record is None or record.user is None or not record.user.is_active:
        return None
    now = utcnow()
    address = (address or "")[:45] or None
    # Touch at most once a minute: a busy client should not write on every call.
    if (
        record.last_used_at is None
        or (now - record.last_used_at).total_seconds() > 60
        or (address and record.last_used_ip != address)
    ):
        record.last_used_at = now
        record.last_used_ip = address or record.last_used_ip
        commit()
    return record
