"""The owner of the order's invoice state: payments and refunds go in here, sums come out.

Every change locks the order's :class:`OrderInvoice` row first (creating it
with the order's total when it is the first), then writes its payment or
refund with ``INSERT … ON CONFLICT`` on the provider's own id, then works the
invoice's sums out again from the rows. Two workers handling the same payment
(a redelivery, QuickBooks' ``Create`` and ``Update`` of one payment, Stripe's
``charge.refunded`` and ``refund.created`` of one refund) take turns on the
lock; the second finds the row there and the sums unchanged. Nothing commits
here: the caller's transaction (the webhook job's) holds it all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import Order, OrderInvoice, Payment, PaymentRefund

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Refund statuses (Stripe's) that give money back or are about to.
COUNTED_REFUNDS = ("pending", "succeeded", "requires_action")
UNSETTLED_REFUNDS = ("pending", "requires_action")


@dataclass(frozen=True)
class Standing:
    """The invoice's figures at one moment, to tell what a change did."""

    state: str
    amount_paid: Decimal
    amount_refunded: Decimal

    @classmethod
    def of(cls, invoice: OrderInvoice) -> Standing:
        return cls(invoice.state, invoice.amount_paid or ZERO, invoice.amount_refunded or ZERO)


@dataclass(frozen=True)
class LedgerChange:
    """What recording one payment or refund did to the invoice."""

    invoice: OrderInvoice
    payment: Payment
    before: Standing
    after: Standing
    payment_recorded: bool = False

    @property
    def became_paid(self) -> bool:
        return self.after.state == "paid" and self.before.state in ("open", "partly_paid")

    @property
    def refunded_more(self) -> bool:
        return self.after.amount_refunded > self.before.amount_refunded

    @property
    def changed(self) -> bool:
        return self.payment_recorded or self.before != self.after

    def event_data(self, order: Order) -> dict:
        """The order, payment and invoice as platform events (``invoice.paid``, …) carry them."""
        invoice, payment = self.invoice, self.payment
        return {
            "order_id": str(order.id),
            "order_number": order.order_number,
            "payment_id": str(payment.id),
            "payment_reference": payment.external_reference,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "invoice": invoice_to_dict(invoice),
        }


def invoice_to_dict(invoice: OrderInvoice) -> dict:
    """An invoice as platform events and the JSON order API show it."""
    return {
        "state": invoice.state,
        "currency": invoice.currency,
        "amount_due": str(invoice.amount_due),
        "amount_paid": str(invoice.amount_paid),
        "amount_refunded": str(invoice.amount_refunded),
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
    }


def money(value: Any) -> Decimal:
    """A provider's amount in whole units (``"12.5"``, ``12.5``) as a Decimal of cents."""
    return Decimal(str(value)).quantize(CENT)


def open_invoice(order: Order) -> OrderInvoice:
    """The order's invoice, made open for its total if it has none yet (no commit)."""
    now = utcnow()
    db.session.execute(
        upsert_insert(OrderInvoice, _dialect())
        .values(
            id=uuid.uuid4(),
            order_id=order.id,
            currency=(order.currency or "EUR").upper(),
            amount_due=order.total_amount or ZERO,
            amount_paid=ZERO,
            amount_refunded=ZERO,
            state="open",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
    )
    return _invoice(order.id, lock=False)


def record_payment(
    order: Order,
    *,
    external_reference: str,
    amount: Decimal,
    currency: str,
    method: str,
    paid_at: datetime | None,
    raw: dict,
    amount_may_change: bool = False,
) -> LedgerChange:
    """Record a payment on the order's invoice once per ``external_reference``.

    A payment already recorded keeps its row; with ``amount_may_change`` (a
    QuickBooks payment edited there) its amount and date follow the provider.
    """
    invoice = _locked_invoice(order)
    before = Standing.of(invoice)
    now = utcnow()
    inserted = db.session.scalar(
        upsert_insert(Payment, _dialect())
        .values(
            id=uuid.uuid4(),
            order_id=order.id,
            amount=amount,
            currency=currency.upper(),
            method=method,
            external_reference=external_reference,
            paid_at=paid_at or now,
            refunded_reported=ZERO,
            raw=raw,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["external_reference"])
        .returning(Payment.id)
    )
    payment = _payment(external_reference)
    if inserted is None and amount_may_change and payment.amount != amount:
        payment.amount = amount
        payment.paid_at = paid_at or payment.paid_at
        payment.raw = raw
        db.session.flush()
    _recompute(invoice, order)
    return LedgerChange(invoice, payment, before, Standing.of(invoice), inserted is not None)


def record_refund(
    payment: Payment,
    *,
    external_reference: str,
    amount: Decimal,
    currency: str,
    status: str,
    refunded_at: datetime | None,
    raw: dict,
) -> LedgerChange:
    """Record (or update the status of) one refund of ``payment``, keyed by the refund's id."""
    order = db.session.get(Order, payment.order_id)
    invoice = _locked_invoice(order)
    before = Standing.of(invoice)
    now = utcnow()
    statement = upsert_insert(PaymentRefund, _dialect()).values(
        id=uuid.uuid4(),
        payment_id=payment.id,
        external_reference=external_reference,
        amount=amount,
        currency=currency.upper(),
        status=status,
        refunded_at=refunded_at or now,
        raw=raw,
        created_at=now,
        updated_at=now,
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["external_reference"],
            set_={
                "status": _later_status(statement.excluded.status),
                "amount": statement.excluded.amount,
                "updated_at": now,
            },
        )
    )
    if status not in COUNTED_REFUNDS:
        # A refund that failed or was cancelled is no longer in the provider's
        # reported total either: the floor falls back to the refunds we count.
        payment = _payment(payment.external_reference)
        payment.refunded_reported = min(payment.refunded_reported, _counted_refunds(payment.id))
        db.session.flush()
    _recompute(invoice, order)
    return LedgerChange(invoice, payment, before, Standing.of(invoice))


