"""Helpers shared by tests: signing in through the real forms."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pyotp
import sqlalchemy as sa

from app.auth import two_factor
from app.conversations import Sender, record_inbound
from app.extensions import db
from app.models import TotpCredential, User
from app.models.enums import ChannelType

PASSWORD = "correct-horse-battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_META.search(html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, "page carries no CSRF token"
    return match.group(1)


def enroll_two_factor(user: User) -> list[str]:
    """Turn on ``user``'s two-factor sign-in through the real setup; the recovery codes.

    The setup is confirmed with the code of the step *before* now, so the next
    two sign-ins (this step and the next) each have a fresh code to use.
    """
    two_factor.start_setup(user)
    credential = two_factor.pending_setup(user)
    now = datetime.now(timezone.utc)
    totp = pyotp.TOTP(credential.secret)
    codes = two_factor.confirm_setup(user, totp.generate_otp(totp.timecode(now) - 1), now)
    db.session.commit()
    return codes


def has_second_factor(email: str) -> bool:
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    return user is not None and two_factor.has_two_factor(user)


def second_factor_code(email: str) -> str:
    """A code the server accepts now for ``email``'s authenticator.

    Codes are good once: the next unused step of the current window if there is
    one, else a recovery code (made afresh through the real service).
    """
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    credential = db.session.scalar(
        sa.select(TotpCredential).where(TotpCredential.user_id == user.id)
    )
    totp = pyotp.TOTP(credential.secret)
    current = totp.timecode(datetime.now(timezone.utc))
    step = max(current, (credential.last_used_step or 0) + 1)
    if step <= current + two_factor.CLOCK_DRIFT_STEPS:
        return totp.generate_otp(step)
    codes = two_factor.regenerate_recovery_codes(user)
    db.session.commit()
    return codes[0]


class AuthActions:
    """Sign users in and out through the real login form, CSRF included.

    A user with two-factor sign-in gets the second step done too (a code from
    :func:`second_factor_code`) unless ``second_factor=False``.
    """

    def __init__(self, client):
        self._client = client

    def login(
        self,
        email: str,
        password: str = PASSWORD,
        follow_redirects: bool = False,
        *,
        second_factor: bool = True,
        remember: bool = False,
    ):
        page = self._client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        data = {"email": email, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        response = self._client.post("/login", data=data)
        if second_factor and response.headers.get("Location", "").endswith("/login/verify"):
            response = self.verify(second_factor_code(email))
        if follow_redirects and response.status_code in (301, 302, 303):
            return self._client.get(response.headers["Location"], follow_redirects=True)
        return response

    def verify(self, code: str):
        """Answer the second step of a sign-in with ``code``."""
        page = self._client.get("/login/verify")
        token = csrf_token_from(page.get_data(as_text=True))
        return self._client.post("/login/verify", data={"code": code, "csrf_token": token})

    def csrf_token(self, path: str = "/inbox") -> str:
        return csrf_token_from(self._client.get(path).get_data(as_text=True))

    def logout(self):
        token = self.csrf_token()
        return self._client.post("/logout", data={"csrf_token": token})


def receive(channel, contact, inbound):
    """Record ``inbound`` from ``contact`` as its channel's processor would."""
    if channel.channel_type == ChannelType.EMAIL_OUTLOOK:
        sender = Sender("email", contact.email, name=contact.display_name)
    else:
        sender = Sender("phone", contact.phone)
    return record_inbound(channel, sender, inbound)
