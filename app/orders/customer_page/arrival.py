"""When the technician is expected, once they tapped "on the way".

An estimate, said to be one on the page: the drive from where the technician
last was (the address of the visit they completed last today, else their base)
to the customer's address, by the planning's travel times (the straight-line
estimate, or OSRM where configured), added to the moment of the tap. Without
either place on the map there is no estimate, and the page says only that the
technician is on the way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.orders.mobile.visits import on_the_way_since
from app.orders.planning import travel
from app.orders.planning.bases import base_of, base_place
from app.orders.planning.board import order_place
from app.platform.extensions import db
from app.platform.models import Order, Visit, VisitTechnician


@dataclass(frozen=True)
class Arrival:
    """The technician set off at ``since``; expected at ``expected`` if it can be told."""

    since: datetime
    expected: datetime | None


def arrival(order: Order, visit: Visit | None, day: date) -> Arrival | None:
    """The technician's way to ``order`` on ``day``, if they set off and have not begun."""
    since = on_the_way_since([order.id], day).get(order.id)
    if since is None:
        return None
    technician_id = order.assigned_technician_id
    destination = order_place(order)
    origin = _last_place(technician_id, order.id, day) if technician_id else None
    if destination is None or origin is None:
        return Arrival(since, None)
    drive = travel.leg(origin, destination, day)
    return Arrival(since, since + timedelta(seconds=drive.seconds))


def _last_place(technician_id: uuid.UUID, order_id: uuid.UUID, day: date) -> travel.Place | None:
    """Where the technician set off from: today's last visit done, else their base."""
    previous = db.session.scalar(
        sa.select(Order)
        .join(Visit, Visit.order_id == Order.id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(
            VisitTechnician.technician_id == technician_id,
            Visit.scheduled_date == day,
            Visit.completed_at.is_not(None),
            Order.id != order_id,
        )
        .order_by(Visit.completed_at.desc())
        .limit(1)
    )
    place = order_place(previous) if previous is not None else None
    return place or base_place(base_of(technician_id), "start")
