"""The planning board: a week of technicians × days, and the orders still to plan.

Each cell holds the technician's visits that day (order, window, postcode
area), their planned hours against their working hours ("5,5 / 8 u"), and
whether the day is off (absence, holiday, no hours). The week runs Monday to
Sunday: a Saturday visit planned over the rules is on the board and
in the technician's load like any other; a weekend day nobody works or visits
is drawn narrow (:attr:`Board.full_days`). Visits of orders planned
outside the board (a synced work order) have no window or duration of their
own: they count as :data:`UNKNOWN_DURATION`. The side list holds approved
orders without a planned day, oldest first, with the customer's preferences.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.orders.core.customer_photos import PhotoCount, photo_counts
from app.orders.core.visit_confirmations import confirmation_states
from app.orders.planning.bases import base_place, bases_of
from app.orders.planning.driving import Drive, DrivenDay, Stop, day_matrix, drive_day
from app.orders.planning.hours import (
    WorkingDay,
    absences,
    hours_on,
    plannable_technicians,
    public_holiday,
    weekly_hours,
)
from app.orders.planning.page import wishes_line
from app.orders.planning.services import PLANNABLE_STATUSES, begun
from app.orders.planning.travel import Place
from app.platform.extensions import db
from app.platform.models import LineItem, Order, User, Visit, VisitTechnician
from app.platform.models.enums import OrderStatus
from app.platform.typed_dates import DateRefused, parse_week

DAYS_SHOWN = 7
WEEKEND = (5, 6)  # Saturday, Sunday (date.weekday())
UNKNOWN_DURATION = 120
UNPLANNED_LIMIT = 60


def week_asked(value: str | None, today: date) -> tuple[date, str | None]:
    """The Monday of ISO week ``value`` ("2026-W48"), and why it was not taken, if it was not.

    Absent, or not a week we take (:mod:`app.platform.typed_dates`), it is the week the
    planner works in: :func:`current_week`.
    """
    try:
        monday = parse_week(value)
    except DateRefused as exc:
        return current_week(today), str(exc)
    return monday or current_week(today), None


def this_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def next_working_day(today: date) -> date:
    """Today if it is a working day, else the first working day after it."""
    day = today
    # A fortnight covers any run of weekend days and public holidays.
    for _ in range(14):
        if day.weekday() not in WEEKEND and not public_holiday(day):
            return day
        day += timedelta(days=1)
    return today


def current_week(today: date) -> date:
    """The Monday of the week the board opens on: the week of the next working day.

    On a Saturday or Sunday the week that holds today is wholly behind the
    planner, so the board opens on the week they are about to plan.
    """
    return this_monday(next_working_day(today))


def week_key(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def postcode_area(postcode: str | None) -> str | None:
    """The four digits of a Dutch postcode (PC4: "3511 AB" → "3511")."""
    digits = re.match(r"\s*(\d{4})", postcode or "")
    return digits[1] if digits else None


@dataclass
class BoardVisit:
    order_id: uuid.UUID
    order_number: str
    window: str | None
    minutes: int
    area: str | None
    customer: str | None
    crew_size: int = 1
    place: Place | None = None
    window_start: time | None = None
    window_end: time | None = None
    # The plan version the planner sees: a move from the board names it.
    version: int = 0
    # Whether a drag may move it: a plan with a window, of an order still plannable
    # (a synced work order's visit has no window; a started one stays put).
    movable: bool = False
    technician_ids: tuple[uuid.UUID, ...] = ()
    # What the technician's route list prints beside the route.
    address: str | None = None
    phone: str | None = None
    materials: str | None = None
    technician_notes: str | None = None
    # Which of the order's visits, and how many it has ("2/2" on the card).
    number: int = 1
    of: int = 1
    # The customer's answer to the reminder the day before: confirmed, move_asked,
    # unconfirmed (unanswered past the confirm-by time), or None.
    confirmation: str | None = None
    # The customer's photos before the visit ("2/4 foto's" on the card).
    photos: PhotoCount | None = None


@dataclass(frozen=True)
class CellVisit:
    """A visit in one technician's cell, with the drive to it on that route."""

    visit: BoardVisit
    drive: Drive | None


@dataclass
class Cell:
    day: date
    working: WorkingDay
    visits: list[BoardVisit] = field(default_factory=list)
    driven: DrivenDay | None = None

    @property
    def route(self) -> list[CellVisit]:
        """The visits in route order, each with the drive before it (if known)."""
        drives = self.driven.drives if self.driven else {}
        return [CellVisit(visit, drives.get(visit.order_id)) for visit in self.visits]

    @property
    def planned_minutes(self) -> int:
        return sum(visit.minutes for visit in self.visits)

    @property
    def overloaded(self) -> bool:
        return self.planned_minutes > self.working.minutes


