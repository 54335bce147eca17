"""Our own invoice state: what an order's invoice stands at, and the refunds behind it."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class OrderInvoice(Entity, db.Model):
    """The invoice of one order: open, partly paid, paid, partly refunded or refunded.

    One per order (the order's id is unique here). ``amount_paid`` and
    ``amount_refunded`` are sums worked out again from the order's
    :class:`~app.platform.models.intake.Payment` and :class:`PaymentRefund` rows each
    time one of those changes (:mod:`app.orders.invoices.ledger`), so a redelivered
    provider event, which finds its row already there, changes nothing.
    """

    __tablename__ = "order_invoices"

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    amount_due: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2), default=Decimal("0"))
    amount_paid: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2), default=Decimal("0"))
    amount_refunded: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2), default=Decimal("0"))
    # open / partly_paid / paid / partly_refunded / refunded
    state: so.Mapped[str] = so.mapped_column(sa.String(20), default="open")
    # When the payments first covered the amount due.
    paid_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_payment_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_refund_at: so.Mapped[Optional[datetime]] = so.mapped_column()


class PaymentRefund(Entity, db.Model):
    """Money given back on a payment (a Stripe refund ``re_…``), once per refund id.

    ``status`` is the provider's (``pending``, ``succeeded``, ``failed``,
    ``canceled``, ``requires_action``); only pending and succeeded refunds count.
    """

    __tablename__ = "payment_refunds"

    payment_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    external_reference: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 2))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    status: so.Mapped[str] = so.mapped_column(sa.String(20))
    refunded_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    raw: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
