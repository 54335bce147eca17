"""Approving clean orders in bulk from the desk's "to approve" tab.

Each order is approved on its own, through the status engine and in its own
transaction: each partner hears of its own order once (one callback each), and an
order that changed meanwhile (approved by a colleague, flagged, cancelled) is
skipped with the reason instead of failing the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext

from app.orders.core.page import REVIEW_STATUSES
from app.orders.core.services import may_change_status
from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import Order, User
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit

# One page of the desk, and a little more: a person ticks what they see.
MAX_BULK = 200


@dataclass
class BulkApproval:
    approved: list[str] = field(default_factory=list)
    # (order number, why), in the reader's language.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def approve_clean(numbers: list[str], actor: User) -> BulkApproval:
    """Approve each order of ``numbers`` that is new, not test and has nothing to review."""
    result = BulkApproval()
    for number in dict.fromkeys(numbers):
        order = db.session.scalar(
            sa.select(Order).where(Order.order_number == number).with_for_update()
        )
        why = _why_not(order, actor)
        if why:
            db.session.rollback()
            result.skipped.append((number, why))
            continue
        change_entity_status(order, OrderStatus.APPROVED, None, {"via": "bulk_approve"}, actor)
        commit()
        result.approved.append(number)
    return result


def _why_not(order: Order | None, actor: User) -> str | None:
    if order is None or order.is_test:
        return gettext("there is no such order")
    if not may_change_status(actor, order):
        return gettext("you may not change it")
    if order.status not in REVIEW_STATUSES:
        return gettext("it is no longer waiting for approval")
    if order.needs_review:
        return gettext("it has review reasons to fix first")
    return None
