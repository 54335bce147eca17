"""What a technician needs today: their visits and tasks, ready for the phone view."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.conversations.message_templates.visit_moment import (
    TimeWindow,
    parse_time_window,
    window_text_of,
)
from app.orders.core.services import may_change_status
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    InternalTask,
    LineItem,
    Order,
    OrderStatusTransition,
    User,
    Visit,
    VisitTechnician,
)
from app.platform.models.enums import Role, TaskStatus
from app.platform.models.planning import METER_BOX, MISSING_PART, SECOND_DAY
from app.platform.ui import local_date, local_time

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MAPS_SEARCH = "https://www.google.com/maps/search/?api=1&query="
# Installation preferences worth reading before ringing the bell, in this order
# (the time window and access notes are shown on their own, at the top of the card).
PREFERENCE_LABELS = {
    "preferred_date": _l("Customer's preferred date"),
    "phase": _l("Connection"),
    "notes": _l("Notes"),
    "preference": _l("Preference"),
}


def local_today(now: datetime | None = None) -> date:
    """Today's date where the technicians work, not in UTC."""
    return (now or utcnow()).astimezone(AMSTERDAM).date()


def find_order(order_id: uuid.UUID) -> Order | None:
    return db.session.get(Order, order_id)


def time_window(order: Order, visit: Visit | None = None) -> TimeWindow | None:
    """The visit's planned window (the order's current visit without ``visit``), else
    the one the customer asked for."""
    if visit is not None and visit.window_text:
        return parse_time_window(visit.window_text)
    return parse_time_window(window_text_of(order))


@dataclass(frozen=True)
class DayVisit:
    """One visit on a technician's day: its order, and its row (None for an order
    planned without one, a synced work order: its only visit is the order's day)."""

    order: Order
    visit: Visit | None


def visits_for(technician_id: uuid.UUID, day: date) -> list[DayVisit]:
    """The technician's visits on ``day``, by planned time (all day last), then number:
    those they lead and those they are on with a colleague (the visit's crew).

    Each visit counts on its own day, whichever of its order's visits is current
    (a second day shows while the first is still open). An order planned without
    visit rows shows on its own day; a visit planned without a crew is its
    order's technician's.
    """
    on_crew = sa.exists().where(
        VisitTechnician.visit_id == Visit.id, VisitTechnician.technician_id == technician_id
    )
    has_crew = sa.exists().where(VisitTechnician.visit_id == Visit.id)
    loaders = (
        so.joinedload(Order.installation_address),
        so.joinedload(Order.end_customer),
        so.selectinload(Order.line_items).joinedload(LineItem.article),
        so.selectinload(Order.visits).selectinload(Visit.crew),
    )
    rows = db.session.execute(
        sa.select(Order, Visit)
        .join(Visit, Visit.order_id == Order.id)
        .options(*loaders)
        .where(
            Visit.scheduled_date == day,
            sa.or_(on_crew, sa.and_(~has_crew, Order.assigned_technician_id == technician_id)),
        )
        .order_by(Order.order_number, Visit.number)
    ).all()
    without_rows = db.session.scalars(
        sa.select(Order)
        .options(*loaders)
        .where(
            Order.assigned_technician_id == technician_id,
            Order.scheduled_date == day,
            ~sa.exists().where(Visit.order_id == Order.id),
        )
    ).all()
    visits = [DayVisit(order, visit) for order, visit in rows]
    visits += [DayVisit(order, None) for order in without_rows]
    return sorted(visits, key=_planned)


def _planned(item: DayVisit) -> tuple[str, str, int]:
    window = time_window(item.order, item.visit)
    number = item.visit.number if item.visit is not None else 1
    return (window.sort_key if window else "99:99", item.order.order_number, number)


def may_work_on(user: User, order: Order, visit: Visit | None = None) -> bool:
    """Whether ``user`` may act on ``visit`` of ``order`` (its current one without):
    desk staff and the current visit's technicians always, a technician on ``visit``'s
    crew too (their own earlier day, or the next one planned ahead)."""
    if may_change_status(user, order):
        return True
    return user.role == Role.TECHNICIAN and visit is not None and user.id in visit.technician_ids


def on_any_visit(user: User, order: Order) -> bool:
    """Whether ``user`` may read ``order`` on the phone: as for :func:`may_work_on`, or
    on any of its visits (their day done, the order gone on to a visit of someone else)."""
    return may_change_status(user, order) or any(
        may_work_on(user, order, visit) for visit in order.visits
    )


def visit_on(order: Order, technician_id: uuid.UUID, day: date) -> Visit | None:
    """The order's visit a card on ``day`` is about: the one that day the technician
    is on (the first not done, if two), else its current visit."""
    that_day = [visit for visit in order.visits if visit.scheduled_date == day]
    # Desk staff on the phone are on no crew: they see that day's visit all the same.
    mine = [v for v in that_day if technician_id in v.technician_ids or not v.crew] or that_day
    open_ones = [visit for visit in mine if visit.completed_at is None]
    return (open_ones or mine or [order.visit])[0]


