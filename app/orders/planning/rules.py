"""Why a plan is refused: each problem named in the planner's words.

Hard refusals (the plan is not saved, whatever the planner says):
- a date in the past;
- a public holiday (the business calendar is closed: no customer expects us);
- a technician's day off (leave, sickness: the person is not there);
- a double booking: a technician already on another visit whose window overlaps;
- nobody on the visit holds a skill the order needs.

Soft warnings (the planner may tick "plan anyway"): a window outside the
technician's working hours, or a day they do not normally work. Planners do
plan an early start or a Saturday when a technician agreed to it, and the
schedule on file does not know that; the warning makes sure it is meant.

The skill an order needs: the brand of each charger (``wallbox`` article) on
its lines, lower-cased ("alfen", "zaptec"), matched against ``User.skills``,
which hold the brands a technician is trained on. An order without a charger
line (a service visit) needs no skill. One technician on the crew holding it
is enough: a trained colleague brings the other along.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.planning.hours import WEEKDAY_LABELS, working_day
from app.platform.extensions import db
from app.platform.models import Order, User, Visit, VisitTechnician
from app.platform.models.enums import ArticleType, OrderStatus
from app.platform.models.planning import WEEKDAY_KEYS
from app.platform.ui import local_date


@dataclass(frozen=True)
class Problem:
    """One reason against a plan; ``soft`` ones the planner may override.
    ``other_order``: the order number a double booking clashes with."""

    code: str
    message: str
    soft: bool = False
    other_order: str | None = None


def required_skills(order: Order) -> list[str]:
    """The skills the order needs: its chargers' brands (see the module docstring)."""
    brands = {
        line.article.brand.strip().lower()
        for line in order.line_items
        if line.article is not None
        and line.article.article_type == ArticleType.WALLBOX
        and line.article.brand
    }
    return sorted(brands)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _day(value: date) -> str:
    return local_date(value, "%a %d-%m")


def problems_with(
    order: Order,
    day: date,
    window: tuple[time, time],
    technicians: list[User],
    today: date,
) -> list[Problem]:
    """Everything against planning ``order`` on ``day`` in ``window`` with ``technicians``."""
    problems: list[Problem] = []
    if day < today:
        problems.append(Problem("past", _("%(day)s is in the past.", day=_day(day))))
    start, end = window
    for technician in technicians:
        working = working_day(technician.id, day)
        if working.holiday:
            problems.append(Problem("holiday", _("%(day)s is a public holiday.", day=_day(day))))
            break
    for technician in technicians:
        working = working_day(technician.id, day)
        if working.absence:
            problems.append(
                Problem(
                    "day_off",
                    _(
                        "%(name)s is off on %(day)s (%(reason)s).",
                        name=technician.name,
                        day=_day(day),
                        reason=working.absence,
                    ),
                )
            )
        elif working.hours is None and not working.holiday:
            problems.append(
                Problem(
                    "not_a_working_day",
                    _(
                        "%(name)s does not work on %(weekday)s.",
                        name=technician.name,
                        weekday=str(WEEKDAY_LABELS[WEEKDAY_KEYS[day.weekday()]]).lower(),
                    ),
                    soft=True,
                )
            )
        elif working.hours is not None and not (
            _minutes(working.hours[0]) <= _minutes(start)
            and _minutes(end) <= _minutes(working.hours[1])
        ):
            problems.append(
                Problem(
                    "outside_hours",
                    _(
                        "%(start)s–%(end)s is outside %(name)s's working hours (%(from)s–%(to)s).",
                        start=f"{start:%H:%M}",
                        end=f"{end:%H:%M}",
                        name=technician.name,
                        **{"from": f"{working.hours[0]:%H:%M}", "to": f"{working.hours[1]:%H:%M}"},
                    ),
                    soft=True,
                )
            )
        for other in overlapping_visits(technician.id, day, window, order.id):
            problems.append(
                Problem(
                    "double_booking",
                    _(
                        "%(name)s already has %(order)s on %(day)s from %(start)s to %(end)s.",
                        name=technician.name,
                        order=other.order_number,
                        day=_day(day),
                        start=f"{other.window_start:%H:%M}",
                        end=f"{other.window_end:%H:%M}",
                    ),
                    other_order=other.order_number,
                )
            )
    skills = {str(skill).strip().lower() for t in technicians for skill in (t.skills or [])}
    for skill in required_skills(order):
        if skill not in skills:
            problems.append(
                Problem(
                    "skill",
                    _(
                        "Nobody on this visit has the skill %(skill)s that this order needs.",
                        skill=skill,
                    ),
                )
            )
    return problems


@dataclass(frozen=True)
class Booked:
    order_number: str
    window_start: time
    window_end: time


def overlapping_visits(
    technician_id: uuid.UUID, day: date, window: tuple[time, time], order_id: uuid.UUID
) -> list[Booked]:
    """The technician's other visits on ``day`` whose window overlaps ``window``."""
    start, end = window
    rows = db.session.execute(
        sa.select(Order.order_number, Visit.window_start, Visit.window_end)
        .join(Visit, Visit.order_id == Order.id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(
            VisitTechnician.technician_id == technician_id,
            Visit.scheduled_date == day,
            Visit.order_id != order_id,
            Order.status != OrderStatus.CANCELLED,
            Visit.window_start < end,
            Visit.window_end > start,
        )
        .order_by(Visit.window_start)
    ).all()
    return [Booked(*row) for row in rows]
