"""Two ``worker.py`` processes sending partner callbacks in batches, one killed mid-run.

Many orders each go through four status changes; every change writes a
callback. The first worker takes the first callback of every order and is
killed while the partner holds those requests open; a second worker is
already running and a third joins. Afterwards every callback is delivered
exactly once (the ones the dead worker left are sent again with the same
``webhook-id`` once their lease ran out, and their lost attempt is logged),
first attempts the partner answered 500 are retried with the same id, and one
order's callbacks reached the partner in the order of its status changes.
"""

from __future__ import annotations

import subprocess
import time
from collections import defaultdict

import pytest
import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.jobs import requeue_stalled_deliveries
from app.orders.partners.services import new_webhook_secret
from app.platform.extensions import db
from app.platform.models import Contact, DeliveryAttempt, Order, OutboundDelivery
from app.platform.models.enums import OrderStatus, OutboundState
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.receiver import FakeReceiver
from tests.orders.test_deliveries import HOOK_PATH, partner_order
from tests.orders.test_deliveries import attempts as attempts_of
from tests.orders.test_deliveries_worker import kill
from tests.orders.test_deliveries_worker import start_worker as start_deliveries_worker
from tests.support.helpers import serving

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

# Long enough that a live worker starved of CPU by a busy machine still renews
# its claims in time (it renews every third of the lease); the dead worker's
# claims are taken over once it has run out.
LEASE_SECONDS = 5
ORDERS = 30
LATER_STATUSES = (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
FAILING_FIRST_ATTEMPTS = 8


@pytest.fixture
def app(make_app):
    with opened(
        make_app(DELIVERY_LEASE_SECONDS=LEASE_SECONDS, DELIVERY_RETRY_BASE_SECONDS=0.2)
    ) as app:
        yield app


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


def start_worker() -> subprocess.Popen:
    return start_deliveries_worker(
        DELIVERY_RETRY_BASE_SECONDS="0.2", DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS)
    )


def wait_for(condition, timeout: float, what: str, between=None, describe=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if between is not None:
            between()
        time.sleep(0.2)
    found = f": {describe()}" if describe is not None else ""
    raise AssertionError(f"{what} did not happen within {timeout}s{found}")


def more_orders(first: Order, count: int) -> list[Order]:
    """``count`` orders of the same partner, approved-ready (status new)."""
    orders = []
    for n in range(count):
        customer = Contact(display_name=f"Klant {n}", email=f"klant{n}@example.com")
        db.session.add(customer)
        db.session.flush()
        order = Order(
            order_number=f"CC-2026-{n + 1000:05d}",
            status=OrderStatus.NEW,
            partner_organization_id=first.partner_organization_id,
            partner_order_id=f"VLV-BATCH-{n}",
            partner_external_references={"partner_order_id": f"VLV-BATCH-{n}"},
            end_customer_contact_id=customer.id,
        )
        db.session.add(order)
        orders.append(order)
    db.session.commit()
    return orders


def move_all(orders: list[Order], to_status: OrderStatus, *, together: bool = False) -> None:
    """Each order's change in its own commit (each wakes the batch sender after it),
    or ``together`` in one, so the first worker claims them all at once."""
    for order in orders:
        change_entity_status(order, to_status, "batch test")
        if not together:
            commit()
    if together:
        commit()


def all_delivered() -> bool:
    db.session.expire_all()
    open_ = db.session.scalar(
        sa.select(sa.func.count(OutboundDelivery.id)).where(
            OutboundDelivery.state != OutboundState.DELIVERED
        )
    )
    db.session.rollback()
    return open_ == 0


def open_deliveries() -> str:
    """What is left undelivered, attempt by attempt, for a failure's message."""
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(OutboundDelivery)
        .where(OutboundDelivery.state != OutboundState.DELIVERED)
        .order_by(OutboundDelivery.created_at)
    ).all()
    lines = []
    for row in rows:
        tried = "; ".join(
            f"#{a.attempt_number} {a.status_code or a.error}" for a in attempts_of(row.id)
        )
        lines.append(
            f"{row.payload['status']} {row.state.value} attempts={row.attempt_count}"
            f" claimed_at={row.claimed_at} next={row.next_attempt_at} [{tried}]"
        )
    db.session.rollback()
    return f"{len(rows)} open\n" + "\n".join(lines[:20])


