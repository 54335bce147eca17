"""Two-factor sign-in: an authenticator app (TOTP, RFC 6238) and recovery codes.

The authenticator's secret is stored encrypted (``ENCRYPTION_KEYS``), recovery
codes only as SHA-256 hashes (80 random bits each, so a plain hash is enough).
A code is accepted once: the step of the last accepted code is kept, and only
a later one passes.

Admins and managers must have a second factor before they reach the pages only
they may open (admin pages, integrations, analytics); see
:func:`app.platform.auth.decorators.role_required`. Personal API tokens are not affected:
a token is a credential of its own, issued to a signed-in user.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from flask_babel import gettext

from app.platform.auth.tokens import hash_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import RecoveryCode, TotpCredential, User
from app.platform.models.enums import Role

ISSUER = "Switchboard"
RECOVERY_CODE_COUNT = 10
# Roles that must have a second factor before their own pages open. Partner
# users (the partner portal) hold keys and webhook secrets: they too.
PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.PARTNER})
# The authenticator's clock may be one 30-second step off either way.
CLOCK_DRIFT_STEPS = 1

_TOTP_SHAPE = re.compile(r"^\d{6}$")


class TwoFactorError(ValueError):
    """Setup or a change could not be made; the message says why, for the user."""


def must_use_two_factor(user: User) -> bool:
    return user.role in PRIVILEGED_ROLES


@dataclass(frozen=True)
class TwoFactorNeed:
    """Why a role must sign in with a second factor, and what stays closed without it."""

    why: str
    closed: str


def two_factor_need(user: User) -> TwoFactorNeed | None:
    """What ``user``'s own role opens with a second factor, in their words; None when
    their role does not need one. (A partner user and a manager were told it was
    "for admin pages and integrations", which they never see.)"""
    if user.role == Role.ADMIN:
        return TwoFactorNeed(
            gettext("Your role needs two-factor sign-in: admin pages and integrations hold "
              "everyone's access and the keys to connected systems."),
            gettext("Without it admin pages and integrations stay closed."),
        )  # fmt: skip
    if user.role == Role.MANAGER:
        return TwoFactorNeed(
            gettext("Your role needs two-factor sign-in: analytics and the technicians' working "
              "hours show the whole team's work and customers' figures."),
            gettext("Without it analytics and working hours stay closed."),
        )  # fmt: skip
    if user.role == Role.PARTNER:
        return TwoFactorNeed(
            gettext("The partner portal needs two-factor sign-in: it holds your API keys, "
              "webhook secrets and your customers' orders."),
            gettext("Without it the partner portal stays closed."),
        )  # fmt: skip
    return None


def credential_for(user: User) -> TotpCredential | None:
    return db.session.scalar(sa.select(TotpCredential).where(TotpCredential.user_id == user.id))


def has_two_factor(user: User) -> bool:
    """Whether ``user`` signs in with a second factor (setup confirmed)."""
    credential = credential_for(user)
    return credential is not None and credential.confirmed_at is not None


def start_setup(user: User) -> TotpCredential:
    """A fresh, unconfirmed secret for ``user`` (replacing an unfinished one)."""
    credential = credential_for(user)
    if credential is not None and credential.confirmed_at is not None:
        raise TwoFactorError(gettext("Two-factor sign-in is already on."))
    if credential is None:
        credential = TotpCredential(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(credential)
    else:
        credential.secret = pyotp.random_base32()
        credential.last_used_step = None
    db.session.flush()
    return credential


def pending_setup(user: User) -> TotpCredential | None:
    credential = credential_for(user)
    if credential is None or credential.confirmed_at is not None:
        return None
    return credential


def provisioning_uri(user: User, credential: TotpCredential) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(credential.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` (drawn here: no script needed)."""
    return segno.make(uri, error="m").svg_inline(
        scale=4,
        dark="#101828",
        light="#ffffff",
        title=gettext("QR code for your authenticator app"),
    )


def grouped_secret(credential: TotpCredential) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(credential.secret[i : i + 4] for i in range(0, len(credential.secret), 4))


def confirm_setup(user: User, code: str, now: datetime | None = None) -> list[str]:
    """Turn two-factor sign-in on once ``code`` shows the app has the secret.

    Returns the new recovery codes, to be shown once. Raises TwoFactorError when
    there is no setup under way or the code is wrong.
    """
    credential = pending_setup(user)
    if credential is None:
        raise TwoFactorError(gettext("Start the setup again: there is none under way."))
    if not _accept_totp(credential, code, now):
        raise TwoFactorError(
            gettext("That code is not right. Type the 6 digits your app shows now.")
        )
    credential.confirmed_at = utcnow()
    return regenerate_recovery_codes(user)


def verify_second_factor(user: User, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is a current authenticator code or an unused recovery code.

    Either is used up by passing: the same code a second time is refused.
    """
    credential = credential_for(user)
    if credential is None or credential.confirmed_at is None:
        return False
    code = (code or "").strip().replace(" ", "")
    if _TOTP_SHAPE.match(code):
        return _accept_totp(credential, code, now)
    return _use_recovery_code(user, code)


def disable_two_factor(user: User) -> bool:
    """Remove ``user``'s authenticator and recovery codes; whether there was one."""
    removed = db.session.execute(
        sa.delete(TotpCredential).where(TotpCredential.user_id == user.id)
    ).rowcount
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return bool(removed)


def regenerate_recovery_codes(user: User) -> list[str]:
    """Replace every recovery code of ``user``; returns the new ones (shown once)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_token(_normalise_recovery_code(code)))
        for code in codes
    )
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _accept_totp(credential: TotpCredential, code: str, now: datetime | None) -> bool:
    totp = pyotp.TOTP(credential.secret)
    current = totp.timecode(now or utcnow())
    for step in range(current - CLOCK_DRIFT_STEPS, current + CLOCK_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Claimed in one UPDATE, so two requests with the same code cannot
            # both pass; a code of an earlier step than the last one fails too.
            claimed = db.session.execute(
                sa.update(TotpCredential)
                .where(
                    TotpCredential.id == credential.id,
                    sa.or_(
                        TotpCredential.last_used_step.is_(None),
                        TotpCredential.last_used_step < step,
                    ),
                )
                .values(last_used_step=step)
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.refresh(credential, ["last_used_step"])
            return claimed == 1
    return False


def _use_recovery_code(user: User, code: str) -> bool:
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(_normalise_recovery_code(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return used == 1


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 characters
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normalise_recovery_code(code: str) -> str:
    return re.sub(r"[^a-z0-9]", "", code.lower())


def users_with_two_factor() -> set:
    """Ids of every user whose two-factor sign-in is on (for the users page)."""
    return set(
        db.session.scalars(
            sa.select(TotpCredential.user_id).where(TotpCredential.confirmed_at.is_not(None))
        )
    )
