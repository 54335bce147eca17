"""The solver's input, read from the database: jobs and shifts for some days.

- **Shifts**: every plannable technician's working day (their weekly hours) on each
  day that is not a public holiday and not one of their days off, from and to
  their base, with the brands they are trained on.
- **Jobs to plan**: approved orders without a planned day, oldest first (older
  ones win when not everything fits), each with its address's place, the skills
  its chargers need, the crew its articles need, and the customer's wishes:
  a preferred date inside the days is the only day; a preferred date after them
  leaves the order for a later proposal; a part of day ("morning") or a window
  ("10:00-14:00") bounds the visit on every day. Beside them, the later visits
  not yet planned (a second day, a return visit) whose visit before them is: on
  the days after that one, with the same part-of-day wish (the preferred date
  was the first visit's), ranked by their order's age like the rest.
- **Pinned jobs**: visits already planned on these days stay where they are, unless
  the planner freed them (then a visit of an order not yet under way is planned
  again like the rest, its plan version kept so accepting refuses a plan changed
  since).

The same shifts and pinned visits, with one order as the job, are what the best slots
for that order are found in (:func:`one_order_input`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.orders.core.visits import MAY_GET_VISITS
from app.orders.planning.bases import base_place, bases_of
from app.orders.planning.board import UNKNOWN_DURATION, order_place
from app.orders.planning.hours import (
    absences,
    hours_on,
    plannable_technicians,
    public_holidays,
    weekly_hours_of,
)
from app.orders.planning.page import DEFAULT_DURATION
from app.orders.planning.routing import Job, Pinned, Shift
from app.orders.planning.rules import required_skills
from app.orders.planning.travel import Place
from app.platform.extensions import db
from app.platform.models import Address, LineItem, Order, User, Visit, VisitTechnician
from app.platform.models.enums import OrderStatus

# Orders one proposal considers at most (the oldest): a week of 20 technicians
# holds about 150 visits, so this leaves the solver choice without drowning it.
MOST_ORDERS = 400
# The parts of day a customer may ask for, as the visit's bounds.
PARTS_OF_DAY = {
    "morning": (time(8, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(21, 0)),
}
# Intake forms and partners write the part of day in Dutch as often as in English.
DUTCH_PARTS = {"ochtend": "morning", "middag": "afternoon", "avond": "evening"}
PREFERS_LATER = "prefers_later"  # the customer's preferred date lies after these days
# A later visit whose visit before it is on or after the last of these days.
NO_DAYS = "no_days"
# "10:00-14:00", also inside words: "ochtend (08:00-12:00)".
_WINDOW = re.compile(r"(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})")


@dataclass
class PlanningInput:
    """What the solver is asked, and what accepting needs to know of each job."""

    days: list[date]
    shifts: list[Shift] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    # Jobs left out before solving, with their reason (see PREFERS_LATER).
    set_aside: dict[str, str] = field(default_factory=dict)
    # Per job key: the plan version seen (0: none) and the day it had, if any.
    versions: dict[str, int] = field(default_factory=dict)
    was_day: dict[str, date] = field(default_factory=dict)

    @property
    def free_jobs(self) -> list[Job]:
        return [job for job in self.jobs if job.pinned is None]


def planning_input(first: date, last: date, today: date, free_planned: bool) -> PlanningInput:
    days = [
        first + timedelta(days=offset)
        for offset in range((last - first).days + 1)
        if first + timedelta(days=offset) >= today
    ]
    asked = PlanningInput(days=days)
    if not days:
        return asked
    technicians = plannable_technicians()
    asked.shifts = _shifts(technicians, days)
    planned = _planned_visits(days[0], days[-1])
    # Freed: the only visit of a scheduled order. An order with more visits keeps
    # them where they are: its second day follows its first.
    several = set(
        db.session.scalars(sa.select(Visit.order_id).where(Visit.number > 1).distinct())
        if free_planned
        else ()
    )
    movable = {
        visit.order_id
        for visit in planned
        if free_planned
        and visit.order_status == OrderStatus.SCHEDULED
        and visit.order_id not in several
    }
    for visit in planned:
        key = visit.key
        if visit.order_id in movable:
            asked.versions[key] = visit.version
            asked.was_day[key] = visit.day
            continue
        asked.jobs.append(_pinned_job(visit, asked.shifts))
    # One queue, oldest order first, for first and later visits alike: a return visit
    # belongs to an order older than any approved after it, and a customer whose
    # installation is half done should not wait behind orders that came in since.
    to_plan = sorted(
        [(order, order.visit) for order in _orders_to_plan(movable)] + _later_visits_to_plan(),
        key=lambda row: (row[0].created_at, row[0].order_number, _number(row[1])),
    )
    count, seen = len(to_plan), set()
    for rank, (order, visit) in enumerate(to_plan):
        key = job_key(order.id, _number(visit))
        if key in seen:
            continue  # an order found both ways (its day cleared by hand)
        seen.add(key)
        windows, reason = visit_windows(order, visit, days)
        if reason:
            asked.set_aside[key] = reason
            continue
        asked.versions.setdefault(key, visit.version if visit is not None else 0)
        asked.jobs.append(_free_job(order, windows, priority=count - rank, visit=visit))
    return asked


def _number(visit: Visit | None) -> int:
    return visit.number if visit is not None else 1


@dataclass
class OneOrderInput:
    """What the cheapest slots of one order are found in: every plannable technician
    (their names and skills), their shifts on ``days``, the visits planned on them
    as pinned jobs (the order's own left out: it is what moves), and the order as a
    job, or why it is set aside (:data:`PREFERS_LATER`)."""

    days: list[date]
    technicians: list[User] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    pinned: list[Job] = field(default_factory=list)
    job: Job | None = None
    set_aside: str | None = None


def one_order_input(
    order: Order,
    days: list[date],
    visit: Visit | None = None,
    keep_preferred_date: bool = True,
) -> OneOrderInput:
    """The technicians, shifts and planned visits on ``days`` around ``order``'s
    ``visit`` (its current one unless named), and that visit as a job with the
    customer's wishes as its windows (as a proposal gathers them, so a slot and a
    proposal read the wishes alike). A later visit (a second day, a return visit)
    comes after the visit before it; the customer's preferred date was the first's.
    Without ``keep_preferred_date`` only the part-of-day wish bounds it: the customer
    moving their visit away from the day they first asked for."""
    asked = OneOrderInput(days=days)
    if not days:
        return asked
    visit = visit if visit is not None else order.visit
    asked.technicians = plannable_technicians()
    asked.shifts = _shifts(asked.technicians, days)
    asked.pinned = [
        _pinned_job(planned, asked.shifts)
        for planned in _planned_visits(
            days[0], days[-1], leaving_out=visit.id if visit is not None else None
        )
    ]
    windows, asked.set_aside = visit_windows(order, visit, days, keep_preferred_date)
    if asked.set_aside is None:
        asked.job = _free_job(order, windows, visit=visit)
    return asked


def visit_windows(
    order: Order, visit: Visit | None, days: list[date], keep_preferred_date: bool = True
):
    """The solver's windows for ``visit`` of ``order`` on ``days`` (empty: any day), or
    the reason to leave it out. A later visit (a second day, a return visit) comes on
    the days after the visit before it, with the customer's part-of-day wish; the
    preferred date was the first visit's. No such day: :data:`NO_DAYS`."""
    if visit is None or visit.number == 1:
        return _windows(order, days, keep_preferred_date)
    after = max(
        (v.scheduled_date for v in order.visits if v.number < visit.number and v.scheduled_date),
        default=None,
    )
    later = [day for day in days if after is None or day > after]
    windows, reason = _windows(order, later, keep_preferred_date=False)
    if not windows and reason is None:
        # No wish bounds it: still only the days after the visit before it.
        windows = tuple((day, time(0, 0), time(23, 59)) for day in later)
    return windows, reason


