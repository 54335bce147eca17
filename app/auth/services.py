"""Signing in: password check, account lockout and per-address throttling."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.auth.passwords import DUMMY_HASH, hash_password, verify_password
from app.database import utcnow
from app.extensions import db
from app.jobs.queues import broker
from app.models import User
from app.models.enums import Role
from app.transactions import commit

log = logging.getLogger(__name__)


@dataclass
class SignInResult:
    user: User | None = None
    error: str | None = None
    # Seconds until another attempt may succeed (lockout or throttle), else 0.
    retry_after: int = 0


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


def _address_failures(client_ip: str) -> int:
    raw = broker().connection.get(_throttle_key(client_ip))
    return int(raw or 0)


def _record_address_failure(client_ip: str) -> None:
    window = current_app.config["LOGIN_LOCKOUT_SECONDS"]
    pipe = broker().connection.pipeline()
    pipe.incr(_throttle_key(client_ip))
    pipe.expire(_throttle_key(client_ip), window)
    pipe.execute()


def sign_in(email: str, password: str, client_ip: str) -> SignInResult:
    """Check credentials; count failures per account and per client address.

    After ``LOGIN_MAX_FAILURES`` wrong passwords an account is locked for
    ``LOGIN_LOCKOUT_SECONDS``; an address that fails that many times (across
    any accounts) is throttled for the same window, which stops guessing
    spread over many e-mail addresses.
    """
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    window = current_app.config["LOGIN_LOCKOUT_SECONDS"]
    if _address_failures(client_ip) >= max_failures * 4:
        return SignInResult(
            error="Too many failed sign-in attempts from your network. Try again later.",
            retry_after=window,
        )

    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    now = utcnow()
    if user is not None and user.is_locked(now):
        seconds = int((user.locked_until - now).total_seconds()) + 1
        return SignInResult(
            error=f"This account is locked after too many failed attempts. "
            f"Try again in {max(1, round(seconds / 60))} minute(s).",
            retry_after=seconds,
        )

    if user is None:
        verify_password(DUMMY_HASH, password)
        _record_address_failure(client_ip)
        return SignInResult(error="Invalid e-mail or password.")

    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_login_count += 1
        _record_address_failure(client_ip)
        if user.failed_login_count >= max_failures:
            user.locked_until = now + timedelta(seconds=window)
            user.failed_login_count = 0
            log.warning("account %s locked after %d failed sign-ins", user.id, max_failures)
        commit()
        return SignInResult(error="Invalid e-mail or password.")

    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    commit()
    return SignInResult(user=user)


def home_endpoint_for(user: User) -> str:
    """Where a user lands after signing in."""
    if user.role == Role.TECHNICIAN:
        return "mobile.today"
    return "inbox.index"