def in_progress() -> int:
    count = db.session.scalar(
        sa.select(sa.func.count(OutboundDelivery.id)).where(
            OutboundDelivery.state == OutboundState.IN_PROGRESS
        )
    )
    db.session.rollback()
    return count


def test_two_workers_send_every_callback_once_in_order_though_one_is_killed(app, receiver):
    _, first = partner_order(receiver)
    orders = more_orders(first, ORDERS - 1) + [first]
    # The dead worker's requests hang (the partner never answers them); then a
    # few first attempts fail with 500.
    receiver.behave_next(times=ORDERS, sleep=300)
    receiver.behave_next(times=FAILING_FIRST_ATTEMPTS, status=500)
    workers = [start_worker()]
    try:
        # Together: one at a time on a busy machine, the first ones' requests
        # could time out (after 10 s) before the last was sent.
        move_all(orders, OrderStatus.APPROVED, together=True)
        wait_for(lambda: len(receiver.requests) >= ORDERS, 60, "the first worker's requests")
        assert in_progress() == ORDERS
        workers.append(start_worker())
        time.sleep(1)
        kill(workers[0])
        workers.append(start_worker())
        for status in LATER_STATUSES:
            move_all(orders, status)
        # requeue_stalled_deliveries is the periodic sweep (every minute in a
        # deployment): it finds claims whose lease ran out when no job is awake.
        wait_for(
            all_delivered,
            120,
            "every delivery",
            between=requeue_stalled_deliveries,
            describe=open_deliveries,
        )
    finally:
        kill(*workers)

    assert receiver.rejections == []
    rows = db.session.scalars(
        sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at)
    ).all()
    assert len(rows) == ORDERS * 4
    # Exactly one 2xx per callback, under its own webhook-id.
    answered_ok = defaultdict(int)
    for event in receiver.delivered():
        answered_ok[event.webhook_id] += 1
    assert answered_ok == {row.webhook_id: 1 for row in rows}

    # The dead worker's claims: sent again with the same id, the lost attempt logged.
    attempts = defaultdict(list)
    for attempt in db.session.scalars(
        sa.select(DeliveryAttempt).order_by(DeliveryAttempt.attempt_number)
    ):
        attempts[attempt.delivery_id].append(attempt)
    hook_requests = [r for r in receiver.requests if r.path == HOOK_PATH]
    sent = defaultdict(int)
    for request in hook_requests:
        sent[request.headers["Webhook-Id"]] += 1
    firsts = [row for row in rows if row.event_type and row.payload["status"] == "CONFIRMED"]
    assert len(firsts) == ORDERS
    lost = [row for row in firsts if attempts[row.id][0].status_code is None]
    assert len(lost) == ORDERS, "every claim of the killed worker is sent again"
    for row in lost:
        assert "worker stopped" in attempts[row.id][0].error
        assert sent[row.webhook_id] >= 2

    # Failed first attempts were retried with the same webhook-id.
    failed = [e for e in receiver.events if e.answered == 500]
    assert len(failed) == FAILING_FIRST_ATTEMPTS
    retried_ids = {e.webhook_id for e in failed}
    assert retried_ids <= set(answered_ok)
    for row in rows:
        if row.webhook_id in retried_ids:
            codes = [a.status_code for a in attempts[row.id]]
            assert 500 in codes and codes[-1] == 200
        assert row.attempt_count == len(attempts[row.id])

    # Per order: every request for a callback came after the previous one's 2xx.
    arrivals = defaultdict(list)
    for event in receiver.events:
        arrivals[event.webhook_id].append((event.arrived_at, event.answered))
    for order in orders:
        mine = [row for row in rows if row.order_id == order.id]
        assert [row.payload["status"] for row in mine] == [
            "CONFIRMED",
            "PLANNED",
            "IN_PROGRESS",
            "DELIVERED",
        ]
        for earlier, later in zip(mine, mine[1:], strict=False):
            last_ok = max(at for at, code in arrivals[earlier.webhook_id] if code == 200)
            assert min(at for at, _ in arrivals[later.webhook_id]) > last_ok
