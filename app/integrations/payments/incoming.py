"""Money coming back from providers: QuickBooks payments and Stripe refunds → our invoice.

Called from the webhook job (:mod:`app.integrations.provider_webhooks.routing`) with the
stored event, in its transaction. Each handler records what the event says in
the order's invoice ledger (:mod:`app.orders.invoices.ledger`, idempotent on the
provider's ids) and emits the platform events for what actually changed, so a
redelivered or doubled event (Stripe sends ``charge.refunded`` *and*
``refund.created`` for one refund) is told to endpoints once. An event naming
nothing of ours is processed with a note on the stored event saying why (no
failure, so no retry), and the handler answers False: the event then becomes
its ordinary platform event, as any payment taken elsewhere does.

- **QuickBooks** ``Payment`` ``Create``/``Update``: the notification carries only
  the id, so the payment is read through the connector
  (``GET /v3/company/{realm}/payment/{id}``). Each ``Line`` linked to an
  ``Invoice`` we pushed (its id in our ``invoices`` sync records) is a payment of
  that order, ``quickbooks:{realm}:{payment}:{invoice}``.
- **Stripe** ``charge.refunded`` (``amount_refunded``, ``refunds``,
  ``payment_intent``) and ``refund.created``/``refund.updated`` (``amount``,
  ``status``, ``payment_intent``): the payment is ours by its payment intent.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from app.integrations.connectors import ConnectorError, connector_for
from app.integrations.endpoints import emit_event
from app.integrations.sync import as_uuid
from app.orders.invoices.ledger import (
    LedgerChange,
    money,
    payment_by_reference,
    record_payment,
    record_refund,
    report_refunded_total,
)
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Integration, Order, Payment, SyncRecord
from app.platform.webhooks.processing import UnprocessableEvent

log = logging.getLogger(__name__)


# --- QuickBooks ------------------------------------------------------------------------


def quickbooks_payment(integration: Integration, change: dict, event: InboundWebhookEvent) -> bool:
    """``Payment.Create`` / ``Payment.Update``: read the payment, apply it to our invoices.

    True when it paid one of our orders' invoices (its platform events are emitted).
    """
    payment_id = str(change.get("id") or "")
    realm = str(change.get("realmId") or "")
    ours = str((integration.config or {}).get("realm_id") or "")
    if realm != ours:
        return _not_ours(
            event, f"payment {payment_id} is for QuickBooks company {realm}, not ours ({ours})"
        )
    if _pushed_by_us(integration, "payments", payment_id):
        return _not_ours(
            event, f"payment {payment_id} is one we sent to QuickBooks; already recorded"
        )
    try:
        remote = connector_for(integration).read_remote("payments", payment_id)
    except ConnectorError as exc:
        # Failed, not retried by itself: re-run from the events page once QuickBooks answers.
        raise UnprocessableEvent(f"reading QuickBooks payment {payment_id}: {exc.message}") from exc
    applied = _applied_invoices(remote)
    if not applied:
        return _not_ours(event, f"payment {payment_id} is not applied to any invoice")
    currency = str((remote.get("CurrencyRef") or {}).get("value") or "EUR")
    paid_at = _txn_date(remote.get("TxnDate"))
    notes = []
    for invoice_id, amount in applied:
        order = _order_of_invoice(integration, invoice_id)
        if order is None:
            notes.append(f"invoice {invoice_id} of payment {payment_id} is not one of our orders")
            continue
        change_ = record_payment(
            order,
            external_reference=f"quickbooks:{realm}:{payment_id}:{invoice_id}",
            amount=amount,
            currency=currency,
            method="quickbooks",
            paid_at=paid_at,
            raw=remote,
            amount_may_change=True,
        )
        data = _data(event, "payment", payment_id, order, change_)
        if change_.payment_recorded:
            emit_event("payment.received", data, **_origin(integration, event))
        if change_.became_paid:
            emit_event("invoice.paid", data, **_origin(integration, event))
    if notes:
        _note(event, "; ".join(notes))
    return len(notes) < len(applied)


def _applied_invoices(payment: dict) -> list[tuple[str, Decimal]]:
    """(invoice id, amount) for each invoice the payment's lines pay."""
    applied = []
    lines = payment.get("Line") or []
    for line in lines:
        for linked in (line or {}).get("LinkedTxn") or []:
            if linked.get("TxnType") != "Invoice" or not linked.get("TxnId"):
                continue
            amount = line.get("Amount")
            if amount is None and len(lines) == 1:
                amount = payment.get("TotalAmt")
            try:
                applied.append((str(linked["TxnId"]), money(amount)))
            except (InvalidOperation, TypeError, ValueError) as exc:
                raise UnprocessableEvent(f"payment line amount {amount!r} is not a number") from exc
    return applied


