""""On my way" with two ``worker.py`` processes: held "On the way" taps, one message.

Each visit gets two held "On the way" taps (the second from a phone whose card
was out of date), each waiting out its undo window; the taps' own delayed jobs
and extra sweeps run on two real worker processes. However the work is shared
out, each customer is told once. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.orders.mobile.pending import hold_tap
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    PendingVisitMove,
    VisitCustomerNotice,
)
from app.platform.models.enums import MessageType
from app.platform.models.visits import APPLIED, PENDING
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.mobile_support import visit
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

VISITS = 12
APPLY_JOB = "app.orders.mobile.pending.apply_move"
SWEEP_JOB = "app.orders.mobile.pending.apply_due_moves"


@pytest.fixture
def app(make_app):
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _states() -> Counter:
    rows = db.session.scalars(sa.select(PendingVisitMove.state)).all()
    db.session.rollback()
    return Counter(rows)


def _hold_all(orders, tech) -> None:
    for order in orders:
        hold_tap(order, tech, "on_the_way", "scheduled", 1)


def test_held_on_the_way_taps_on_two_workers_tell_each_customer_once(
    app, make_user, deployment
):
    topology = deployment()
    first, second = topology.start_worker(), topology.start_worker()
    tech = make_user("technician")
    orders = [
        visit(tech, number=f"CC-2026-{index:05d}", with_whatsapp=False) for index in range(VISITS)
    ]
    sweeps = app.extensions["broker"].queue("periodic")

    _hold_all(orders, tech)
    wait_until(lambda: _states().get(PENDING, 0) == 0, 60, "the first taps applied", every=0.3)
    # The out-of-date phone taps again; sweeps race the taps' own jobs.
    _hold_all(orders, tech)
    time.sleep(1)
    for _ in range(4):
        sweeps.enqueue("app.orders.mobile.pending.apply_due_moves")
    wait_until(lambda: _states().get(PENDING, 0) == 0, 60, "the second taps applied", every=0.3)
    wait_until(lambda: sweeps.count == 0, 30, "the queued sweeps taken", every=0.2)

    assert _states() == Counter({APPLIED: 2 * VISITS})
    told = Counter(
        db.session.scalars(
            sa.select(CommunicationThread.order_id)
            .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
            .where(CommunicationMessage.message_type == MessageType.OUTGOING)
        ).all()
    )
    assert told == Counter({order.id: 1 for order in orders})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitCustomerNotice)) == VISITS
    # The second taps found the visit on the way already: no second visit event.
    events = db.session.scalar(
        sa.select(sa.func.count()).where(AuditLog.action == "VISIT_ON_THE_WAY")
    )
    assert events == VISITS
    # Both processes took part: each applied held taps, by a tap's own job or by a
    # sweep. Which jobs each takes is up to Redis; under a loaded CI machine one
    # process once took all 24 taps' jobs while the other sent the messages.
    for worker in (first, second):
        output = worker.output()
        assert APPLY_JOB in output or SWEEP_JOB in output, topology.report()
