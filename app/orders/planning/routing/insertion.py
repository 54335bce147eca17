"""The cheapest places to put one more visit into days already planned.

What the planner asks while the customer is on the phone ("when could we come?"): every
technician's day stays as it is, and the new visit goes into a gap between two of its
visits (or home) where the drive there and on still fits, inside the customer's
windows and the working day. A slot costs the driving it adds. For two technicians,
two days of the same date with a common start, their added driving summed.

Also the greedy way of planning a list (:func:`insert_greedily`): oldest first, each at
its cheapest slot; the baseline the solver is measured against, and the solver's own
last pass for jobs it left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from app.orders.planning.routing.model import Job, Shift, Slot
from app.orders.planning.routing.timeline import (
    Legs,
    MatrixFor,
    Stop,
    clock,
    extra_minutes,
    fixed_stops,
    gaps_of,
    minutes,
    start_range,
    windows_on,
)

Days = dict[tuple[uuid.UUID, date], list[Stop]]


def cheapest_insertion(
    job: Job,
    routes: Iterable[Job],
    shifts: Sequence[Shift],
    matrix_for: MatrixFor,
    limit: int = 3,
) -> list[Slot]:
    """The ``limit`` cheapest slots for ``job`` around the visits already planned.

    ``routes`` are those visits as pinned jobs (:func:`~.model.planned_jobs` turns a
    proposal into them). A slot meets the job's skills, windows and crew size, the
    shift's hours, and leaves every planned visit where it is, with the drives to and
    from it. At most one slot per technician and day; cheapest first (then earliest).
    A job without a place has no slot: the drive to it is unknown.
    """
    if job.place is None:
        return []
    days = fixed_stops(routes)
    by_day = _shifts_by_day(shifts, job)
    matrices: dict[date, Legs] = {}

    def legs_on(day: date) -> Legs:
        if day not in matrices:
            places = [job.place]
            for shift in by_day[day]:
                places += [shift.start_place, shift.end_place]
                places += [stop.place for stop in days.get((shift.technician_id, day), [])]
            matrices[day] = Legs(places, matrix_for)
        return matrices[day]

    return slots_for(job, days, by_day, legs_on, limit)


def slots_for(
    job: Job,
    days: Days,
    by_day: dict[date, list[Shift]],
    legs_on: Callable[[date], Legs],
    limit: int,
) -> list[Slot]:
    """The cheapest slots of ``job`` in ``days`` (each technician's fixed stops)."""
    if job.crew_size not in (1, 2):
        raise ValueError(f"job {job.key}: a crew of {job.crew_size} cannot be planned")
    found: list[tuple[tuple, Slot]] = []
    for day in sorted(by_day):
        legs = legs_on(day)
        options = {
            shift.technician_id: _options(job, shift, days, legs)
            for shift in by_day[day]
            if job.crew_size == 2 or job.skills <= shift.skills
        }
        if job.crew_size == 1:
            for shift in by_day[day]:
                best = min(options.get(shift.technician_id) or [], default=None)
                if best is not None:
                    extra, start = best[0], best[1][0][0]
                    found.append(_ranked(job, (shift.technician_id,), day, start, extra))
        else:
            found += _pairs(job, day, by_day[day], options)
    found.sort(key=lambda pair: pair[0])
    return [slot for _rank, slot in found[:limit]]


def _options(job: Job, shift: Shift, days: Days, legs: Legs) -> list[tuple]:
    """(extra minutes, start spans, gap) for each gap of ``shift`` the job fits in."""
    windows = windows_on(job, shift.day, shift)
    if not windows:
        return []
    options = []
    for gap in gaps_of(shift, days.get((shift.technician_id, shift.day), [])):
        spans = start_range(gap, job.place, job.duration_minutes, windows, legs)
        if spans:
            options.append((extra_minutes(gap, job.place, legs), tuple(spans), gap.position))
    return options


def _pairs(job: Job, day: date, shifts: list[Shift], options: dict) -> list[tuple[tuple, Slot]]:
    """The best common slot of each two technicians who together hold the skills."""
    found = []
    for i, first in enumerate(shifts):
        for second in shifts[i + 1 :]:
            if not job.skills <= first.skills | second.skills:
                continue
            best = None
            for extra_a, spans_a, _ in options.get(first.technician_id, []):
                for extra_b, spans_b, _ in options.get(second.technician_id, []):
                    start = _common_start(spans_a, spans_b)
                    if start is not None and (best is None or (extra_a + extra_b, start) < best):
                        best = (extra_a + extra_b, start)
            if best is not None:
                crew = _lead_first(job, first, second)
                found.append(_ranked(job, crew, day, best[1], best[0]))
    return found


def _common_start(spans_a, spans_b) -> int | None:
    starts = [
        max(a[0], b[0]) for a in spans_a for b in spans_b if max(a[0], b[0]) <= min(a[1], b[1])
    ]
    return min(starts, default=None)


def _lead_first(job: Job, first: Shift, second: Shift) -> tuple[uuid.UUID, uuid.UUID]:
    """The one holding more of the job's skills leads (the first given on a tie)."""
    if len(job.skills & second.skills) > len(job.skills & first.skills):
        return second.technician_id, first.technician_id
    return first.technician_id, second.technician_id


def _ranked(job: Job, crew: tuple, day: date, start: int, extra: int) -> tuple[tuple, Slot]:
    slot = Slot(crew, day, clock(start), clock(start + job.duration_minutes), extra)
    return (extra, day, start, tuple(str(t) for t in crew)), slot


def _shifts_by_day(shifts: Sequence[Shift], job: Job) -> dict[date, list[Shift]]:
    """The shifts on the job's days (every day when it has no windows), by technician."""
    allowed = {day for day, _start, _end in job.windows} if job.windows else None
    by_day: dict[date, list[Shift]] = {}
    for shift in sorted(shifts, key=lambda s: (s.day, str(s.technician_id))):
        if allowed is None or shift.day in allowed:
            by_day.setdefault(shift.day, []).append(shift)
    return by_day


def book(days: Days, job: Job, slot: Slot) -> None:
    """Put ``job`` in ``days`` at ``slot``, each crew member's stops kept in time order."""
    stop = Stop(job.key, job.place, minutes(slot.start), minutes(slot.end))
    for technician_id in slot.technician_ids:
        stops = days.setdefault((technician_id, slot.day), [])
        stops.append(stop)
        stops.sort(key=lambda s: (s.start, s.end, s.job_key))


def insert_greedily(
    jobs: Iterable[Job],
    days: Days,
    shifts: Sequence[Shift],
    legs_on: Callable[[date], Legs],
) -> tuple[dict[str, Slot], list[Job]]:
    """Each job, oldest first (then by key), at its cheapest slot in ``days`` (which
    grows as they are placed). Answers the slots taken and the jobs that found none."""
    placed: dict[str, Slot] = {}
    left: list[Job] = []
    for job in sorted(jobs, key=lambda j: (-j.priority, j.key)):
        slots = slots_for(job, days, _shifts_by_day(shifts, job), legs_on, limit=1)
        if slots:
            placed[job.key] = slots[0]
            book(days, job, slots[0])
        else:
            left.append(job)
    return placed, left