def _txn_date(value) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(str(value)[:10]), time(12), timezone.utc)
    except ValueError:
        return None


def _order_of_invoice(integration: Integration, invoice_id: str) -> Order | None:
    local_id = db.session.scalar(
        sa.select(SyncRecord.local_id).where(
            SyncRecord.integration_id == integration.id,
            SyncRecord.object_type == "invoices",
            SyncRecord.remote_id == invoice_id,
        )
    )
    return db.session.get(Order, as_uuid(local_id)) if local_id else None


def _pushed_by_us(integration: Integration, object_type: str, remote_id: str) -> bool:
    return (
        db.session.scalar(
            sa.select(SyncRecord.id).where(
                SyncRecord.integration_id == integration.id,
                SyncRecord.object_type == object_type,
                SyncRecord.remote_id == remote_id,
            )
        )
        is not None
    )


# --- Stripe ----------------------------------------------------------------------------


def stripe_charge_refunded(
    integration: Integration, charge: dict, event: InboundWebhookEvent
) -> bool:
    """``charge.refunded``: its listed refunds by id, and ``amount_refunded`` as a floor."""
    payment = _stripe_payment(charge, event)
    if payment is None:
        return False
    before = None
    change_ = None
    for refund in (charge.get("refunds") or {}).get("data") or []:
        if isinstance(refund, dict) and refund.get("id"):
            change_ = _record_stripe_refund(payment, {"currency": charge.get("currency"), **refund})
            before = before or change_.before
    change_ = report_refunded_total(payment, _cents(charge.get("amount_refunded")))
    before = before or change_.before
    if change_.after.amount_refunded > before.amount_refunded:
        data = _data(event, "charge", charge.get("id"), _order(payment), change_)
        emit_event("payment.refunded", data, **_origin(integration, event))
    return True


def stripe_refund(integration: Integration, refund: dict, event: InboundWebhookEvent) -> bool:
    """``refund.created`` / ``refund.updated``: one refund, by its id."""
    payment = _stripe_payment(refund, event)
    if payment is None:
        return False
    change_ = _record_stripe_refund(payment, refund)
    if change_.refunded_more:
        data = _data(event, "refund", refund.get("id"), _order(payment), change_)
        data["refund_status"] = refund.get("status")
        emit_event("payment.refunded", data, **_origin(integration, event))
    return True


def _record_stripe_refund(payment: Payment, refund: dict) -> LedgerChange:
    created = refund.get("created")
    return record_refund(
        payment,
        external_reference=str(refund["id"]),
        amount=_cents(refund.get("amount")),
        currency=str(refund.get("currency") or payment.currency),
        status=str(refund.get("status") or "succeeded"),
        refunded_at=datetime.fromtimestamp(int(created), timezone.utc) if created else None,
        raw=refund,
    )


def _stripe_payment(obj: dict, event: InboundWebhookEvent) -> Payment | None:
    intent = obj.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    payment = payment_by_reference(str(intent_id)) if intent_id else None
    if payment is None:
        what = f"payment intent {intent_id}" if intent_id else "no payment intent"
        _note(
            event, f"{obj.get('object', 'refund')} {obj.get('id')}: {what} is not a payment of ours"
        )
    return payment


def _cents(value) -> Decimal:
    try:
        return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))
    except (TypeError, ValueError) as exc:
        raise UnprocessableEvent(f"amount {value!r} is not a whole number of cents") from exc


# --- shared ----------------------------------------------------------------------------


def _note(event: InboundWebhookEvent, text: str) -> None:
    log.info("%s event %s: %s", event.source, event.id, text)
    event.note = text[:2000]


def _not_ours(event: InboundWebhookEvent, text: str) -> bool:
    _note(event, text)
    return False


def _origin(integration: Integration, event: InboundWebhookEvent) -> dict:
    return {"source": event.source, "integration": integration, "inbound_event": event}


def _order(payment: Payment) -> Order:
    return db.session.get(Order, payment.order_id)


def _data(event, object_type, object_id, order: Order, change_: LedgerChange) -> dict:
    return {
        "provider": event.source,
        "provider_event_id": event.dedupe_key,
        "provider_event_type": event.event_type,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        **change_.event_data(order),
    }
