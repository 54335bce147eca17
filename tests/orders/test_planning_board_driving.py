"""The board shows each technician's day as driven: the drive before each visit, the
day's minutes and kilometres, and a visit the drive makes late."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.orders.planning.board import week_board, week_key
from app.platform.extensions import db
from app.platform.models import TechnicianBase
from tests.support.helpers import csrf_token_from
from tests.support.planning_support import approved_order, plan_form, working_day

UTRECHT = (Decimal("52.090700"), Decimal("5.121400"))
AMSTERDAM = (Decimal("52.373100"), Decimal("4.893600"))


@pytest.fixture
def manager(make_user, auth):
    user = make_user("manager", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def tech(make_user):
    user = make_user("technician", skills=["alfen"], language="nl")
    db.session.add(
        TechnicianBase(
            user_id=user.id,
            start_label="Oudegracht 5a, 3511AB Utrecht",
            start_postal_code="3511AB",
            start_house_number="5a",
            start_latitude=UTRECHT[0],
            start_longitude=UTRECHT[1],
        )
    )
    db.session.commit()
    return user


def _order_at(number, place):
    order = approved_order(number)
    address = order.installation_address
    address.latitude, address.longitude = place if place else (None, None)
    db.session.commit()
    return order


def _plan(client, order, form):
    path = f"/planning/orders/{order.order_number}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    answer = client.post(path, data={**form, "csrf_token": token, "override": "1"})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]


def test_a_day_as_driven_with_a_visit_the_drive_makes_late(app, client, manager, tech):
    day = working_day()
    amsterdam = _order_at("CC-2026-00401", AMSTERDAM)
    utrecht = _order_at("CC-2026-00402", UTRECHT)
    nowhere = _order_at("CC-2026-00403", None)
    _plan(client, amsterdam, plan_form([tech], day, "08:00", "09:00"))
    # Two hours in Amsterdam from about 08:50, then back: this window cannot be met.
    _plan(client, utrecht, plan_form([tech], day, "10:00", "10:30"))
    _plan(client, nowhere, plan_form([tech], day, "15:00", "17:00"))

    monday = day - timedelta(days=day.weekday())
    db.session.expire_all()  # the plans were saved by the requests
    board = week_board(monday)
    [row] = [r for r in board.rows if r.technician.id == tech.id]
    cell = row.cells[day.weekday()]
    drives = cell.driven.drives
    # Utrecht to Amsterdam: ~35 km straight, 1.3 × that by road at 60 km/h, 5 min parking.
    there = drives[amsterdam.id]
    assert 40 <= there.kilometres <= 52 and 45 <= there.minutes <= 60
    assert not there.late and there.arrival.hour == 8
    back = drives[utrecht.id]
    assert back.late and back.arrival.hour == 11
    assert nowhere.id not in drives and cell.driven.unplaced == 1
    assert cell.driven.late == 1
    assert cell.driven.minutes == there.minutes + back.minutes

    page = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    row_html = page[page.index(f'data-technician="{tech.name}"') :]
    row_html = row_html[: row_html.index("</tr>")]
    assert row_html.count('data-testid="board-drive"') == 2
    assert "na het venster" in row_html and "geen plek op de kaart" in row_html
    assert 'data-testid="day-drive"' in row_html and "Rijden 1 u" in row_html


def test_without_a_base_the_first_visit_has_no_drive(app, client, manager, make_user):
    tech = make_user("technician", skills=["alfen"], language="nl")
    day = working_day()
    first = _order_at("CC-2026-00411", UTRECHT)
    second = _order_at("CC-2026-00412", AMSTERDAM)
    _plan(client, first, plan_form([tech], day, "08:00", "10:00"))
    _plan(client, second, plan_form([tech], day, "13:00", "17:00"))
    db.session.expire_all()  # the plans were saved by the requests
    board = week_board(day - timedelta(days=day.weekday()))
    [row] = [r for r in board.rows if r.technician.id == tech.id]
    driven = row.cells[day.weekday()].driven
    assert first.id not in driven.drives and driven.home is None
    assert not driven.drives[second.id].late
