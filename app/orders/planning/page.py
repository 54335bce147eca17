"""What the planning section of an order shows: the plan, the form's values, the
customer's wishes, and who can be chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.planning.hours import plannable_technicians
from app.orders.planning.rules import Problem, required_skills
from app.orders.planning.services import PLANNABLE_STATUSES, begun, default_materials, visit_of
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import Order, User, Visit
from app.platform.models.enums import OrderStatus
from app.platform.models.planning import VISIT_PURPOSES
from app.platform.ui import local_date, local_time

DEFAULT_WINDOW = (time(8, 0), time(12, 0))
DEFAULT_DURATION = 120
# The intake's installation preferences shown beside the plan, in this order.
PREFERENCE_KEYS = (
    "preferred_date",
    "preferred_dates",
    "time_window",
    "time_preference",
    "preference",
    "access_notes",
    "phase",
    "notes",
    "remarks",
)


@dataclass
class PlanSection:
    order: Order
    visit: Visit | None
    technicians: list[User]
    preferences: list[tuple[str, str]]
    skills: list[str]
    values: dict
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    stale: str | None = None
    # All the order's visits, by number (empty before the first plan).
    visits: list[Visit] = field(default_factory=list)
    number: int = 1

    @property
    def version(self) -> int:
        return self.visit.version if self.visit else 0

    @property
    def is_planned(self) -> bool:
        return self.visit is not None and self.visit.scheduled_date is not None

    @property
    def is_current(self) -> bool:
        """Whether this is the order's current visit (the one its best slots are for)."""
        current = self.order.visit
        return self.visit is None or current is None or current.id == self.visit.id

    @property
    def several(self) -> bool:
        """Whether the order has more than one visit (then each is named by number)."""
        return len(self.visits) > 1

    @property
    def plannable(self) -> bool:
        """Whether this visit may be planned: the order approved or scheduled, or
        under way and this a later visit not yet started."""
        if self.visit is not None and self.visit.completed_at is not None:
            return False
        if self.order.status in PLANNABLE_STATUSES:
            return True
        return self.order.status == OrderStatus.IN_PROGRESS and (
            self.visit is not None and not begun(self.order, self.visit)
        )

    @property
    def may_add_visit(self) -> bool:
        """Whether another visit can be added: the order is neither done nor stopped."""
        return self.order.status in (*PLANNABLE_STATUSES, OrderStatus.IN_PROGRESS)

    @property
    def purposes(self) -> list[tuple[str, str]]:
        return [(purpose, label(purpose, "visit_purpose")) for purpose in VISIT_PURPOSES]

    @property
    def is_done(self) -> bool:
        """Whether the visit has been made: it was completed, or the order is."""
        if self.visit is not None and self.visit.completed_at is not None:
            return True
        return self.order.status == OrderStatus.COMPLETED

    @property
    def is_final(self) -> bool:
        """Whether no visit will ever be planned: the order is completed or cancelled."""
        return self.order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED)

    @property
    def closed_note(self) -> str | None:
        """Why the order cannot be planned now, by its real state; None when it can.

        One sentence per state, so a completed order never reads "a visit is
        planned once the order is approved" beside the day it was visited.
        """
        status = self.order.status
        if status in PLANNABLE_STATUSES:
            return None
        if status in (OrderStatus.NEW, OrderStatus.QUOTE_SENT):
            return _("A visit is planned once the order is approved.")
        if self.visit is not None and self.visit.completed_at is not None:
            return _("This visit is done.")
        if status == OrderStatus.IN_PROGRESS:
            return _("The visit is under way; its plan no longer changes.")
        if status == OrderStatus.COMPLETED:
            if self.order.completed_at is None:
                return _("This order is completed.")
            return _(
                "This order was completed on %(when)s.",
                when=local_time(self.order.completed_at, "%A %d %B %Y %H:%M"),
            )
        if status == OrderStatus.ON_HOLD:
            return _("This order is on hold; it can be planned again when it resumes.")
        return _("This order is cancelled; no visit will be made.")

    @property
    def may_override(self) -> bool:
        return bool(self.problems) and all(p.soft for p in self.problems)


# The customer's dates were asked for the first visit; a later one comes after it.
FIRST_VISIT_KEYS = ("preferred_date", "preferred_dates")


