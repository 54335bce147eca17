"""Shared by the calendar tests: a visit planned through ``plan_visit``, and its events."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.mobile.services import local_today
from app.models import CalendarEvent, Order
from app.orders.planning import plan_visit
from app.transactions import commit
from tests import mobile_support

WINDOW = "ochtend (08:00-12:00)"


def planned_visit(technician, *, day: date | None = None, number: str = "CC-2026-00042") -> Order:
    """An approved order with the morning window, planned for ``technician`` (tomorrow)."""
    order = mobile_support.visit(
        None, number=number, day=None, preferences={"time_window": WINDOW}, with_whatsapp=False
    )
    order.scheduled_date = None
    db.session.commit()
    plan(order, technician_id=technician.id, scheduled_date=day or local_today() + timedelta(1))
    return order


def plan(order: Order, **changes) -> None:
    """Change the plan as a planner would: through ``plan_visit``, committed."""
    plan_visit(db.session.get(Order, order.id), **changes)
    commit()


def rows_of(order: Order) -> list[CalendarEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(CalendarEvent).where(CalendarEvent.order_id == order.id))
    )
