"""Platform events: what happened, in our words, and who hears about it.

A provider webhook (a Stripe invoice paid, a HubSpot contact created) or a
change of our own becomes a :class:`PlatformEvent` named from the fixed
catalogue below. :func:`emit_event` stores it and, in the same
transaction, records one delivery per active :class:`WebhookEndpoint`
subscribed to the name (the outbox of :mod:`app.orders.deliveries.outbox`), so an
event and its deliveries are committed together or not at all.

The body every endpoint gets is the Standard Webhooks shape:
``{"id", "type", "timestamp", "source", "data"}``.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.orders.deliveries.outbox import record_delivery
from app.orders.deliveries.payloads import iso
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Integration, PlatformEvent, WebhookEndpoint
from app.platform.models.enums import DeliveryKind

# The platform's event catalogue, plus payment.succeeded (a card payment that went through,
# as Stripe reports it). An endpoint subscribes to names from this list only.
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "customer": ("customer.created", "customer.updated", "customer.deleted"),
    "job": ("job.created", "job.updated", "job.completed", "job.cancelled"),
    "invoice": (
        "invoice.created",
        "invoice.updated",
        "invoice.sent",
        "invoice.paid",
        "invoice.overdue",
    ),
    "payment": (
        "payment.received",
        "payment.succeeded",
        "payment.failed",
        "payment.refunded",
    ),
    "referral": ("referral.captured", "referral.converted", "referral.lost"),
}
EVENT_NAMES: tuple[str, ...] = tuple(name for names in EVENT_GROUPS.values() for name in names)
# The event a person sends from the endpoint page; never stored as a platform event.
TEST_EVENT = "test"


class UnknownEvent(ValueError):
    """A platform event name that is not in the catalogue."""


def envelope(event: PlatformEvent) -> dict:
    """The JSON body an endpoint receives for ``event``."""
    return {
        "id": str(event.id),
        "type": event.name,
        "timestamp": iso(event.created_at),
        "source": event.source,
        "data": event.payload,
    }


def emit_event(
    name: str,
    data: dict,
    *,
    source: str,
    integration: Integration | None = None,
    inbound_event: InboundWebhookEvent | None = None,
) -> PlatformEvent:
    """Store a platform event and queue it to every subscribed endpoint (no commit).

    The caller commits with :func:`app.platform.transactions.commit`, which queues the
    deliveries. Raises :class:`UnknownEvent` for a name outside the catalogue.
    """
    if name not in EVENT_NAMES:
        raise UnknownEvent(f"{name!r} is not a platform event")
    event = PlatformEvent(
        name=name,
        source=source,
        payload=data,
        integration_id=integration.id if integration else None,
        inbound_event_id=inbound_event.id if inbound_event else None,
        created_at=utcnow(),
    )
    db.session.add(event)
    db.session.flush()
    for endpoint in subscribed_endpoints(name):
        queue_to_endpoint(endpoint, name, envelope(event))
    return event


def subscribed_endpoints(name: str) -> list[WebhookEndpoint]:
    """Active endpoints that listen to ``name``.

    ``events`` is a JSON list, filtered here rather than in SQL: there are a
    handful of endpoints, and JSON containment differs between our databases.
    """
    endpoints = db.session.scalars(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.is_active.is_(True), WebhookEndpoint.disabled_at.is_(None)
        )
    ).all()
    return [endpoint for endpoint in endpoints if name in (endpoint.events or [])]


def queue_to_endpoint(
    endpoint: WebhookEndpoint, event_type: str, body: dict, *, triggered_by_user_id=None
):
    """Record one delivery of ``body`` to ``endpoint`` in the caller's transaction."""
    return record_delivery(
        DeliveryKind.WEBHOOK_ENDPOINT,
        target_url=endpoint.url,
        event_type=event_type,
        payload=body,
        webhook_endpoint=endpoint,
        max_attempts=1 if event_type == TEST_EVENT else endpoint.max_attempts,
        triggered_by_user_id=triggered_by_user_id,
    )


# Our order statuses as platform events for webhook endpoints (``job.*``).
JOB_EVENTS = {
    None: "job.created",
    "completed": "job.completed",
    "cancelled": "job.cancelled",
}


def on_status_change(order, transition) -> None:
    """Status hook: tell subscribed endpoints about the job, in the same transaction."""
    name = JOB_EVENTS.get(transition.to_status if transition.from_status else None)
    name = name or "job.updated"
    if not subscribed_endpoints(name):
        return
    emit_event(
        name,
        {
            "order_number": order.order_number,
            "order_id": str(order.id),
            "status": transition.to_status,
            "previous_status": transition.from_status,
            "reason": transition.transition_reason,
            "partner_order_id": order.partner_order_id,
        },
        source="switchboard",
    )
