"""Two planners at once: A accepts a whole proposal while B plans some of its orders
by hand, on the deployment (``python wsgi.py`` and two ``python worker.py`` on
PostgreSQL and Redis), each planner in their own browser session.

For every order both reach at the same moment exactly one of them wins: A's proposed
visit is accepted and B is told someone else changed the plan (409), or B's plan stands
and A's visit is refused with "changed after this proposal". Three rounds, each on days
of its own: two where the orders had no plan (B plans them in the plan dialog; the
order's one visit row decides), and one where the proposal moves visits already
planned (B drags them on the board; the plan's version decides). B contests the first,
a middle and the last visit A accepts, so either can win. Once the workers are done,
every plan was told once: one customer message per plan version, one partner callback
per order and event, one calendar event per order, in its technician's calendar.
"""

from __future__ import annotations

import threading
import time as clock
import uuid
from collections import Counter
from datetime import time, timedelta
from functools import partial

import pytest
import requests
import sqlalchemy as sa

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import CalendarEvent, PlanProposal, ProposalVisit, Visit
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.helpers import PASSWORD, csrf_token_from
from tests.support.live_server import signed_in_session
from tests.support.planning_support import plan_form, working_day
from tests.support.proposal_support import (
    PLACES,
    app_beside_deployment,
    customer_order,
    graph_for_deployment,
    outlook_channel,
    partner_calling_back,
    partner_receiver,
    technician,
    told,
    workers_idle,
)
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

graph = pytest.fixture(graph_for_deployment, name="graph")
receiver = pytest.fixture(partner_receiver, name="receiver")
app = pytest.fixture(app_beside_deployment, name="app")

SETTLE_SECONDS = 60.0
ORDERS_A_ROUND = 5
# The windows B plans the contested orders in, one after the other on B's day.
B_WINDOWS = [("08:00", "10:00"), ("10:00", "12:00"), ("13:00", "15:00")]
# The visits planned by hand before the third round's proposal: whose, and when.
HAND_PLANS = [
    ("daan", "08:00", "10:00"),
    ("daan", "10:00", "12:00"),
    ("daan", "13:00", "15:00"),
    ("ruben", "08:00", "10:00"),
    ("ruben", "13:00", "15:00"),
]
# How much later than A's "accept all" B sends the first contested plan, per round; the
# other two go at once (A gets to them after B). Either may win.
B_FIRST_LATER = (0.05, 0.15, 0.3)
CHANGED_AFTER = "gewijzigd na dit voorstel"
SOMEONE_ELSE = "Iemand anders heeft deze planning intussen gewijzigd"


def _week(day) -> str:
    return week_key(day - timedelta(days=day.weekday()))


def _token(session: requests.Session, base_url: str, day) -> str:
    return csrf_token_from(session.get(f"{base_url}/planning/?week={_week(day)}", timeout=30).text)


def _proposal(session, base_url, day, free_planned: bool) -> PlanProposal:
    """A asks a proposal for ``day``; the deployment's workers make it."""
    form = {
        "first_day": day.isoformat(),
        "last_day": day.isoformat(),
        "week": _week(day),
        "csrf_token": _token(session, base_url, day),
    }
    if free_planned:
        form["free_planned"] = "1"
    answer = session.post(
        f"{base_url}/planning/proposals/", data=form, allow_redirects=False, timeout=30
    )
    assert answer.status_code == 303, answer.text[:500]
    proposal_id = uuid.UUID(answer.headers["Location"].split("proposal=")[1])

    def made():
        db.session.expire_all()
        proposal = db.session.get(PlanProposal, proposal_id)
        return proposal if proposal.status in ("ready", "failed") else None

    proposal = wait_until(made, SETTLE_SECONDS, "the proposal made", every=0.1)
    assert proposal.status == "ready", proposal.error
    return proposal


def _in_accepting_order(proposal) -> list[ProposalVisit]:
    db.session.expire_all()
    visits = db.session.scalars(
        sa.select(ProposalVisit)
        .where(ProposalVisit.proposal_id == proposal.id)
        .order_by(ProposalVisit.day, ProposalVisit.window_start)
    ).all()
    db.session.rollback()
    return list(visits)


