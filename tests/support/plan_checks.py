"""An independent check of a proposed plan, for the routing tests and ``benchmarks/planning.py``.

Written apart from :mod:`app.orders.planning.routing` on purpose: it reads the travel
matrix itself and walks every technician's day from scratch, so a mistake in the
planning core's own arithmetic does not hide itself.

:func:`broken_rules` lists every rule a plan breaks (empty: none). :func:`as_driven`
drives a plan as the technicians would, each leaving home when their day starts and
starting each visit when they are there or when it was planned, whichever is later,
and counts the windows and working days that overrun; a plan drawn up without the
drives (the hand-made style) shows its cost there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.orders.planning.routing.model import Job, ProposedVisit, Shift
from app.orders.planning.travel.places import Place, TravelMatrix


def _m(value) -> int:
    return value.hour * 60 + value.minute


class Drives:
    """Whole minutes of driving between two places, 0 when either is unknown."""

    def __init__(self, places: Sequence[Place | None], matrix_for: Callable) -> None:
        distinct = list({p.key: p for p in places if p is not None}.values())
        self.matrix: TravelMatrix | None = matrix_for(distinct) if distinct else None

    def minutes(self, a: Place | None, b: Place | None) -> int:
        if a is None or b is None or a.key == b.key:
            return 0
        return math.ceil(self.matrix.leg(a, b).seconds / 60)


def _drives(jobs: Sequence[Job], shifts: Sequence[Shift], matrix_for) -> Drives:
    places = (
        [j.place for j in jobs] + [s.start_place for s in shifts] + [s.end_place for s in shifts]
    )
    return Drives(places, matrix_for)


def _days(visits: Sequence[ProposedVisit]) -> dict[tuple, list[ProposedVisit]]:
    days: dict[tuple, list[ProposedVisit]] = {}
    for visit in visits:
        for technician_id in visit.technician_ids:
            days.setdefault((technician_id, visit.day), []).append(visit)
    for day in days.values():
        day.sort(key=lambda v: (_m(v.start), _m(v.end)))
    return days


def broken_rules(
    jobs: Sequence[Job],
    shifts: Sequence[Shift],
    visits: Sequence[ProposedVisit],
    matrix_for: Callable,
    unplanned: dict[str, str] | None = None,
) -> list[str]:
    """Every rule the plan breaks, one line each."""
    problems = []
    by_key = {job.key: job for job in jobs}
    shift_of = {(s.technician_id, s.day): s for s in shifts}
    drives = _drives(jobs, shifts, matrix_for)
    seen: set[str] = set()
    for visit in visits:
        job = by_key.get(visit.job_key)
        if job is None:
            problems.append(f"{visit.job_key}: not a job given")
            continue
        if visit.job_key in seen:
            problems.append(f"{job.key}: planned twice")
        seen.add(job.key)
        if job.pinned is not None:
            pin = job.pinned
            if (visit.technician_ids, visit.day, visit.start, visit.end) != (
                pin.technician_ids,
                pin.day,
                pin.start,
                pin.end,
            ):
                problems.append(f"{job.key}: pinned visit moved")
            continue
        if len(set(visit.technician_ids)) != job.crew_size:
            problems.append(f"{job.key}: crew of {len(set(visit.technician_ids))}")
        if _m(visit.end) - _m(visit.start) != job.duration_minutes:
            problems.append(f"{job.key}: lasts {_m(visit.end) - _m(visit.start)} minutes")
        if job.windows and not any(
            day == visit.day and _m(start) <= _m(visit.start) and _m(visit.end) <= _m(end)
            for day, start, end in job.windows
        ):
            problems.append(f"{job.key}: outside its windows")
        held: set[str] = set()
        for technician_id in visit.technician_ids:
            shift = shift_of.get((technician_id, visit.day))
            if shift is None:
                problems.append(f"{job.key}: {technician_id} has no shift on {visit.day}")
                continue
            held |= shift.skills
            if not (_m(shift.start) <= _m(visit.start) and _m(visit.end) <= _m(shift.end)):
                problems.append(f"{job.key}: outside {technician_id}'s hours")
        if not job.skills <= held:
            problems.append(f"{job.key}: crew lacks {sorted(job.skills - held)}")
    for job in jobs:
        if job.pinned is not None and job.key not in seen:
            problems.append(f"{job.key}: pinned visit dropped")
        if (
            unplanned is not None
            and job.pinned is None
            and (job.key in seen) == (job.key in unplanned)
        ):
            problems.append(f"{job.key}: planned and unplanned, or neither")
    for (technician_id, day), route in _days(visits).items():
        shift = shift_of.get((technician_id, day))
        if shift is None:
            continue
        here, free_at = shift.start_place, _m(shift.start)
        planned_before = True  # leaving home counts as the planner's own
        for visit in route:
            place = by_key[visit.job_key].place
            pinned_here = by_key[visit.job_key].pinned is not None
            # A pinned visit out of reach of home or of another pinned visit was
            # planned so by hand; any other drive the plan must leave time for.
            driving = 0 if pinned_here and planned_before else drives.minutes(here, place)
            if _m(visit.start) < free_at:
                problems.append(f"{visit.job_key}: {technician_id} double booked on {day}")
            elif _m(visit.start) < free_at + driving:
                problems.append(f"{visit.job_key}: {technician_id} cannot be there on {day}")
            here, free_at = place, _m(visit.end)
            planned_before = pinned_here
        if free_at + drives.minutes(here, shift.end_place or shift.start_place) > _m(shift.end):
            if by_key[route[-1].job_key].pinned is None:
                problems.append(f"{technician_id} home after hours on {day}")
    return problems


@dataclass
class Driven:
    travel_minutes: int = 0
    windows_missed: int = 0
    days_over_hours: int = 0


def as_driven(
    jobs: Sequence[Job],
    shifts: Sequence[Shift],
    visits: Sequence[ProposedVisit],
    matrix_for: Callable,
) -> Driven:
    """The plan as driven: its driving, the visits that end outside their windows (or
    past the shift), and the technician-days that end after hours."""
    by_key = {job.key: job for job in jobs}
    shift_of = {(s.technician_id, s.day): s for s in shifts}
    drives = _drives(jobs, shifts, matrix_for)
    driven = Driven()
    late: set[str] = set()
    for (technician_id, day), route in sorted(_days(visits).items(), key=lambda i: str(i[0])):
        shift = shift_of[(technician_id, day)]
        here, clock = shift.start_place, _m(shift.start)
        over = False
        for visit in route:
            job = by_key[visit.job_key]
            driving = drives.minutes(here, job.place)
            driven.travel_minutes += driving
            begins = max(clock + driving, _m(visit.start))
            ends = begins + job.duration_minutes
            windows = [(_m(s), _m(e)) for d, s, e in job.windows if d == day] or [
                (_m(shift.start), _m(shift.end))
            ]
            if not any(start <= begins and ends <= end for start, end in windows):
                late.add(job.key)
            over = over or ends > _m(shift.end)
            here, clock = job.place, ends
        home = drives.minutes(here, shift.end_place or shift.start_place)
        driven.travel_minutes += home
        over = over or clock + home > _m(shift.end)
        driven.days_over_hours += over
    driven.windows_missed = len(late)
    return driven
