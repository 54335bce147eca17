"""An order with more than one visit, as the planner plans it: a second day for a
large job, a return visit for a missing part or after the grid operator's
meter-box change. Each visit has its own plan, card, customer message and
partner event; the order's own day and technician stay its current visit's."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.partner_events import VISIT_RESCHEDULED
from app.platform.extensions import db
from app.platform.models import Order, OutboundDelivery, Visit, VisitNotice
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, plan_form, working_day


@pytest.fixture
def planner(make_user, auth):
    user = make_user("team_lead", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def tech(make_user):
    return make_user("technician", skills=["alfen", "zaptec"], language="nl")


@pytest.fixture
def partner_order():
    partner = make_partner(
        webhook_url="https://partner.example/hook",
        webhook_events=["visit_scheduled", VISIT_RESCHEDULED, "installation_started"],
    )
    return approved_order(
        partner_organization_id=partner.organization.id, partner_order_id="GRO-77"
    )


def _post(client, order, form, path=""):
    page = client.get(f"/planning/orders/{order.order_number}")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        f"/planning/orders/{order.order_number}{path}", data={**form, "csrf_token": token}
    )


def _fresh(order) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order.id)


def _visits(order) -> list[Visit]:
    return list(
        db.session.scalars(
            sa.select(Visit).where(Visit.order_id == order.id).order_by(Visit.number)
        )
    )


def _callbacks() -> list[tuple[str, dict | None]]:
    rows = db.session.scalars(sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at))
    return [(row.event_type, row.payload.get("visit")) for row in rows]


def _planned_with_second_day(app, client, tech, order):
    """The first visit planned, then a second day added and planned two days later."""
    first_day = working_day()
    assert _post(client, order, plan_form([tech], first_day)).status_code == 303
    added = _post(client, order, {"purpose": "second_day"}, "/visits")
    assert added.status_code == 303, added.get_data(as_text=True)
    assert added.headers["Location"].endswith(f"/orders/{order.order_number}?visit=2#planning")
    second_day = working_day(9)
    form = plan_form([tech], second_day, "08:00", "16:00", version=1, visit="2")
    answer = _post(client, order, form)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    drain_queues(app)
    return first_day, second_day


def test_a_second_day_is_planned_on_its_own_and_the_order_keeps_its_first_day(
    app, client, planner, tech, partner_order
):
    first_day, second_day = _planned_with_second_day(app, client, tech, partner_order)

    order = _fresh(partner_order)
    first, second = _visits(order)
    assert (first.number, first.purpose, first.scheduled_date) == (1, None, first_day)
    assert (second.number, second.purpose, second.scheduled_date) == (2, "second_day", second_day)
    assert second.window_text == "08:00-16:00" and second.technician_ids == [tech.id]
    # The order is scheduled by its first visit, and its day stays the first's.
    assert order.status == OrderStatus.SCHEDULED
    assert order.scheduled_date == first_day and order.visit.id == first.id

    # The partner heard of each visit once, each with its number.
    assert [(event, visit["number"], visit["date"]) for event, visit in _callbacks()] == [
        ("visit_scheduled", 1, first_day.isoformat()),
        ("visit_scheduled", 2, second_day.isoformat()),
    ]
    assert _callbacks()[1][1]["purpose"] == "second_day"
    # The customer got one message per visit.
    notices = db.session.scalars(sa.select(VisitNotice).order_by(VisitNotice.created_at)).all()
    assert [(n.visit_id, n.kind) for n in notices] == [
        (first.id, "planned"),
        (second.id, "planned"),
    ]
    assert all(n.sent_at is not None for n in notices)


def test_the_board_shows_each_visit_on_its_own_day_and_moves_only_the_one_dragged(
    app, client, planner, tech, partner_order
):
    first_day, second_day = _planned_with_second_day(app, client, tech, partner_order)
    for day, number in ((first_day, 1), (second_day, 2)):
        monday = day.isocalendar()
        board = client.get(f"/planning/?week={monday[0]}-W{monday[1]:02d}").get_data(as_text=True)
        assert f'data-move-url="/planning/orders/{partner_order.order_number}' in board
        assert f">{number}/2</span>" in board

    # The second day moved on the board: only it moves, and the partner hears its number.
    later = working_day(10)
    week = later.isocalendar()
    page = client.get(f"/planning/?week={week[0]}-W{week[1]:02d}").get_data(as_text=True)
    token = csrf_token_from(page)
    moved = client.post(
        f"/planning/orders/{partner_order.order_number}/move?visit=2",
        data={
            "technician_id": str(tech.id),
            "day": later.isoformat(),
            "version": "2",
            "week": f"{week[0]}-W{week[1]:02d}",
            "csrf_token": token,
        },
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    drain_queues(app)
    first, second = _visits(_fresh(partner_order))
    assert first.scheduled_date == first_day and first.version == 1
    assert second.scheduled_date == later and second.previous_date == second_day
    event, visit = _callbacks()[-1]
    assert (event, visit["number"], visit["date"]) == (VISIT_RESCHEDULED, 2, later.isoformat())


def test_the_board_lists_a_later_visit_still_to_plan(app, client, planner, tech, partner_order):
    assert _post(client, partner_order, plan_form([tech], working_day())).status_code == 303
    assert _post(client, partner_order, {"purpose": "meter_box"}, "/visits").status_code == 303
    board = client.get("/planning/").get_data(as_text=True)
    assert f'data-order="{partner_order.order_number}" data-visit="2"' in board
    assert "Bezoek 2 van 2" in board and "na de meterkastwissel" in board
    # Its plan dialog opens on visit 2.
    section = client.get(
        f"/planning/orders/{partner_order.order_number}?visit=2",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'name="visit" value="2"' in section
    assert 'data-testid="plan-visit-1"' in section and 'data-testid="plan-visit-2"' in section


def test_an_order_under_way_plans_its_return_visit_but_not_the_visit_begun(
    app, client, planner, tech, partner_order
):
    first_day = working_day()
    assert _post(client, partner_order, plan_form([tech], first_day)).status_code == 303
    assert _post(client, partner_order, {"purpose": "missing_part"}, "/visits").status_code == 303
    order = _fresh(partner_order)
    order.status = OrderStatus.IN_PROGRESS  # the technician has started visit 1
    db.session.commit()

    again = _post(client, order, plan_form([tech], working_day(8), version=1, visit="1"))
    assert again.status_code == 422
    assert "Alleen goedgekeurde of ingeplande orders" in again.get_data(as_text=True)

    back = working_day(9)
    answer = _post(client, order, plan_form([tech], back, version=1, visit="2"))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    order = _fresh(order)
    assert order.status == OrderStatus.IN_PROGRESS  # no status of its own for a return
    assert order.scheduled_date == first_day
    assert _visits(order)[1].scheduled_date == back

    # Taken back: the order stays under way, the partner reads the visit without a date.
    cancelled = _post(client, order, {"version": "2", "visit": "2"}, "/cancel")
    assert cancelled.status_code == 303, cancelled.get_data(as_text=True)
    order = _fresh(order)
    assert order.status == OrderStatus.IN_PROGRESS and _visits(order)[1].scheduled_date is None
    event, visit = _callbacks()[-1]
    assert (event, visit["number"], visit["date"]) == (VISIT_RESCHEDULED, 2, None)


def test_a_visit_needs_a_known_reason_and_an_order_not_yet_done(
    app, client, planner, tech, partner_order
):
    refused = _post(client, partner_order, {"purpose": "coffee"}, "/visits")
    assert refused.status_code == 422
    assert "Reden: kies waarom de order nog een bezoek nodig heeft" in refused.get_data(
        as_text=True
    )
    assert _visits(partner_order) == []

    order = _fresh(partner_order)
    order.status = OrderStatus.COMPLETED
    order.completed_at = None
    db.session.commit()
    done = _post(client, order, {"purpose": "second_day"}, "/visits")
    assert done.status_code == 422
    assert _visits(order) == []
    # A link naming no visit number shows the current visit, not a server error.
    wrong = client.get(f"/planning/orders/{order.order_number}?visit=abc")
    assert wrong.status_code == 200


def test_an_order_completed_from_the_desk_leaves_no_visit_open(
    app, client, planner, tech, partner_order
):
    first_day = working_day()
    assert _post(client, partner_order, plan_form([tech], first_day)).status_code == 303
    assert _post(client, partner_order, {"purpose": "missing_part"}, "/visits").status_code == 303
    order = _fresh(partner_order)
    change_entity_status(order, OrderStatus.IN_PROGRESS, "started")
    change_entity_status(order, OrderStatus.COMPLETED, "done by phone call")
    commit()

    order = _fresh(order)
    assert [v.completed_at is not None for v in _visits(order)] == [True, True]
    board = client.get("/planning/").get_data(as_text=True)
    assert f'data-order="{order.order_number}"' not in board
    again = _post(client, order, plan_form([tech], working_day(9), version=1, visit="2"))
    assert again.status_code == 422


def test_a_form_naming_no_visit_of_the_order_is_refused_and_adds_none(
    app, client, planner, tech, partner_order
):
    day = working_day()
    # A visit number that is no number, or one the order does not have.
    for visit, status in (("abc", 422), ("5", 422)):
        answer = _post(client, partner_order, plan_form([tech], day, visit=visit))
        assert answer.status_code == status, visit
        assert "Bezoek: deze order heeft zo'n bezoek niet" in html.unescape(
            answer.get_data(as_text=True)
        )
    cancelled = _post(client, partner_order, {"version": "0", "visit": "5"}, "/cancel")
    assert cancelled.status_code == 422
    moved = client.post(
        f"/planning/orders/{partner_order.order_number}/move?visit=x",
        data={"csrf_token": csrf_token_from(client.get("/planning/").get_data(as_text=True))},
    )
    assert moved.status_code == 400 and "visit" in moved.get_json()["error"]["fields"]
    assert _visits(partner_order) == []


def test_a_later_visits_section_says_the_preferred_date_was_the_first_visits(
    app, client, planner, tech
):
    wished = working_day(8)
    order = approved_order(preferences={"preferred_date": wished.isoformat()})
    assert _post(client, order, plan_form([tech], wished)).status_code == 303
    assert _post(client, order, {"purpose": "missing_part"}, "/visits").status_code == 303

    def wishes(number):
        section = client.get(
            f"/planning/orders/{order.order_number}?visit={number}",
            headers={"HX-Request": "true"},
        ).get_data(as_text=True)
        start = section.index('data-testid="plan-preferences"')
        return section[start : section.index("</aside>", start)]

    first, later = wishes(1), wishes(2)
    assert "Voorkeursdatum" in first and "voor het eerste bezoek" not in first
    assert "(voor het eerste bezoek)" in later
    # The part of day still holds for the return visit, as the customer said it.
    assert "ochtend" in later