def _free_job(order: Order, windows, priority: int = 0, visit: Visit | None = None) -> Job:
    visit = visit if visit is not None else order.visit
    return Job(
        key=job_key(order.id, _number(visit)),
        place=order_place(order),
        duration_minutes=(visit.duration_minutes if visit else None) or DEFAULT_DURATION,
        skills=frozenset(required_skills(order)),
        crew_size=_crew_size(order, visit),
        windows=windows,
        priority=priority,
    )


def _shifts(technicians, days: list[date]) -> list[Shift]:
    ids = [t.id for t in technicians]
    off = {
        (absence.user_id, day)
        for absence in absences(ids, days[0], days[-1])
        for day in days
        if absence.starts_on <= day <= absence.ends_on
    }
    bases = bases_of(ids)
    holidays = public_holidays(days)
    schedules = weekly_hours_of(ids)
    shifts = []
    for technician in technicians:
        schedule = schedules[technician.id]
        base = bases.get(technician.id)
        start_place, end_place = base_place(base, "start"), base_place(base, "end")
        skills = frozenset(str(s).strip().lower() for s in (technician.skills or []))
        for day in days:
            hours = hours_on(schedule, day)
            if hours is None or day in holidays or (technician.id, day) in off:
                continue
            shifts.append(
                Shift(technician.id, day, hours[0], hours[1], start_place, end_place, skills)
            )
    return shifts


