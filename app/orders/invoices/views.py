"""What an agent sees of an order's invoice: its state, the payments and the refunds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Order, OrderInvoice, Payment, PaymentRefund


@dataclass
class InvoiceView:
    invoice: OrderInvoice
    payments: list[Payment] = field(default_factory=list)
    refunds: list[PaymentRefund] = field(default_factory=list)


def invoice_view(order: Order) -> InvoiceView | None:
    """The order's invoice with its payments and refunds, oldest first; None before any."""
    invoice = invoice_of(order)
    if invoice is None:
        return None
    payments = db.session.scalars(
        sa.select(Payment).where(Payment.order_id == order.id).order_by(Payment.paid_at)
    ).all()
    refunds = db.session.scalars(
        sa.select(PaymentRefund)
        .where(PaymentRefund.payment_id.in_([p.id for p in payments]))
        .order_by(PaymentRefund.refunded_at)
    ).all()
    return InvoiceView(invoice, list(payments), list(refunds))


def invoices_of(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, OrderInvoice]:
    """The invoices of several orders (the conversation's order panel), by order id."""
    if not order_ids:
        return {}
    invoices = db.session.scalars(
        sa.select(OrderInvoice).where(OrderInvoice.order_id.in_(order_ids))
    ).all()
    return {invoice.order_id: invoice for invoice in invoices}


def invoice_of(order: Order) -> OrderInvoice | None:
    """The order's invoice, None before it is completed (or first paid)."""
    return db.session.scalar(sa.select(OrderInvoice).where(OrderInvoice.order_id == order.id))
