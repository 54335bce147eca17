"""One-person visits routed by VROOM (``pyvroom``), around the visits already fixed.

How the week is put to VROOM. Every stretch of free time in a technician's day is a
vehicle of its own: the gap between two fixed visits (pinned by a planner, or a
two-person visit placed before the search) runs from the place of the visit before,
after it ends, to the place of the visit after, before it starts; the first gap starts
at home when the shift starts, the last ends at home when it ends. So a fixed visit
cannot move, and the drives to and from it are paid for. Time is seconds since the
first day's midnight, so one search plans every day at once.

- A job's windows are time windows on the start of its service, each ending its
  duration before the window closes (the whole visit inside). No windows: any time a
  vehicle has.
- Who may go: VROOM's skills say which vehicles may take a job (a vehicle must hold
  all of a job's skills). Job n asks for skill n; a technician's vehicles hold the
  skill of each job whose brands they hold and to which they live among the
  :data:`NEAREST_TECHNICIANS` nearest of those who do. Sending someone from further
  only adds driving, and the smaller search is faster.
- Age is VROOM's priority, by rank of the jobs' priorities: the oldest 100, the
  newest 50. VROOM first maximises the summed priority of what it plans, then
  minimises the driving: it never leaves an older job out for one newer one, but two
  new jobs that fit where one old one does not outweigh it (with 1 for the newest,
  week plans held 3-4 % fewer visits for the same driving).
- The driving is in whole minutes (as seconds), the same rounding the rest of the
  planning core uses, so VROOM's plan fits the checks made on it to the minute.

The search stops on its own (its exploration level sets how long it looks); the
time limit is only a safety net, since a search cut short by the clock answers
differently from run to run.
"""

from __future__ import annotations

import time as timer
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from app.orders.planning.routing.model import Job, Shift
from app.orders.planning.routing.timeline import Gap, Legs, Stop, gaps_of, minutes

if TYPE_CHECKING:
    import vroom

# 1-5: how many ways VROOM tries to build and improve the routes. On a week of 20
# technicians and 200 jobs level 1 takes 2 s on two cores and plans as many visits
# with as little driving as levels 2-5 (4-20 s); a month at level 1 takes 5-7 s. Small
# problems (a day, a few technicians) get the full search: it costs little there.
EXPLORATION_LEVEL = 1
SMALL_PROBLEM = 5_000  # jobs times free stretches of days
SMALL_PROBLEM_EXPLORATION_LEVEL = 5
THREADS = 2
# Whom VROOM may give a job: the skilled technicians living nearest to it. Sending one
# from further away only adds driving; leaving them out makes the search much smaller.
NEAREST_TECHNICIANS: int | None = 6
PRIORITY_RANGE = 100  # the oldest job's priority
LOWEST_PRIORITY = 50  # the newest's


@dataclass(frozen=True)
class Routed:
    """What the search answers: for each gap it used, its jobs in route order."""

    routes: list[tuple[Gap, list[Job]]]
    unassigned: list[Job]
    cut_short: bool


def route(
    jobs: list[Job],
    shifts: list[Shift],
    fixed: dict[tuple[uuid.UUID, date], list[Stop]],
    legs: Legs,
    seconds: float,
) -> Routed:
    """Route ``jobs`` into the free time of ``shifts`` around the ``fixed`` stops."""
    # Imported here: VROOM and pandas cost a quarter second, and only the job that
    # solves needs them, not every process that starts the app.
    import vroom

    gaps = free_gaps(shifts, fixed, legs)
    if not jobs or not gaps:
        return Routed([], list(jobs), False)
    first_day = min(gap.shift.day for gap in gaps)
    places = _places(jobs, gaps)
    index = {key: position for position, key in enumerate(places)}
    allowed = _nearest_skilled(jobs, shifts, legs)
    problem = vroom.Input()
    problem.set_durations_matrix("car", _seconds(list(places.values()), legs))
    for number, gap in enumerate(gaps):
        problem.add_vehicle(_vehicle(number, gap, index, allowed, first_day))
    ranks = _priorities(jobs)
    tasks = [_job(n, job, index, ranks[job.priority], first_day) for n, job in enumerate(jobs)]
    if not any(tasks):
        return Routed([], list(jobs), False)
    for task in tasks:
        if task is not None:
            problem.add_job(task)
    began = timer.perf_counter()
    small = len(jobs) * len(gaps) <= SMALL_PROBLEM
    solution = problem.solve(
        exploration_level=SMALL_PROBLEM_EXPLORATION_LEVEL if small else EXPLORATION_LEVEL,
        nb_threads=THREADS,
        timeout=timedelta(seconds=max(seconds, 0.1)),
    )
    cut_short = timer.perf_counter() - began >= 0.98 * seconds
    routes: dict[int, list[Job]] = {}
    assigned: set[int] = set()
    steps = solution.routes
    if "id" in steps.columns:  # no column at all when nothing is routed
        for vehicle, kind, job_number in zip(
            steps["vehicle_id"].tolist(), steps["type"].tolist(), steps["id"].tolist(), strict=True
        ):
            if kind == "job":
                routes.setdefault(int(vehicle), []).append(jobs[int(job_number)])
                assigned.add(int(job_number))
    unassigned = [job for number, job in enumerate(jobs) if number not in assigned]
    return Routed(
        [(gaps[number], routes[number]) for number in sorted(routes)], unassigned, cut_short
    )


