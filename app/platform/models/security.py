"""What signing in keeps on the server: remembered browsers and second factors.

A session cookie proves nothing the server cannot take back: each one carries
the user's ``session_version`` (see :class:`app.platform.models.identity.User`), and the
rows here can be deleted. Tokens and recovery codes are stored only as SHA-256
hashes; the authenticator secret is encrypted with ``ENCRYPTION_KEYS``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.crypto import EncryptedText
from app.platform.database import Entity, utcnow
from app.platform.extensions import db


class RememberToken(Entity, db.Model):
    """One browser that chose "Keep me signed in".

    The cookie holds a random token; it is exchanged for a new one each time it
    brings a session back, and every token of a user goes when they sign out or
    change their password.
    """

    __tablename__ = "remember_tokens"

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime] = so.mapped_column()
    last_used_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Whether the sign-in that issued it passed a second factor, which the
    # restored session then keeps (admin pages ask for one).
    second_factor: so.Mapped[bool] = so.mapped_column(default=False)
    # The browser, as it named itself, so a person can tell their devices apart.
    user_agent: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())


class TotpCredential(Entity, db.Model):
    """A user's authenticator app (RFC 6238 TOTP).

    Written when setup starts and confirmed once the user has typed a code from
    the app; until then it does not count.
    """

    __tablename__ = "totp_credentials"

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    secret: so.Mapped[str] = so.mapped_column(EncryptedText)
    confirmed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # The 30-second step of the last code accepted: a code is good once, so one
    # read over a shoulder or replayed from a proxy log does not sign in again.
    last_used_step: so.Mapped[Optional[int]] = so.mapped_column(sa.BigInteger)


class RecoveryCode(Entity, db.Model):
    """A one-time code for when the authenticator is lost."""

    __tablename__ = "recovery_codes"

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    used_at: so.Mapped[Optional[datetime]] = so.mapped_column()
