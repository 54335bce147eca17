"""Proposing a plan: pinned visits kept, every rule held, older orders first, crews of two,
reasons for what is left out, the same answer twice. No database: plain values."""

from __future__ import annotations

import random
import uuid
from datetime import date, time, timedelta

import pytest

from app.orders.planning.routing import (
    NO_PLACE,
    NO_SECOND_TECHNICIAN,
    NO_SKILL,
    NO_TIME,
    REASONS,
    Job,
    Pinned,
    Shift,
    planned_jobs,
    propose,
)
from app.orders.planning.travel.estimate import EstimatedTravelTimes
from app.orders.planning.travel.places import Place, TravelMatrix
from tests.support.plan_checks import broken_rules

UTRECHT = Place(52.0894, 5.1101)
AMERSFOORT = Place(52.1561, 5.3878)
ZEIST = Place(52.0893, 5.2332)
NIEUWEGEIN = Place(52.0292, 5.0836)
HILVERSUM = Place(52.2261, 5.1761)
ARNHEM = Place(51.9851, 5.8987)
MONDAY = date(2027, 2, 1)
TUESDAY = MONDAY + timedelta(days=1)
ANNE, BRAM, CEES, DIRK = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


def matrix_for(places: list[Place]) -> TravelMatrix:
    seconds, metres = EstimatedTravelTimes().matrix(places)
    return TravelMatrix(
        tuple(places),
        tuple(tuple(round(x) for x in row) for row in seconds),
        tuple(tuple(round(x) for x in row) for row in metres),
        "estimate",
    )


def shift(technician, day=MONDAY, home=UTRECHT, skills=("alfen",), start=8, end=17) -> Shift:
    return Shift(technician, day, time(start), time(end), home, None, frozenset(skills))


def job(key, place=ZEIST, minutes=120, skills=("alfen",), **fields) -> Job:
    return Job(key, place, minutes, frozenset(skills), **fields)


def checked(jobs, shifts, **options):
    proposal = propose(jobs, shifts, matrix_for, **options)
    assert broken_rules(jobs, shifts, proposal.visits, matrix_for, proposal.unplanned) == []
    assert set(proposal.unplanned.values()) <= set(REASONS)
    return proposal


def visit_of(proposal, key):
    return next(v for v in proposal.visits if v.job_key == key)


def test_a_pinned_visit_stays_where_it_is_and_its_drive_counts():
    pinned = job("PIN", AMERSFOORT, 120, pinned=Pinned((ANNE,), MONDAY, time(10), time(12)))
    free = job("NEW", NIEUWEGEIN, 120)
    proposal = checked([pinned, free], [shift(ANNE), shift(BRAM, home=ARNHEM)])

    kept = visit_of(proposal, "PIN")
    assert (kept.technician_ids, kept.day, kept.start, kept.end) == (
        (ANNE,),
        MONDAY,
        time(10),
        time(12),
    )
    # Anne drives Utrecht → Amersfoort for it (first of her day, or after Nieuwegein).
    assert kept.drive_minutes_before > 0
    placed = visit_of(proposal, "NEW")
    assert placed.end <= time(10) or placed.start >= time(12)
    assert proposal.travel_minutes >= 2 * 25  # at least there and back from Utrecht


def test_a_pinned_crew_of_two_blocks_both_technicians():
    pinned = job("PIN", ZEIST, 180, pinned=Pinned((ANNE, BRAM), MONDAY, time(9), time(12)))
    morning_only = job("NEW", UTRECHT, 120, windows=((MONDAY, time(8), time(12)),))
    proposal = checked([pinned, morning_only], [shift(ANNE), shift(BRAM)])

    assert proposal.unplanned == {"NEW": NO_TIME}
    assert visit_of(proposal, "PIN").technician_ids == (ANNE, BRAM)


def test_windows_hours_skills_and_bookings_hold_on_a_busy_week():
    rng = random.Random(11)
    homes = [UTRECHT, AMERSFOORT, HILVERSUM, ARNHEM]
    days = [MONDAY + timedelta(days=n) for n in range(3)]
    shifts = [
        shift(technician, day, home, skills)
        for technician, home, skills in zip(
            (ANNE, BRAM, CEES, DIRK),
            homes,
            (("alfen", "zaptec"), ("alfen",), ("zaptec", "easee"), ("easee", "alfen")),
            strict=True,
        )
        for day in days
        if not (technician == DIRK and day == TUESDAY)  # a day off
    ]
    places = [UTRECHT, AMERSFOORT, ZEIST, NIEUWEGEIN, HILVERSUM, ARNHEM]
    jobs = []
    for n in range(30):
        near = rng.choice(places)
        wishes = rng.choice(
            [
                (),
                ((rng.choice(days), time(8), time(12)),),
                ((rng.choice(days), time(12), time(17)),),
                tuple((d, time(8), time(17)) for d in rng.sample(days, 2)),
            ]
        )
        jobs.append(
            job(
                f"J{n:02d}",
                Place(near.latitude + rng.uniform(-0.02, 0.02), near.longitude),
                rng.choice((90, 120, 180, 240)),
                (rng.choice(("alfen", "zaptec", "easee")),),
                crew_size=2 if n % 8 == 0 else 1,
                windows=wishes,
                priority=rng.randint(1, 50),
            )
        )
    jobs.append(job("PIN", ZEIST, 90, pinned=Pinned((BRAM,), TUESDAY, time(13), time(14, 30))))

    proposal = checked(jobs, shifts)

    assert len(proposal.visits) >= 20
    assert any(len(v.technician_ids) == 2 for v in proposal.visits)
    again = propose(jobs, shifts, matrix_for)
    assert (again.visits, again.unplanned, again.travel_minutes) == (
        proposal.visits,
        proposal.unplanned,
        proposal.travel_minutes,
    )


