"""The best slots for one order, while the customer is on the line: skilled technicians
only, within their hours, off days and public holidays aside, inside the customer's
wishes, around the visits already planned (the order's own left out), the cheapest in
driving first; and when none fits, why."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from app.orders.planning.hours import set_weekly_hours
from app.orders.planning.proposals.gathering import PREFERS_LATER
from app.orders.planning.routing import NO_PLACE, NO_SKILL, NO_TIME
from app.orders.planning.slots.finding import CLOSED, best_slots, slot_days
from app.platform.extensions import db
from app.platform.models import BusinessCalendar
from app.platform.models.enums import OrderStatus
from tests.support.slots_support import (
    AMERSFOORT,
    UTRECHT,
    ZWOLLE,
    days_off,
    order_at,
    plan,
    quiet_week,
    technician_at,
)

NIEUWEGEIN = (Decimal("52.029000"), Decimal("5.084000"))  # 8 km from the customer


@pytest.fixture
def planner(make_user):
    return make_user("team_lead", language="nl")


@pytest.fixture
def week():
    return quiet_week()


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def test_the_cheapest_slots_come_first_whatever_the_day(app, make_user, week):
    sunday, days = week
    near = technician_at(make_user, "Anna Dichtbij", UTRECHT)
    far = technician_at(make_user, "Bram Verweg", AMERSFOORT)
    untrained = technician_at(make_user, "Cor Zaptec", UTRECHT, skills=("zaptec",))
    days_off(near, days[0], days[3])  # the nearest one is only there on Friday
    order = order_at("CC-2026-01001")

    best = best_slots(order, sunday, working_days=5)

    assert best.reason is None
    assert [(s.lead, s.day) for s in best.slots] == [
        (near, days[4]),
        (far, days[0]),
        (far, days[1]),
    ]
    extras = [s.extra_travel_minutes for s in best.slots]
    assert extras == sorted(extras) and extras[0] < extras[1]
    assert all(untrained not in s.technicians for s in best.slots)
    # The drive from home comes before the visit, which lasts the order's two hours.
    first = best.slots[0]
    assert first.start > time(8, 0)
    assert _minutes(first.end) - _minutes(first.start) == 120
    assert best.seen_version == 0


def test_working_hours_bound_every_slot(app, make_user, week):
    sunday, days = week
    anna = technician_at(make_user, "Anna Middag", UTRECHT)
    hours = dict.fromkeys(("mon", "tue", "thu", "fri", "sat", "sun"))
    set_weekly_hours(anna, {**hours, "wed": ["13:00", "16:30"]})
    db.session.commit()
    order = order_at("CC-2026-01002")

    best = best_slots(order, sunday, working_days=5)

    assert [s.day for s in best.slots] == [days[2]]
    slot = best.slots[0]
    assert time(13, 0) < slot.start and slot.end < time(16, 30)


def test_days_off_and_public_holidays_have_no_slots(app, make_user, week):
    sunday, days = week
    db.session.add(
        BusinessCalendar(
            name="Kantoor",
            is_default=True,
            holiday_country="NL",
            closed_dates=[days[1].isoformat()],  # Tuesday: the office is closed
        )
    )
    db.session.commit()
    anna = technician_at(make_user, "Anna Vrij", UTRECHT)
    days_off(anna, days[0], days[0], reason="Tandarts")
    order = order_at("CC-2026-01003")

    best = best_slots(order, sunday, working_days=5)

    assert [s.day for s in best.slots] == [days[2], days[3], days[4]]
    # The closed Tuesday is no working day: five of them reach the next Monday.
    assert slot_days(sunday, 5)[-1] == days[0] + timedelta(days=7)


def test_the_customers_day_and_part_of_day_are_kept(app, make_user, week):
    sunday, days = week
    technician_at(make_user, "Anna", UTRECHT)
    technician_at(make_user, "Bram", AMERSFOORT)
    order = order_at(
        "CC-2026-01004",
        preferences={"preferred_date": days[3].isoformat(), "time_window": "13:00-16:00"},
    )

    best = best_slots(order, sunday, working_days=5)

    assert len(best.slots) == 2
    for slot in best.slots:
        assert slot.day == days[3]
        assert time(13, 0) <= slot.start and slot.end <= time(16, 0)


def test_visits_already_planned_stay_and_the_slot_fits_around_them(app, make_user, planner, week):
    sunday, days = week
    anna = technician_at(make_user, "Anna", UTRECHT)
    days_off(anna, days[2], days[4])
    # Monday is full; on Tuesday the morning is taken.
    plan(order_at("CC-2026-01010", NIEUWEGEIN), [anna], days[0], time(8), time(17), planner)
    plan(order_at("CC-2026-01011", NIEUWEGEIN), [anna], days[1], time(8, 30), time(12), planner)
    order = order_at("CC-2026-01005")

    best = best_slots(order, sunday, working_days=5)

    assert [s.day for s in best.slots] == [days[1]]
    # After the morning's visit and the drive from it.
    assert best.slots[0].start > time(12, 0)


def test_the_orders_own_visit_is_what_moves(app, make_user, planner, week):
    sunday, days = week
    anna = technician_at(make_user, "Anna", UTRECHT)
    days_off(anna, days[1], days[4])
    order = order_at("CC-2026-01006")
    # Seven hours on Monday: were the visit kept, Anna's day would have no room for
    # another seven.
    plan(order, [anna], days[0], time(9), time(16), planner)
    db.session.refresh(order)
    assert order.status == OrderStatus.SCHEDULED

    best = best_slots(order, sunday, working_days=5)

    assert [(s.lead, s.day) for s in best.slots] == [(anna, days[0])]
    assert best.seen_version == 1


def test_a_two_person_visit_gets_a_crew_with_the_skill_leading(app, make_user, week):
    sunday, days = week
    helper = technician_at(make_user, "Bram Hulp", UTRECHT, skills=())
    lead = technician_at(make_user, "Anna Alfen", UTRECHT)
    days_off(helper, days[1], days[4])
    order = order_at("CC-2026-01007", crew_size=2)

    best = best_slots(order, sunday, working_days=5)

    assert [(s.technicians, s.day) for s in best.slots] == [((lead, helper), days[0])]


@pytest.mark.parametrize(
    "setup, reason, words",
    [
        ("not_on_the_map", NO_PLACE, "staat nog niet op de kaart"),
        ("untrained", NO_SKILL, "Geen monteur is opgeleid voor easee"),
        ("everyone_off", NO_TIME, "in de komende 5 werkdagen"),
        ("later_date", PREFERS_LATER, "De klant wil liever"),
        ("not_approved", CLOSED, "niet worden gepland"),
    ],
)
def test_no_slot_says_why(app, make_user, week, setup, reason, words):
    sunday, days = week
    anna = technician_at(make_user, "Anna", UTRECHT)
    zeno = technician_at(make_user, "Zeno", ZWOLLE)
    order = {
        "not_on_the_map": lambda: order_at("CC-2026-01020", place=None),
        "untrained": lambda: order_at("CC-2026-01020", brand="Easee"),
        "everyone_off": lambda: order_at("CC-2026-01020"),
        "later_date": lambda: order_at(
            "CC-2026-01020", preferences={"preferred_date": (days[4] + timedelta(30)).isoformat()}
        ),
        "not_approved": lambda: order_at("CC-2026-01020"),
    }[setup]()
    if setup == "everyone_off":
        days_off(anna, days[0], days[4])
        days_off(zeno, days[0], days[4])
    if setup == "not_approved":
        order.status = OrderStatus.QUOTE_SENT
        db.session.commit()

    with app.test_request_context(headers={"Accept-Language": "nl"}):
        best = best_slots(order, sunday, working_days=5)
        assert best.slots == []
        assert best.reason == reason
        assert words in best.why_none, best.why_none
