"""The conversation's customer panel asks here where its order's best slots load from
(offered as ``orders.slots_url``: the conversations context cannot import orders)."""

from __future__ import annotations

import uuid

from flask import url_for

from app.orders.core.services import find_order
from app.orders.planning.access import PLANNER_ROLES
from app.orders.planning.services import PLANNABLE_STATUSES
from app.platform.models import User


def slots_url(order_id: uuid.UUID, viewer: User, thread_id: uuid.UUID) -> str | None:
    """The URL of ``order_id``'s best slots for the panel of conversation ``thread_id``,
    or None: only the desk's planners see slots, and only while the order can be
    planned (a technician or a partner never does)."""
    if viewer.role not in PLANNER_ROLES:
        return None
    order = find_order(str(order_id))
    if order is None or order.status not in PLANNABLE_STATUSES:
        return None
    return url_for("planning_slots.show", key=order.order_number, thread=thread_id)