@dataclass
class Row:
    technician: User
    cells: list[Cell]

    @property
    def planned_minutes(self) -> int:
        """The week's planned minutes, weekend visits included."""
        return sum(cell.planned_minutes for cell in self.cells)

    @property
    def working_minutes(self) -> int:
        return sum(cell.working.minutes for cell in self.cells)

    @property
    def overloaded(self) -> bool:
        return self.planned_minutes > self.working_minutes


@dataclass
class Board:
    monday: date
    days: list[date]
    holidays: set[date]
    rows: list[Row]
    unplanned: list[ToPlan]
    # Each unplanned order's preferred date and window, on one line.
    wishes: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def full_days(self) -> set[date]:
        """The days drawn at full width: every weekday, and a weekend day someone
        visits or works on. An empty Saturday or Sunday is a narrow column."""
        return {
            day
            for index, day in enumerate(self.days)
            if day.weekday() not in WEEKEND or any(_in_use(row.cells[index]) for row in self.rows)
        }

    @property
    def week(self) -> str:
        return week_key(self.monday)

    @property
    def previous_week(self) -> str:
        return week_key(self.monday - timedelta(days=7))

    @property
    def next_week(self) -> str:
        return week_key(self.monday + timedelta(days=7))


def _in_use(cell: Cell) -> bool:
    return bool(cell.visits) or not cell.working.is_off


def week_days(monday: date) -> list[date]:
    """The board's days: Monday to Sunday of ``monday``'s week."""
    return [monday + timedelta(days=offset) for offset in range(DAYS_SHOWN)]


def week_board(monday: date) -> Board:
    days = week_days(monday)
    technicians = plannable_technicians()
    holidays = {day for day in days if public_holiday(day)}
    rows = technician_rows(technicians, days, holidays)
    unplanned = unplanned_orders()
    wishes = {item.order.id: wishes_line(item.order) for item in unplanned}
    return Board(monday, days, holidays, rows, unplanned, wishes)


def technician_rows(technicians: list[User], days: list[date], holidays: set[date]) -> list[Row]:
    """Each technician's cells for ``days``: working hours, days off, visits in route
    order and the day as driven. The board and the route list both read these."""
    ids = [t.id for t in technicians]
    off: dict[tuple[uuid.UUID, date], str] = {}
    for absence in absences(ids, days[0], days[-1]):
        for day in days:
            if absence.starts_on <= day <= absence.ends_on:
                off[(absence.user_id, day)] = absence.reason
    planned = _visits_by_technician(ids, days[0], days[-1])
    rows = []
    for technician in technicians:
        schedule = weekly_hours(technician.id)
        cells = [
            Cell(
                day=day,
                working=WorkingDay(
                    hours=hours_on(schedule, day),
                    absence=off.get((technician.id, day)),
                    holiday=day in holidays,
                ),
                visits=planned.get((technician.id, day), []),
            )
            for day in days
        ]
        rows.append(Row(technician=technician, cells=cells))
    _drive(rows, days)
    return rows


def _drive(rows: list[Row], days: list[date]) -> None:
    """Each cell's day as driven: one travel matrix per day for every place in it."""
    bases = bases_of([row.technician.id for row in rows])
    starts = {user_id: base_place(base, "start") for user_id, base in bases.items()}
    ends = {user_id: base_place(base, "end") for user_id, base in bases.items()}
    for index, day in enumerate(days):
        cells = [(row, row.cells[index]) for row in rows if row.cells[index].visits]
        if not cells:
            continue
        places = [
            place
            for row, cell in cells
            for place in (
                starts.get(row.technician.id),
                ends.get(row.technician.id),
                *(visit.place for visit in cell.visits),
            )
            if place is not None
        ]
        matrix = day_matrix(places, day)
        for row, cell in cells:
            stops = [
                Stop(v.order_id, v.place, v.window_start, v.window_end, v.minutes)
                for v in cell.visits
            ]
            leaves = cell.working.hours[0] if cell.working.hours else None
            cell.driven = drive_day(
                stops, matrix, starts.get(row.technician.id), ends.get(row.technician.id), leaves
            )


