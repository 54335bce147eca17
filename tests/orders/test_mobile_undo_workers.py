"""Held status taps go through exactly once with two ``worker.py`` processes.

A technician's taps wait out their undo window in ``pending_visit_moves``; each
tap's own delayed job, the periodic sweep of both workers' schedulers and extra
sweeps queued on purpose all race to apply them. Every tap must move its visit
once (one "completed" transition), and a tap undone inside its window never.
Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.orders.mobile.pending import hold_tap, undo_move
from app.platform.extensions import db
from app.platform.models import Order, OrderStatusTransition, PendingVisitMove
from app.platform.models.visits import APPLIED, PENDING, UNDONE
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.mobile_support import visit
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

VISITS = 30
UNDONE_VISITS = 6


@pytest.fixture
def app(make_app):
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _states() -> Counter:
    rows = db.session.scalars(sa.select(PendingVisitMove.state)).all()
    db.session.rollback()
    return Counter(rows)


def test_two_worker_processes_apply_each_held_tap_once(app, make_user, deployment):
    topology = deployment()
    topology.start_worker()
    topology.start_worker()
    tech = make_user("technician")
    orders = [
        visit(tech, number=f"CC-2026-{index:05d}", with_whatsapp=False)
        for index in range(VISITS)
    ]
    moves = [hold_tap(order, tech, "completed", "scheduled", 3) for order in orders]
    undone = {moves[index].order_id for index in range(UNDONE_VISITS)}
    assert all(undo_move(moves[index].id, tech) for index in range(UNDONE_VISITS))
    # Beside each tap's own job and the schedulers' sweeps: sweeps both take at once.
    queue = app.extensions["broker"].queue("periodic")
    time.sleep(3)
    for _ in range(6):
        queue.enqueue("app.orders.mobile.pending.apply_due_moves")
    wait_until(lambda: _states().get(PENDING, 0) == 0, 60, "every tap applied", every=0.5)
    wait_until(lambda: queue.count == 0, 30, "the queued sweeps taken", every=0.2)
    time.sleep(2)

    assert _states() == Counter({APPLIED: VISITS - UNDONE_VISITS, UNDONE: UNDONE_VISITS})
    completed = Counter(
        db.session.scalars(
            sa.select(OrderStatusTransition.order_id).where(
                OrderStatusTransition.to_status == "completed"
            )
        ).all()
    )
    assert completed == Counter({order.id: 1 for order in orders if order.id not in undone})
    statuses = dict(db.session.execute(sa.select(Order.id, Order.status)).all())
    assert {statuses[order_id].value for order_id in undone} == {"scheduled"}
