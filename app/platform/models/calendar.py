"""Calendars: planned visits in technicians' calendars, and follow-ups from agents' ones.

A :class:`CalendarEvent` is one visit as it stands in one technician's calendar,
one row per (order, technician), so a visit with several technicians has several.
It is what both the Outlook event (through Graph) and the private iCalendar feed
show: its id is the feed's UID, its ``sequence`` goes up with every change.

A :class:`CalendarSubscription` keeps the Graph change-notification subscription on
one agent's calendar; a :class:`CalendarFollowUp` ties one Outlook meeting (by its
iCalendar UID, the same in every attendee's calendar) to the task it became.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.crypto import EncryptedText
from app.platform.database import Entity
from app.platform.extensions import db


class CalendarEvent(Entity, db.Model):
    __tablename__ = "calendar_event"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "visit_number", "technician_id"),
        sa.Index("ix_calendar_event_technician_start", "technician_id", "starts_at"),
    )

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    # Which of the order's visits (an order may have a second day, a return visit).
    visit_number: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    technician_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    starts_at: so.Mapped[datetime] = so.mapped_column()
    ends_at: so.Mapped[datetime] = so.mapped_column()
    all_day: so.Mapped[bool] = so.mapped_column(default=False)
    # Subject, location and body as the calendar shows them.
    details: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # Raised on every change (iCalendar's SEQUENCE); Graph holds ``synced_sequence``.
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    # Set when the visit left this technician's calendar (moved to another, plan
    # removed, order cancelled); the feed shows it as cancelled.
    cancelled_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Where the Outlook event is: the mailbox it was made in and Graph's id.
    mailbox: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    graph_event_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(512))
    # Graph's transactionId for creating the event: a retry after a lost answer
    # gets the event already made instead of a second one.
    transaction_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    synced_sequence: so.Mapped[Optional[int]] = so.mapped_column()
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))


class CalendarSubscription(Entity, db.Model):
    """The Graph subscription on one agent's calendar events."""

    __tablename__ = "calendar_subscription"

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    mailbox: so.Mapped[str] = so.mapped_column(sa.String(254))
    subscription_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64), index=True)
    notification_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Proves a notification came from this subscription; kept across re-creations.
    client_state: so.Mapped[str] = so.mapped_column(EncryptedText)


class CalendarFollowUp(Entity, db.Model):
    """One Outlook meeting with a customer, and the task it became (once)."""

    __tablename__ = "calendar_follow_up"

    ical_uid: so.Mapped[str] = so.mapped_column(sa.String(512), unique=True)
    graph_event_id: so.Mapped[str] = so.mapped_column(sa.String(512))
    mailbox: so.Mapped[str] = so.mapped_column(sa.String(254))
    task_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("internal_task.id", ondelete="SET NULL")
    )
    starts_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    cancelled: so.Mapped[bool] = so.mapped_column(default=False)