def test_older_orders_are_planned_first_when_not_all_fit():
    # Two four-hour visits fit in one day; six are asked.
    jobs = [job(f"J{n}", ZEIST, 240, priority=n) for n in range(1, 7)]
    proposal = checked(jobs, [shift(ANNE)])

    assert {v.job_key for v in proposal.visits} == {"J6", "J5"}
    assert proposal.unplanned == {f"J{n}": NO_TIME for n in range(1, 5)}


def test_a_two_person_job_gets_two_technicians_who_together_hold_its_skills():
    pair = job("PAIR", ZEIST, 180, ("alfen", "zaptec"), crew_size=2)
    proposal = checked(
        [pair],
        [shift(ANNE, skills=("alfen",)), shift(BRAM, skills=("zaptec", "easee"), home=HILVERSUM)],
    )

    visit = visit_of(proposal, "PAIR")
    assert set(visit.technician_ids) == {ANNE, BRAM}
    assert visit.end == (
        time(visit.start.hour + 3, visit.start.minute)
    )  # both there the whole time


def test_a_two_person_job_without_a_second_free_technician_is_left_out():
    busy = job("BUSY", UTRECHT, 540, pinned=Pinned((BRAM,), MONDAY, time(8), time(17)))
    pair = job("PAIR", ZEIST, 180, crew_size=2)
    proposal = checked([busy, pair], [shift(ANNE), shift(BRAM)])

    assert proposal.unplanned == {"PAIR": NO_SECOND_TECHNICIAN}


def test_left_out_for_want_of_a_place_a_skill_or_a_day():
    jobs = [
        job("NOWHERE", None),
        job("TESLA", skills=("tesla",)),
        job("SATURDAY", windows=((MONDAY + timedelta(days=5), time(8), time(17)),)),
        job("TOO_LONG", minutes=600),
        job("FINE"),
    ]
    proposal = checked(jobs, [shift(ANNE)])

    assert proposal.unplanned == {
        "NOWHERE": NO_PLACE,
        "SATURDAY": NO_TIME,
        "TESLA": NO_SKILL,
        "TOO_LONG": NO_TIME,
    }
    assert [v.job_key for v in proposal.visits] == ["FINE"]


def test_the_day_includes_the_drive_home():
    # Arnhem is about 80 minutes from Utrecht. An afternoon of four hours there
    # (13:00-17:00) fits the window and the hours, but would bring Anne home after
    # 18:00; three hours fit, ending early enough to drive back.
    afternoon = ((MONDAY, time(12), time(17)),)
    long_visit = checked([job("FAR", ARNHEM, 240, windows=afternoon)], [shift(ANNE)])
    short_visit = checked([job("FAR", ARNHEM, 180, windows=afternoon)], [shift(ANNE)])

    assert long_visit.unplanned == {"FAR": NO_TIME}
    visit = visit_of(short_visit, "FAR")
    assert (visit.start, visit.end) == (time(12), time(15))
    assert short_visit.travel_minutes > 2 * 75


def test_a_technician_without_a_base_starts_at_the_first_visit():
    # No home on file: no drive to the first visit or from the last, the drive between counts.
    proposal = checked([job("A", ZEIST), job("B", AMERSFOORT)], [shift(ANNE, home=None)])
    assert proposal.unplanned == {}
    assert {v.job_key for v in proposal.visits} == {"A", "B"}
    first, second = sorted(proposal.visits, key=lambda v: v.start)
    assert first.drive_minutes_before == 0 and second.drive_minutes_before > 0


def test_jobs_sharing_a_key_are_refused():
    with pytest.raises(ValueError, match="share a key"):
        propose([job("A"), job("A")], [shift(ANNE)], matrix_for)


def test_a_proposal_pinned_stays_when_proposing_again_around_a_new_order():
    first = [job("J1", ZEIST, 120), job("J2", AMERSFOORT, 120, priority=2)]
    shifts = [shift(ANNE), shift(BRAM, home=HILVERSUM)]
    proposal = checked(first, shifts)
    kept = planned_jobs(first, proposal.visits)

    again = checked([*kept, job("J3", NIEUWEGEIN, 90)], shifts)

    def where(visits):
        return {(v.job_key, v.technician_ids, v.day, v.start, v.end) for v in visits}

    assert where(proposal.visits) < where(again.visits)
    assert "J3" in {v.job_key for v in again.visits}
