"""The outbox: a delivery is a row written in the transaction of what causes it.

:func:`record_delivery` only adds the row to the caller's session. The job that
sends it is queued once the caller commits (:func:`app.transactions.commit`),
so a status change and its callback are committed together or not at all, and
a worker never looks for a row that is not there yet. Should the process die
between the commit and the queueing, ``next_attempt_at`` is already set and
:func:`app.deliveries.jobs.requeue_stalled_deliveries` finds the row.
"""

from __future__ import annotations

import json
import uuid

from app.database import utcnow
from app.deliveries.payloads import iso
from app.extensions import db
from app.jobs.queues import enqueue
from app.models import Order, OutboundDelivery, PartnerIntegration, WebhookEndpoint
from app.models.enums import DeliveryKind, OutboundState
from app.transactions import after_commit

DEFAULT_MAX_ATTEMPTS = 3
DELIVER_JOB = "app.deliveries.jobs.deliver"
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
    )
    db.session.add(delivery)
    db.session.flush()
    if not not_sent_reason:
        queue_after_commit(delivery.id, triggered_by_user_id)
    return delivery


def queue_after_commit(delivery_id: uuid.UUID, triggered_by_user_id: uuid.UUID | None = None):
    """Queue the delivery job once the current transaction commits."""
    args = [str(delivery_id)]
    if triggered_by_user_id is not None:
        args.append(str(triggered_by_user_id))
    after_commit(lambda: enqueue(DELIVER_JOB, *args, queue=QUEUE))


def disabled_note(integration: PartnerIntegration) -> str:
    """Why a callback to an endpoint disabled after a 410 is not sent."""
    return (
        "not sent: the partner's endpoint was disabled at "
        f"{iso(integration.webhook_disabled_at)} "
        f"({integration.webhook_disabled_reason or 'no reason recorded'})"
    )
