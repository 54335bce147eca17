"""A partner's portal users: invited by an admin, set their own password, deactivated.

There is no password-reset mechanism to reuse, so an invitation is a signed,
timed link (``itsdangerous``, keyed by ``SECRET_KEY``) that names the user, a
fingerprint of their current password hash and their invitation version:
setting a password changes the hash, so a link works once, and a new link
raises the version, so the links handed out before it stop working (one sent
to an old or wrong address is no longer a way in).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.conversations.channels.email.settings import template_ids
from app.conversations.channels.email.transactional import send_transactional
from app.orders.partners.config import ConfigInvalid
from app.platform.audit.records import record_change
from app.platform.auth.passwords import hash_password
from app.platform.auth.services import create_user
from app.platform.auth.sessions import end_all_sessions
from app.platform.extensions import db
from app.platform.i18n import LANGUAGES
from app.platform.models import Organization, User
from app.platform.models.enums import Role
from app.platform.transports.registry import is_sandboxed

INVITATION_MAX_AGE = timedelta(days=7)
_SALT = "partner-portal-invitation"
# The SendGrid template of the invitation mail (SENDGRID_TEMPLATE_IDS); without
# it, or with SendGrid in its sandbox, the admin copies the link instead.
INVITATION_TEMPLATE = "portal_invitation"


def portal_users(partner: Organization) -> list[User]:
    """The partner's portal users, active ones first, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == Role.PARTNER, User.partner_organization_id == partner.id)
            .order_by(User.is_active_account.desc(), User.name)
        )
    )


def invite_portal_user(
    partner: Organization, name: str, email: str, language: str, admin: User | None
) -> tuple[User, str]:
    """A new portal user of ``partner`` and their invitation token (no commit).

    The account gets a random password nobody knows; the invitation link sets
    the real one. Raises ConfigInvalid naming the field that is wrong.
    """
    language = (language or "").strip() or "nl"
    if language not in LANGUAGES:
        raise ConfigInvalid({"language": _("Choose one of the languages listed.")})
    try:
        user = create_user(
            email,
            name or "",
            Role.PARTNER,
            secrets.token_urlsafe(32),
            partner_organization_id=partner.id,
            language=language,
        )
    except ValueError as exc:
        field, _sep, message = str(exc).partition(": ")
        raise ConfigInvalid({field or "email": message or str(exc)}) from exc
    record_change(
        "users",
        user.id,
        "PORTAL_USER_INVITED",
        {"email": user.email, "partner_organization_id": str(partner.id), "language": language},
        user_id=admin.id if admin else None,
    )
    return user, invitation_token(user)


class InvitationRefused(Exception):
    """The link does not set a password; ``str()`` says why, for the person holding it."""


def invitation_token(user: User) -> str:
    """A link token that sets ``user``'s password once, within INVITATION_MAX_AGE."""
    return _serializer().dumps(
        {"u": str(user.id), "p": _fingerprint(user), "v": user.invitation_version}
    )


def renew_invitation(user: User, admin: User | None) -> str:
    """A new link for ``user``; every earlier one stops working (no commit)."""
    user.invitation_version += 1
    record_change(
        "users",
        user.id,
        "PORTAL_INVITATION_RENEWED",
        {"email": user.email},
        user_id=admin.id if admin else None,
    )
    return invitation_token(user)


def send_invitation(user: User, partner: Organization, link: str) -> bool:
    """Mail ``link`` to ``user`` when mail is configured; whether it was sent.

    Not sent (False) means the admin's page shows the link once to pass on.
    """
    config = current_app.config
    if is_sandboxed("sendgrid") or INVITATION_TEMPLATE not in template_ids(config):
        return False
    send_transactional(
        user.email,
        INVITATION_TEMPLATE,
        {"name": user.name, "partner_name": partner.name, "link": link, "language": user.language},
        ["portal-invitation"],
        name=user.name,
        subject="Switchboard partner portal",
    )
    return True


def redeem_invitation(token: str) -> User:
    """The active portal user ``token`` was made for; :class:`InvitationRefused` if the
    link is no longer good (used, expired, replaced by a newer one, or not ours)."""
    try:
        data = _serializer().loads(token, max_age=int(INVITATION_MAX_AGE.total_seconds()))
        user = db.session.get(User, uuid.UUID(str(data.get("u"))))
    except (BadSignature, ValueError, TypeError, AttributeError):
        user = data = None
    if (
        user is None
        or user.role != Role.PARTNER
        or not user.is_active_account
        or data.get("p") != _fingerprint(user)
    ):
        raise InvitationRefused(
            _("This invitation link was used already, has expired or is not valid.")
        )
    # A link from before versions were kept carries none: it was the first.
    if data.get("v", 0) != user.invitation_version:
        raise InvitationRefused(
            _(
                "This invitation link was replaced by a newer one. Use the link in the "
                "latest invitation, or ask us for a new one."
            )
        )
    return user


def set_invited_password(user: User, password: str) -> None:
    """The invited user chose their password (no commit); other sessions end."""
    try:
        user.password_hash = hash_password(password or "")
    except ValueError as exc:
        raise ConfigInvalid({"password": str(exc)}) from exc
    end_all_sessions(user)
    record_change("users", user.id, "PORTAL_PASSWORD_SET", {"password": "set"}, user_id=user.id)


def set_chosen_password(user: User, password: str, password_again: str) -> None:
    """The welcome form: the password typed twice must be the same, then as
    :func:`set_invited_password` (no commit)."""
    if password != password_again:
        raise ConfigInvalid({"password_again": _("The two passwords differ.")})
    set_invited_password(user, password)


def deactivate_portal_user(user: User, admin: User | None) -> None:
    """``user`` can no longer sign in; their sessions end now (no commit)."""
    user.is_active_account = False
    end_all_sessions(user)
    record_change(
        "users",
        user.id,
        "PORTAL_USER_DEACTIVATED",
        {"is_active_account": {"from": True, "to": False}},
        user_id=admin.id if admin else None,
    )


def find_portal_user(partner: Organization, user_id: uuid.UUID) -> User | None:
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.PARTNER or user.partner_organization_id != partner.id:
        return None
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