# Why a later visit is needed, as the technician reads it on the card.
VISIT_PURPOSE_LABELS = {
    SECOND_DAY: _l("second day"),
    MISSING_PART: _l("return: a part was missing"),
    METER_BOX: _l("after the grid operator's meter box change"),
}


def visit_line(order: Order, visit: Visit | None) -> str | None:
    """ "Visit 2 of 2 · second day" on the card of an order with more than one visit."""
    if visit is None or len(order.visits) < 2:
        return None
    line = _("Visit %(number)s of %(count)s", number=visit.number, count=len(order.visits))
    purpose = VISIT_PURPOSE_LABELS.get(visit.purpose or "")
    return f"{line} · {purpose}" if purpose else line


def last_status_change(order: Order) -> tuple[str | None, str | None]:
    """Who moved the order to its current status, and at what local time ("14:20").

    (None, None) when its history has no such move (a status set by a data fix):
    an older move, by someone else, would name the wrong person.
    """
    row = db.session.execute(
        sa.select(User.name, OrderStatusTransition.created_at)
        .select_from(OrderStatusTransition)
        .outerjoin(User, User.id == OrderStatusTransition.actor_user_id)
        .where(
            OrderStatusTransition.order_id == order.id,
            OrderStatusTransition.to_status == order.status.value,
        )
        .order_by(OrderStatusTransition.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None, None
    name, at = row
    return name, local_time(at, "%H:%M")


def tasks_for(user_id: uuid.UUID, day: date) -> list[InternalTask]:
    """Open tasks assigned to the person, due today or overdue, most overdue first."""
    return list(
        db.session.scalars(
            sa.select(InternalTask)
            .where(
                InternalTask.assigned_to_user_id == user_id,
                InternalTask.status.not_in((TaskStatus.COMPLETED, TaskStatus.CANCELLED)),
                InternalTask.due_date <= day,
            )
            .order_by(InternalTask.due_date, InternalTask.due_time, InternalTask.task_title)
        )
    )


def maps_link(address_line: str) -> str:
    """A Google Maps search the phone opens in its maps app (nothing is loaded here)."""
    return MAPS_SEARCH + quote_plus(address_line)


def access_note(order: Order) -> str | None:
    """How to get in (key with the neighbours, gate code), from the intake."""
    note = (order.installation_preferences or {}).get("access_notes")
    return str(note) if note else None


def preference_lines(order: Order) -> list[tuple[str, str]]:
    """The other installation preferences and the order's notes, as (label, text)."""
    preferences = order.installation_preferences or {}
    lines = [
        (str(label), _preference_text(key, preferences[key]))
        for key, label in PREFERENCE_LABELS.items()
        if preferences.get(key) not in (None, "", [], {})
    ]
    # An intake often copies the access note into the order's notes: say it once.
    shown = {text for _label, text in lines} | {access_note(order)}
    if order.notes and order.notes not in shown:
        lines.append((_("Order notes"), order.notes))
    return lines


def _preference_text(key: str, value) -> str:
    """A preference as the technician reads it: a date in their language ("di 15-12-2026")."""
    if key == "preferred_date":
        try:
            return local_date(date.fromisoformat(str(value)), "%a %d-%m-%Y")
        except ValueError:
            pass  # free text ("begin december"): shown as the customer wrote it
    return str(value)


# How long "newly planned" / "moved" stays on a visit card after the change.
PLAN_CHANGE_SHOWN_FOR = timedelta(days=3)


def plan_change(visit: Visit | None, now: datetime | None = None) -> str | None:
    """ "Newly planned" or "Moved from Tue 24-11 to Wed 25-11", for a plan changed
    in the last few days; None otherwise or without a plan."""
    if visit is None or visit.planned_at is None or visit.scheduled_date is None:
        return None
    if (now or utcnow()) - visit.planned_at > PLAN_CHANGE_SHOWN_FOR:
        return None
    if visit.previous_date and visit.previous_date != visit.scheduled_date:
        return _(
            "Moved from %(old)s to %(new)s",
            old=local_date(visit.previous_date, "%a %d-%m"),
            new=local_date(visit.scheduled_date, "%a %d-%m"),
        )
    return _("Newly planned")


def plan_details(visit: Visit | None) -> tuple[list[str], str | None]:
    """What to bring (one item a line) and the planner's notes for the technician."""
    if visit is None:
        return [], None
    materials = [line.strip() for line in (visit.materials or "").splitlines() if line.strip()]
    return materials, visit.technician_notes or None
