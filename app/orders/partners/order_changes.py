"""What a partner may do to its own order through the API: change it, cancel it.

A change reaches the order's copy of the customer details (the contact stays
as it is, :mod:`app.orders.core.customer_details`) and its installation
preferences, and only while nothing is planned yet. A cancellation is a move
of the status engine like any other, with the partner's reason as the note
the partner reads back.
"""

from __future__ import annotations

from app.orders.core.customer_details import change_customer_as_sent
from app.orders.core.status_engine import ALLOWED_TRANSITIONS, change_entity_status
from app.orders.partners.order_schemas import OrderChangeIn
from app.platform.extensions import db
from app.platform.models import AuditLog, Order
from app.platform.models.enums import OrderStatus

# Before planning: the statuses in which contact details and preferences may change.
CHANGEABLE_STATUSES = (OrderStatus.NEW, OrderStatus.QUOTE_SENT, OrderStatus.APPROVED)


class OrderLocked(Exception):
    """The order is planned or past it; the message says why."""


def locked_reason(order: Order) -> str | None:
    """Why ``order`` can no longer be changed by its partner; None while it can."""
    if order.status not in CHANGEABLE_STATUSES:
        return (
            f"the order is {order.status.value}; contact details and installation "
            "preferences can be changed only while it is new, quote_sent or approved"
        )
    visit = order.visit
    if order.scheduled_date is not None or (visit is not None and visit.scheduled_date):
        return "the installation visit is planned; ask ChargeCars to change it"
    return None


def change_order(order: Order, change: OrderChangeIn) -> dict:
    """Apply the partner's change (no commit); :class:`OrderLocked` when planned.

    Returns what changed, for the audit log and the answer.
    """
    reason = locked_reason(order)
    if reason:
        raise OrderLocked(reason)
    changed: dict = {}
    if change.customer is not None:
        customer = change.customer.model_dump(exclude_none=True)
        if customer:
            changed["customer"] = change_customer_as_sent(order, order.end_customer, customer)
    if change.installation_preferences is not None:
        sent = change.installation_preferences.model_dump(mode="json", exclude_none=True)
        before = dict(order.installation_preferences or {})
        preferences = {**before, **sent}
        # Intake put the preferences' note on the order; keep it in step unless
        # someone here wrote another since.
        if order.notes in (None, before.get("notes") or before.get("access_notes")):
            order.notes = preferences.get("notes") or preferences.get("access_notes")
        order.installation_preferences = preferences
        changed["installation_preferences"] = {
            key: value for key, value in sent.items() if before.get(key) != value
        }
    changed = {key: value for key, value in changed.items() if value}
    if changed:
        db.session.add(
            AuditLog(
                table_name="orders",
                record_id=order.id,
                action="PARTNER_CHANGE",
                changed_by_user_id=None,
                changes={"via": "partner_api", **changed},
            )
        )
        db.session.flush()
    return changed


def cancel_order(order: Order, reason: str, integration_name: str | None) -> None:
    """Cancel through the status engine (no commit); raises its ``IllegalTransition``."""
    change_entity_status(
        order,
        OrderStatus.CANCELLED,
        reason=f"Cancelled by the partner through the API: {reason}",
        context={
            "partner_source": True,
            "integration_name": integration_name,
            "partner_order_id": order.partner_order_id,
        },
        partner_note=reason,
    )


def allowed_moves(order: Order) -> list[str]:
    """The statuses the engine allows from the order's current one."""
    return sorted(status.value for status in ALLOWED_TRANSITIONS[order.status])
