"""Checking /api/v1/external request bodies, naming each wrong field."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from app.database import utcnow

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254
# A moment this close to now (clock skew, a slow client) means "now", not "the past".
SEND_AT_GRACE = timedelta(minutes=5)


class InvalidRequest(ValueError):
    """Some fields are wrong; ``fields`` maps each (dotted path) to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def email_address(value, field: str, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "required: an e-mail address"
        return None
    address = value.strip().lower()
    if len(address) > MAX_EMAIL_LENGTH or not EMAIL.match(address):
        errors[field] = "not a valid e-mail address"
        return None
    return address


def optional_text(value, field: str, errors: dict[str, str], max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        errors[field] = f"must be text of at most {max_length} characters"
        return None
    return value.strip() or None


def send_at(value, field: str, errors: dict[str, str]) -> int | None:
    """An ISO 8601 moment with a time zone, as a Unix timestamp; None for "now"."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors[field] = "an ISO 8601 time with a time zone, e.g. 2026-02-01T09:00:00Z"
        return None
    if moment < utcnow() - SEND_AT_GRACE:
        errors[field] = "must not be in the past"
        return None
    try:
        # 9999-12-31T23:00-05:00 is in year 10000 in UTC, which the send job cannot hold.
        moment = moment.astimezone(timezone.utc)
    except OverflowError:
        errors[field] = "too far ahead: at most the year 9998"
        return None
    return int(moment.timestamp()) if moment > utcnow() else None