def report_refunded_total(payment: Payment, total: Decimal) -> LedgerChange:
    """The provider says ``total`` of ``payment`` is refunded (a Stripe charge's
    ``amount_refunded``): a floor for refunds whose own events have not come."""
    order = db.session.get(Order, payment.order_id)
    invoice = _locked_invoice(order)
    before = Standing.of(invoice)
    payment = _payment(payment.external_reference)
    if total > payment.refunded_reported:
        payment.refunded_reported = total
        db.session.flush()
    _recompute(invoice, order)
    return LedgerChange(invoice, payment, before, Standing.of(invoice))


def payment_by_reference(external_reference: str) -> Payment | None:
    return db.session.scalar(
        sa.select(Payment).where(Payment.external_reference == external_reference)
    )


def _later_status(told):
    """The refund's status after an event saying ``told``.

    Stripe's events may come out of order: a late ``refund.created`` saying
    ``pending`` does not take a refund back from ``succeeded`` (or ``failed``).
    """
    current = PaymentRefund.__table__.c.status
    return sa.case(
        (sa.and_(told.in_(UNSETTLED_REFUNDS), current.not_in(UNSETTLED_REFUNDS)), current),
        else_=told,
    )


# --- sums -----------------------------------------------------------------------------


def _recompute(invoice: OrderInvoice, order: Order) -> None:
    payments = db.session.scalars(
        sa.select(Payment)
        .where(Payment.order_id == order.id)
        .execution_options(populate_existing=True)
    ).all()
    refunds = db.session.scalars(
        sa.select(PaymentRefund)
        .where(
            PaymentRefund.payment_id.in_([p.id for p in payments]),
            PaymentRefund.status.in_(COUNTED_REFUNDS),
        )
        .execution_options(populate_existing=True)
    ).all()
    paid = sum((p.amount for p in payments), ZERO)
    refunded = sum(
        (
            max(
                sum((r.amount for r in refunds if r.payment_id == p.id), ZERO),
                p.refunded_reported or ZERO,
            )
            for p in payments
        ),
        ZERO,
    )
    invoice.amount_due = order.total_amount or ZERO
    invoice.amount_paid = paid
    invoice.amount_refunded = min(refunded, paid)
    invoice.state = _state(invoice.amount_due, paid, invoice.amount_refunded)
    invoice.last_payment_at = max((p.paid_at for p in payments if p.paid_at), default=None)
    invoice.last_refund_at = max(
        (r.refunded_at for r in refunds if r.refunded_at), default=invoice.last_refund_at
    )
    if paid >= invoice.amount_due and paid > ZERO and invoice.paid_at is None:
        invoice.paid_at = invoice.last_payment_at
    elif paid < invoice.amount_due:
        invoice.paid_at = None
    db.session.flush()


def _state(due: Decimal, paid: Decimal, refunded: Decimal) -> str:
    if refunded > ZERO:
        return "refunded" if refunded >= paid else "partly_refunded"
    if paid <= ZERO:
        return "open"
    return "paid" if paid >= due else "partly_paid"


def _counted_refunds(payment_id: uuid.UUID) -> Decimal:
    return (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(PaymentRefund.amount), 0)).where(
                PaymentRefund.payment_id == payment_id,
                PaymentRefund.status.in_(COUNTED_REFUNDS),
            )
        )
        or ZERO
    )


# --- rows ------------------------------------------------------------------------------


def _locked_invoice(order: Order) -> OrderInvoice:
    open_invoice(order)
    return _invoice(order.id, lock=True)


def _invoice(order_id: uuid.UUID, lock: bool) -> OrderInvoice:
    query = (
        sa.select(OrderInvoice)
        .where(OrderInvoice.order_id == order_id)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(query.with_for_update() if lock else query).one()


def _payment(external_reference: str) -> Payment:
    return db.session.scalars(
        sa.select(Payment)
        .where(Payment.external_reference == external_reference)
        .execution_options(populate_existing=True)
    ).one()


def _dialect() -> str:
    return db.session.get_bind().dialect.name
