"""The outbox: a delivery is a row written in the transaction of what causes it.

:func:`record_delivery` only adds the row to the caller's session. The job that
sends it is queued once the caller commits (:func:`app.platform.transactions.commit`),
so a status change and its callback are committed together or not at all, and
a worker never looks for a row that is not there yet. Should the process die
between the commit and the queueing, ``next_attempt_at`` is already set and
:func:`app.orders.deliveries.jobs.requeue_stalled_deliveries` finds the row.
"""

from __future__ import annotations

import json
import uuid

from app.orders.deliveries.payloads import iso
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import broker, enqueue
from app.platform.models import Order, OutboundDelivery, PartnerIntegration, WebhookEndpoint
from app.platform.models.enums import DeliveryKind, OutboundState
from app.platform.transactions import after_commit

DEFAULT_MAX_ATTEMPTS = 3
DELIVER_JOB = "app.orders.deliveries.jobs.deliver"
DELIVER_DUE_JOB = "app.orders.deliveries.batch.deliver_due"
# Set while a batch sender job is queued and not yet started (see wake_batch_sender).
WAKE_FLAG = "deliveries:batch-sender-queued"
WAKE_FLAG_SECONDS = 10
QUEUE = "deliveries"


def new_webhook_id() -> str:
    """A Standard Webhooks message id, the same for every attempt of one delivery."""
    return f"msg_{uuid.uuid4().hex}"


def serialise(payload: dict) -> str:
    """The exact body sent and signed; stored so every retry sends the same bytes."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def record_delivery(
    kind: DeliveryKind,
    *,
    target_url: str,
    event_type: str,
    payload: dict,
    integration: PartnerIntegration | None = None,
    order: Order | None = None,
    webhook_endpoint: WebhookEndpoint | None = None,
    max_attempts: int | None = None,
    not_sent_reason: str | None = None,
    triggered_by_user_id: uuid.UUID | None = None,
) -> OutboundDelivery:
    """Add a delivery to the caller's transaction; it is queued after the commit.

    ``not_sent_reason`` records a delivery that will not be sent (its endpoint
    is disabled, say) as cancelled with that reason, so the delivery log shows
    what the partner missed and a person can retry it later.
    ``triggered_by_user_id`` marks the first attempt as a person's (a test event).
    """
    if max_attempts is None:
        max_attempts = integration.max_delivery_attempts if integration else DEFAULT_MAX_ATTEMPTS
    now = utcnow()
    delivery = OutboundDelivery(
        kind=kind,
        partner_integration_id=integration.id if integration else None,
        order_id=order.id if order else None,
        webhook_endpoint_id=webhook_endpoint.id if webhook_endpoint else None,
        event_type=event_type,
        webhook_id=new_webhook_id(),
        target_url=target_url,
        payload=payload,
        body=serialise(payload),
        state=OutboundState.CANCELLED if not_sent_reason else OutboundState.PENDING,
        attempt_count=0,
        max_attempts=max(1, max_attempts),
        next_attempt_at=None if not_sent_reason else now,
        last_error=not_sent_reason,
        created_at=now,
        # A sandbox order's callbacks are test deliveries (sent with X-ChargeCars-Test).
        is_test=bool(order is not None and order.is_test),
    )
    db.session.add(delivery)
    db.session.flush()
    if not not_sent_reason:
        queue_after_commit(delivery.id, triggered_by_user_id)
    return delivery


def queue_after_commit(delivery_id: uuid.UUID, triggered_by_user_id: uuid.UUID | None = None):
    """Have the delivery sent once the current transaction commits.

    A person's attempt (a test event, a manual retry) gets its own job, so the
    attempt is logged as theirs. Everything else wakes the batch sender
    (:func:`wake_batch_sender`): one job claims and sends every due delivery,
    instead of one job and one claim per delivery.
    """
    if triggered_by_user_id is None:
        after_commit(wake_batch_sender)
        return
    args = [str(delivery_id), str(triggered_by_user_id)]
    after_commit(lambda: enqueue(DELIVER_JOB, *args, queue=QUEUE))


def wake_batch_sender() -> None:
    """Queue the batch sender unless one is queued already and has not started yet.

    The flag is dropped by the job as it starts, before its first claim, so a
    delivery committed after that start queues a new job (another worker takes
    it up alongside), and one committed before it is found by the first claim.
    The flag's expiry covers a job lost with Redis; the stalled sweep covers the rest.
    """
    if broker().connection.set(WAKE_FLAG, "1", nx=True, ex=WAKE_FLAG_SECONDS):
        enqueue(DELIVER_DUE_JOB, queue=QUEUE)


def disabled_note(integration: PartnerIntegration) -> str:
    """Why a callback to an endpoint disabled after a 410 is not sent."""
    return (
        "not sent: the partner's endpoint was disabled at "
        f"{iso(integration.webhook_disabled_at)} "
        f"({integration.webhook_disabled_reason or 'no reason recorded'})"
    )
