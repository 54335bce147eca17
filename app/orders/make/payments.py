"""Make.com ``payment-received``: a payment recorded once per provider reference, on the
order's invoice."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.orders.invoices.ledger import record_payment
from app.orders.make.orders import order_for
from app.orders.make.schemas import PaymentReceived
from app.platform.extensions import db
from app.platform.models import AuditLog, InboundWebhookEvent, Payment
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)


def payment_received(body: PaymentReceived, event: InboundWebhookEvent) -> Payment:
    """Record the payment; the same ``payment_reference`` again records nothing."""
    order = order_for(body)
    existing = _by_reference(body.payment_reference)
    if existing is not None:
        return _known(existing, order.id, body.payment_reference)
    # Through the order's invoice ledger: two scenarios reporting one payment at
    # once meet on its unique reference there, and the invoice shows it paid.
    change = record_payment(
        order,
        external_reference=body.payment_reference,
        amount=body.amount,
        currency=body.currency,
        method=body.method,
        paid_at=body.paid_at,
        raw=body.model_dump(mode="json", exclude_none=True),
    )
    payment = change.payment
    if not change.payment_recorded:
        return _known(payment, order.id, body.payment_reference)
    db.session.add(
        AuditLog(
            table_name="orders",
            record_id=order.id,
            action="PAYMENT_RECEIVED",
            changes={
                "payment_id": str(payment.id),
                "amount": str(payment.amount),
                "currency": payment.currency,
                "payment_reference": body.payment_reference,
                "method": body.method,
                "make_event_id": str(event.id),
            },
        )
    )
    return payment


def _by_reference(reference: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.external_reference == reference))


def _known(payment: Payment, order_id, reference: str) -> Payment:
    if payment.order_id != order_id:
        # One provider payment cannot pay two orders: a person has to look.
        raise UnprocessableEvent(
            f"payment {reference} is already recorded for another order ({payment.order_id})"
        )
    log.info("payment %s already recorded", reference)
    return payment
