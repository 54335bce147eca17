"""Propose a plan: which technician visits which customer when, with the least driving.

In four steps, each keeping what the one before fixed:

1. Pinned visits stay exactly where they are (technicians, day, window); their drives
   count like any other.
2. Two-person visits are placed first, oldest first, each at the cheapest common slot
   of two technicians of the same day who together hold its skills
   (:func:`~.insertion.insert_greedily`), and then fixed like pinned ones. VROOM routes
   one vehicle per job; keeping two routes in step is not something it can express,
   and with both days nearly empty the cheapest common slot is also a sensible one
   (first thing in the morning near both homes). They are few (about one in ten) and the
   hardest to fit, hence first.
3. One-person visits are routed by VROOM (:mod:`.search`) in the free time around
   them: older orders first when not all fit, then the least driving.
4. What VROOM left out is offered its cheapest slot in the result, oldest first (a
   job VROOM could not place in time, or one that fits only where VROOM did not look).

Every visit's times are worked out here from the route order, with the same minutes
as the checks, and a route that would not fit (it should not happen) gives its job back
to step 4. The same input gives the same proposal: VROOM's search is deterministic when
it stops on its own, and every list here is sorted by a stable key.
"""

from __future__ import annotations

import time as timer
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from app.orders.planning.routing import search
from app.orders.planning.routing.insertion import Days, insert_greedily, slots_for
from app.orders.planning.routing.model import (
    NO_PLACE,
    NO_SECOND_TECHNICIAN,
    NO_SKILL,
    NO_TIME,
    TIME_LIMIT,
    Job,
    Proposal,
    ProposedVisit,
    Shift,
)
from app.orders.planning.routing.timeline import (
    Legs,
    MatrixFor,
    Stop,
    clock,
    fixed_stops,
    windows_on,
)

Router = Callable[[list[Job], list[Shift], Days, Legs, float], search.Routed]


def propose(
    jobs: Sequence[Job],
    shifts: Sequence[Shift],
    matrix_for: MatrixFor,
    time_limit_seconds: float = 8,
) -> Proposal:
    """A plan of ``jobs`` into ``shifts``: pinned jobs kept, the rest placed with the least
    driving, older first when not all fit; every job left out has its reason."""
    return propose_with(search.route, jobs, shifts, matrix_for, time_limit_seconds)


def plan_greedily(jobs: Sequence[Job], shifts: Sequence[Shift], matrix_for: MatrixFor) -> Proposal:
    """The baseline: the same steps without the search, so every job, oldest first,
    goes to its cheapest slot at the time (:func:`~.insertion.insert_greedily`)."""
    return propose_with(_search_nothing, jobs, shifts, matrix_for, 0)


def _search_nothing(jobs, _shifts, _fixed, _legs, _seconds) -> search.Routed:
    return search.Routed([], list(jobs), False)


