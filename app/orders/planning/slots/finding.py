"""The three best slots for one order, around the visits already planned.

What the desk asks while the customer is on the line: "when could we come?". The
technicians' shifts and planned visits on the next ``PLANNING_SLOT_DAYS`` working
days are gathered as a proposal gathers them
(:func:`~app.orders.planning.proposals.gathering.one_order_input`: hours, days off,
public holidays, bases, skills; the order's own visit left out, since it is what
moves), and the order goes where it adds the least driving
(:func:`~app.orders.planning.routing.cheapest_insertion`) inside the customer's
wishes. Nothing is saved: a slot is planned through
:func:`~app.orders.planning.services.save_plan` when the planner picks it
(:mod:`.choosing`).

The days start tomorrow: a visit today could not be announced to the customer in
time. A working day is a weekday that is no public holiday; a weekend day between
them counts for a technician whose hours include it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from itertools import combinations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from app.orders.planning.hours import public_holidays
from app.orders.planning.proposals.gathering import (
    NO_DAYS,
    PREFERS_LATER,
    OneOrderInput,
    one_order_input,
)
from app.orders.planning.routing import (
    NO_PLACE,
    NO_SECOND_TECHNICIAN,
    NO_SKILL,
    NO_TIME,
    Job,
    Shift,
    Slot,
    cheapest_insertion,
)
from app.orders.planning.services import PLANNABLE_STATUSES, begun, visit_of
from app.orders.planning.travel import travel_matrix
from app.platform.models import Order, User
from app.platform.models.enums import OrderStatus
from app.platform.ui import local_date

SLOTS = 3
CLOSED = "closed"  # the order's status does not let it be planned
CREW_TOO_LARGE = "crew_too_large"  # more than two technicians: planned by hand
MOST_DAYS = 60  # the setting's ceiling: a slot two months out helps nobody on the phone


@dataclass(frozen=True)
class OfferedSlot:
    """One slot as the planner reads it: the day, the window, the crew (lead first)
    and the driving it adds to their days."""

    day: date
    start: time
    end: time
    technicians: tuple[User, ...]
    extra_travel_minutes: int

    @property
    def lead(self) -> User:
        return self.technicians[0]

    @property
    def technician_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(technician.id for technician in self.technicians)


@dataclass
class BestSlots:
    """The best slots of ``order``, cheapest first, or the reason there are none.

    ``seen_version`` is the order's plan version when the slots were found: picking
    one saves with it, so a plan changed since is refused, not overwritten.
    """

    order: Order
    seen_version: int
    working_days: int
    days: list[date] = field(default_factory=list)
    # Which of the order's visits the slots are for (most orders have one).
    number: int = 1
    slots: list[OfferedSlot] = field(default_factory=list)
    reason: str | None = None
    skills: list[str] = field(default_factory=list)
    preferred_day: date | None = None

    @property
    def last_day(self) -> date | None:
        return self.days[-1] if self.days else None

    @property
    def why_none(self) -> str:
        """Why no slot is offered, in the planner's words (empty when some are)."""
        return reason_text(self) if self.reason else ""


def _still_to_plan(order: Order, visit) -> bool:
    """Whether the visit may be planned: the order approved or scheduled, or under way
    and this a later visit not begun (a second day, a return visit)."""
    if visit is not None and visit.completed_at is not None:
        return False
    if order.status in PLANNABLE_STATUSES:
        return True
    return order.status == OrderStatus.IN_PROGRESS and visit is not None and not begun(order, visit)


def slot_days(today: date, working_days: int) -> list[date]:
    """Every day from tomorrow up to the ``working_days``-th working day after today."""
    # Read the calendar once, for more days than can be needed: a week of holidays
    # and closed dates at most between two working weeks.
    span = [today + timedelta(days=n) for n in range(1, working_days * 2 + 14)]
    holidays = public_holidays(span)
    days: list[date] = []
    counted = 0
    day = today
    while counted < working_days:
        day += timedelta(days=1)
        if day > span[-1]:  # a calendar closed for longer still ends
            holidays |= public_holidays([day])
        days.append(day)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    return days


def best_slots(
    order: Order,
    today: date,
    working_days: int | None = None,
    number: int | None = None,
    limit: int = SLOTS,
    keep_preferred_date: bool = True,
) -> BestSlots:
    """The ``limit`` cheapest slots for ``order`` in the next working days (the
    ``PLANNING_SLOT_DAYS`` setting unless given), each meeting the order's skills and
    crew, the technicians' hours, days off and public holidays, and the customer's
    wishes; or, with none, the reason (see :func:`reason_text`). Without
    ``keep_preferred_date`` the wished date is no longer one (a customer moving away
    from it); the part of day still is."""
    count = working_days or current_app.config["PLANNING_SLOT_DAYS"]
    count = max(1, min(int(count), MOST_DAYS))
    visit = visit_of(order, number)
    best = BestSlots(order, visit.version if visit is not None else 0, count)
    best.number = visit.number if visit is not None else 1
    if not _still_to_plan(order, visit):
        best.reason = CLOSED
        return best
    best.days = slot_days(today, count)
    asked = one_order_input(order, best.days, visit, keep_preferred_date)
    best.preferred_day = _preferred_day(order)
    if asked.set_aside is not None:
        best.reason = asked.set_aside
        return best
    job = asked.job
    best.skills = sorted(job.skills)
    best.reason = _reason_before_searching(job, asked.technicians)
    if best.reason is not None:
        return best
    found = cheapest_slots(job, asked, limit)
    if not found:
        best.reason = NO_TIME
        return best
    by_id = {technician.id: technician for technician in asked.technicians}
    best.slots = [
        OfferedSlot(
            slot.day,
            slot.start,
            slot.end,
            tuple(by_id[technician_id] for technician_id in slot.technician_ids),
            slot.extra_travel_minutes,
        )
        for slot in found
    ]
    return best


