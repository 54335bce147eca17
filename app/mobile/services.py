"""What a technician needs today: their visits and tasks, ready for the phone view."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.database import utcnow
from app.extensions import db
from app.message_templates.visit_moment import TimeWindow, parse_time_window
from app.models import InternalTask, LineItem, Order, OrderStatusTransition, User
from app.models.enums import TaskStatus
from app.ui import local_time

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MAPS_SEARCH = "https://www.google.com/maps/search/?api=1&query="
# Installation preferences worth reading before ringing the bell, in this order
# (the time window and access notes are shown on their own, at the top of the card).
PREFERENCE_LABELS = {
    "phase": _l("Connection"),
    "notes": _l("Notes"),
    "preference": _l("Preference"),
}


def local_today(now: datetime | None = None) -> date:
    """Today's date where the technicians work, not in UTC."""
    return (now or utcnow()).astimezone(AMSTERDAM).date()


def time_window(order: Order) -> TimeWindow | None:
    """The order's planned time window, from its installation preferences."""
    preferences = order.installation_preferences or {}
    return parse_time_window(preferences.get("time_window") or preferences.get("time_preference"))


def visits_for(technician_id: uuid.UUID, day: date) -> list[Order]:
    """The technician's visits on ``day``, by planned time (all day last), then number."""
    orders = list(
        db.session.scalars(
            sa.select(Order)
            .options(
                so.joinedload(Order.installation_address),
                so.joinedload(Order.end_customer),
                so.selectinload(Order.line_items).joinedload(LineItem.article),
            )
            .where(Order.assigned_technician_id == technician_id, Order.scheduled_date == day)
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
        (str(label), str(preferences[key]))
        for key, label in PREFERENCE_LABELS.items()
        if preferences.get(key) not in (None, "", [], {})
    ]
    if order.notes and order.notes not in {text for _label, text in lines}:
        lines.append((_("Order notes"), order.notes))
    return lines
