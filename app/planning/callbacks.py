"""The partner's ``visit_rescheduled`` callback: a scheduled order's visit moved.

Moving a visit changes no status, so the status engine's hook
(:mod:`app.deliveries.partner_callbacks`) stays silent; this writes the
partner's callback in the same transaction instead, under the same rules:
the order has a partner and a ``partner_order_id``, the partner's active
integration has a webhook URL, subscribes to ``visit_rescheduled`` (or the
generic ``status_changed``) and maps ``scheduled`` to a word of its own. The
body is the status callback's, with ``visit``: ``{date, window_start,
window_end}`` (ISO date, "HH:MM").
"""

from __future__ import annotations

from app.database import utcnow
from app.deliveries.outbox import disabled_note, record_delivery
from app.deliveries.partner_callbacks import GENERIC_EVENT, active_integration
from app.deliveries.payloads import callback_payload
from app.models import Order, OrderStatusTransition, Visit
from app.models.enums import DeliveryKind, OrderStatus

VISIT_RESCHEDULED = "visit_rescheduled"


def visit_object(visit: Visit) -> dict:
    """The visit as a partner reads it."""
    return {
        "date": visit.scheduled_date.isoformat() if visit.scheduled_date else None,
        "window_start": f"{visit.window_start:%H:%M}" if visit.window_start else None,
        "window_end": f"{visit.window_end:%H:%M}" if visit.window_end else None,
    }


def record_rescheduled(order: Order, visit: Visit) -> None:
    """Write the partner's ``visit_rescheduled`` callback, if it wants one."""
    if order.partner_organization_id is None or not order.partner_order_id:
        return
    integration = active_integration(order.partner_organization_id)
    if integration is None or not integration.webhook_url:
        return
    subscribed = {str(name) for name in integration.webhook_events or []}
    event = (
        VISIT_RESCHEDULED
        if VISIT_RESCHEDULED in subscribed
        else GENERIC_EVENT
        if GENERIC_EVENT in subscribed
        else None
    )
    mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
    partner_status = mapping.get(OrderStatus.SCHEDULED.value)
    if event is None or not partner_status:
        return
    # Not added to the session: the visit moved, the status did not.
    unchanged = OrderStatusTransition(
        from_status=OrderStatus.SCHEDULED.value,
        to_status=OrderStatus.SCHEDULED.value,
        transition_reason="Visit rescheduled",
        created_at=utcnow(),
    )
    payload = callback_payload(order, unchanged, event, partner_status)
    payload["visit"] = visit_object(visit)
    record_delivery(
        DeliveryKind.PARTNER_CALLBACK,
        target_url=integration.webhook_url,
        event_type=event,
        payload=payload,
        integration=integration,
        order=order,
        not_sent_reason=disabled_note(integration) if integration.webhook_disabled_at else None,
    )
