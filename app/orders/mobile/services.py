"""What a technician needs today: their visits and tasks, ready for the phone view."""

from __future__ import annotations

import uuid
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
from app.platform.models.enums import TaskStatus
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


def time_window(order: Order) -> TimeWindow | None:
    """The visit's planned window, else the one the customer asked for."""
    return parse_time_window(window_text_of(order))


def visits_for(technician_id: uuid.UUID, day: date) -> list[Order]:
    """The technician's visits on ``day``, by planned time (all day last), then number:
    those they lead and those they are on with a colleague (the visit's crew)."""
    on_crew = (
        sa.select(Visit.order_id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(VisitTechnician.technician_id == technician_id)
    )
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .options(
                so.joinedload(Order.installation_address),
                so.joinedload(Order.end_customer),
                so.selectinload(Order.line_items).joinedload(LineItem.article),
                so.selectinload(Order.visits),
            )
            .where(
                sa.or_(Order.assigned_technician_id == technician_id, Order.id.in_(on_crew)),
                Order.scheduled_date == day,
            )
            .order_by(Order.order_number)
        )
    )
    return sorted(orders, key=_planned)


def _planned(order: Order) -> tuple[str, str]:
    window = time_window(order)
    return (window.sort_key if window else "99:99", order.order_number)


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


def plan_change(order: Order, now: datetime | None = None) -> str | None:
    """ "Newly planned" or "Moved from Tue 24-11 to Wed 25-11", for a plan changed
    in the last few days; None otherwise or without a plan."""
    visit = order.visit
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


def plan_details(order: Order) -> tuple[list[str], str | None]:
    """What to bring (one item a line) and the planner's notes for the technician."""
    visit = order.visit
    if visit is None:
        return [], None
    materials = [line.strip() for line in (visit.materials or "").splitlines() if line.strip()]
    return materials, visit.technician_notes or None
