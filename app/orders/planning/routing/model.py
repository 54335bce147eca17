"""What the planning core is given and what it answers: plain values, no database.

A :class:`Shift` is one technician's working day; a :class:`Job` one order's visit to
plan (or, with ``pinned``, a visit already planned that stays where it is). The
answer is a :class:`Proposal`: the visits, and for each job left out the reason.

The rules a plan obeys here are the planner's hard rules (:mod:`app.orders.planning.rules`)
and the working hours they are warned about, all held hard:

- a visit lies inside one of its job's ``windows`` (the whole visit: start and end),
  or anywhere in a shift when the job has none;
- a technician leaves their ``start_place`` when their shift starts and is back at their
  ``end_place`` (or, without one, their start place) when it ends: the day's driving is
  working time;
- one technician, one visit at a time, with the drive between two visits in between;
- the crew holds every skill the job needs (one member holding a skill is enough);
- a job with ``crew_size`` 2 has two technicians on it, from start to end.

Days off and public holidays are not here: a technician who is off has no shift that day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time

from app.orders.planning.travel.places import Place

# Why a job is left out of a proposal.
NO_PLACE = "no_place"  # the address is not on the map: no drive to it can be planned
NO_SKILL = "no_skill"  # no technician (no crew, for two) holds the skills it needs
NO_TIME = "no_time"  # nobody skilled has room in its windows (older jobs took it)
NO_SECOND_TECHNICIAN = "no_second_technician"  # a lead fits, nobody free to go along
TIME_LIMIT = "time_limit"  # the search ran out of time before it could place it
REASONS = (NO_PLACE, NO_SKILL, NO_TIME, NO_SECOND_TECHNICIAN, TIME_LIMIT)


@dataclass(frozen=True)
class Shift:
    """One technician's working day: from ``start`` at ``start_place`` to ``end`` at
    ``end_place`` (None: back where they started; no start place: they start at their
    first visit), with the skills (lower-case brands) they hold."""

    technician_id: uuid.UUID
    day: date
    start: time
    end: time
    start_place: Place | None
    end_place: Place | None
    skills: frozenset[str]

    @property
    def home(self) -> Place | None:
        """Where the day ends."""
        return self.end_place or self.start_place


@dataclass(frozen=True)
class Pinned:
    """A visit already planned: it stays on these technicians (lead first), that day,
    that window, whatever else moves."""

    technician_ids: tuple[uuid.UUID, ...]
    day: date
    start: time
    end: time


@dataclass(frozen=True)
class Job:
    """One order's visit to plan.

    ``windows`` are the days and times the customer allows, each ``(day, from, to)``
    with the whole visit inside; empty: any time of any shift. ``priority``: higher is
    older, planned first when not everything fits.
    """

    key: str
    place: Place | None
    duration_minutes: int
    skills: frozenset[str] = frozenset()
    crew_size: int = 1
    windows: tuple[tuple[date, time, time], ...] = ()
    priority: int = 0
    pinned: Pinned | None = None


@dataclass(frozen=True)
class ProposedVisit:
    """A visit as proposed: who (lead first), when, and the drive to it."""

    job_key: str
    technician_ids: tuple[uuid.UUID, ...]
    day: date
    start: time
    end: time
    drive_minutes_before: int
    drive_km_before: float


@dataclass
class Proposal:
    """The visits proposed (pinned ones included), the jobs left out with their reason
    (see :data:`REASONS`), the whole plan's driving, and how long the search took."""

    visits: list[ProposedVisit] = field(default_factory=list)
    unplanned: dict[str, str] = field(default_factory=dict)
    travel_minutes: int = 0
    travel_km: float = 0.0
    solve_seconds: float = 0.0


@dataclass(frozen=True)
class Slot:
    """Where a job could go: the crew (lead first), the day and window, and the minutes
    of driving it adds to their days (for two, both days added up)."""

    technician_ids: tuple[uuid.UUID, ...]
    day: date
    start: time
    end: time
    extra_travel_minutes: int

    @property
    def technician_id(self) -> uuid.UUID:
        """The lead."""
        return self.technician_ids[0]


def planned_jobs(jobs: list[Job], visits: list[ProposedVisit]) -> list[Job]:
    """``visits`` as pinned jobs: what a proposal looks like to the next question
    (the slots for another job, or proposing again around it)."""
    by_key = {job.key: job for job in jobs}
    return [
        Job(
            key=visit.job_key,
            place=by_key[visit.job_key].place,
            duration_minutes=by_key[visit.job_key].duration_minutes,
            skills=by_key[visit.job_key].skills,
            crew_size=len(visit.technician_ids),
            priority=by_key[visit.job_key].priority,
            pinned=Pinned(visit.technician_ids, visit.day, visit.start, visit.end),
        )
        for visit in visits
    ]
