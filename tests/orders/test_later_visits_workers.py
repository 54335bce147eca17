"""Second days planned in a burst on two ``worker.py`` processes: each visit told once.

A planner plans the first day of a dozen two-day installations (four technicians),
adds each a second day and plans it, in quick succession, while two real workers send
the customers' messages and the partner's callbacks; every notice job is queued twice more (a
redelivery, a retry after a lost answer). In the end each visit, first and second,
has one customer message, one ``visit_scheduled`` with its own number, delivered
once, and one event in the technician's calendar. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

from collections import Counter
from datetime import time

import pytest
import sqlalchemy as sa

from app.orders.core.visits import add_visit
from app.platform.extensions import db
from app.platform.models import Order, SandboxSend, Visit, VisitNotice
from app.platform.models.planning import SECOND_DAY
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support.planning_support import working_day
from tests.support.proposal_support import (
    app_beside_deployment,
    partner_calling_back,
    partner_receiver,
    workers_idle,
)
from tests.support.slots_support import order_at, technician_at
from tests.support.topology import wait_until
from tests.support.visits_support import plan_number

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

ORDERS = 12
SETTLE_SECONDS = 90.0

receiver = pytest.fixture(partner_receiver, name="receiver")
app = pytest.fixture(app_beside_deployment, name="app")


def _notices() -> list[tuple]:
    rows = db.session.execute(
        sa.select(Visit.order_id, Visit.number, VisitNotice.kind, VisitNotice.sent_at).join(
            VisitNotice, VisitNotice.visit_id == Visit.id
        )
    ).all()
    db.session.rollback()
    return rows


def test_a_burst_of_second_days_tells_each_visit_once(app, deployment, receiver, make_user):
    planner = make_user("team_lead", language="nl")
    crew = [
        technician_at(make_user, name, (52.1, 5.11))
        for name in ("Anna de Vries", "Bram Smit", "Cor Bakker", "Dirk Kok")
    ]
    partner = partner_calling_back(receiver)
    orders = []
    for n in range(ORDERS):
        order = order_at(f"CC-2026-{n + 1:05d}")
        order.partner_organization_id = partner.organization.id
        order.partner_order_id = f"GRO-{n + 1:05d}"
        orders.append(order)
    db.session.commit()
    ids = [order.id for order in orders]

    topology = deployment(DELIVERY_RETRY_BASE_SECONDS="1")
    topology.start_worker()
    topology.start_worker()
    first, second = working_day(7), working_day(8)
    # Four technicians, three visits a day each: none double booked.
    windows = [(time(8), time(10)), (time(10), time(12)), (time(13), time(15))]
    for n, order_id in enumerate(ids):
        tech, (start, end) = crew[n % len(crew)], windows[n // len(crew)]
        plan_number(db.session.get(Order, order_id), 1, [tech], first, planner, start, end)
        add_visit(db.session.get(Order, order_id), SECOND_DAY, planner)
        db.session.commit()
        plan_number(db.session.get(Order, order_id), 2, [tech], second, planner, start, end)

    # Every notice job once more, twice: a redelivery and a retry after a lost answer.
    queue = app.extensions["broker"].queue("default")
    notice_ids = db.session.scalars(sa.select(VisitNotice.id)).all()
    db.session.rollback()
    for _ in range(2):
        for notice_id in notice_ids:
            queue.enqueue("app.orders.planning.notices.send_visit_notice", str(notice_id))

    wait_until(
        lambda: len(_notices()) == 2 * ORDERS and all(sent for *_, sent in _notices()),
        SETTLE_SECONDS,
        "every visit's notice sent",
        every=0.25,
    )
    wait_until(lambda: workers_idle(app), SETTLE_SECONDS, "the workers done")
    wait_until(lambda: len(receiver.delivered()) >= 2 * ORDERS, SETTLE_SECONDS, "the callbacks in")
    wait_until(lambda: workers_idle(app), SETTLE_SECONDS, "the workers done again")

    assert Counter((order_id, number) for order_id, number, *_ in _notices()) == {
        (order_id, number): 1 for order_id in ids for number in (1, 2)
    }
    # What the sandbox sent: the customers' messages and the technicians' calendar events.
    sent = db.session.scalars(sa.select(SandboxSend.request_body)).all()
    db.session.rollback()
    numbers = [f"CC-2026-{n + 1:05d}" for n in range(ORDERS)]
    messages = Counter(
        number for body in sent if "to" in body for number in numbers if number in body["text"]
    )
    assert messages == {number: 2 for number in numbers}, messages
    events = Counter(body["subject"] for body in sent if "to" not in body)
    assert events == {
        **{f"Bezoek {number} · Jan Jansen": 1 for number in numbers},
        **{f"Bezoek {number} (bezoek 2) · Jan Jansen": 1 for number in numbers},
    }, events
    scheduled = Counter(
        (event.payload["partner_order_id"], event.payload["visit"]["number"])
        for event in receiver.delivered()
        if event.event == "visit_scheduled"
    )
    assert scheduled == {
        (f"GRO-{n + 1:05d}", number): 1 for n in range(ORDERS) for number in (1, 2)
    }, scheduled
    assert len(receiver.delivered()) == 2 * ORDERS
