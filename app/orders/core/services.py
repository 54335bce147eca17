"""Finding orders and presenting them."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from app.orders.core.commissions import commissions_as_dicts
from app.orders.invoices.ledger import invoice_to_dict
from app.orders.invoices.views import invoice_of
from app.platform.extensions import db
from app.platform.models import Order, User
from app.platform.models.enums import Role

ORDER_NUMBER = re.compile(r"^CC-\d{4}-\d{5}$")
# The desk: every order, with its amounts, partner references, history and commissions.
ORDER_DESK_ROLES = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)


def find_order(key: str) -> Order | None:
    """An order by its UUID or its number (CC-2026-00001).

    Never a partner's test order (the sandbox): those are not
    staff's work, so every staff page and API answers 404 for them.
    """
    if ORDER_NUMBER.match(key or ""):
        order = db.session.scalar(sa.select(Order).where(Order.order_number == key))
    else:
        try:
            order = db.session.get(Order, uuid.UUID(key))
        except ValueError:
            return None
    return None if order is None or order.is_test else order


def partner_status_of(order: Order, integration) -> str:
    """The order's status in the partner's words; ours when they have no word for it."""
    mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
    return mapping.get(order.status.value) or order.status.value


def may_view_orders(user: User) -> bool:
    """Whether ``user`` may read orders: the order page's rule, and the order API's.

    Desk staff read every order. A technician reads none, not even the ones they
    visit: what a visit needs is on their phone (``/m/``), without the amounts,
    partner references and commissions an order carries.
    """
    return user.role in ORDER_DESK_ROLES


def may_change_status(user: User, order: Order) -> bool:
    """Desk staff may move any order; a technician only the orders they visit
    (as its lead or on its crew)."""
    if user.role in ORDER_DESK_ROLES:
        return True
    if user.role != Role.TECHNICIAN:
        return False
    if order.assigned_technician_id == user.id:
        return True
    return order.visit is not None and user.id in order.visit.technician_ids


def order_status_to_dict(order: Order) -> dict:
    """Where an order stands, without its contents: for callers who may move it but
    not read it (a technician moving their visit along)."""
    return {
        "id": str(order.id),
        "order_number": order.order_number,
        "status": order.status.value,
        "updated_at": order.updated_at.isoformat(),
    }


def order_to_dict(order: Order) -> dict:
    return {
        "id": str(order.id),
        "order_number": order.order_number,
        "status": order.status.value,
        "source": order.source.value,
        "partner_order_id": order.partner_order_id,
        "partner_external_references": order.partner_external_references or {},
        "needs_review": order.needs_review,
        "review_reasons": order.review_reasons or [],
        "customer_as_sent": order.customer_as_sent,
        "scheduled_date": order.scheduled_date.isoformat() if order.scheduled_date else None,
        "total_amount": str(order.total_amount),
        "currency": order.currency,
        "completed_at": order.completed_at.isoformat() if order.completed_at else None,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
        "transitions": [
            {
                "from_status": t.from_status,
                "to_status": t.to_status,
                "reason": t.transition_reason,
                "partner_note": t.partner_note,
                "at": t.created_at.isoformat(),
            }
            for t in order.transitions
        ],
        "commissions": commissions_as_dicts(order),
        "invoice": invoice_to_dict(invoice) if (invoice := invoice_of(order)) else None,
    }
