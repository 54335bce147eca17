"""``triggerMakeScenario``: Make.com scenarios through the delivery engine.

``MAKE_WEBHOOK_URLS`` maps scenario names (``order_processing``,
``inventory_update``, ``customer_communication``, ``financial_processing``) to
their Make.com webhook URLs; a scenario without a URL is simply not triggered.
The body is ``{timestamp, source, scenario, data}``; it is signed
with ``X-Make-Signature`` when ``MAKE_WEBHOOK_SECRET`` is set, retried and
logged like a partner callback, and held to Make.com's rate limit.
"""

from __future__ import annotations

from flask import current_app

from app.orders.deliveries.outbox import record_delivery
from app.orders.deliveries.payloads import iso
from app.platform.database import utcnow
from app.platform.models import Order, OrderStatusTransition, OutboundDelivery
from app.platform.models.enums import DeliveryKind

SOURCE = "switchboard"
ORDER_SCENARIO = "order_processing"


def trigger_make_scenario(
    scenario: str, data: dict, *, order: Order | None = None
) -> OutboundDelivery | None:
    """Write a delivery for ``scenario`` in the caller's transaction (no commit).

    Returns None when the scenario has no configured URL. ``data`` must be
    JSON-serialisable; it is sent after the caller commits with
    :func:`app.platform.transactions.commit`.
    """
    url = (current_app.config.get("MAKE_WEBHOOK_URLS") or {}).get(scenario)
    if not url:
        return None
    body = {"timestamp": iso(utcnow()), "source": SOURCE, "scenario": scenario, "data": data}
    return record_delivery(
        DeliveryKind.MAKE_SCENARIO,
        target_url=url,
        event_type=scenario,
        payload=body,
        order=order,
    )


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: tell the ``order_processing`` scenario, when one is configured."""
    references = order.partner_external_references or {}
    trigger_make_scenario(
        ORDER_SCENARIO,
        {
            "event": "status_changed" if transition.from_status else "order_created",
            "order_id": str(order.id),
            "order_number": order.order_number,
            "from_status": transition.from_status,
            "to_status": transition.to_status,
            "reason": transition.transition_reason,
            "changed_at": iso(transition.created_at),
            "source": order.source.value if order.source else None,
            "partner_organization_id": (
                str(order.partner_organization_id) if order.partner_organization_id else None
            ),
            "partner_order_id": order.partner_order_id or references.get("partner_order_id"),
        },
        order=order,
    )