def propose_with(
    router: Router,
    jobs: Sequence[Job],
    shifts: Sequence[Shift],
    matrix_for: MatrixFor,
    time_limit_seconds: float,
) -> Proposal:
    """:func:`propose` with another search for step 3 (the solver comparison tries
    others on the same steps around it)."""
    began = timer.perf_counter()
    keys = [job.key for job in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("two jobs share a key")
    shifts = sorted(shifts, key=lambda s: (s.day, str(s.technician_id)))
    by_day: dict[date, list[Shift]] = {}
    for shift in shifts:
        by_day.setdefault(shift.day, []).append(shift)
    legs = Legs(
        [job.place for job in jobs]
        + [place for shift in shifts for place in (shift.start_place, shift.end_place)],
        matrix_for,
    )

    def legs_on(_day: date) -> Legs:
        return legs

    days = fixed_stops(jobs)
    unplanned: dict[str, str] = {}
    open_jobs = []
    for job in sorted((j for j in jobs if j.pinned is None), key=lambda j: (-j.priority, j.key)):
        reason = _cannot_be_planned(job, by_day)
        if reason:
            unplanned[job.key] = reason
        else:
            open_jobs.append(job)

    _crews, crews_left = insert_greedily(
        [job for job in open_jobs if job.crew_size == 2], days, shifts, legs_on
    )
    for job in crews_left:
        alone = replace(job, crew_size=1)
        lead_fits = slots_for(alone, days, _on_days(job, by_day), legs_on, limit=1)
        unplanned[job.key] = NO_SECOND_TECHNICIAN if lead_fits else NO_TIME

    singles = [job for job in open_jobs if job.crew_size == 1]
    remaining = time_limit_seconds - (timer.perf_counter() - began)
    routed = router(singles, shifts, days, legs, remaining)
    left = list(routed.unassigned)
    for gap, route in routed.routes:
        left += _book_route(days, gap, route, legs)
    _, still_left = insert_greedily(left, days, shifts, legs_on)
    for job in still_left:
        unplanned[job.key] = TIME_LIMIT if routed.cut_short else NO_TIME

    proposal = _visits(jobs, days, shifts, legs)
    proposal.unplanned = {key: unplanned[key] for key in sorted(unplanned)}
    proposal.solve_seconds = round(timer.perf_counter() - began, 3)
    return proposal


def _cannot_be_planned(job: Job, by_day: dict[date, list[Shift]]) -> str | None:
    """Why ``job`` has no chance whatever else is planned, or None."""
    if job.crew_size not in (1, 2):
        raise ValueError(f"job {job.key}: a crew of {job.crew_size} cannot be planned")
    if job.place is None:
        return NO_PLACE
    # One shift a technician is enough to know who holds what.
    everyone = {shift.technician_id: shift for shifts in by_day.values() for shift in shifts}
    if not _crews(job, list(everyone.values())):
        return NO_SKILL
    for day, shifts in _on_days(job, by_day).items():
        if any(windows_on(job, day, crew[0]) for crew in _crews(job, shifts, same_day=True)):
            return None
    return NO_TIME


def _crews(job: Job, shifts: list[Shift], same_day: bool = False) -> list[tuple[Shift, ...]]:
    """Who could go, by skill: one technician holding them all, or for a crew of two,
    two (of one day, when ``same_day``) holding them together."""
    if job.crew_size == 1:
        return [(shift,) for shift in shifts if job.skills <= shift.skills]
    return [
        (shift, other)
        for shift in shifts
        for other in shifts
        if other.technician_id != shift.technician_id
        and (not same_day or other.day == shift.day)
        and job.skills <= shift.skills | other.skills
    ]


def _on_days(job: Job, by_day: dict[date, list[Shift]]) -> dict[date, list[Shift]]:
    if not job.windows:
        return by_day
    allowed = {day for day, _start, _end in job.windows}
    return {day: shifts for day, shifts in by_day.items() if day in allowed}


def _book_route(days: Days, gap, route: list[Job], legs: Legs) -> list[Job]:
    """Times for ``route`` in ``gap``, booked; answers the jobs that did not fit."""
    here, clock_at = gap.origin, gap.free_from
    timed: list[tuple[Job, int]] = []
    left: list[Job] = []
    for job in route:
        arrival = clock_at + legs.minutes(here, job.place)
        start = None
        for begins, ends in windows_on(job, gap.shift.day, gap.shift):
            candidate = max(arrival, begins)
            if candidate + job.duration_minutes <= ends:
                start = candidate
                break
        if start is None:
            left.append(job)
            continue
        timed.append((job, start))
        here, clock_at = job.place, start + job.duration_minutes
    # The last visit must leave time to drive on to what follows the gap.
    while timed:
        job, start = timed[-1]
        if start + job.duration_minutes + legs.minutes(job.place, gap.destination) <= (
            gap.free_until
        ):
            break
        timed.pop()
        left.append(job)
    technician_id = gap.shift.technician_id
    for job, start in timed:
        stops = days.setdefault((technician_id, gap.shift.day), [])
        stops.append(Stop(job.key, job.place, start, start + job.duration_minutes))
        stops.sort(key=lambda s: (s.start, s.end, s.job_key))
    return left


def _visits(jobs: Sequence[Job], days: Days, shifts: list[Shift], legs: Legs) -> Proposal:
    """The proposal's visits and driving, from every technician's day as booked."""
    by_key = {job.key: job for job in jobs}
    shift_of = {(s.technician_id, s.day): s for s in shifts}
    crews: dict[tuple[str, date], list[uuid.UUID]] = {}
    drive_before: dict[tuple[str, uuid.UUID], tuple[int, float]] = {}
    total_minutes, total_km = 0, 0.0
    for (technician_id, day), stops in sorted(days.items(), key=lambda i: (i[0][1], str(i[0][0]))):
        shift = shift_of.get((technician_id, day))
        here = shift.start_place if shift else None
        for stop in stops:
            drive = legs.minutes(here, stop.place), legs.kilometres(here, stop.place)
            drive_before[stop.job_key, technician_id] = drive
            total_minutes += drive[0]
            total_km += drive[1]
            crews.setdefault((stop.job_key, day), []).append(technician_id)
            here = stop.place
        if shift is not None and stops:
            total_minutes += legs.minutes(here, shift.home)
            total_km += legs.kilometres(here, shift.home)
    visits = []
    stops_by_key = {stop.job_key: stop for stops in days.values() for stop in stops}
    for (key, day), members in sorted(crews.items(), key=lambda i: (i[0][1], i[0][0])):
        job, stop = by_key[key], stops_by_key[key]
        crew = job.pinned.technician_ids if job.pinned else _lead_first(job, members, shift_of, day)
        minutes_before, km_before = drive_before[key, crew[0]]
        visits.append(
            ProposedVisit(
                key,
                crew,
                day,
                clock(stop.start),
                clock(stop.end),
                minutes_before,
                round(km_before, 1),
            )
        )
    visits.sort(key=lambda v: (v.day, v.start, v.job_key))
    return Proposal(visits=visits, travel_minutes=total_minutes, travel_km=round(total_km, 1))


def _lead_first(job: Job, members: list[uuid.UUID], shift_of: dict, day: date) -> tuple:
    """The member holding most of the job's skills leads (then by id)."""
    return tuple(
        sorted(
            members,
            key=lambda t: (-len(job.skills & shift_of[(t, day)].skills), str(t)),
        )
    )
