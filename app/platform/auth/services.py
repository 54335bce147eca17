"""Signing in: password and second-factor checks, account lockout, per-address throttling."""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext

from app.platform.auth.passwords import dummy_hash, hash_password, verify_password
from app.platform.auth.two_factor import verify_second_factor
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import broker
from app.platform.models import User
from app.platform.models.enums import Role
from app.platform.transactions import commit

log = logging.getLogger(__name__)


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None
    # Seconds until the address throttle lets the next attempt in (the 429's
    # Retry-After), else 0.
    retry_after: int = 0
    # The account is locked (during the second step): the sign-in starts over.
    locked: bool = False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, name: str, role: Role | str, password: str, **fields) -> User:
    """Create a staff account. Raises ValueError naming the field that is wrong."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValueError("email: not a valid e-mail address")
    if not name.strip():
        raise ValueError("name: required")
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValueError(f"role: must be one of {', '.join(Role.values())}") from exc
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise ValueError(f"email: a user with {email} already exists")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise ValueError(f"password: {exc}") from exc
    user = User(email=email, name=name.strip(), role=role, password_hash=password_hash, **fields)
    db.session.add(user)
    db.session.flush()
    return user


def _throttle_key(client_ip: str) -> str:
    return f"switchboard:login-failures:{client_ip}"


def _address_throttle_wait(client_ip: str) -> int:
    """Seconds until ``client_ip`` may try again, having failed too often across any
    accounts; 0 when it may now.

    Every failure renews the count's expiry, and a throttled attempt counts no
    further, so the count's time to live is exactly the wait.
    """
    pipe = broker().connection.pipeline()
    pipe.get(_throttle_key(client_ip))
    pipe.ttl(_throttle_key(client_ip))
    raw, ttl = pipe.execute()
    if int(raw or 0) < current_app.config["LOGIN_MAX_FAILURES"] * 4:
        return 0
    # No expiry (-1) cannot happen (the count is set with one); the window then.
    return ttl if ttl > 0 else current_app.config["LOGIN_LOCKOUT_SECONDS"]


def _throttled_result(wait: int) -> SignInResult:
    return SignInResult(
        error=ngettext(
            "Too many failed sign-in attempts from your network. Try again in %(num)d minute.",
            "Too many failed sign-in attempts from your network. Try again in %(num)d minutes.",
            max(1, math.ceil(wait / 60)),
        ),
        retry_after=wait,
    )


def record_failure(user: User | None, client_ip: str, now: datetime) -> None:
    """Count a wrong password or code against the address and, if known, the account.

    A locked account does not count further, so hammering it does not keep it
    locked past the window.
    """
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    window = current_app.config["LOGIN_LOCKOUT_SECONDS"]
    pipe = broker().connection.pipeline()
    pipe.incr(_throttle_key(client_ip))
    pipe.expire(_throttle_key(client_ip), window)
    pipe.execute()
    if user is None or user.is_locked(now):
        return
    user.failed_login_count += 1
    if user.failed_login_count >= max_failures:
        user.locked_until = now + timedelta(seconds=window)
        user.failed_login_count = 0
        log.warning("account %s locked after %d failed sign-ins", user.id, max_failures)
    commit()


def invalid_credentials() -> str:
    return gettext("Invalid e-mail or password.")


def sign_in(email: str, password: str, client_ip: str) -> SignInResult:
    """Check an e-mail and password; count failures per account and per client address.

    After ``LOGIN_MAX_FAILURES`` wrong passwords (or second-factor codes) an
    account is locked for ``LOGIN_LOCKOUT_SECONDS``; an address that fails four
    times that many (across any accounts) is throttled for the same window,
    which stops guessing spread over many e-mail addresses. ``client_ip`` is the
    real client behind trusted proxies (``TRUSTED_PROXY_HOPS``).

    A wrong password, an unknown e-mail, a locked and a deactivated account
    all get the same answer after the same work (one scrypt check), so the
    answer does not tell whether an account exists or is locked.

    Success does not reset the failure count: the sign-in is not finished
    until :func:`record_sign_in` (after the second factor, if the user has one),
    so a known password does not buy fresh guesses at the code.
    """
    wait = _address_throttle_wait(client_ip)
    if wait:
        return _throttled_result(wait)

    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    now = utcnow()
    password_ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or user.is_locked(now) or not user.is_active or not password_ok:
        record_failure(user, client_ip, now)
        return SignInResult(error=invalid_credentials())
    return SignInResult(user=user)


def check_second_factor(user_id: uuid.UUID, code: str, client_ip: str) -> SignInResult:
    """The second step of a password sign-in: an authenticator or recovery code.

    Wrong codes count towards the same lockout as wrong passwords. A locked
    account answers ``locked=True``: the sign-in has to start over.
    """
    wait = _address_throttle_wait(client_ip)
    if wait:
        return _throttled_result(wait)
    user = db.session.get(User, user_id)
    now = utcnow()
    if user is None or not user.is_active or user.is_locked(now):
        return SignInResult(error=invalid_credentials(), locked=True)
    if verify_second_factor(user, code, now):
        return SignInResult(user=user)
    record_failure(user, client_ip, now)
    if user.is_locked(now):
        return SignInResult(
            error=gettext("Too many wrong codes. Sign in again later."), locked=True
        )
    return SignInResult(
        error=gettext(
            "That code is not right, or it was just used. Wait for the next code in your app."
        )
    )


def record_sign_in(user: User) -> None:
    """A sign-in finished: clear the failure count and note when (no commit)."""
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = utcnow()


def home_endpoint_for(user: User) -> str:
    """Where a user lands after signing in."""
    if user.role == Role.TECHNICIAN:
        return "mobile.today"
    if user.role == Role.PARTNER:
        return "portal.orders"
    return "inbox.index"
