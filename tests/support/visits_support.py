"""An order with two visits on two days, planned as the planner's dialog plans them
(through :func:`app.orders.planning.services.save_plan`), for the tests of what
follows a planned visit: calendars, reminders, pushes and customer notices."""

from __future__ import annotations

from datetime import date, time

from app.orders.mobile.services import local_today
from app.orders.planning.services import PlanRequest, add_visit, cancel_plan, save_plan, visit_of
from app.platform.extensions import db
from app.platform.models import Order, Visit
from app.platform.models.planning import SECOND_DAY
from app.platform.transactions import commit


def plan_number(
    order: Order,
    number: int,
    technicians,
    day: date,
    planner,
    start: time = time(8),
    end: time = time(12),
    materials: str | None = None,
) -> Visit:
    """Plan (or move) visit ``number`` of ``order``, and commit."""
    order = db.session.get(Order, order.id)
    visit = visit_of(order, number)
    saved = save_plan(
        order,
        PlanRequest(
            day=day,
            window_start=start,
            window_end=end,
            technician_ids=tuple(t.id for t in technicians),
            duration_minutes=(end.hour - start.hour) * 60,
            materials=materials,
            technician_notes=None,
            seen_version=visit.version if visit is not None else 0,
            visit_number=number,
            override=True,
        ),
        planner,
        local_today(),
    )
    commit()
    return saved


def take_back(order: Order, number: int, planner) -> None:
    """Take back visit ``number``'s plan, and commit."""
    order = db.session.get(Order, order.id)
    cancel_plan(order, visit_of(order, number).version, planner, number)
    commit()


def two_visits(order: Order, technicians, first: date, second: date, planner, purpose=SECOND_DAY):
    """Visit 1 on ``first`` (08:00-12:00) and a later visit on ``second`` (13:00-17:00)."""
    plan_number(order, 1, technicians, first, planner)
    add_visit(db.session.get(Order, order.id), purpose, planner)
    commit()
    plan_number(order, 2, technicians, second, planner, time(13), time(17))