def _visits_by_technician(
    ids: list[uuid.UUID], first: date, last: date
) -> dict[tuple[uuid.UUID, date], list[BoardVisit]]:
    """Each technician's visits per day: the crews of plans, and the lead of orders
    planned without one."""
    found: dict[tuple[uuid.UUID, date], list[BoardVisit]] = defaultdict(list)
    if not ids:
        return found
    # An order is on the board by any of its visits in the week (a second day,
    # a return visit), or by its own day when it was planned without a visit
    # row (a work order synced in names a technician and a day only).
    crewed_visits = (
        sa.select(Visit.order_id)
        .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
        .where(VisitTechnician.technician_id.in_(ids), Visit.scheduled_date.between(first, last))
    )
    orders = (
        db.session.scalars(
            sa.select(Order)
            .options(
                so.joinedload(Order.installation_address),
                so.joinedload(Order.end_customer),
                so.selectinload(Order.visits).selectinload(Visit.crew),
                # What the photo checklist reads (the "2/4 foto's" badge), for all at once.
                so.selectinload(Order.line_items).joinedload(LineItem.article),
            )
            .where(
                Order.status != OrderStatus.CANCELLED,
                Order.is_test.is_(False),
                sa.or_(
                    sa.and_(
                        Order.scheduled_date.between(first, last),
                        Order.assigned_technician_id.in_(ids),
                    ),
                    Order.id.in_(crewed_visits),
                ),
            )
        )
        .unique()
        .all()
    )
    answers = confirmation_states(v for order in orders for v in order.visits)
    photos = photo_counts(orders)
    for order in orders:
        address = order.installation_address
        visits = order.visits
        planned = [v for v in visits if v.scheduled_date and first <= v.scheduled_date <= last]
        if not visits:
            planned = [None]
        for visit in planned:
            crew = visit.technician_ids if visit and visit.crew else [order.assigned_technician_id]
            day = visit.scheduled_date if visit else order.scheduled_date
            entry = BoardVisit(
                order_id=order.id,
                order_number=order.order_number,
                window=visit.window_text if visit else None,
                minutes=visit.duration_minutes if visit else UNKNOWN_DURATION,
                area=postcode_area(address.postal_code if address else None),
                customer=order.end_customer.display_name if order.end_customer else None,
                crew_size=len(crew),
                place=order_place(order),
                window_start=visit.window_start if visit else None,
                window_end=visit.window_end if visit else None,
                version=visit.version if visit else 0,
                movable=bool(visit and visit.window_start) and _still_movable(order, visit),
                technician_ids=tuple(crew),
                address=address.one_line() if address else None,
                phone=order.end_customer.phone if order.end_customer else None,
                materials=visit.materials if visit else None,
                technician_notes=visit.technician_notes if visit else None,
                number=visit.number if visit else 1,
                of=max(len(visits), 1),
                confirmation=answers.get(visit.id) if visit else None,
                photos=photos.get(order.id),
            )
            for technician_id in crew:
                if technician_id in ids:
                    found[(technician_id, day)].append(entry)
    for visits in found.values():
        visits.sort(key=lambda v: (v.window or "99", v.order_number))
    return found


def _still_movable(order: Order, visit: Visit) -> bool:
    """A visit not begun of an order still being planned: approved or scheduled, or
    under way with this a later visit (a second day, a return visit)."""
    if begun(order, visit):
        return False
    return order.status in (*PLANNABLE_STATUSES, OrderStatus.IN_PROGRESS)


def order_place(order: Order) -> Place | None:
    """The order's address on the map, if PDOK placed it."""
    address = order.installation_address
    if address is None or address.latitude is None or address.longitude is None:
        return None
    return Place(float(address.latitude), float(address.longitude))


@dataclass(frozen=True)
class ToPlan:
    """A visit waiting for a plan: an approved order's first, or a later one."""

    order: Order
    number: int = 1
    of: int = 1
    purpose: str | None = None


def unplanned_orders() -> list[ToPlan]:
    """Approved orders without a planned day, and the later visits (a second day, a
    return visit) still to plan of orders planned or under way; oldest order first."""
    later = sa.select(Visit.order_id).where(
        Visit.number > 1, Visit.scheduled_date.is_(None), Visit.completed_at.is_(None)
    )
    orders = db.session.scalars(
        sa.select(Order)
        .options(
            so.joinedload(Order.installation_address),
            so.joinedload(Order.end_customer),
            so.selectinload(Order.visits),
        )
        .where(
            sa.or_(
                sa.and_(Order.status == OrderStatus.APPROVED, Order.scheduled_date.is_(None)),
                sa.and_(
                    Order.status.in_((*PLANNABLE_STATUSES, OrderStatus.IN_PROGRESS)),
                    Order.id.in_(later),
                ),
            ),
            # A partner's sandbox order is never ours to plan.
            Order.is_test.is_(False),
        )
        .order_by(Order.created_at)
        .limit(UNPLANNED_LIMIT)
    ).unique()
    waiting = []
    for order in orders:
        visits = order.visits
        open_ = [v for v in visits if v.scheduled_date is None and v.completed_at is None]
        if not visits or (order.status == OrderStatus.APPROVED and not open_):
            waiting.append(ToPlan(order))
        for visit in open_:
            if visit.number == 1 and order.status != OrderStatus.APPROVED:
                continue
            waiting.append(ToPlan(order, visit.number, len(visits), visit.purpose))
    return waiting
