"""A technician's route list, printed from the board for a day or a week: the board's
own route (the same order, drives and arrivals), with what the technician needs at
each address."""

from __future__ import annotations

import re
import uuid
from datetime import time, timedelta
from decimal import Decimal

import pytest

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_board, week_key
from app.orders.planning.hours import public_holiday
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import TechnicianBase
from app.platform.transactions import commit
from tests.support.planning_support import approved_order, working_day

UTRECHT = ("52.090700", "5.121400")
AMERSFOORT = ("52.155200", "5.387200")


@pytest.fixture
def planner(make_user, auth):
    user = make_user("agent", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def daan(make_user):
    user = make_user("technician", skills=["alfen"], language="nl")
    user.name = "Daan Mulder"
    db.session.add(
        TechnicianBase(
            user_id=user.id,
            start_label="Symfonielaan 8, 3438EX Nieuwegein",
            start_postal_code="3438EX",
            start_house_number="8",
            start_latitude=Decimal("52.029470"),
            start_longitude=Decimal("5.091150"),
        )
    )
    db.session.commit()
    return user


@pytest.fixture
def ruben(make_user):
    user = make_user("technician", skills=["alfen"], language="nl")
    user.name = "Ruben de Jong"
    db.session.commit()
    return user


def _plan(planner, number, place, day, window, crew, customer, notes=None):
    order = approved_order(number, contact_fields={"display_name": customer})
    address = order.installation_address
    address.latitude, address.longitude = (Decimal(v) for v in place)
    db.session.commit()
    save_plan(
        order,
        PlanRequest(
            day=day,
            window_start=time(*window[0]),
            window_end=time(*window[1]),
            technician_ids=tuple(t.id for t in crew),
            duration_minutes=90,
            materials="1× Alfen Eve Single 11 kW\nKabel 15 m",
            technician_notes=notes,
            seen_version=0,
            override=True,
        ),
        planner,
        local_today(),
    )
    commit()
    return order


@pytest.fixture
def week(planner, daan, ruben):
    """Daan's week: two visits on one day (Ruben along on the second), one on the next."""
    day = working_day(7)
    # Another working day of that week, after it if there is one.
    others = [day + timedelta(days=n) for n in (1, 2, 3, -1, -2, -3)]
    other = next(
        d
        for d in others
        if d.weekday() < 5 and d.isocalendar()[1] == day.isocalendar()[1] and not public_holiday(d)
    )
    first = _plan(planner, "CC-2026-00901", UTRECHT, day, ((8, 0), (10, 0)), [daan], "Eva de Boer")
    second = _plan(
        planner,
        "CC-2026-00902",
        AMERSFOORT,
        day,
        ((11, 0), (13, 0)),
        [daan, ruben],
        "Sem Visser",
        notes="Hond in de tuin",
    )
    third = _plan(
        planner, "CC-2026-00903", UTRECHT, other, ((9, 0), (12, 0)), [daan], "Noor Bakker"
    )
    return day, other, (first, second, third)


def _sections(page: str) -> list[str]:
    return page.split('data-testid="route-day"')[1:]


def test_the_week_lists_each_day_with_visits_as_the_board_drives_it(app, client, daan, ruben, week):
    day, other, (first, second, third) = week
    monday = day - timedelta(days=day.weekday())
    answer = client.get(f"/planning/technicians/{daan.id}/route?week={week_key(monday)}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Routelijst van Daan Mulder" in page and 'data-testid="route-print"' in page
    sections = _sections(page)
    assert [re.search(r'data-day="([\d-]+)"', s)[1] for s in sections] == sorted(
        [day.isoformat(), other.isoformat()]
    )
    section = sections[sorted([day, other]).index(day)]
    # The board's own numbers for that day.
    [row] = [r for r in week_board(monday).rows if r.technician.id == daan.id]
    driven = row.cells[day.weekday()].driven
    assert (
        "Vertrekpunt: <span data-user-content>Symfonielaan 8, 3438EX Nieuwegein</span>" in section
    )
    assert "vertrek om 08:00" in section
    assert section.index(first.order_number) < section.index(second.order_number)
    stops = section.split('data-testid="route-stop"')[1:]
    for stop, order in zip(stops, (first, second), strict=True):
        drive = driven.drives[order.id]
        assert f"{drive.minutes} min rijden" in stop
        assert f'data-testid="route-arrival">{drive.arrival:%H:%M}<' in stop
        assert "90 min" in stop and "Stationsstraat 12 A, 3511 AB Utrecht" in stop
        assert 'href="tel:+31612345678"' in stop
        assert "1× Alfen Eve Single 11 kW\nKabel 15 m" in stop
    assert "08:00-10:00" in stops[0] and "Eva de Boer" in stops[0]
    assert "Sem Visser" in stops[1] and "Hond in de tuin" in stops[1]
    assert 'data-testid="route-crew">Daan Mulder, Ruben de Jong<' in stops[1]
    assert 'data-testid="route-crew">Daan Mulder<' in stops[0]
    totals = section[section.index('data-testid="route-totals"') :]
    assert "2 bezoeken" in totals and "werk 3 u 0 min" in totals
    assert f"thuis om {driven.home.arrival:%H:%M}" in totals
    assert "Terug naar Symfonielaan 8, 3438EX Nieuwegein" in section
    assert third.order_number in page


def test_one_day_from_its_cell_and_an_empty_day_says_so(app, client, daan, week):
    day, other, (first, _second, third) = week
    page = client.get(f"/planning/technicians/{daan.id}/route?day={other.isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and len(_sections(text)) == 1
    assert third.order_number in text and first.order_number not in text
    sunday = day + timedelta(days=6 - day.weekday())
    empty = client.get(f"/planning/technicians/{daan.id}/route?day={sunday.isoformat()}")
    assert "Geen bezoeken gepland op deze dag." in empty.get_data(as_text=True)


def test_the_board_links_each_technician_and_each_day_with_visits(app, client, daan, week):
    day, _other, _orders = week
    monday = day - timedelta(days=day.weekday())
    page = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    assert f'href="/planning/technicians/{daan.id}/route?week={week_key(monday)}"' in page
    assert f'href="/planning/technicians/{daan.id}/route?day={day.isoformat()}"' in page


@pytest.mark.parametrize(
    ("query", "status", "dutch"),
    [
        ("week=2026-W99", 400, "Week: "),
        ("week=volgende", 400, "Week: "),
        ("day=morgen", 400, "Dag: "),
        ("day=1899-01-02", 400, "Dag: "),
        ("day=2026-12-01&week=2026-W49", 400, "Dag en week: "),
    ],
)
def test_a_bad_day_or_week_is_refused_naming_it(app, client, planner, daan, query, status, dutch):
    answer = client.get(f"/planning/technicians/{daan.id}/route?{query}")
    assert answer.status_code == status
    assert dutch in answer.get_data(as_text=True)


@pytest.mark.parametrize("technician", ["not-an-id", str(uuid.UUID(int=7)), "planner"])
def test_an_unknown_technician_is_404_naming_it(app, client, planner, technician):
    user_id = planner.id if technician == "planner" else technician  # a planner has no route
    answer = client.get(f"/planning/technicians/{user_id}/route")
    assert answer.status_code == 404
    assert "Monteur: er is geen monteur met dat id op het bord." in answer.get_data(as_text=True)


def test_technicians_may_not_open_route_lists(app, client, auth, daan):
    auth.login(daan.email)
    assert client.get(f"/planning/technicians/{daan.id}/route").status_code == 403
