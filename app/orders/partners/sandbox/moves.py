"""Moving a test order through our statuses, as the partner asks in its sandbox.

Every move goes through the real status engine, so the partner sees the same
refusals (an illegal move) and the same signed callbacks as for a live order;
the engine runs only the partner callback hook for a test order. A move to
``scheduled`` carries a made-up visit (:mod:`app.orders.partners.sandbox.visit`), as a
planned live order's callback does.
"""

from __future__ import annotations

from app.conversations.message_templates.visit_moment import amsterdam_today
from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.payloads import SANDBOX_VISIT
from app.orders.partners.sandbox.visit import planned_visit
from app.platform.models import Order, OrderStatusTransition, PartnerIntegration
from app.platform.models.enums import OrderStatus

SANDBOX_REASON = "Moved in the partner's sandbox"
# The longest reason or partner note a sandbox move takes.
MAX_TEXT = 1000


class UnknownStatus(ValueError):
    """Neither one of our statuses nor a word of the partner's mapping."""


def parse_sandbox_status(value: object, integration: PartnerIntegration) -> OrderStatus:
    """Our status named ``value``: one of ours, or the partner's own word for one.

    The partner's word is looked up in its ``chargecars_to_partner`` mapping
    (the words its callbacks carry) and then ``partner_to_chargecars``.
    """
    if not isinstance(value, str) or not value.strip():
        raise UnknownStatus("must be one of our statuses (or your mapped word for one)")
    value = value.strip()
    if value in OrderStatus.values():
        return OrderStatus(value)
    mapping = integration.status_mapping or {}
    for ours, theirs in (mapping.get("chargecars_to_partner") or {}).items():
        if theirs == value and ours in OrderStatus.values():
            return OrderStatus(ours)
    ours = (mapping.get("partner_to_chargecars") or {}).get(value)
    if ours in OrderStatus.values():
        return OrderStatus(ours)
    raise UnknownStatus(
        f"must be one of {', '.join(OrderStatus.values())} (or your mapped word for one)"
    )


def move_test_order(
    order: Order,
    to_status: OrderStatus,
    *,
    reason: str | None = None,
    partner_note: str | None = None,
    via: str = "sandbox",
) -> OrderStatusTransition:
    """Move the test ``order`` (no commit); raises IllegalTransition as the engine does."""
    if not order.is_test:
        # A guard for callers: the sandbox must never move a real order.
        raise ValueError(f"order {order.order_number} is not a test order")
    context: dict = {"via": via, "sandbox": True}
    if to_status == OrderStatus.SCHEDULED:
        # On the customer's preferred working day and part of the day.
        context[SANDBOX_VISIT] = planned_visit(order, amsterdam_today())
    return change_entity_status(
        order, to_status, reason or SANDBOX_REASON, context, partner_note=partner_note
    )