@dataclass(frozen=True)
class _PlannedVisit:
    """A visit planned on the days asked about, as a pinned job needs it."""

    order_id: uuid.UUID
    order_status: OrderStatus
    place: Place | None
    day: date
    start: time | None
    end: time | None
    version: int
    crew: tuple[uuid.UUID, ...]  # the lead first; the order's technician if none
    number: int = 1  # which of the order's visits

    @property
    def key(self) -> str:
        return job_key(self.order_id, self.number)


def job_key(order_id: uuid.UUID, number: int = 1) -> str:
    """The solver's name for an order's visit: the order's id, and the visit's number
    after a first (a second day or a return visit is a job of its own). Read back
    with :func:`visit_of_key`."""
    return str(order_id) if number == 1 else f"{order_id}:{number}"


def visit_of_key(key: str) -> tuple[uuid.UUID, int]:
    """The order's id and the visit's number a :func:`job_key` names."""
    order_id, _, number = key.partition(":")
    return uuid.UUID(order_id), int(number) if number else 1


def _planned_visits(
    first: date, last: date, leaving_out: uuid.UUID | None = None
) -> list[_PlannedVisit]:
    """Visits planned on these days (of cancelled and test orders aside, and the visit
    ``leaving_out``), read as plain rows: a fortnight holds hundreds, and the best
    slots for one order are asked while a customer waits."""
    rows = db.session.execute(
        sa.select(
            Visit.id,
            Order.id,
            Order.status,
            Order.assigned_technician_id,
            Address.latitude,
            Address.longitude,
            Visit.scheduled_date,
            Visit.window_start,
            Visit.window_end,
            Visit.version,
            Visit.number,
        )
        .join(Order, Visit.order_id == Order.id)
        .outerjoin(Address, Address.id == Order.installation_address_id)
        .where(
            Visit.scheduled_date.between(first, last),
            Order.status != OrderStatus.CANCELLED,
            Order.is_test.is_(False),
            Visit.id != leaving_out if leaving_out is not None else sa.true(),
        )
        .order_by(Visit.scheduled_date, Visit.window_start, Order.order_number)
    ).all()
    crews: dict[uuid.UUID, list[uuid.UUID]] = {}
    if rows:
        members = db.session.execute(
            sa.select(VisitTechnician.visit_id, VisitTechnician.technician_id)
            .where(VisitTechnician.visit_id.in_([row[0] for row in rows]))
            .order_by(
                VisitTechnician.visit_id,
                VisitTechnician.is_lead.desc(),
                VisitTechnician.created_at,
            )
        )
        for visit_id, technician_id in members:
            crews.setdefault(visit_id, []).append(technician_id)
    planned = []
    for visit_id, order_id, status, assigned, latitude, longitude, *when, version, number in rows:
        crew = tuple(crews.get(visit_id, ())) or ((assigned,) if assigned else ())
        place = None
        if latitude is not None and longitude is not None:
            place = Place(float(latitude), float(longitude))
        planned.append(_PlannedVisit(order_id, status, place, *when, version, crew, number))
    return planned


def _pinned_job(visit: _PlannedVisit, shifts: list[Shift]) -> Job:
    crew = visit.crew
    start, end = visit.start, visit.end
    if start is None or end is None:
        # Planned outside the board (a synced work order): no window of its own, so it
        # holds the first hours of its lead's day, as the board counts it.
        lead_shift = next(
            (s for s in shifts if crew and s.technician_id == crew[0] and s.day == visit.day),
            None,
        )
        start = lead_shift.start if lead_shift else time(8, 0)
        end = _plus(start, UNKNOWN_DURATION)
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return Job(
        key=visit.key,
        place=visit.place,
        duration_minutes=max(minutes, 1),
        skills=frozenset(),
        crew_size=max(len(crew), 1),
        pinned=Pinned(crew, visit.day, start, end),
    )


