"""The day as driven: each technician's visits in route order, the drive before each,
and the day's minutes and kilometres behind the wheel.

The route runs from the technician's starting point (their base), through the
visits in the order of their windows, to their end point. A technician leaves when
their working day starts; at each visit they begin when they arrive or when its
window opens, whichever is later, and leave when its duration is done. A visit they
would reach after its window closes is marked late: the planner sees it before the
customer does. A visit without a place on the map (PDOK did not know the address)
breaks the chain: the drives to and from it are unknown, and the route picks up
again at the next visit's window.

Travel comes from :mod:`app.orders.planning.travel`: one matrix per day for every
technician's places, so the board asks OSRM (when configured) once a day shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.orders.planning.travel import Place, TravelMatrix, travel_matrix


@dataclass(frozen=True)
class Stop:
    """One visit as the route needs it."""

    order_id: uuid.UUID
    place: Place | None
    window_start: time | None
    window_end: time | None
    minutes: int


@dataclass(frozen=True)
class Drive:
    """The drive to a visit (or home): how long, how far, and when they get there."""

    minutes: int
    kilometres: float
    arrival: time | None = None
    late: bool = False


@dataclass
class DrivenDay:
    drives: dict[uuid.UUID, Drive] = field(default_factory=dict)
    home: Drive | None = None
    unplaced: int = 0

    @property
    def minutes(self) -> int:
        home = self.home.minutes if self.home else 0
        return sum(d.minutes for d in self.drives.values()) + home

    @property
    def kilometres(self) -> float:
        legs = [*self.drives.values(), *([self.home] if self.home else [])]
        return round(sum(d.kilometres for d in legs), 1)

    @property
    def late(self) -> int:
        return sum(1 for d in self.drives.values() if d.late)


def day_matrix(places: list[Place], day: date) -> TravelMatrix | None:
    """Every pair of ``places`` on ``day`` (None when there is nothing to drive)."""
    unique = list(dict.fromkeys(places))
    return travel_matrix(unique, day) if len(unique) > 1 else None


def drive_day(
    stops: list[Stop],
    matrix: TravelMatrix | None,
    start: Place | None,
    end: Place | None,
    leaves_at: time | None,
) -> DrivenDay:
    """The route of one technician's day through ``stops`` (already in route order)."""
    driven = DrivenDay()
    here, clock = start, _minutes(leaves_at)
    for stop in stops:
        if stop.place is None:
            driven.unplaced += 1
            here, clock = None, _minutes(stop.window_end) or _after(clock, stop.minutes)
            continue
        arrival = None
        if here is not None and matrix is not None:
            leg = matrix.leg(here, stop.place)
            minutes = round(leg.minutes)
            arrival = clock + minutes if clock is not None else None
            late = (
                arrival is not None
                and stop.window_end is not None
                and (arrival > _minutes(stop.window_end))
            )
            driven.drives[stop.order_id] = Drive(
                minutes, round(leg.kilometres, 1), _clock(arrival), late
            )
        begins = _later(arrival, _minutes(stop.window_start))
        clock = _after(begins, stop.minutes)
        here = stop.place
    home = end or start
    if here is not None and home is not None and matrix is not None and stops:
        leg = matrix.leg(here, home)
        arrival = clock + round(leg.minutes) if clock is not None else None
        driven.home = Drive(round(leg.minutes), round(leg.kilometres, 1), _clock(arrival))
    return driven


def _minutes(value: time | None) -> int | None:
    return value.hour * 60 + value.minute if value is not None else None


def _clock(minutes: int | None) -> time | None:
    if minutes is None:
        return None
    moment = datetime(2000, 1, 1) + timedelta(minutes=minutes)
    # Past midnight the route has gone wrong anyway; the clock shows the day's end.
    return moment.time() if moment.day == 1 else time(23, 59)


def _later(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _after(start: int | None, minutes: int) -> int | None:
    return start + minutes if start is not None else None
