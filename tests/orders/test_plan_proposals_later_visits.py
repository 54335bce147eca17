"""A proposal plans an order's later visit too (a second day, a return visit the
technician asked for): on a day after the visit before it, never on or before it.
Accepting it plans that visit alone, told to everyone once as a plan made by hand
would be; a later visit with no day left after its first is named on the board."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.mobile.visits import complete_visit
from app.orders.planning.services import add_visit, visit_of
from app.platform.extensions import db
from app.platform.models import (
    CalendarEvent,
    CommunicationMessage,
    Order,
    OutboundDelivery,
    PlanProposal,
    Visit,
    VisitNotice,
)
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.orders import test_plan_proposals as proposals
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import plan_form, working_day
from tests.support.visits_support import plan_number

# The proposal tests' planner, and their technician starting from Utrecht.
planner = proposals.planner
tech = proposals.tech


@pytest.fixture
def pushes(monkeypatch):
    """The technicians' pushes queued, as (kind, technician id)."""
    queued = []
    monkeypatch.setattr("app.orders.mobile.listeners.push_enabled", lambda: True)
    monkeypatch.setattr("app.orders.mobile.listeners.has_subscription", lambda user_id: True)
    monkeypatch.setattr(
        "app.orders.mobile.listeners.enqueue",
        lambda path, *args, **kw: queued.append((path.rsplit(".", 1)[-1], args[1])),
    )
    return queued


def _with_return_visit(app, number, first_day, tech, planner, **fields) -> Order:
    """An order whose visit 1 is planned on ``first_day`` and which needs one more,
    not yet planned, as when the technician taps "ready for now, return needed"."""
    order = proposals._order_at(number, proposals.NEAR[0], **fields)
    plan_number(order, 1, [tech], first_day, planner)
    order = db.session.get(Order, order.id)
    add_visit(order, "missing_part", planner)
    commit()
    drain_queues(app)
    return db.session.get(Order, order.id)


def _visits(order) -> list[Visit]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Visit).where(Visit.order_id == order.id).order_by(Visit.number)
        )
    )


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _board(client, proposal, day) -> str:
    year, week, _ = day.isocalendar()
    url = f"/planning/?week={year}-W{week:02d}&proposal={proposal.id}"
    return client.get(url).get_data(as_text=True)


def test_a_later_visit_is_proposed_after_its_first_and_accepted_alone(
    app, client, planner, tech, pushes
):
    partner = make_partner(
        webhook_url="https://partner.example/hook", webhook_events=["visit_scheduled"]
    )
    first_day = working_day(7)
    order = _with_return_visit(
        app,
        "CC-2026-01001",
        first_day,
        tech,
        planner,
        partner_organization_id=partner.organization.id,
        partner_order_id="GRO-1001",
    )
    order.status = OrderStatus.IN_PROGRESS  # the technician started visit 1
    db.session.commit()
    one_before = _visits(order)[0]
    before = {
        "messages": _count(CommunicationMessage),
        "deliveries": _count(OutboundDelivery),
        "notices": _count(VisitNotice),
        "events": _count(CalendarEvent),
    }
    pushes.clear()

    # Days from before visit 1 to well after it: only those after it will do.
    start = working_day(3)
    proposal, _ = proposals._made(app, client, start, start + timedelta(days=11))
    [proposed] = proposal.visits
    assert (proposed.order_id, proposed.visit_number) == (order.id, 2)
    assert proposed.day > first_day
    assert proposed.seen_version == 1 and proposed.technician_ids == [str(tech.id)]

    # On the board: a ghost card named as the order's real cards are, "2/2".
    board = _board(client, proposal, proposed.day)
    assert board.count('data-testid="proposal-ghost"') == 1
    assert 'data-order="CC-2026-01001" data-visit="2"' in board
    assert 'title="Bezoek 2 van 2" data-testid="visit-of">2/2</span>' in board

    answer = proposals._accept(client, proposal, proposed.day, day=proposed.day.isoformat())
    assert answer.status_code == 303
    drain_queues(app)
    one, two = _visits(order)
    assert (two.scheduled_date, two.window_start, two.version) == (
        proposed.day,
        proposed.window_start,
        2,
    )
    assert two.technician_ids == [tech.id]
    # Visit 1 as it was, and the order still under way.
    assert (one.scheduled_date, one.version, one.window_text) == (
        first_day,
        1,
        one_before.window_text,
    )
    assert db.session.get(Order, order.id).status == OrderStatus.IN_PROGRESS
    assert db.session.get(PlanProposal, proposal.id).visits[0].decision == "accepted"
    # Once each, for visit 2: the customer's message, the partner, the phone, the calendar.
    assert _count(CommunicationMessage) == before["messages"] + 1
    assert _count(VisitNotice) == before["notices"] + 1
    assert _count(VisitNotice, VisitNotice.visit_id == two.id) == 1
    [callback] = db.session.scalars(
        sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at.desc()).limit(1)
    )
    assert _count(OutboundDelivery) == before["deliveries"] + 1
    assert callback.event_type == "visit_scheduled"
    assert (callback.payload["visit"]["number"], callback.payload["visit"]["date"]) == (
        2,
        proposed.day.isoformat(),
    )
    assert pushes == [("push_visit_planned", str(tech.id))]
    assert _count(CalendarEvent) == before["events"] + 1
    [event] = db.session.scalars(sa.select(CalendarEvent).where(CalendarEvent.visit_number == 2))
    assert event.order_id == order.id and event.technician_id == tech.id


