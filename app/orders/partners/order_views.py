"""Orders and events as a partner's system reads them (the order API's answers).

Only what the partner may know: what it sent about the customer (never the
contact we hold), its own references, the status in its words beside ours,
and of each status change only the note written for the partner, never the
reason colleagues wrote.
"""

from __future__ import annotations

from app.orders.core.customer_details import partner_review_reasons
from app.orders.core.services import partner_status_of
from app.orders.deliveries.partner_events import EVENTS, TEST, PartnerEvent
from app.orders.deliveries.payloads import (
    iso,
    sample_callback_payload,
    status_details,
    visit_details,
)
from app.orders.partners.order_changes import locked_reason
from app.platform.models import Order, PartnerIntegration


def order_summary(order: Order, integration: PartnerIntegration) -> dict:
    """One order of a list: ids, status in both vocabularies, times."""
    return {
        "partner_order_id": order.partner_order_id,
        "chargecars_order_id": order.order_number,
        "chargecars_order_uuid": str(order.id),
        "status": partner_status_of(order, integration),
        "internal_status": order.status.value,
        "is_test": order.is_test,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def order_detail(order: Order, integration: PartnerIntegration) -> dict:
    """The whole order as its partner may see it."""
    references = dict(order.partner_external_references or {})
    return {
        **order_summary(order, integration),
        "partner_customer_id": references.get("partner_customer_id"),
        "partner_references": {
            key: value
            for key, value in references.items()
            if key not in ("partner_system", "api_version", "created_via_api")
        },
        "customer": _customer(order),
        "address": _address(order),
        "installation_preferences": dict(order.installation_preferences or {}),
        "lines": [
            {
                "sku": line.partner_sku,
                "description": line.description,
                "quantity": line.quantity,
                "partner_item_id": line.external_item_reference,
            }
            for line in order.line_items
        ],
        "visit": visit_details(order),
        # Every planned visit, by number: an order may need a second day or a return.
        "visits": [
            details
            for details in (visit_details(order, visit) for visit in order.visits)
            if details is not None
        ],
        "needs_review": bool(partner_review_reasons(order)),
        "review_reasons": partner_review_reasons(order),
        "changeable": locked_reason(order) is None,
        "history": [status_details(transition) for transition in order.transitions],
    }


def _customer(order: Order) -> dict:
    if order.customer_as_sent is not None:
        sent = order.customer_as_sent
        return {key: sent.get(key) for key in ("name", "email", "phone")}
    return {**order.customer_info_for_partner(), "phone": None}


def _address(order: Order) -> dict | None:
    address = order.installation_address_for_partner()
    if address is None:
        return None
    return {
        "street": address.street,
        "house_number": address.house_number,
        "house_number_addition": address.house_number_addition,
        "postal_code": address.postal_code,
        "city": address.city,
    }


# A usual previous status, for the examples' ``status_details.from_status``.
EXAMPLE_FROM = {
    "quote_sent": "new",
    "approved": "new",
    "scheduled": "approved",
    "in_progress": "scheduled",
    "completed": "in_progress",
    "on_hold": "approved",
    "cancelled": "new",
}


def event_catalogue(integration: PartnerIntegration) -> list[dict]:
    """Every event of :mod:`app.orders.deliveries.partner_events`, with an example body."""
    return [
        {
            "name": event.name,
            "description": event.sent_when,
            "order_status": event.status.value if event.status else None,
            "alias_of": event.alias_of,
            "example_payload": _example(event, integration),
        }
        for event in EVENTS
    ]


def _example(event: PartnerEvent, integration: PartnerIntegration) -> dict:
    payload = sample_callback_payload(integration)
    payload["event"] = event.name
    if event.name != TEST:
        payload.pop("test", None)
    if event.status is not None:
        mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
        ours = event.status.value
        details = payload["status_details"]
        details["from_status"] = EXAMPLE_FROM.get(ours)
        details["to_status"] = ours
        details["reason"] = None
        payload["status"] = mapping.get(ours) or ours
    if event.name in ("visit_scheduled", "visit_rescheduled", "visit_confirmed", "visit_completed"):
        payload["visit"] = {
            "number": 1,
            "purpose": None,
            "date": "2026-06-15",
            "window_start": "08:00",
            "window_end": "12:00",
        }
    return payload