# What a free job reads of its order, loaded with it.
_ORDER_LOADS = (
    so.joinedload(Order.installation_address),
    so.selectinload(Order.visits).selectinload(Visit.crew),
    so.selectinload(Order.line_items).joinedload(LineItem.article),
)


def _orders_to_plan(freed: set[uuid.UUID]) -> list[Order]:
    """Approved orders with no day yet, and the freed scheduled ones, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Order)
            .options(*_ORDER_LOADS)
            .where(
                Order.is_test.is_(False),
                sa.or_(
                    sa.and_(Order.status == OrderStatus.APPROVED, Order.scheduled_date.is_(None)),
                    Order.id.in_(freed) if freed else sa.false(),
                ),
            )
            .order_by(Order.created_at, Order.order_number)
            .limit(MOST_ORDERS)
        ).unique()
    )


def _later_visits_to_plan() -> list[tuple[Order, Visit]]:
    """Later visits (a second day, a return visit) with no day yet, of orders still to
    be done or under way, each with its order, whose visit before them is planned:
    until it is, there is no day to come after."""
    before = so.aliased(Visit)
    wanted = db.session.execute(
        sa.select(Visit.order_id, Visit.number)
        .join(Order, Order.id == Visit.order_id)
        .join(
            before,
            sa.and_(before.order_id == Visit.order_id, before.number == Visit.number - 1),
        )
        .where(
            Visit.number > 1,
            Visit.scheduled_date.is_(None),
            Visit.completed_at.is_(None),
            before.scheduled_date.is_not(None),
            Order.is_test.is_(False),
            Order.status.in_(MAY_GET_VISITS),
        )
        .order_by(Order.created_at, Order.order_number, Visit.number)
        .limit(MOST_ORDERS)
    ).all()
    if not wanted:
        return []
    orders = {
        order.id: order
        for order in db.session.scalars(
            sa.select(Order)
            .options(*_ORDER_LOADS)
            .where(Order.id.in_({order_id for order_id, _number in wanted}))
        ).unique()
    }
    return [
        (orders[order_id], next(v for v in orders[order_id].visits if v.number == number))
        for order_id, number in wanted
    ]


def _windows(order: Order, days: list[date], keep_preferred_date: bool = True):
    """The customer's wishes as the solver's windows, or the reason to leave it out."""
    wishes = order.installation_preferences or {}
    allowed = days
    if not days:
        return (), NO_DAYS
    preferred = _day_of(wishes.get("preferred_date")) if keep_preferred_date else None
    if preferred is not None and preferred >= days[0]:
        if preferred > days[-1]:
            return (), PREFERS_LATER
        allowed = [preferred] if preferred in days else []
        if not allowed:  # a holiday or weekend day inside the range: any day of it
            allowed = days
    bounds = _bounds(wishes)
    if bounds is None and allowed is days:
        return (), None
    start, end = bounds or (time(0, 0), time(23, 59))
    return tuple((day, start, end) for day in allowed), None


def _bounds(wishes: dict) -> tuple[time, time] | None:
    window = _WINDOW.search(str(wishes.get("time_window") or ""))
    if window:
        h1, m1, h2, m2 = (int(part) for part in window.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) < (h2, m2):
            return time(h1, m1), time(h2, m2)
    for key in ("time_preference", "time_window"):
        words = re.findall(r"[a-z]+", str(wishes.get(key) or "").lower())
        for word in words:
            part = DUTCH_PARTS.get(word, word)
            if part in PARTS_OF_DAY:
                return PARTS_OF_DAY[part]
    return None


def _day_of(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _crew_size(order: Order, visit: Visit | None = None) -> int:
    """Technicians the visit (the order's current one unless named) needs: its plan's
    crew, or the most any article on the order needs."""
    visit = visit if visit is not None else order.visit
    if visit is not None and len(visit.crew) > 1:
        return len(visit.crew)
    needs = [line.article.crew_size for line in order.line_items if line.article is not None]
    return max(needs, default=1) or 1


def _plus(start: time, minutes: int) -> time:
    total = min(start.hour * 60 + start.minute + minutes, 23 * 60 + 59)
    return time(total // 60, total % 60)
