"""When a visit is, and who goes: the one place the calendar reads a plan from.

The day is the order's visit day; the time is the plan's window (the planner's,
:class:`app.platform.models.Visit`), else the window the customer asked for, else the
whole day. Everyone on the visit's crew gets the event, the lead first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.orders.mobile.services import time_window
from app.platform.models import Order

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class VisitSlot:
    """A visit's time in Amsterdam; ``all_day`` when no window was agreed."""

    day: date
    start: datetime
    end: datetime
    all_day: bool = False


def visit_slot(order: Order) -> VisitSlot | None:
    """The order's visit time, or None when it has no visit day."""
    if order.scheduled_date is None:
        return None
    day = order.scheduled_date
    window = time_window(order)
    if window is not None and window.start and window.end and not window.all_day:
        start = datetime.combine(day, time.fromisoformat(window.start), AMSTERDAM)
        end = datetime.combine(day, time.fromisoformat(window.end), AMSTERDAM)
        if end > start:
            return VisitSlot(day=day, start=start, end=end)
    start = datetime.combine(day, time(0), AMSTERDAM)
    return VisitSlot(day=day, start=start, end=start + timedelta(days=1), all_day=True)


def visit_technician_ids(order: Order) -> list[uuid.UUID]:
    """The technicians going to the order's visit (none while it is unplanned)."""
    if order.scheduled_date is None or order.assigned_technician_id is None:
        return []
    crew = order.visit.technician_ids if order.visit is not None else []
    return crew or [order.assigned_technician_id]
