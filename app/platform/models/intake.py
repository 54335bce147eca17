"""Orders on their way in: form submissions, parsed partner e-mails, payments, feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db
from app.platform.models.enums import DraftState


class IntakeForm(Entity, db.Model):
    """A Fillout form we accept, and how its questions map onto order fields.

    ``field_mapping`` maps a question's name (or id) to one of our intake fields
    (``customer_name``, ``email``, ``phone``, ``address``, ``postal_code``, …).
    """

    __tablename__ = "intake_forms"

    external_form_id: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    partner_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    field_mapping: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    is_active: so.Mapped[bool] = so.mapped_column(default=True)


class FormSubmission(Entity, db.Model):
    """One submitted form , kept raw next to what it became."""

    __tablename__ = "form_submissions"
    __table_args__ = (sa.UniqueConstraint("external_form_id", "external_submission_id"),)

    intake_form_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("intake_forms.id", ondelete="SET NULL"), index=True
    )
    external_form_id: so.Mapped[str] = so.mapped_column(sa.String(120))
    external_submission_id: so.Mapped[str] = so.mapped_column(sa.String(120))
    organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    order_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    raw_data: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    submitted_at: so.Mapped[Optional[datetime]] = so.mapped_column()


class OrderDraft(Entity, db.Model):
    """An order read out of a partner's e-mail, waiting for a person when unsure.

    ``fields`` holds what the parser found, per field ``{"value", "confidence"}``;
    ``confidence`` is the overall figure that decides between creating the order
    at once (≥ 90) and the review queue.
    """

    __tablename__ = "order_drafts"
    __table_args__ = (sa.Index("ix_order_drafts_state_created", "state", "created_at"),)

    partner_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    source: so.Mapped[str] = so.mapped_column(sa.String(32), default="email")
    message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="SET NULL"), index=True
    )
    # RFC 5322 Message-ID: the same e-mail seen twice makes one draft.
    internet_message_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500), unique=True)
    sender: so.Mapped[Optional[str]] = so.mapped_column(sa.String(320))
    subject: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    raw_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    fields: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    confidence: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 2), default=Decimal("0"))
    state: so.Mapped[DraftState] = so.mapped_column(
        enum_column(DraftState), default=DraftState.PENDING_REVIEW
    )
    order_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="SET NULL")
    )
    reviewed_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)


class Payment(Entity, db.Model):
    """Money received for an order (Make.com ``payment-received``, Stripe, QuickBooks).

    ``external_reference`` is the provider's id for it (a Stripe payment intent,
    ``quickbooks:<realm>:<payment>:<invoice>``), unique, so a payment reported
    twice is recorded once. ``refunded_reported`` is what the provider last said
    was refunded on it in total (a Stripe charge's ``amount_refunded``): a floor
    for refunds whose own events we have not seen (yet).
    """

    __tablename__ = "payments"

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    method: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    external_reference: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120), unique=True)
    paid_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    refunded_reported: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(12, 2), default=Decimal("0"), server_default="0"
    )
    raw: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)


class CustomerFeedback(Entity, db.Model):
    """A customer's score after a visit (Make.com ``customer-feedback``)."""

    __tablename__ = "customer_feedback"

    order_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    score: so.Mapped[int] = so.mapped_column()
    comment: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # A low score opens a thread so someone calls the customer back.
    thread_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="SET NULL")
    )
    external_reference: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120), unique=True)
    raw: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
