"""A technician's status tap, held for a few seconds so it can be undone."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db

PENDING, APPLIED, UNDONE, REFUSED = "pending", "applied", "undone", "refused"


class PendingVisitMove(Entity, db.Model):
    """A tap on the phone ("Completed") waiting out its undo window.

    Nothing of the tap happens before ``apply_at``: the job that applies it and
    the technician's Undo each take the row with one conditional UPDATE on
    ``state``, so exactly one of them wins. At most one move per order waits
    at a time (the partial unique index), so a second tap cannot slip past
    the first.
    """

    __tablename__ = "pending_visit_moves"
    __table_args__ = (
        sa.Index(
            "uq_pending_visit_moves_order_waiting",
            "order_id",
            unique=True,
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        ),
        sa.Index("ix_pending_visit_moves_state_apply_at", "state", "apply_at"),
    )

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    technician_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    tap: so.Mapped[str] = so.mapped_column(sa.String(32))
    # The order status the card showed when the tap was made.
    expected_status: so.Mapped[str] = so.mapped_column(sa.String(32))
    apply_at: so.Mapped[datetime] = so.mapped_column()
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default=PENDING)
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # What the technician is told once it went through or was refused.
    outcome: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The language of the page the tap was made on: the outcome is written in it
    # later, outside any request (a technician who left the choice to the browser
    # reads it in the browser's language, not the app's default).
    language: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    # The number of the visit the card showed (an order in progress between two
    # visits must not have its next one completed by a tap on the first); None
    # for a tap on an order without numbered visits.
    visit_number: so.Mapped[Optional[int]] = so.mapped_column()
    # "Completed, return visit needed": why (one of VISIT_PURPOSES).
    return_purpose: so.Mapped[Optional[str]] = so.mapped_column(sa.String(24))


class VisitCustomerNotice(Entity, db.Model):
    """A message a visit sends its customer once: claimed before it is written.

    The unique key (order, visit day, kind) is the only guard: a tap, its
    offline replay, a quick reply and the JSON API each insert the row with
    ON CONFLICT DO NOTHING in the transaction that writes the message, and only
    the one whose insert lands composes it (app.orders.core.visit_notices).
    """

    __tablename__ = "visit_customer_notices"
    __table_args__ = (sa.UniqueConstraint("order_id", "visit_day", "kind"),)

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE")
    )
    visit_day: so.Mapped[date] = so.mapped_column(sa.Date)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    # The message that told the customer; None when none could be sent. A held
    # message taken back (Undo) takes its claim with it.
    message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE")
    )


class VisitReminder(Entity, db.Model):
    """The customer's reminder the day before a visit, and their answer to it.

    Unique on (visit, visit date): the row is inserted with ON CONFLICT DO
    NOTHING before the message is written, so two workers running the reminder
    job for the same visit send one reminder; a visit moved to another day is
    reminded again for that day. The quick-reply buttons name this row, so a
    tap on an old reminder is told apart from one for the visit's current day
    (app.orders.visit_reminders).
    """

    __tablename__ = "visit_reminders"
    __table_args__ = (sa.UniqueConstraint("visit_id", "visit_date"),)

    visit_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("visits.id", ondelete="CASCADE")
    )
    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    visit_date: so.Mapped[date] = so.mapped_column(sa.Date, index=True)
    # whatsapp: the reminder with the Bevestigen / Verzetten buttons.
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))
    message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="SET NULL")
    )
    confirmed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    move_requested_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # When the desk was given a task because the reminder went unanswered.
    flagged_at: so.Mapped[Optional[datetime]] = so.mapped_column()