def test_a_later_visit_with_no_day_after_its_first_is_named_on_the_board(
    app, client, planner, tech
):
    first_day = working_day(7)
    order = _with_return_visit(app, "CC-2026-01002", first_day, tech, planner)
    proposal, board_url = proposals._made(app, client, first_day - timedelta(days=2), first_day)
    assert proposal.status == "ready" and proposal.visits == []
    assert proposal.summary["unplanned"] == {f"{order.id}:2": "no_days"}

    page = client.get(board_url).get_data(as_text=True)
    assert page.count('data-testid="proposal-unplanned-order"') == 1
    assert "CC-2026-01002</a> (Bezoek 2 van 2)" in page
    assert "het bezoek ervoor is op of na de laatste van deze dagen" in page


def test_a_later_visit_planned_by_hand_meanwhile_is_refused_with_its_reason(
    app, client, planner, tech
):
    first_day = working_day(7)
    order = _with_return_visit(app, "CC-2026-01003", first_day, tech, planner)
    start = working_day(3)
    proposal, board_url = proposals._made(app, client, start, start + timedelta(days=11))
    [proposed] = proposal.visits
    assert proposed.visit_number == 2

    # A colleague plans the return visit by hand first.
    by_hand = working_day(12)
    path = f"/planning/orders/{order.order_number}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    form = plan_form([tech], by_hand, "13:00", "15:00", version=1, visit="2")
    assert client.post(path, data={**form, "csrf_token": token}).status_code == 303
    drain_queues(app)
    notices = _count(VisitNotice)

    answer = proposals._accept(client, proposal, proposed.day, visit=str(proposed.id))
    assert answer.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    [decided] = db.session.get(PlanProposal, proposal.id).visits
    assert decided.decision == "refused" and "na dit voorstel" in decided.reason
    one, two = _visits(order)
    assert (one.scheduled_date, one.version) == (first_day, 1)
    assert (two.scheduled_date, two.version, two.window_text) == (by_hand, 2, "13:00-15:00")
    assert _count(VisitNotice) == notices


def test_the_return_visit_a_technician_asked_for_is_proposed_and_becomes_the_orders_day(
    app, client, planner, tech
):
    first_day = working_day(7)
    order = proposals._order_at("CC-2026-01004", proposals.NEAR[1])
    plan_number(order, 1, [tech], first_day, planner)
    order = db.session.get(Order, order.id)
    # On the phone: "ready for now, return needed" (a part is missing).
    complete_visit(order, tech, visit_of(order, 1), return_purpose="missing_part")
    commit()
    drain_queues(app)

    start = working_day(3)
    proposal, _ = proposals._made(app, client, start, start + timedelta(days=11))
    [proposed] = proposal.visits
    assert (proposed.visit_number, proposed.seen_version) == (2, 1)
    assert proposed.day > first_day
    answer = proposals._accept(client, proposal, proposed.day, visit=str(proposed.id))
    assert answer.status_code == 303
    drain_queues(app)
    one, two = _visits(order)
    assert one.completed_at is not None and one.scheduled_date == first_day
    assert two.scheduled_date == proposed.day
    # The order under way now waits for its return visit: its day is that visit's.
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.IN_PROGRESS and order.scheduled_date == proposed.day
    assert _count(VisitNotice, VisitNotice.visit_id == two.id) == 1
