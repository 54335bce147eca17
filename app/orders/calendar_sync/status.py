"""A cancelled order's visit leaves the technicians' calendars."""

from __future__ import annotations

from app.orders.calendar_sync.jobs import queue_visit_sync
from app.platform.models import Order, OrderStatusTransition
from app.platform.models.enums import OrderStatus
from app.platform.transactions import after_commit


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    if OrderStatus(transition.to_status) != OrderStatus.CANCELLED:
        return
    order_id = order.id
    after_commit(lambda: queue_visit_sync(order_id))
