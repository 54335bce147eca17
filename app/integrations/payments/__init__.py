"""Payments: invoices and payments pushed to accounting, payments and refunds coming in."""

from app.integrations.payments.accounting import PaymentNotApplicable, apply_payment_succeeded
from app.integrations.payments.incoming import (
    quickbooks_payment,
    stripe_charge_refunded,
    stripe_refund,
)

__all__ = [
    "PaymentNotApplicable",
    "apply_payment_succeeded",
    "quickbooks_payment",
    "stripe_charge_refunded",
    "stripe_refund",
]
