"""A technician's private iCalendar feed: their visits, for any phone's calendar.

The feed's address carries a random token; only its SHA-256 is stored (as API
tokens are, :mod:`app.platform.auth.tokens`), so the plain token is shown once, when it
is made. Revoking it (or making a new one) makes the old address answer 404.

The feed lists the technician's calendar rows from 30 days back, one per visit
(an order's second day or return visit is a row of its own): each keeps its
UID (the row's id, unique per order, visit number and technician) and its
SEQUENCE goes up with every change, so a calendar app moves the visit instead
of adding a second one; a visit taken from them stays in the feed as cancelled
for calendars that already hold it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from app.orders.calendar_sync.visit_times import AMSTERDAM
from app.platform.audit.records import record_change
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CalendarEvent, User

if TYPE_CHECKING:
    import icalendar

PREFIX = "sbc_"
HISTORY = timedelta(days=30)
TIMEZONE = "Europe/Amsterdam"
PRODUCT = "-//ChargeCars//Switchboard visits//NL"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(user: User) -> str:
    """A new feed token for ``user`` (the old one stops working); shown once. No commit."""
    plain = PREFIX + secrets.token_urlsafe(32)
    user.calendar_feed_hash = _hash(plain)
    record_change(User.__tablename__, user.id, "CALENDAR_FEED_ISSUED", {})
    return plain


def revoke_feed_token(user: User) -> None:
    """The feed address stops working. No commit."""
    if user.calendar_feed_hash is not None:
        user.calendar_feed_hash = None
        record_change(User.__tablename__, user.id, "CALENDAR_FEED_REVOKED", {})


def feed_owner(token: str) -> User | None:
    """The active user whose feed token this is; None for a wrong or revoked one."""
    if not token.startswith(PREFIX):
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_feed_hash == _hash(token)))
    return user if user is not None and user.is_active_account else None


def feed_events(user: User) -> list[CalendarEvent]:
    return list(
        db.session.scalars(
            sa.select(CalendarEvent)
            .where(
                CalendarEvent.technician_id == user.id,
                CalendarEvent.ends_at >= utcnow() - HISTORY,
            )
            .order_by(CalendarEvent.starts_at, CalendarEvent.id)
        )
    )


def feed_calendar(user: User, host: str) -> bytes:
    """The user's visits as an iCalendar document (RFC 5545)."""
    # Imported here: only the calendar feed's requests need it, not every process's start.
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"ChargeCars · {user.name}")
    calendar.add("x-wr-timezone", TIMEZONE)
    # Phones poll subscribed calendars; ask for an hourly look.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for row in feed_events(user):
        calendar.add_component(_event(row, host))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _event(row: CalendarEvent, host: str) -> icalendar.Event:
    import icalendar

    details = row.details or {}
    event = icalendar.Event()
    event.add("uid", f"{row.id}@{host}")
    event.add("sequence", row.sequence)
    event.add("dtstamp", row.updated_at)
    event.add("summary", details.get("subject", ""))
    if details.get("location"):
        event.add("location", details["location"])
    if details.get("body"):
        event.add("description", details["body"])
    if row.all_day:
        local = row.starts_at.astimezone(AMSTERDAM)
        event.add("dtstart", local.date())
        event.add("dtend", local.date() + timedelta(days=1))
    else:
        event.add("dtstart", row.starts_at.astimezone(AMSTERDAM))
        event.add("dtend", row.ends_at.astimezone(AMSTERDAM))
    event.add("status", "CANCELLED" if row.cancelled_at is not None else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event
