"""A proposed plan: the route solver plans the orders still to plan around the visits
already planned; the planner accepts all, a day or one visit, each saved as a plan
made by hand (one customer message, one partner callback), and a plan changed in
the meantime is refused with its reason."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.orders.planning.proposals.making import make_proposal
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Order,
    OutboundDelivery,
    PlanProposal,
    ProposalVisit,
    TechnicianBase,
    Visit,
    VisitNotice,
)
from app.platform.models.enums import OrderStatus
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, plan_form, working_day

UTRECHT = (Decimal("52.090700"), Decimal("5.121400"))
# Around Utrecht, a few kilometres apart; Groningen is two hours away.
NEAR = [
    (Decimal("52.100000"), Decimal("5.110000")),
    (Decimal("52.080000"), Decimal("5.140000")),
    (Decimal("52.070000"), Decimal("5.090000")),
]
GRONINGEN = (Decimal("53.219400"), Decimal("6.566500"))


@pytest.fixture
def planner(make_user, auth):
    user = make_user("team_lead", language="nl")
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


def _order_at(number, place, brand="Alfen", preferences=None, **fields):
    # Any time of day unless the test says otherwise (the support's order wants mornings).
    wishes = {"time_window": None, **(preferences or {})}
    order = approved_order(number, brand=brand, preferences=wishes, **fields)
    address = order.installation_address
    address.latitude, address.longitude = place if place else (None, None)
    db.session.commit()
    return order


def _token(client, day):
    return csrf_token_from(client.get(f"/planning/?week={_week(day)}").get_data(as_text=True))


def _week(day):
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _ask(client, first, last, **extra):
    return client.post(
        "/planning/proposals/",
        data={
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "week": _week(first),
            "csrf_token": _token(client, first),
            **extra,
        },
    )


def _made(app, client, first, last, **extra):
    answer = _ask(client, first, last, **extra)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:800]
    proposal_id = answer.headers["Location"].split("proposal=")[1]
    drain_queues(app)
    db.session.expire_all()
    return db.session.get(PlanProposal, uuid.UUID(proposal_id)), answer.headers["Location"]


def _accept(client, proposal, week_of, **scope):
    return client.post(
        f"/planning/proposals/{proposal.id}/accept",
        data={"csrf_token": _token(client, week_of), **scope},
    )


def test_a_proposal_plans_what_it_can_and_says_why_not_the_rest(app, client, planner, tech):
    day = working_day()
    near = [_order_at(f"CC-2026-0050{i}", place) for i, place in enumerate(NEAR)]
    nowhere = _order_at("CC-2026-00510", None)
    untrained = _order_at("CC-2026-00511", NEAR[0], brand="Easee")
    later = _order_at(
        "CC-2026-00512",
        NEAR[1],
        preferences={"preferred_date": (day + timedelta(days=30)).isoformat()},
    )

    proposal, board_url = _made(app, client, day, day)
    assert proposal.status == "ready" and proposal.progress == 100
    visits = {v.order_id: v for v in proposal.visits}
    assert set(visits) == {order.id for order in near}
    for visit in visits.values():
        assert visit.day == day and visit.technician_ids == [str(tech.id)]
        assert visit.seen_version == 0 and visit.decision == "proposed"
    # One technician: the three visits one after the other, none overlapping.
    spans = sorted((v.window_start, v.window_end) for v in visits.values())
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert proposal.summary["unplanned"] == {
        str(nowhere.id): "no_place",
        str(untrained.id): "no_skill",
        str(later.id): "prefers_later",
    }
    # Nothing is planned until the planner accepts.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0

    page = client.get(board_url).get_data(as_text=True)
    assert page.count('data-testid="proposal-ghost"') == 3
    assert 'data-testid="proposal-figures"' in page and "3 bezoeken voorgesteld" in page
    assert "CC-2026-00510" in page and "staat niet op de kaart" in page
    assert "de klant wil liever een latere datum" in page


def test_accepting_a_day_plans_each_visit_once_and_tells_everyone_once(app, client, planner, tech):
    partner = make_partner(
        webhook_url="https://partner.example/hook", webhook_events=["visit_scheduled"]
    )
    day = working_day()
    orders = [
        _order_at(
            f"CC-2026-0060{i}",
            place,
            partner_organization_id=partner.organization.id,
            partner_order_id=f"GRO-6{i}",
        )
        for i, place in enumerate(NEAR)
    ]
    proposal, _ = _made(app, client, day, day)
    answer = _accept(client, proposal, day, day=day.isoformat())
    assert answer.status_code == 303
    # A second click (or a colleague's) finds nothing left to accept.
    assert _accept(client, proposal, day).status_code == 303
    drain_queues(app)
    db.session.expire_all()
    for order in orders:
        order = db.session.get(Order, order.id)
        assert order.status == OrderStatus.SCHEDULED and order.scheduled_date == day
    assert {v.decision for v in db.session.get(PlanProposal, proposal.id).visits} == {"accepted"}
    events = [d.event_type for d in db.session.scalars(sa.select(OutboundDelivery))]
    assert sorted(events) == ["visit_scheduled"] * 3
    notices = db.session.scalars(sa.select(VisitNotice)).all()
    assert len(notices) == 3 and all(n.sent_at is not None for n in notices)


def test_a_plan_changed_meanwhile_is_refused_with_its_reason(app, client, planner, tech):
    day = working_day()
    first, second, third = (_order_at(f"CC-2026-0070{i}", p) for i, p in enumerate(NEAR))
    proposal, board_url = _made(app, client, day, day)
    # A colleague plans one of the proposed orders by hand, another day.
    other_day = working_day(14)
    path = f"/planning/orders/{second.order_number}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    moved = client.post(path, data={**plan_form([tech], other_day), "csrf_token": token})
    assert moved.status_code == 303

    answer = _accept(client, proposal, day)
    assert answer.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    decided = {v.order_id: v for v in db.session.get(PlanProposal, proposal.id).visits}
    assert decided[first.id].decision == decided[third.id].decision == "accepted"
    assert decided[second.id].decision == "refused"
    assert "na dit voorstel" in decided[second.id].reason
    # The colleague's plan stands, told once.
    assert db.session.get(Order, second.id).scheduled_date == other_day
    visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == second.id))
    assert visit.version == 1
    kinds = db.session.scalars(sa.select(VisitNotice.visit_id)).all()
    assert len(kinds) == 3 and len(set(kinds)) == 3
    page = client.get(board_url).get_data(as_text=True)
    assert "niet ingepland" in page.lower() or "na dit voorstel" in page


def test_planned_visits_stay_where_they_are(app, client, planner, tech):
    day = working_day()
    planned = _order_at("CC-2026-00801", NEAR[0])
    path = f"/planning/orders/{planned.order_number}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    form = plan_form([tech], day, "08:00", "12:00")
    assert client.post(path, data={**form, "csrf_token": token}).status_code == 303
    _order_at("CC-2026-00802", NEAR[1])
    _order_at("CC-2026-00803", GRONINGEN)
    proposal, _ = _made(app, client, day, day)
    [proposed] = [v for v in proposal.visits]
    # Only the afternoon was free, and the nearby order is the one that fits it.
    assert proposed.order_id != planned.id
    assert proposed.window_start.hour >= 12
    assert db.session.get(Order, planned.id).scheduled_date == day


def test_visits_moved_by_the_proposal_make_way_for_each_other_when_accepted(
    app, client, planner, tech
):
    """A planned visit proposed into the old place of another planned visit that the
    same proposal moves on: accepted once that one has moved, not refused as a clash."""
    day = working_day()
    # Planned by hand against the customer's wish (afternoons), then the nearby one.
    afternoon = _order_at("CC-2026-00821", NEAR[2], preferences={"time_window": "middag"})
    nearby = _order_at("CC-2026-00822", NEAR[0])
    for order, (start, end) in ((afternoon, ("08:00", "10:00")), (nearby, ("13:00", "15:00"))):
        path = f"/planning/orders/{order.order_number}"
        token = csrf_token_from(client.get(path).get_data(as_text=True))
        form = plan_form([tech], day, start, end)
        assert client.post(path, data={**form, "csrf_token": token}).status_code == 303
    drain_queues(app)
    proposal, _ = _made(app, client, day, day, free_planned="1")
    proposed = {v.order_id: v for v in proposal.visits}
    # The afternoon customer goes where the nearby visit was: it moves on, later.
    assert proposed[afternoon.id].window_start.hour >= 12
    assert proposed[afternoon.id].window_start < proposed[nearby.id].window_start

    assert _accept(client, proposal, day).status_code == 303
    drain_queues(app)
    db.session.expire_all()
    decided = db.session.get(PlanProposal, proposal.id).visits
    assert {(v.decision, v.reason) for v in decided} == {("accepted", None)}
    for order in (afternoon, nearby):
        visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id))
        assert (visit.window_start, visit.version) == (proposed[order.id].window_start, 2)
    # Each customer told of the new time once.
    kinds = db.session.scalars(sa.select(VisitNotice.kind).order_by(VisitNotice.kind)).all()
    assert kinds == ["moved", "moved", "planned", "planned"]


def test_a_job_delivered_twice_solves_once_and_a_dead_workers_proposal_is_taken_over(
    app, client, planner, tech
):
    day = working_day()
    _order_at("CC-2026-00901", NEAR[0])
    proposal, _ = _made(app, client, day, day)
    made_at = proposal.finished_at
    make_proposal(str(proposal.id))  # the same job again: the proposal is no longer queued
    db.session.expire_all()
    assert db.session.get(PlanProposal, proposal.id).finished_at == made_at
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProposalVisit)) == 1

    # A worker that died mid-solve: running, its heartbeat long gone.
    stuck = PlanProposal(
        first_day=day,
        last_day=day,
        status="running",
        step="solving",
        progress=40,
        claim_token=uuid.uuid4(),
        heartbeat_at=utcnow() - timedelta(minutes=10),
    )
    db.session.add(stuck)
    db.session.commit()
    make_proposal(str(stuck.id))
    db.session.expire_all()
    taken = db.session.get(PlanProposal, stuck.id)
    assert taken.status == "ready" and len(taken.visits) == 1


@pytest.mark.parametrize(
    ("first", "last", "field", "dutch"),
    [
        ("2026-13-01", "2026-12-01", "first_day", "JJJJ-MM-DD"),
        (None, -1, "last_day", "ligt vóór de eerste"),
        (None, 20, "last_day", "hoogstens 14 dagen"),
        ("", None, "first_day", "Kies een dag"),
    ],
)
def test_what_a_proposal_cannot_be_asked_is_named_on_the_board(
    app, client, planner, tech, first, last, field, dutch
):
    day = working_day()
    first_text = first if isinstance(first, str) else day.isoformat()
    last_text = (day + timedelta(days=last)).isoformat() if isinstance(last, int) else "2026-12-01"
    answer = client.post(
        "/planning/proposals/",
        data={
            "first_day": first_text,
            "last_day": last_text,
            "week": _week(day),
            "csrf_token": _token(client, day),
        },
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422, page[:500]
    assert f'data-field="{field}"' in page and dutch in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlanProposal)) == 0


def test_technicians_may_not_ask_or_accept(app, client, auth, tech):
    auth.login(tech.email)
    day = working_day()
    answer = client.post(
        "/planning/proposals/", data={"first_day": day.isoformat(), "last_day": day.isoformat()}
    )
    assert answer.status_code in (400, 403)


def test_an_orders_second_day_is_pinned_and_stays_even_when_planned_visits_are_freed(
    app, client, planner, tech
):
    first_day, second_day = working_day(), working_day(8)
    large = _order_at("CC-2026-00811", NEAR[0])
    path = f"/planning/orders/{large.order_number}"
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    full_day = plan_form([tech], first_day, "08:00", "12:00")
    assert client.post(path, data={**full_day, "csrf_token": token}).status_code == 303
    added = client.post(f"{path}/visits", data={"purpose": "second_day", "csrf_token": token})
    assert added.status_code == 303
    second = plan_form([tech], second_day, "08:00", "12:00", version=1, visit="2")
    assert client.post(path, data={**second, "csrf_token": token}).status_code == 303
    _order_at("CC-2026-00812", NEAR[1])

    # Freeing planned visits frees neither day of the two-day job: the new order
    # finds both of the technician's mornings taken, and goes after one.
    proposal, _ = _made(app, client, first_day, second_day, free_planned="1")
    proposed = {v.order_id: v for v in proposal.visits}
    assert large.id not in proposed
    [other] = proposed.values()
    assert other.day in (first_day, second_day) and other.window_start.hour >= 12
    visits = db.session.scalars(
        sa.select(Visit).where(Visit.order_id == large.id).order_by(Visit.number)
    ).all()
    assert [(v.number, v.scheduled_date) for v in visits] == [(1, first_day), (2, second_day)]
