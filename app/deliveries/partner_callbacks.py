"""Seed 002's outbound partner callback, written by the status engine's transaction.

Which event a partner hears
---------------------------
A partner lists the events it wants in ``PartnerIntegration.webhook_events``.
For each status change the most specific subscribed event is sent, else the
generic one, else nothing:

==========================  =================================================
event                       sent when the order …
==========================  =================================================
``order_created``           gets its first status (created through any intake)
``quote_sent``              moves to ``quote_sent``
``order_approved``          moves to ``approved``
``visit_scheduled``         moves to ``scheduled``
``installation_started``    moves to ``in_progress``
``installation_completed``  moves to ``completed`` (``order_completed`` is
                            accepted as the same event under seed 002's name)
``order_on_hold``           moves to ``on_hold``
``order_cancelled``         moves to ``cancelled``
``status_changed``          any status change, when no specific event above
                            is subscribed for it
``test``                    a person pressed "send test event"
==========================  =================================================

The callback is only written when the order has a partner and a
``partner_order_id``, the partner's integration is active with a webhook URL,
and ``status_mapping["chargecars_to_partner"]`` maps the new status: the
``status`` field carries the partner's own word for it. An endpoint disabled
after a 410 gets the callback recorded as not sent, with the reason, so the
delivery log shows what the partner missed.

The body is seed 002's (``timestamp``, ``event``, ``chargecars_order_id``,
``partner_order_id``, ``partner_customer_id``, ``status``, ``status_details``,
``customer_info``); headers and signatures are CONTRACT §5's
(:mod:`app.deliveries.signing`).
"""

from __future__ import annotations

import sqlalchemy as sa

from app.deliveries.outbox import disabled_note, record_delivery
from app.deliveries.payloads import callback_payload
from app.extensions import db
from app.models import Order, OrderStatusTransition, PartnerIntegration
from app.models.enums import DeliveryKind

GENERIC_EVENT = "status_changed"
CREATED_EVENTS = ("order_created",)
# Specific events per new status, in order of preference.
STATUS_EVENTS: dict[str, tuple[str, ...]] = {
    "quote_sent": ("quote_sent",),
    "approved": ("order_approved",),
    "scheduled": ("visit_scheduled",),
    "in_progress": ("installation_started",),
    "completed": ("installation_completed", "order_completed"),
    "on_hold": ("order_on_hold",),
    "cancelled": ("order_cancelled",),
}
EVENT_NAMES: tuple[str, ...] = (
    *CREATED_EVENTS,
    *(name for names in STATUS_EVENTS.values() for name in names),
    GENERIC_EVENT,
    "test",
)


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: write the partner's callback for this change, if it wants one."""
    if order.partner_organization_id is None or not order.partner_order_id:
        return
    integration = active_integration(order.partner_organization_id)
    if integration is None or not integration.webhook_url:
        return
    event = event_for(transition, integration.webhook_events or [])
    if event is None:
        return
    mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
    partner_status = mapping.get(transition.to_status)
    if not partner_status:
        return
    not_sent = disabled_note(integration) if integration.webhook_disabled_at else None
    record_delivery(
        DeliveryKind.PARTNER_CALLBACK,
        target_url=integration.webhook_url,
        event_type=event,
        payload=callback_payload(order, transition, event, partner_status),
        integration=integration,
        order=order,
        not_sent_reason=not_sent,
    )


def event_for(transition: OrderStatusTransition, subscribed: list) -> str | None:
    """The event name to send for ``transition``, given the partner's subscriptions."""
    subscribed = {str(name) for name in subscribed}
    specific = (
        CREATED_EVENTS
        if transition.from_status is None
        else STATUS_EVENTS.get(transition.to_status, ())
    )
    for name in specific:
        if name in subscribed:
            return name
    return GENERIC_EVENT if GENERIC_EVENT in subscribed else None


def active_integration(partner_organization_id) -> PartnerIntegration | None:
    """The partner's active integration (the oldest, should there be several)."""
    return db.session.scalar(
        sa.select(PartnerIntegration)
        .where(
            PartnerIntegration.partner_organization_id == partner_organization_id,
            PartnerIntegration.is_active.is_(True),
        )
        .order_by(PartnerIntegration.created_at)
        .limit(1)
    )
