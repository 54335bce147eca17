"""Planning a visit: which technicians go, on which day and in which window.

:func:`plan_visit` is the one place an order's technician or visit day changes;
it publishes :class:`VisitPlanned` after the commit. The phone view turns it
into a push to the technicians (:mod:`app.orders.mobile.listeners`), and a calendar
can follow it. The planning pages (:mod:`app.orders.planning.services`) keep a
:class:`~app.platform.models.Visit` (window, crew, materials, version) and call this
with all of it; a work order synced in calls it with a technician and a day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time

from app.platform.events import DomainEvent
from app.platform.models import Order
from app.platform.transactions import publish

_UNSET = object()


@dataclass(frozen=True)
class VisitPlanned(DomainEvent):
    """An order's visit was planned, moved, given other technicians, or cancelled.

    ``technician_id`` is the lead (``Order.assigned_technician_id``);
    ``technician_ids`` is everyone on the visit, the lead first (just the lead
    when the caller keeps no crew). ``previous_*`` hold what was planned
    before this change. ``cancelled`` is True when the plan was taken back:
    then the date, window and technicians are empty and the previous ones
    say what to remove. ``plan_version`` is the visit plan's version after
    the change (None for a change made without a plan, a synced work order).
    """

    order_id: uuid.UUID
    technician_id: uuid.UUID | None
    scheduled_date: date | None
    previous_technician_id: uuid.UUID | None
    previous_date: date | None
    window_start: time | None = None
    window_end: time | None = None
    technician_ids: tuple[uuid.UUID, ...] = ()
    previous_window_start: time | None = None
    previous_window_end: time | None = None
    previous_technician_ids: tuple[uuid.UUID, ...] = ()
    cancelled: bool = False
    plan_version: int | None = None
    # Which of the order's visits (1 for most orders: their only one).
    visit_number: int = 1

    @property
    def is_new_for_technician(self) -> bool:
        return self.technician_id != self.previous_technician_id

    def is_new_for(self, technician_id: uuid.UUID) -> bool:
        """Whether ``technician_id`` was not on the visit before this change."""
        before = self.previous_technician_ids or (
            (self.previous_technician_id,) if self.previous_technician_id else ()
        )
        return technician_id not in before

    @property
    def change_key(self) -> str:
        """Names this change, so one change is pushed once however often it is heard."""
        day = self.scheduled_date.isoformat() if self.scheduled_date else "none"
        key = f"{'assigned' if self.is_new_for_technician else 'moved'}:{day}"
        if self.visit_number != 1:
            key = f"visit{self.visit_number}:{key}"
        return f"{key}:v{self.plan_version}" if self.plan_version is not None else key


def plan_visit(
    order: Order,
    *,
    technician_id=_UNSET,
    scheduled_date=_UNSET,
    window: tuple[time | None, time | None] | None = None,
    previous_window: tuple[time | None, time | None] | None = None,
    technician_ids: tuple[uuid.UUID, ...] | None = None,
    previous_technician_ids: tuple[uuid.UUID, ...] | None = None,
    cancelled: bool = False,
    plan_version: int | None = None,
    visit_number: int = 1,
    previous: tuple[uuid.UUID | None, date | None] | None = None,
) -> bool:
    """Set the order's lead technician and/or visit day; True (and an event) when the
    visit changed. ``window`` and the crew (``technician_ids``) come from the visit
    plan, which keeps them; passing them makes a change of window or crew alone an
    event too.

    The order's own technician and day are its current visit's. A later visit
    (a second day planned ahead, a return visit) passes ``previous``, its own
    lead and day before the change: the order is left as it is and only the
    event tells the technicians and calendars."""
    if previous is None:
        before = (order.assigned_technician_id, order.scheduled_date)
        if technician_id is not _UNSET:
            order.assigned_technician_id = technician_id
        if scheduled_date is not _UNSET:
            order.scheduled_date = scheduled_date
        after = (order.assigned_technician_id, order.scheduled_date)
    else:
        before = previous
        after = (
            before[0] if technician_id is _UNSET else technician_id,
            before[1] if scheduled_date is _UNSET else scheduled_date,
        )
    crew = tuple(technician_ids) if technician_ids is not None else None
    previous_crew = tuple(previous_technician_ids or ())
    same_extras = (window or (None, None)) == (previous_window or (None, None)) and (
        crew is None or crew == previous_crew
    )
    if after == before and same_extras:
        return False
    lead = after[0]
    publish(
        VisitPlanned(
            order_id=order.id,
            technician_id=lead,
            scheduled_date=after[1],
            previous_technician_id=before[0],
            previous_date=before[1],
            window_start=(window or (None, None))[0],
            window_end=(window or (None, None))[1],
            technician_ids=crew if crew is not None else ((lead,) if lead else ()),
            previous_window_start=(previous_window or (None, None))[0],
            previous_window_end=(previous_window or (None, None))[1],
            previous_technician_ids=previous_crew or ((before[0],) if before[0] else ()),
            cancelled=cancelled,
            plan_version=plan_version,
            visit_number=visit_number,
        ),
        order,
    )
    return True
