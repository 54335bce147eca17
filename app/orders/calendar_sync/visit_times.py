"""When each of an order's visits is, and who goes: the one place the calendar reads a plan from.

An order may have several visits (a second day, a return for a missing part),
each planned on its own day with its own crew; every planned one is a
:class:`PlannedVisit`. A visit's day and crew are its own; only an order planned
without a visit plan (a synced work order sets the order's day and technician)
has its current visit on the order's day with the order's technician.
The time is the visit's planned window (:class:`app.platform.models.Visit`), else
the window the customer asked for, else the whole day. Everyone on the visit's
crew gets the event, the lead first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.conversations.message_templates.visit_moment import parse_time_window, window_text_of
from app.platform.models import Order, Visit

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class VisitSlot:
    """A visit's time in Amsterdam; ``all_day`` when no window was agreed."""

    day: date
    start: datetime
    end: datetime
    all_day: bool = False


@dataclass(frozen=True)
class PlannedVisit:
    """One of the order's visits with a day and technicians: what its calendar rows show.

    ``visit`` is None for an order planned without a visit plan (a synced work
    order): then it is visit 1, on the order's day, with the order's technician.
    """

    number: int
    visit: Visit | None
    slot: VisitSlot
    technician_ids: tuple[uuid.UUID, ...]


def planned_visits(order: Order) -> list[PlannedVisit]:
    """The order's visits that have a day and someone to go, by number."""
    visits = list(order.visits)
    if not visits:
        slot = visit_slot(order)
        technicians = visit_technician_ids(order)
        if slot is None or not technicians:
            return []
        return [PlannedVisit(1, None, slot, tuple(technicians))]
    planned = []
    for visit in visits:
        slot = visit_slot(order, visit)
        technicians = visit_technician_ids(order, visit)
        if slot is not None and technicians:
            planned.append(PlannedVisit(visit.number, visit, slot, tuple(technicians)))
    return planned


def _own_plan(order: Order, visit: Visit | None) -> Visit | None:
    """The visit whose own day and crew count, or None for the order's day and lead:
    the current visit planned without a visit plan (a synced work order; an unplanned
    first visit row added beside it)."""
    if visit is None:
        visit = order.visit
    if visit is not None and (visit.scheduled_date is not None or visit is not order.visit):
        return visit
    return None


def visit_slot(order: Order, visit: Visit | None = None) -> VisitSlot | None:
    """The visit's time (without ``visit``: the order's current one), or None when it
    has no day."""
    own = _own_plan(order, visit)
    day = own.scheduled_date if own is not None else order.scheduled_date
    if day is None:
        return None
    window = parse_time_window(window_text_of(order, visit))
    if window is not None and window.start and window.end and not window.all_day:
        start = datetime.combine(day, time.fromisoformat(window.start), AMSTERDAM)
        end = datetime.combine(day, time.fromisoformat(window.end), AMSTERDAM)
        if end > start:
            return VisitSlot(day=day, start=start, end=end)
    start = datetime.combine(day, time(0), AMSTERDAM)
    return VisitSlot(day=day, start=start, end=start + timedelta(days=1), all_day=True)


def visit_technician_ids(order: Order, visit: Visit | None = None) -> list[uuid.UUID]:
    """The technicians going to the visit (without ``visit``: the order's current one),
    the lead first; none while it is unplanned."""
    own = _own_plan(order, visit)
    if own is None:
        # The order's own day and lead: a synced work order sets them without a crew.
        if order.scheduled_date is None or order.assigned_technician_id is None:
            return []
        return [order.assigned_technician_id]
    if own.scheduled_date is None:
        return []
    if own.technician_ids:
        return own.technician_ids
    lead = order.assigned_technician_id
    return [lead] if lead is not None and own is order.visit else []