def _at_once(calls, delays) -> list:
    """Each call in its own thread, all let go at the same moment, each after its delay
    (seconds); the answers, or what a call raised."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index):
        barrier.wait(timeout=30)
        clock.sleep(delays[index])
        try:
            answers[index] = calls[index]()
        except Exception as exc:  # kept as the answer: the assertion shows it
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return answers


def _plan_by_hand(order, technician_id, day, window, actor) -> None:
    """What a planner did before the proposal: a visit planned in the plan dialog."""
    start, end = (time.fromisoformat(t) for t in window)
    save_plan(
        order,
        PlanRequest(
            day=day,
            window_start=start,
            window_end=end,
            technician_ids=(technician_id,),
            duration_minutes=120,
            materials="1× Alfen Eve Single 11 kW",
            technician_notes=None,
            seen_version=0,
        ),
        actor,
        local_today(),
    )
    commit()


def _accept_all(session, base_url, proposal_id, token):
    """A presses "accept all" on the proposal."""
    return session.post(
        f"{base_url}/planning/proposals/{proposal_id}/accept",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )


def _plan(session, base_url, number, form, token):
    """The plan dialog's save of ``form``."""
    return session.post(
        f"{base_url}/planning/orders/{number}",
        data={**form, "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )


def _drag(session, base_url, number, from_id, to_id, day, token):
    """A card dragged on the board from ``from_id``'s cell to ``to_id``'s on ``day``,
    the plan seen at its first version."""
    return session.post(
        f"{base_url}/planning/orders/{number}/move",
        data={
            "technician_id": str(to_id),
            "from_technician_id": str(from_id),
            "day": day.isoformat(),
            "version": "1",
            "week": _week(day),
        },
        headers={"Accept": "application/json", "X-CSRFToken": token},
        allow_redirects=False,
        timeout=60,
    )


def _judge(contested, answers, decided, number, moving) -> Counter:
    """Per contested order exactly one winner, the other told why; who won, counted."""
    won = Counter()
    for visit, answer in zip(contested, answers, strict=True):
        mine = decided[visit.order_id]
        code, text = getattr(answer, "status_code", answer), getattr(answer, "text", "")
        where = (number[visit.order_id], mine.decision, code, text[:300])
        if mine.decision == "accepted":
            assert code == 409 and SOMEONE_ELSE in text, where
            won["A"] += 1
        else:
            # The move answers in JSON; the plan dialog sends the planner on (303).
            assert code == (200 if moving else 303), where
            assert mine.decision == "refused" and CHANGED_AFTER in mine.reason, where
            won["B"] += 1
    return won


def test_a_proposal_accepted_while_a_colleague_plans_its_orders_by_hand(
    app, deployment, graph, receiver, make_user
):
    planner_a = make_user("team_lead", language="nl")
    planner_b = make_user("team_lead", language="nl")
    daan = technician(make_user, "Daan Mulder", ["alfen"])
    ruben = technician(make_user, "Ruben de Jong", ["alfen"])
    other = {daan.id: ruben, ruben.id: daan}
    outlook_channel()
    partner = partner_calling_back(receiver)
    topology = deployment(
        **graph.app_config(),
        REQUESTS_CA_BUNDLE=graph.ca_bundle,
        DELIVERY_RETRY_BASE_SECONDS="1",
        PLANNING_SOLVE_SECONDS="2",
    )
    topology.start_web()
    topology.start_worker()
    topology.start_worker()
    base_url = topology.base_url
    a = signed_in_session(base_url, planner_a.email, PASSWORD)
    b = signed_in_session(base_url, planner_b.email, PASSWORD)
    days = [working_day(7)]
    while len(days) < 6:
        days.append(working_day((days[-1] - local_today()).days + 1))

    orders, by_hand, outcomes = [], {}, Counter()
    for round_ in range(3):
        day, b_day = days[2 * round_], days[2 * round_ + 1]
        moving = round_ == 2  # the orders planned by hand before; B drags them
        these = [
            customer_order(
                f"CC-2026-013{round_}{n}", PLACES[(n + round_) % len(PLACES)], f"Klant {n}", partner
            )
            for n in range(ORDERS_A_ROUND)
        ]
        orders += these
        number = {order.id: order.order_number for order in these}
        if moving:
            for order, (who, *window) in zip(these, HAND_PLANS, strict=True):
                lead = daan if who == "daan" else ruben
                _plan_by_hand(order, lead.id, day, window, planner_b)
                by_hand[order.id] = (lead.id, day, *(time.fromisoformat(t) for t in window))
        proposal = _proposal(a, base_url, day, free_planned=moving)
        visits = _in_accepting_order(proposal)
        assert len(visits) == ORDERS_A_ROUND, proposal.summary
        contested = [visits[0], visits[len(visits) // 2], visits[-1]]
        token_a, token_b = _token(a, base_url, day), _token(b, base_url, b_day)

        if moving:  # B drags each card to the other technician's cell on B's day
            by_b = [
                partial(
                    _drag,
                    b,
                    base_url,
                    number[v.order_id],
                    by_hand[v.order_id][0],
                    other[by_hand[v.order_id][0]].id,
                    b_day,
                    token_b,
                )
                for v in contested
            ]
        else:  # B plans each in the plan dialog, for Ruben on B's day
            by_b = [
                partial(
                    _plan,
                    b,
                    base_url,
                    number[v.order_id],
                    plan_form([ruben], b_day, *window, version=0),  # seen: no plan
                    token_b,
                )
                for v, window in zip(contested, B_WINDOWS, strict=True)
            ]
        # B's first card comes a moment later each round: A, accepting the visits one
        # after the other, may or may not have saved the first by then.
        delays = [0.0, B_FIRST_LATER[round_], 0.0, 0.0]
        answers = _at_once([partial(_accept_all, a, base_url, proposal.id, token_a), *by_b], delays)
        assert answers[0].status_code == 303, answers[0]
        decided = {v.order_id: v for v in _in_accepting_order(proposal)}
        outcomes += _judge(contested, answers[1:], decided, number, moving)
        assert all(decided[v.order_id].decision == "accepted" for v in visits if v not in contested)
        # One change won per order: its first plan, or the one after the plan by hand.
        db.session.expire_all()
        for order in these:
            visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id))
            assert visit.version == (2 if moving else 1), order.order_number
        db.session.rollback()
    print(f"contested orders won: {dict(outcomes)}")

    # Nothing told twice: each order's first plan once, and a re-plan that moved the
    # visit (another day or window; not only another technician) once.
    db.session.expire_all()
    moved = set()
    for order_id, (_lead, day, start, end) in by_hand.items():
        visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order_id))
        if (visit.scheduled_date, visit.window_start, visit.window_end) != (day, start, end):
            moved.add(order_id)
    db.session.rollback()
    ids = [order.id for order in orders]
    expected = {
        "deliveries": Counter({(order_id, "visit_scheduled"): 1 for order_id in ids})
        + Counter({(order_id, "visit_rescheduled"): 1 for order_id in moved}),
        "undelivered": 0,
        "notices": Counter({(order_id, "planned"): 1 for order_id in ids})
        + Counter({(order_id, "moved"): 1 for order_id in moved}),
        "unsent": 0,
    }

    def settled():
        now = told(ids)
        in_calendars = sum(len(graph.events_of(t.email)) for t in (daan, ruben))
        return (
            all(now[key] == value for key, value in expected.items())
            and in_calendars == len(orders)
            and workers_idle(app)
        )

    try:
        wait_until(settled, SETTLE_SECONDS, "the workers done", every=0.25)
    except AssertionError:
        raise AssertionError(f"{told(ids)}\n{expected}\n{topology.report()}") from None
    assert receiver.rejections == []
    assert len(receiver.events) == len(orders) + len(moved)
    assert len({event.webhook_id for event in receiver.events}) == len(receiver.events)
    assert len(graph.requests_to("/sendMail", "POST")) == len(orders) + len(moved)
    # Each order's visit once, in the calendar of the technician it is planned for.
    db.session.expire_all()
    for order in orders:
        visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id))
        [lead] = [t for t in (daan, ruben) if t.id == visit.technician_ids[0]]
        holding = [
            t.email
            for t in (daan, ruben)
            for event in graph.events_of(t.email)
            if order.order_number in event["subject"]
        ]
        assert holding == [lead.email], order.order_number
        live = db.session.scalar(
            sa.select(sa.func.count(CalendarEvent.id)).where(
                CalendarEvent.order_id == order.id, CalendarEvent.cancelled_at.is_(None)
            )
        )
        assert live == 1, order.order_number
    # No event made twice: at most one creation per calendar row ever written.
    rows = db.session.scalar(sa.select(sa.func.count(CalendarEvent.id)))
    assert sum(graph.events_created.values()) <= rows
