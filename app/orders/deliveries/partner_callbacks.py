"""The outbound partner callback, written by the status engine's transaction.

Which event a partner hears
---------------------------
A partner lists the events it wants in ``PartnerIntegration.webhook_events``;
the names and when each is sent are the catalogue's
(:mod:`app.orders.deliveries.partner_events`). For each status change the most
specific subscribed event is sent, else ``status_changed``, else nothing. A
visit moved without a status change (planning) sends ``visit_rescheduled`` to
partners subscribed to it, through :func:`on_visit_rescheduled`.

The callback is only written when the order has a partner and a
``partner_order_id``, the partner's integration is active with a webhook URL,
and ``status_mapping["chargecars_to_partner"]`` maps the new status: the
``status`` field carries the partner's own word for it. An endpoint disabled
after a 410 gets the callback recorded as not sent, with the reason, so the
delivery log shows what the partner missed.

A test order's callback follows the sandbox's own settings (URL, events,
secret: :mod:`app.orders.deliveries.callback_settings`), never the live ones the partner
did not offer it; one with nowhere to go is recorded as not sent, with why.

The body is the one docs/partners.md documents (``timestamp``, ``event``, ``chargecars_order_id``,
``partner_order_id``, ``partner_customer_id``, ``status``, ``status_details``,
``customer_info``); headers and signatures are in
:mod:`app.orders.deliveries.signing`.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.orders.deliveries.callback_settings import CallbackRoute, route_for
from app.orders.deliveries.outbox import record_delivery
from app.orders.deliveries.partner_events import (
    ORDER_CREATED,
    STATUS_CHANGED,
    VISIT_RESCHEDULED,
    status_events,
)
from app.orders.deliveries.payloads import callback_payload, visit_payload
from app.platform.extensions import db
from app.platform.models import Order, OrderStatusTransition, PartnerIntegration
from app.platform.models.enums import DeliveryKind


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: write the partner's callback for this change, if it wants one."""
    listening = _listening(order)
    if listening is None:
        return
    integration, route = listening
    event = event_for(transition, list(route.events))
    if event is None:
        return
    partner_status = _partner_status(integration, transition.to_status)
    if not partner_status:
        return
    payload = callback_payload(order, transition, event, partner_status)
    _record(integration, route, order, event, payload)


def on_visit_rescheduled(order: Order, visit: dict, reason: str | None = None) -> None:
    """Planning's hook: a planned visit moved, the order's status did not.

    Writes a ``visit_rescheduled`` callback for a partner subscribed to that
    event (not to ``status_changed``: nothing changed status), in the caller's
    transaction like a status change's. ``visit`` is what the partner hears of
    the new plan, JSON-ready, e.g. ``{"number": 1, "date": "2026-12-15",
    "window_start": "08:00", "window_end": "12:00"}``; ``reason`` is a
    partner-visible note.
    """
    on_visit_event(order, VISIT_RESCHEDULED, visit, reason)


def on_visit_event(order: Order, event: str, visit: dict, reason: str | None = None) -> None:
    """A visit's news that changes no status: a later visit planned
    (``visit_scheduled``), moved or taken back (``visit_rescheduled``), or done
    while the order goes on (``visit_completed``). Written for a partner
    subscribed to ``event``, in the caller's transaction."""
    listening = _listening(order)
    if listening is None or event not in listening[1].events:
        return
    integration, route = listening
    partner_status = _partner_status(integration, order.status.value)
    if not partner_status:
        return
    payload = visit_payload(order, event, partner_status, visit, reason)
    _record(integration, route, order, event, payload)


def event_for(transition: OrderStatusTransition, subscribed: list) -> str | None:
    """The event name to send for ``transition``, given the partner's subscriptions."""
    subscribed = {str(name) for name in subscribed}
    specific = (
        (ORDER_CREATED,) if transition.from_status is None else status_events(transition.to_status)
    )
    for name in specific:
        if name in subscribed:
            return name
    return STATUS_CHANGED if STATUS_CHANGED in subscribed else None


def _listening(order: Order) -> tuple[PartnerIntegration, CallbackRoute] | None:
    """The integration to call back about ``order`` and where its callbacks go.

    A live order needs a live URL, as before. A test order is answered even
    without anywhere to go, so its callback is recorded as not sent and the
    partner sees why in its delivery log.
    """
    if order.partner_organization_id is None or not order.partner_order_id:
        return None
    integration = active_integration(order.partner_organization_id)
    if integration is None:
        return None
    route = route_for(integration, test=order.is_test)
    if not order.is_test and not route.url:
        return None
    return integration, route


def _partner_status(integration: PartnerIntegration, ours: str) -> str | None:
    mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
    return mapping.get(ours)


def _record(
    integration: PartnerIntegration,
    route: CallbackRoute,
    order: Order,
    event: str,
    payload: dict,
) -> None:
    # A live endpoint disabled after a 410, or a test callback with nowhere to go,
    # is recorded as not sent; a missing secret is the sender's to find, as before.
    not_sent = route.not_sent if (route.url is None or _disabled(integration, route)) else None
    record_delivery(
        DeliveryKind.PARTNER_CALLBACK,
        target_url=route.url or "",
        event_type=event,
        payload=payload,
        integration=integration,
        order=order,
        not_sent_reason=not_sent,
    )


def _disabled(integration: PartnerIntegration, route: CallbackRoute) -> bool:
    return route.live_endpoint and integration.webhook_disabled_at is not None


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
