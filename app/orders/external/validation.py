"""Checking /api/v1/external request bodies, naming each wrong field."""

from __future__ import annotations

import re
from datetime import timedelta

from app.platform.database import utcnow
from app.platform.typed_dates import FIRST_YEAR, LAST_YEAR, DateRefused, parse_moment

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
        moment = parse_moment(str(value), None)
    except DateRefused as exc:
        moment = None
        if exc.out_of_range:
            errors[field] = f"must be a time between the years {FIRST_YEAR} and {LAST_YEAR}"
            return None
    if moment is None:
        errors[field] = "an ISO 8601 time with a time zone, e.g. 2026-02-01T09:00:00Z"
        return None
    if moment < utcnow() - SEND_AT_GRACE:
        errors[field] = "must not be in the past"
        return None
    return int(moment.timestamp()) if moment > utcnow() else None
