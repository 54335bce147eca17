"""The clock and the map the planning core reasons on: minutes, legs, a technician's day.

Times are whole minutes after midnight; a drive is rounded up to the whole minute, so
a plan that fits here fits by the second. A place not on the map (None) drives
nowhere: its legs are 0, as the board draws them (the drive is unknown).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time

from app.orders.planning.routing.model import Job, Shift
from app.orders.planning.travel.places import Place, TravelMatrix

MatrixFor = Callable[[list[Place]], TravelMatrix]


def minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def clock(value: int) -> time:
    return time(value // 60, value % 60)


class Legs:
    """Driving between any two of some places, asked of ``matrix_for`` once.

    The minutes are worked out once for every pair: a search asks for the same legs
    hundreds of thousands of times.
    """

    def __init__(self, places: Iterable[Place | None], matrix_for: MatrixFor) -> None:
        given = [place for place in places if place is not None]
        distinct = list({place.key: place for place in given}.values())
        self._matrix = matrix_for(distinct) if distinct else None
        self._positions: dict[str, int] = {}
        self._minutes: list[list[int]] = []
        if self._matrix is not None:
            self._positions = {
                place.key: i for i, place in reversed(list(enumerate(self._matrix.places)))
            }
            self._minutes = [[-(-int(s) // 60) for s in row] for row in self._matrix.seconds]
        # Each place object given, to its row (found by key once, not at every leg).
        self._rows = {place: self._positions[place.key] for place in given}

    def minutes(self, origin: Place | None, destination: Place | None) -> int:
        if origin is None or destination is None:
            return 0
        return self._minutes[self._row(origin)][self._row(destination)]

    def kilometres(self, origin: Place | None, destination: Place | None) -> float:
        if origin is None or destination is None:
            return 0.0
        return self._matrix.metres[self._row(origin)][self._row(destination)] / 1000

    def _row(self, place: Place) -> int:
        row = self._rows.get(place)
        if row is None:
            row = self._rows[place] = self._positions[place.key]
        return row


@dataclass(frozen=True)
class Stop:
    """A visit in a technician's day, fixed: its job, place and minutes."""

    job_key: str
    place: Place | None
    start: int
    end: int


@dataclass(frozen=True)
class Gap:
    """Free time in a technician's day: after ``free_from`` at ``origin`` until
    ``free_until`` at ``destination`` (the stops, or home, on either side)."""

    shift: Shift
    origin: Place | None
    free_from: int
    destination: Place | None
    free_until: int
    position: int  # where in the day's stops a visit put here goes


def windows_on(job: Job, day: date, shift: Shift) -> list[tuple[int, int]]:
    """The job's windows on ``day`` as minutes, clipped to the shift; the whole shift
    when the job has none."""
    first, last = minutes(shift.start), minutes(shift.end)
    if not job.windows:
        return [(first, last)]
    spans = []
    for window_day, start, end in job.windows:
        if window_day == day:
            begins, ends = max(first, minutes(start)), min(last, minutes(end))
            if ends - begins >= job.duration_minutes:
                spans.append((begins, ends))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for begins, ends in sorted(spans):
        if merged and begins <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends))
        else:
            merged.append((begins, ends))
    return merged


def gaps_of(shift: Shift, stops: list[Stop]) -> list[Gap]:
    """The free time between ``stops`` (in time order) in the technician's shift."""
    gaps = []
    origin, free_from = shift.start_place, minutes(shift.start)
    for position, stop in enumerate([*stops, None]):
        if stop is None:
            destination, free_until = shift.home, minutes(shift.end)
        else:
            destination, free_until = stop.place, min(stop.start, minutes(shift.end))
        if free_until > free_from:
            gaps.append(Gap(shift, origin, free_from, destination, free_until, position))
        if stop is not None:
            origin, free_from = stop.place, max(free_from, stop.end)
    return gaps


def fixed_stops(jobs: Iterable[Job]) -> dict[tuple[uuid.UUID, date], list[Stop]]:
    """Each technician's day of pinned visits, in time order."""
    days: dict[tuple[uuid.UUID, date], list[Stop]] = {}
    for job in jobs:
        pinned = job.pinned
        if pinned is None:
            continue
        stop = Stop(job.key, job.place, minutes(pinned.start), minutes(pinned.end))
        for technician_id in pinned.technician_ids:
            days.setdefault((technician_id, pinned.day), []).append(stop)
    for stops in days.values():
        stops.sort(key=lambda stop: (stop.start, stop.end, stop.job_key))
    return days


def start_range(
    gap: Gap, place: Place | None, duration: int, windows: list[tuple[int, int]], legs: Legs
) -> list[tuple[int, int]]:
    """Every span of starts at which a visit at ``place`` fits in ``gap`` (per window)."""
    arrival = gap.free_from + legs.minutes(gap.origin, place)
    leave_by = gap.free_until - legs.minutes(place, gap.destination) - duration
    spans = []
    for begins, ends in windows:
        start, latest = max(arrival, begins), min(leave_by, ends - duration)
        if start <= latest:
            spans.append((start, latest))
    return spans


def extra_minutes(gap: Gap, place: Place | None, legs: Legs) -> int:
    """The driving a visit at ``place`` adds to the day when put in ``gap``."""
    return (
        legs.minutes(gap.origin, place)
        + legs.minutes(place, gap.destination)
        - legs.minutes(gap.origin, gap.destination)
    )
