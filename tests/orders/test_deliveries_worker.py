"""Killing the worker in the middle of a delivery loses no callback (PostgreSQL + Redis).

A real ``worker.py`` process takes the callback to a receiver that hangs, is
killed with SIGKILL while the request is in flight, and a new worker delivers
it once the claim's lease has expired: exactly once more, with the same
``webhook-id``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.jobs import deliver, requeue_stalled_deliveries
from app.orders.partners.services import new_webhook_secret
from app.platform.extensions import db
from app.platform.models import OutboundDelivery
from app.platform.models.enums import OrderStatus, OutboundState
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, base_config, opened
from tests.fakes.receiver import FakeReceiver
from tests.orders.test_deliveries import HOOK_PATH, attempts, deliveries, partner_order
from tests.support.helpers import race, serving

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


@pytest.fixture
def app(make_app):
    with opened(make_app(DELIVERY_LEASE_SECONDS=LEASE_SECONDS)) as app:
        yield app


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


def start_worker(**extra_env: str) -> subprocess.Popen:
    """A ``worker.py`` on the test database and Redis; ``extra_env`` adds settings."""
    config = base_config()
    env = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": config["SECRET_KEY"],
        "ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
        "ALLOW_PRIVATE_WEBHOOK_URLS": "1",
        "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        **extra_env,
    }
    # Its own process group, so SIGKILL takes RQ's forked scheduler down with it.
    return subprocess.Popen(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill(*workers: subprocess.Popen) -> None:
    """SIGKILL each worker's group, then wait for them all.

    Every one is signalled before any is waited for: a wait that times out must
    not leave the rest running into the next test.
    """
    for worker in workers:
        try:
            os.killpg(worker.pid, signal.SIGKILL)  # also a forked child the worker left
        except ProcessLookupError:
            pass
    for worker in workers:
        worker.wait(timeout=10)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def delivered(delivery_id) -> bool:
    db.session.expire_all()
    state = db.session.scalar(
        sa.select(OutboundDelivery.state).where(OutboundDelivery.id == delivery_id)
    )
    db.session.rollback()
    return state == OutboundState.DELIVERED


def test_killing_the_worker_mid_delivery_loses_no_callback(app, receiver):
    _, order = partner_order(receiver)
    receiver.behave_next(sleep=60)  # the first request hangs until the test ends
    workers = [start_worker()]
    try:
        change_entity_status(order, OrderStatus.APPROVED, "Offerte getekend")
        commit()
        [delivery] = deliveries()
        wait_for(lambda: len(receiver.requests) == 1, 30, "the first request")
        kill(workers[0])
        db.session.expire_all()
        assert db.session.get(OutboundDelivery, delivery.id).state == OutboundState.IN_PROGRESS

        workers.append(start_worker())
        time.sleep(LEASE_SECONDS + 0.5)
        # What the periodic "stalled-deliveries" job does every minute. The new
        # worker runs that job as it starts, so on a slow start it may already
        # have re-queued the delivery: then there is nothing left for this call.
        requeue_stalled_deliveries()
        wait_for(lambda: delivered(delivery.id), 30, "the second delivery")
    finally:
        kill(*workers)

    hook_requests = [r for r in receiver.requests if r.path == HOOK_PATH]
    assert len(hook_requests) == 2 and len(receiver.delivered()) == 1
    assert {r.headers["Webhook-Id"] for r in hook_requests} == {delivery.webhook_id}
    assert receiver.rejections == []
    db.session.expire_all()
    delivery = db.session.get(OutboundDelivery, delivery.id)
    assert delivery.state == OutboundState.DELIVERED and delivery.attempt_count == 2
    logged = attempts(delivery.id)
    assert [(a.attempt_number, a.status_code) for a in logged] == [(1, None), (2, 200)]


def test_concurrent_jobs_for_one_delivery_send_it_once(app, receiver):
    _, order = partner_order(receiver)
    change_entity_status(order, OrderStatus.APPROVED, "x")
    db.session.commit()  # no job queued: the threads below are the workers
    [delivery] = deliveries()
    delivery_id = str(delivery.id)
    results = race(app, lambda _index: deliver(delivery_id), 8)
    assert sorted(results) == ["delivered"] + ["skipped"] * 7
    assert len(receiver.requests) == 1
