"""A slot picked with one click: read, checked for form, and planned as any plan is.

The click sends the slot as it was offered (day, window, crew lead first) and the
plan version the page showed. :func:`plan_slot` saves it through
:func:`~app.orders.planning.services.save_plan`, so it is refused, told to the
customer, the partner, the calendar and the phone exactly as the plan dialog's save
is; a plan changed since the slots were found is refused (``PlanChanged``), not
overwritten. What the click does not say stays as it was: what to bring (the order's
chargers for a first plan) and the notes for the technician. Warnings are not
overridden here: a planner who means it plans in the form.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time

from flask_babel import gettext as _

from app.orders.planning.forms import MAX_DURATION, MIN_DURATION, visit_number_from
from app.orders.planning.services import (
    PlanRequest,
    default_materials,
    save_plan,
    visit_of,
)
from app.platform.models import Order, User, Visit
from app.platform.typed_dates import DateRefused, parse_day


@dataclass(frozen=True)
class SlotChoice:
    """The slot a planner clicked, checked for form (:func:`parse_slot_choice`)."""

    day: date
    window_start: time
    window_end: time
    technician_ids: tuple[uuid.UUID, ...]  # the lead first
    seen_version: int
    visit_number: int | None = None  # None: the order's current visit

    @property
    def duration_minutes(self) -> int:
        start, end = self.window_start, self.window_end
        return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


class AskedWrongly(Exception):
    """A link or form named something that cannot be (``field``: which)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def conversation_asking(values) -> uuid.UUID | None:
    """The conversation whose customer panel asks (``thread``), or None for the order
    page; raises :class:`AskedWrongly` for a value that is no conversation's id."""
    raw = values.get("thread")
    if not raw:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise AskedWrongly("thread", _("Conversation: not a conversation's id")) from None


def parse_slot_choice(
    form, plannable_ids: set[uuid.UUID]
) -> tuple[SlotChoice | None, dict[str, str]]:
    """A SlotChoice from the clicked slot's form, or the errors by field name."""
    errors: dict[str, str] = {}
    try:
        day = parse_day(form.get("date"))
    except DateRefused as exc:
        day = None
        errors["date"] = f"{_('Date')}: {exc}"
    if day is None:
        errors.setdefault("date", _("Date: choose a day"))
    start, end = _time(form.get("window_start")), _time(form.get("window_end"))
    if start is None or end is None:
        errors["window"] = _("Time window: give a start and an end as HH:MM")
    elif end <= start:
        errors["window"] = _("Time window: the end must be after the start")
    technician_ids: list[uuid.UUID] = []
    for raw in form.getlist("technician_ids"):
        technician_id = _uuid(raw)
        if technician_id not in plannable_ids:
            errors["technician_ids"] = _("Technicians: choose from the list")
        elif technician_id not in technician_ids:
            technician_ids.append(technician_id)
    if not technician_ids:
        errors.setdefault("technician_ids", _("Technicians: choose at least one"))
    try:
        seen_version = int(form.get("version") or "")
    except ValueError:
        seen_version = -1
    if seen_version < 0:
        errors["version"] = _("Version: the plan version the page showed (a whole number)")
    visit_number = visit_number_from(form.get("visit"))
    if visit_number == -1:
        errors["visit"] = _("Visit: no such visit of this order")
    if errors:
        return None, errors
    choice = SlotChoice(day, start, end, tuple(technician_ids), seen_version, visit_number)
    if not MIN_DURATION <= choice.duration_minutes <= MAX_DURATION:
        return None, {
            "window": _(
                "Duration: between %(min)s and %(max)s minutes",
                min=MIN_DURATION,
                max=MAX_DURATION,
            )
        }
    return choice, {}


def plan_slot(
    order: Order,
    choice: SlotChoice,
    actor: User | None,
    today: date,
    by_customer: bool = False,
) -> Visit:
    """Plan ``order``'s visit in the clicked slot; raises what :func:`save_plan` raises.
    ``by_customer``: the customer picked it on their own page (no ``actor``)."""
    visit = visit_of(order, choice.visit_number)
    plan = PlanRequest(
        day=choice.day,
        window_start=choice.window_start,
        window_end=choice.window_end,
        technician_ids=choice.technician_ids,
        duration_minutes=choice.duration_minutes,
        materials=(visit.materials if visit is not None else None)
        or default_materials(order)
        or None,
        technician_notes=visit.technician_notes if visit is not None else None,
        seen_version=choice.seen_version,
        visit_number=visit.number if visit is not None else None,
    )
    return save_plan(order, plan, actor, today, by_customer=by_customer)


def _time(value) -> time | None:
    hours, _sep, minutes = str(value or "").strip().partition(":")
    try:
        return time(int(hours), int(minutes[:2]))
    except ValueError:
        return None


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        return None
