"""The partner callback body, built from an order and its status transition."""

from __future__ import annotations

from datetime import datetime, timezone

from app.orders.deliveries.partner_events import TEST
from app.platform.database import utcnow
from app.platform.models import Order, OrderStatusTransition, PartnerIntegration, Visit

# The key of a sandbox move's business context holding the visit it pretends.
SANDBOX_VISIT = "sandbox_visit"


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``, as the partner guide's examples write times."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def callback_payload(
    order: Order, transition: OrderStatusTransition, event: str, partner_status: str
) -> dict:
    """The JSON a partner receives for one status change."""
    references = order.partner_external_references or {}
    return {
        "timestamp": iso(utcnow()),
        "event": event,
        "chargecars_order_id": order.order_number,
        "partner_order_id": order.partner_order_id or references.get("partner_order_id"),
        "partner_customer_id": references.get("partner_customer_id"),
        "status": partner_status,
        "status_details": status_details(transition),
        # What the partner sent, not our contact: a partner that knows a customer's
        # phone number must not learn the name and e-mail we hold.
        "customer_info": order.customer_info_for_partner(),
        **_planned_visit(order, transition),
        **test_marker(order),
    }


def test_marker(order: Order) -> dict:
    """``{"test": true}`` for a sandbox order's callback; nothing for a live one,
    whose body stays as it always was (as the "send test event" sample says it)."""
    return {"test": True} if order.is_test else {}


def visit_details(order: Order, visit: Visit | None = None) -> dict | None:
    """A planned visit as a partner reads it (the order's current one without
    ``visit``): ``{number, purpose, date, window_start, window_end}`` (ISO date,
    "HH:MM"; ``purpose`` says why a later visit is needed, null for the first);
    None while it is not planned."""
    visit = visit if visit is not None else order.visit
    if visit is None or visit.scheduled_date is None:
        return None
    return {
        "number": visit.number,
        "purpose": visit.purpose,
        "date": visit.scheduled_date.isoformat(),
        "window_start": f"{visit.window_start:%H:%M}" if visit.window_start else None,
        "window_end": f"{visit.window_end:%H:%M}" if visit.window_end else None,
    }


def _planned_visit(order: Order, transition: OrderStatusTransition) -> dict:
    # A partner hearing "planned" learns when; later moves come as visit_rescheduled.
    if transition.to_status != "scheduled":
        return {}
    details = visit_details(order)
    if details is None and order.is_test:
        # A sandbox order is never planned: its made-up visit rides on the move.
        details = (transition.business_context or {}).get(SANDBOX_VISIT)
    return {"visit": details} if details else {}


def visit_payload(
    order: Order, event: str, partner_status: str, visit: dict, reason: str | None
) -> dict:
    """The same body for a visit moved without a status change, with the new ``visit``.

    ``status_details`` keeps its shape: from and to are the order's unchanged status.
    """
    now = iso(utcnow())
    references = order.partner_external_references or {}
    return {
        "timestamp": now,
        "event": event,
        "chargecars_order_id": order.order_number,
        "partner_order_id": order.partner_order_id or references.get("partner_order_id"),
        "partner_customer_id": references.get("partner_customer_id"),
        "status": partner_status,
        "status_details": {
            "from_status": order.status.value,
            "to_status": order.status.value,
            "reason": reason,
            "timestamp": now,
        },
        "customer_info": order.customer_info_for_partner(),
        "visit": visit,
        **test_marker(order),
    }


def status_details(transition: OrderStatusTransition) -> dict:
    """One move as a partner may read it (callbacks and the partner API's answers).

    The key ``reason`` keeps the name partners already read; it carries only the move's
    partner note, never the reason typed for colleagues.
    """
    return {
        "from_status": transition.from_status,
        "to_status": transition.to_status,
        "reason": transition.partner_note,
        "timestamp": iso(transition.created_at),
    }


def sample_callback_payload(integration: PartnerIntegration) -> dict:
    """A made-up order's callback for the "send test event" button, in the same shape."""
    mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
    now = iso(utcnow())
    return {
        "timestamp": now,
        "event": TEST,
        "chargecars_order_id": "CC-0000-00000",
        "partner_order_id": "TEST-ORDER",
        "partner_customer_id": "TEST-CUSTOMER",
        "status": mapping.get("approved") or "approved",
        "status_details": {
            "from_status": "new",
            "to_status": "approved",
            "reason": "Test event sent from Switchboard",
            "timestamp": now,
        },
        "customer_info": {"name": "Test Klant", "email": "test@example.com"},
        "test": True,
    }
