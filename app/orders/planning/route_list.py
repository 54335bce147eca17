"""A technician's route list for the morning: a day, or a week, printed from the board.

Each day is the board's cell as driven (:func:`app.orders.planning.board.technician_rows`,
so the list and the board never disagree on the order or the drives): where the day
starts, each visit in route order with the drive before it, when the technician
should arrive, the window, how long it takes, where, whom to call, who comes along,
what to bring and the planner's notes; then the day's driving and when they are
home. A week lists only the days with visits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.planning.bases import base_of
from app.orders.planning.board import (
    DAYS_SHOWN,
    Cell,
    CellVisit,
    current_week,
    technician_rows,
    this_monday,
    week_days,
    week_key,
)
from app.orders.planning.hours import plannable_technicians, public_holiday
from app.platform.extensions import db
from app.platform.models import TechnicianBase, User
from app.platform.typed_dates import DateRefused, parse_day, parse_week


class RouteListAsked(Exception):
    """The route list's address asks for something we cannot show; ``str()`` names
    the parameter, ``status`` is 400 (unreadable) or 404 (no such technician)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RouteStop:
    stop: CellVisit
    crew: list[str]  # the names of everyone on the visit, the lead first


@dataclass
class RouteDay:
    cell: Cell
    stops: list[RouteStop]

    @property
    def day(self) -> date:
        return self.cell.day


@dataclass
class RouteList:
    technician: User
    base: TechnicianBase | None
    days: list[RouteDay]
    monday: date  # of the week asked for, or of the day's week
    one_day: date | None  # the day asked for; None for a week

    @property
    def week(self) -> str:
        """The board's week, to go back to."""
        return week_key(self.monday)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=DAYS_SHOWN - 1)

    @property
    def start_label(self) -> str | None:
        return self.base.start_label if self.base else None

    @property
    def end_label(self) -> str | None:
        """Where the day ends; the start when no end of its own is set."""
        if self.base is None:
            return None
        return self.base.end_label or self.base.start_label


def find_route_technician(user_id: str) -> User:
    """The plannable technician ``user_id`` names; raises :class:`RouteListAsked` (404)."""
    try:
        wanted = uuid.UUID(str(user_id))
    except ValueError:
        wanted = None
    for technician in plannable_technicians():
        if technician.id == wanted:
            return technician
    raise RouteListAsked(_("Technician: there is no technician with that id on the board."), 404)


def asked_days(args, today: date) -> tuple[list[date], date | None]:
    """The days the address asks for: ``day`` (one) or ``week`` (its seven), else the
    board's current week; raises :class:`RouteListAsked` naming the parameter."""
    if args.get("day") and args.get("week"):
        raise RouteListAsked(_("Day and week: give one of them, not both."))
    try:
        day = parse_day(args.get("day"))
    except DateRefused as exc:
        raise RouteListAsked(f"{_('Day')}: {exc}") from None
    if day is not None:
        return [day], day
    try:
        monday = parse_week(args.get("week"))
    except DateRefused as exc:
        raise RouteListAsked(f"{_('Week')}: {exc}") from None
    return week_days(monday or current_week(today)), None


def route_list(technician: User, days: list[date], one_day: date | None) -> RouteList:
    """``technician``'s route through ``days``, as the board computes it."""
    holidays = {day for day in days if public_holiday(day)}
    [row] = technician_rows([technician], days, holidays)
    names = _names(row.cells)
    route_days = [
        RouteDay(
            cell=cell,
            stops=[
                RouteStop(stop, [names[i] for i in stop.visit.technician_ids if i in names])
                for stop in cell.route
            ],
        )
        for cell in row.cells
        if cell.visits or one_day is not None
    ]
    return RouteList(
        technician=technician,
        base=base_of(technician.id),
        days=route_days,
        monday=this_monday(days[0]),
        one_day=one_day,
    )


def _names(cells: list[Cell]) -> dict[uuid.UUID, str]:
    """The names of everyone on these cells' visits (a colleague may be off the board)."""
    ids = {i for cell in cells for visit in cell.visits for i in visit.technician_ids}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