def free_gaps(
    shifts: list[Shift], fixed: dict[tuple[uuid.UUID, date], list[Stop]], legs: Legs
) -> list[Gap]:
    """Every stretch of free time long enough to drive through, by day and technician."""
    return [
        gap
        for shift in sorted(shifts, key=lambda s: (s.day, str(s.technician_id)))
        for gap in gaps_of(shift, fixed.get((shift.technician_id, shift.day), []))
        if gap.free_until - gap.free_from >= legs.minutes(gap.origin, gap.destination)
    ]


# Each day later a technician's day costs a minute of driving more to use: between
# routes that drive alike, the sooner visit wins (the customer waits less, and the
# later days stay free for what comes in next). Measured on the benchmark's month: as
# short in all; a fixed cost per day used, meant to gather visits, drove more.
DAY_COST = 60

# Where a technician without a base starts and ends: nowhere in particular, no drive
# from or to it (VROOM needs a start or an end for every vehicle).
ANYWHERE = "anywhere"


def _places(jobs: list[Job], gaps: list[Gap]) -> dict[str, object]:
    places = {}
    for job in jobs:
        places[job.place.key] = job.place
    for gap in gaps:
        for place in (gap.origin, gap.destination):
            if place is not None:
                places[place.key] = place
        if gap.origin is None and gap.destination is None:
            places[ANYWHERE] = None
    return places


def _seconds(places: list, legs: Legs) -> list[list[int]]:
    return [[60 * legs.minutes(a, b) for b in places] for a in places]


def _nearest_skilled(jobs: list[Job], shifts: list[Shift], legs: Legs) -> dict[uuid.UUID, set[int]]:
    """Which jobs each technician may be given: those they hold the skills for and live
    among the :data:`NEAREST_TECHNICIANS` nearest of the skilled ones (all of them when
    it is None). As VROOM skills: job n asks for skill n, a technician holds the skill
    of every job they may be given."""
    homes = {shift.technician_id: shift.start_place for shift in shifts}
    allowed: dict[uuid.UUID, set[int]] = {technician_id: set() for technician_id in homes}
    skills = {shift.technician_id: shift.skills for shift in shifts}
    for number, job in enumerate(jobs):
        skilled = sorted(
            (t for t in homes if job.skills <= skills[t]),
            key=lambda t: (legs.minutes(homes[t], job.place), str(t)),
        )
        for technician_id in skilled[:NEAREST_TECHNICIANS]:
            allowed[technician_id].add(number)
    return allowed


def _instant(day: date, minute: int, first_day: date) -> int:
    return ((day - first_day).days * 1440 + minute) * 60


def _vehicle(number: int, gap: Gap, index: dict, allowed: dict, first_day: date) -> vroom.Vehicle:
    import vroom

    day = gap.shift.day
    start = index[gap.origin.key] if gap.origin is not None else None
    end = index[gap.destination.key] if gap.destination is not None else None
    return vroom.Vehicle(
        number,
        start=start,
        end=index[ANYWHERE] if start is None and end is None else end,
        costs=vroom.VehicleCosts(fixed=DAY_COST * (day - first_day).days),
        skills=allowed[gap.shift.technician_id],
        time_window=vroom.TimeWindow(
            _instant(day, gap.free_from, first_day), _instant(day, gap.free_until, first_day)
        ),
    )


def _job(number: int, job: Job, index: dict, priority: int, first_day: date) -> vroom.Job | None:
    """The job for VROOM; None when none of its windows is in these days."""
    import vroom

    windows = sorted(
        (
            _instant(day, minutes(start), first_day),
            _instant(day, minutes(end) - job.duration_minutes, first_day),
        )
        for day, start, end in job.windows
        if day >= first_day and minutes(end) - minutes(start) >= job.duration_minutes
    )
    merged: list[list[int]] = []
    for begins, ends in windows:
        if merged and begins <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], ends)
        else:
            merged.append([begins, ends])
    if job.windows and not merged:
        return None
    return vroom.Job(
        number,
        location=index[job.place.key],
        default_service=60 * job.duration_minutes,
        skills={number},
        priority=priority,
        time_windows=[vroom.TimeWindow(begins, ends) for begins, ends in merged],
    )


def _priorities(jobs: list[Job]) -> dict[int, int]:
    """Each priority given as VROOM's, by rank: the newest 50, the oldest 100."""
    distinct = sorted({job.priority for job in jobs})
    if len(distinct) == 1:
        return {distinct[0]: PRIORITY_RANGE}
    last = len(distinct) - 1
    return {
        priority: LOWEST_PRIORITY + round((PRIORITY_RANGE - LOWEST_PRIORITY) * rank / last)
        for rank, priority in enumerate(distinct)
    }
