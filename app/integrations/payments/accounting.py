"""Accounting: order and payment events that queue outbound syncs.

A completed order becomes an invoice, and a Stripe payment a payment, in each
active accounting integration. Nothing here calls a provider: records are
marked pending and a sync job pushes them once the caller's transaction commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from app.integrations.endpoints import emit_event
from app.integrations.registry import get_provider
from app.integrations.sync import is_uuid, queue_sync_job, sync_record
from app.orders.invoices.ledger import open_invoice, payment_by_reference, record_payment
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    InboundWebhookEvent,
    Integration,
    Order,
    OrderStatusTransition,
    Payment,
    SyncJob,
)
from app.platform.models.enums import OrderStatus


class PaymentNotApplicable(ValueError):
    """A payment event that names no order we know."""


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: a completed order becomes an invoice in each accounting integration.

    Runs in the status change's transaction: it only writes a pending record and
    a job, and the job is queued once that transaction commits.
    """
    if transition.to_status != OrderStatus.COMPLETED.value:
        return
    open_invoice(order)  # our own invoice, open until payments come in
    for integration in _outbound_integrations("accounting", "invoices"):
        _queue_records(integration, "invoices", [str(order.id)])


def apply_payment_succeeded(
    integration: Integration, payment_intent: dict, inbound_event: InboundWebhookEvent | None = None
) -> Payment:
    """A Stripe ``payment_intent.succeeded``: record the Payment, mark our invoice and
    the accounting integrations' invoices paid.

    The order comes from ``metadata.order_id`` (or ``metadata.order_number``).
    Idempotent on the payment intent's id. Each accounting integration gets a
    payment linked to the order's invoice, pushed by a sync job queued after the
    caller commits with :func:`app.platform.transactions.commit` (no commit here).
    When it pays our invoice in full, ``invoice.paid`` is emitted (from
    ``inbound_event``, the stored Stripe event, when there is one).
    Raises :class:`PaymentNotApplicable` when no order is named or found.
    """
    intent_id = str(payment_intent.get("id") or "")
    if not intent_id:
        raise PaymentNotApplicable("the payment intent has no id")
    existing = payment_by_reference(intent_id)
    if existing is not None:
        return existing
    order = _order_from_metadata(payment_intent.get("metadata") or {})
    cents = payment_intent.get("amount_received") or payment_intent.get("amount") or 0
    created = payment_intent.get("created")
    change = record_payment(
        order,
        external_reference=intent_id,
        amount=(Decimal(int(cents)) / 100).quantize(Decimal("0.01")),
        currency=str(payment_intent.get("currency") or order.currency or "eur"),
        method="stripe",
        paid_at=datetime.fromtimestamp(int(created), timezone.utc) if created else None,
        raw=payment_intent,
    )
    payment = change.payment
    if not change.payment_recorded:
        return payment  # recorded by a worker that got there first
    if change.became_paid:
        data = {"provider": "stripe", "object_type": "payment_intent", "object_id": intent_id}
        emit_event(
            "invoice.paid",
            {**data, **change.event_data(order)},
            source="stripe",
            integration=integration,
            inbound_event=inbound_event,
        )
    stripe_state = sync_record(integration, "payment_intents", str(payment.id))
    stripe_state.remote_id = intent_id
    stripe_state.status = "synced"
    stripe_state.synced_at = utcnow()
    for accounting in _outbound_integrations("accounting", "payments"):
        _queue_records(accounting, "payments", [str(payment.id)])
    return payment


def _order_from_metadata(metadata: dict) -> Order:
    order = None
    order_id = str(metadata.get("order_id") or "")
    if order_id and is_uuid(order_id):
        order = db.session.get(Order, uuid.UUID(order_id))
    if order is None and metadata.get("order_number"):
        order = db.session.scalar(
            sa.select(Order).where(Order.order_number == str(metadata["order_number"]))
        )
    if order is None:
        raise PaymentNotApplicable("the payment's metadata names no known order")
    return order


def _outbound_integrations(category: str, object_type: str) -> list[Integration]:
    integrations = db.session.scalars(
        sa.select(Integration).where(
            Integration.status == "active",
            Integration.category == category,
            Integration.sync_direction != "one_way_in",
        )
    ).all()
    return [
        i
        for i in integrations
        if (provider := get_provider(i.provider)) and object_type in provider.objects
    ]


def _queue_records(integration: Integration, object_type: str, local_ids: list[str]) -> SyncJob:
    """Mark records pending and make sure a job will push them (no commit)."""
    for local_id in local_ids:
        state = sync_record(integration, object_type, local_id)
        if state.status != "synced" or not state.remote_id:
            state.status = "pending"
    waiting = db.session.scalar(
        sa.select(SyncJob).where(
            SyncJob.integration_id == integration.id,
            SyncJob.object_type == object_type,
            SyncJob.status == "pending",
            SyncJob.only_failed.is_(True),
        )
    )
    # A job not started yet picks these up when it reads its records.
    return waiting or queue_sync_job(integration, object_type, "out", None, only_failed=True)
