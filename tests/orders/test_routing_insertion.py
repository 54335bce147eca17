"""The best slots for one more visit in days already planned: each one feasible (checked
independently), cheapest first, and what it adds to the day's driving."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from app.orders.planning.routing import Job, Pinned, ProposedVisit, Shift, cheapest_insertion
from app.orders.planning.travel.estimate import EstimatedTravelTimes
from app.orders.planning.travel.places import Place, TravelMatrix
from tests.support.plan_checks import as_driven, broken_rules

UTRECHT = Place(52.0894, 5.1101)
AMERSFOORT = Place(52.1561, 5.3878)
ZEIST = Place(52.0893, 5.2332)
NIEUWEGEIN = Place(52.0292, 5.0836)
HILVERSUM = Place(52.2261, 5.1761)
DE_BILT = Place(52.1100, 5.1800)
MONDAY = date(2027, 2, 1)
TUESDAY = MONDAY + timedelta(days=1)
ANNE, BRAM, CEES = (uuid.UUID(int=n) for n in (1, 2, 3))


def matrix_for(places: list[Place]) -> TravelMatrix:
    seconds, metres = EstimatedTravelTimes().matrix(places)
    return TravelMatrix(
        tuple(places),
        tuple(tuple(round(x) for x in row) for row in seconds),
        tuple(tuple(round(x) for x in row) for row in metres),
        "estimate",
    )


def shift(technician, day=MONDAY, home=UTRECHT, skills=("alfen",)) -> Shift:
    return Shift(technician, day, time(8), time(17), home, None, frozenset(skills))


def planned(key, place, crew, day, start, end, skills=("alfen",)) -> Job:
    minutes = (end - start) * 60
    return Job(
        key,
        place,
        minutes,
        frozenset(skills),
        crew_size=len(crew),
        pinned=Pinned(crew, day, time(start), time(end)),
    )


SHIFTS = [
    shift(ANNE),
    shift(ANNE, TUESDAY),
    shift(BRAM, home=AMERSFOORT),
    shift(BRAM, TUESDAY, home=AMERSFOORT),
    shift(CEES, home=HILVERSUM, skills=("zaptec",)),
]
# Anne: Zeist in the morning, Nieuwegein in the afternoon; Bram: Amersfoort all Monday.
ROUTES = [
    planned("A1", ZEIST, (ANNE,), MONDAY, 9, 11),
    planned("A2", NIEUWEGEIN, (ANNE,), MONDAY, 13, 15),
    planned("B1", AMERSFOORT, (BRAM,), MONDAY, 8, 16),
]


def with_slot(job: Job, slot) -> list[ProposedVisit]:
    """The planned visits, and ``job`` at ``slot``, as a plan to check."""
    visits = [
        ProposedVisit(
            r.key, r.pinned.technician_ids, r.pinned.day, r.pinned.start, r.pinned.end, 0, 0
        )
        for r in ROUTES
    ]
    return [
        *visits,
        ProposedVisit(job.key, slot.technician_ids, slot.day, slot.start, slot.end, 0, 0),
    ]


def test_every_slot_fits_and_the_cheapest_comes_first():
    job = Job("NEW", DE_BILT, 75, frozenset({"alfen"}))
    slots = cheapest_insertion(job, ROUTES, SHIFTS, matrix_for, limit=3)

    assert len(slots) == 3
    extras = [slot.extra_travel_minutes for slot in slots]
    assert extras == sorted(extras)
    before = as_driven(ROUTES, SHIFTS, with_slot(job, slots[0])[:-1], matrix_for)
    for slot in slots:
        plan = with_slot(job, slot)
        assert broken_rules([*ROUTES, job], SHIFTS, plan, matrix_for) == []
        after = as_driven([*ROUTES, job], SHIFTS, plan, matrix_for)
        assert after.travel_minutes - before.travel_minutes == slot.extra_travel_minutes
    # Between Zeist and Nieuwegein on Monday: De Bilt is on Anne's way.
    assert (slots[0].technician_ids, slots[0].day) == ((ANNE,), MONDAY)
    assert time(11) <= slots[0].start and slots[0].end <= time(13)


def test_no_slot_outside_the_window_the_hours_or_the_skills():
    morning = ((MONDAY, time(8), time(12, 30)),)
    # Anne's Monday morning has Zeist 9-11: two hours in De Bilt fit neither before it
    # nor after it (with the drive, until 13:12); Bram is in Amersfoort all day.
    two_hours = Job("NEW", DE_BILT, 120, frozenset({"alfen"}), windows=morning)
    assert cheapest_insertion(two_hours, ROUTES, SHIFTS, matrix_for) == []

    one_hour = Job("SHORT", DE_BILT, 60, frozenset({"alfen"}), windows=morning)
    (slot,) = cheapest_insertion(one_hour, ROUTES, SHIFTS, matrix_for)
    assert (slot.technician_ids, slot.day) == ((ANNE,), MONDAY)
    assert time(11) < slot.start and slot.end <= time(12, 30)

    tesla = Job("TESLA", DE_BILT, 60, frozenset({"tesla"}))
    assert cheapest_insertion(tesla, ROUTES, SHIFTS, matrix_for) == []

    whole_day = Job("LONG", DE_BILT, 9 * 60, frozenset({"alfen"}))
    assert cheapest_insertion(whole_day, ROUTES, SHIFTS, matrix_for) == []


def test_a_two_person_slot_has_two_free_technicians_at_one_start():
    job = Job("PAIR", DE_BILT, 60, frozenset({"alfen", "zaptec"}), crew_size=2)
    slots = cheapest_insertion(job, ROUTES, SHIFTS, matrix_for, limit=5)

    assert slots
    for slot in slots:
        assert len(set(slot.technician_ids)) == 2
        # Cees holds zaptec, the only one who does: every crew has him, on Monday.
        assert CEES in slot.technician_ids and slot.day == MONDAY
        assert broken_rules([*ROUTES, job], SHIFTS, with_slot(job, slot), matrix_for) == []
    assert slots[0].technician_ids == (ANNE, CEES)  # one skill each: the first leads


def test_a_job_without_a_place_has_no_slot():
    job = Job("NOWHERE", None, 60, frozenset({"alfen"}))
    assert cheapest_insertion(job, ROUTES, SHIFTS, matrix_for) == []