def preference_items(order: Order, number: int = 1) -> list[tuple[str, str]]:
    """The customer's installation preferences as (key, text), known keys first; for
    a later visit (``number`` > 1) the preferred dates are said to be the first's."""
    preferences = order.installation_preferences or {}
    keys = [k for k in PREFERENCE_KEYS if k in preferences] + sorted(
        k for k in preferences if k not in PREFERENCE_KEYS
    )
    items = []
    for key in keys:
        value = preferences[key]
        if value in (None, "", [], {}) or isinstance(value, bool):
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if key == "preferred_date":
            text = readable_date(text)
        elif key == "time_preference":
            text = label(text, "time_preference")  # "morning" reads "ochtend"
        if number > 1 and key in FIRST_VISIT_KEYS:
            text = _("%(dates)s (for the first visit)", dates=text)
        items.append((key, text))
    return items


def readable_date(text: str) -> str:
    """An ISO date from the intake as the reader writes it ("ma 07 dec 2026")."""
    try:
        return local_date(date.fromisoformat(text), "%a %d %b %Y")
    except ValueError:
        return text


def wishes_line(order: Order) -> str:
    """The customer's preferred date and time window on one line, for a short list."""
    preferences = order.installation_preferences or {}
    parts = []
    if preferences.get("preferred_date"):
        day = readable_date(str(preferences["preferred_date"]))
        parts.append(_("prefers %(day)s", day=day))
    window = preferences.get("time_window") or preferences.get("time_preference")
    if window:
        parts.append(str(window))
    return " · ".join(parts)


def plan_section(
    order: Order, form=None, day: date | None = None, technician=None, number: int | None = None
) -> PlanSection:
    """The section for visit ``number`` of ``order`` (its current visit without one);
    ``form`` (a submitted one) keeps what was typed."""
    visits = all_visits(order)
    visit = next((v for v in visits if v.number == number), None) if number else None
    if visit is None:
        visit = visit_of(order)
    if form is not None:
        values = {
            "date": form.get("date", ""),
            "window_start": form.get("window_start", ""),
            "window_end": form.get("window_end", ""),
            "technician_ids": form.getlist("technician_ids"),
            "duration_minutes": form.get("duration_minutes", ""),
            "materials": form.get("materials", ""),
            "technician_notes": form.get("technician_notes", ""),
        }
    elif visit is not None and visit.scheduled_date is not None:
        values = {
            "date": visit.scheduled_date.isoformat(),
            "window_start": f"{visit.window_start:%H:%M}" if visit.window_start else "",
            "window_end": f"{visit.window_end:%H:%M}" if visit.window_end else "",
            "technician_ids": [str(i) for i in visit.technician_ids],
            "duration_minutes": str(visit.duration_minutes),
            "materials": visit.materials or "",
            "technician_notes": visit.technician_notes or "",
        }
    else:
        # A later visit is not on the first one's day.
        later = visit is not None and visit.number > 1
        first_day = day or (None if later else order.scheduled_date)
        values = {
            "date": first_day.isoformat() if first_day else "",
            "window_start": f"{DEFAULT_WINDOW[0]:%H:%M}",
            "window_end": f"{DEFAULT_WINDOW[1]:%H:%M}",
            "technician_ids": [str(technician)] if technician else [],
            "duration_minutes": str(DEFAULT_DURATION),
            "materials": (visit.materials if later else None) or default_materials(order),
            "technician_notes": "",
        }
    return PlanSection(
        order=order,
        visit=visit,
        technicians=plannable_technicians(),
        preferences=preference_items(order, visit.number if visit is not None else 1),
        skills=required_skills(order),
        values=values,
        visits=visits,
        number=visit.number if visit is not None else 1,
    )


def all_visits(order: Order) -> list[Visit]:
    return list(
        db.session.scalars(
            sa.select(Visit).where(Visit.order_id == order.id).order_by(Visit.number)
        )
    )


def visit_name(visit: Visit, count: int) -> str:
    """ "Bezoek 2 van 3 · tweede dag": which visit this is, when an order has several."""
    name = _("Visit %(number)s of %(count)s", number=visit.number, count=count)
    if visit.purpose:
        name = f"{name} · {label(visit.purpose, 'visit_purpose')}"
    return name