def cheapest_slots(job: Job, asked: OneOrderInput, limit: int = SLOTS) -> list[Slot]:
    """The ``limit`` cheapest slots for ``job`` over the days of ``asked``.

    Asked day by day, so each day's travel comes from that day's matrix (a routing
    service's answers are kept per day) and holds only the places of that day's
    technicians who could go: for one technician, only the skilled ones. Ranked as
    :func:`~app.orders.planning.routing.cheapest_insertion` ranks them.
    """
    shifts: list[Shift] = asked.shifts
    if job.crew_size == 1:
        shifts = [shift for shift in shifts if job.skills <= shift.skills]
    by_day: dict[date, list[Shift]] = {}
    for shift in shifts:
        by_day.setdefault(shift.day, []).append(shift)
    working = {shift.technician_id for shift in shifts}
    planned: dict[date, list[Job]] = {}
    for pinned in asked.pinned:
        if set(pinned.pinned.technician_ids) & working:
            planned.setdefault(pinned.pinned.day, []).append(pinned)
    found: list[Slot] = []
    for day, day_shifts in sorted(by_day.items()):

        def matrix_for(places, day=day):
            return travel_matrix(places, day)

        found += cheapest_insertion(job, planned.get(day, []), day_shifts, matrix_for, limit)
    found.sort(key=_rank)
    return found[:limit]


def _rank(slot: Slot) -> tuple:
    return (
        slot.extra_travel_minutes,
        slot.day,
        slot.start,
        tuple(str(technician_id) for technician_id in slot.technician_ids),
    )


def _reason_before_searching(job: Job, technicians: list[User]) -> str | None:
    """Why no slot can be found whatever the days hold, or None."""
    if job.place is None:
        return NO_PLACE
    if job.crew_size > 2:
        return CREW_TOO_LARGE
    skills = [_skills_of(technician) for technician in technicians]
    if job.crew_size == 2:
        if len(technicians) < 2:
            return NO_SECOND_TECHNICIAN
        if not any(job.skills <= a | b for a, b in combinations(skills, 2)):
            return NO_SKILL
        return None
    if not any(job.skills <= held for held in skills):
        return NO_SKILL
    return None


def _skills_of(technician: User) -> frozenset[str]:
    # As the shifts hold them (gathering.py): lower-case brands.
    return frozenset(str(skill).strip().lower() for skill in (technician.skills or []))


def _preferred_day(order: Order) -> date | None:
    wished = (order.installation_preferences or {}).get("preferred_date")
    try:
        return date.fromisoformat(str(wished)[:10]) if wished else None
    except ValueError:
        return None


def reason_text(best: BestSlots) -> str:
    """Why ``best`` offers no slot, in the planner's words."""
    reason = best.reason
    last = local_date(best.last_day, "%a %d %b") if best.last_day else ""
    if reason == CLOSED:
        return _("This order cannot be planned in its current status.")
    if reason == NO_PLACE:
        return _(
            "The address is not on the map yet, so the drive to it is unknown: plan it "
            "in the form below, or correct the address."
        )
    if reason == NO_SKILL:
        if not best.skills:
            return _("There are no technicians to plan.")
        return _(
            "No technician is trained on %(skills)s.",
            skills=", ".join(best.skills),
        )
    if reason == NO_SECOND_TECHNICIAN:
        return _("This visit needs two technicians, and there is only one to plan.")
    if reason == CREW_TOO_LARGE:
        return _("A visit for more than two technicians is planned in the form below.")
    if reason == NO_DAYS:
        return _(
            "The visit before this one is on or after %(last)s: plan this one in the form below.",
            last=last,
        )
    if reason == PREFERS_LATER:
        return _(
            "The customer prefers %(day)s, after the next %(count)s working days.",
            day=local_date(best.preferred_day, "%a %d %b %Y"),
            count=best.working_days,
        )
    return ngettext(
        "No skilled technician has room within the customer's wishes in the next "
        "%(num)d working day (until %(last)s).",
        "No skilled technician has room within the customer's wishes in the next "
        "%(num)d working days (until %(last)s).",
        best.working_days,
        last=last,
    )
