"""Planning a visit: which technician goes, and on which day.

:func:`plan_visit` is the one place an order's technician or visit day changes;
it publishes :class:`VisitPlanned` after the commit, which the phone view turns
into a push to the technician (:mod:`app.mobile.listeners`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from app.events import DomainEvent
from app.models import Order
from app.transactions import publish

_UNSET = object()


@dataclass(frozen=True)
class VisitPlanned(DomainEvent):
    """An order's visit got a technician or a day (or both changed)."""

    order_id: uuid.UUID
    technician_id: uuid.UUID | None
    scheduled_date: date | None
    previous_technician_id: uuid.UUID | None
    previous_date: date | None

    @property
    def is_new_for_technician(self) -> bool:
        return self.technician_id != self.previous_technician_id

    @property
    def change_key(self) -> str:
        """Names this change, so one change is pushed once however often it is heard."""
        day = self.scheduled_date.isoformat() if self.scheduled_date else "none"
        return f"{'assigned' if self.is_new_for_technician else 'moved'}:{day}"


def plan_visit(order: Order, *, technician_id=_UNSET, scheduled_date=_UNSET) -> bool:
    """Set the order's technician and/or visit day; True (and an event) when that changed."""
    before = (order.assigned_technician_id, order.scheduled_date)
    if technician_id is not _UNSET:
        order.assigned_technician_id = technician_id
    if scheduled_date is not _UNSET:
        order.scheduled_date = scheduled_date
    if (order.assigned_technician_id, order.scheduled_date) == before:
        return False
    publish(
        VisitPlanned(
            order_id=order.id,
            technician_id=order.assigned_technician_id,
            scheduled_date=order.scheduled_date,
            previous_technician_id=before[0],
            previous_date=before[1],
        ),
        order,
    )
    return True
