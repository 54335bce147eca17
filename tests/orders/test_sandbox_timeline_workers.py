"""The sandbox's automatic timeline run by two ``worker.py`` processes.

The timeline is asked for twice and its first step queued three times more,
before two real workers start taking jobs together. Each step is a
conditional move (the order's row locked, applied only from the status the
step expects), so the order still goes approved → scheduled → in_progress →
completed once: one transition and one verified test callback per step.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.orders.partners.keys import issue_partner_key
from app.orders.partners.sandbox import timeline
from app.orders.partners.services import new_webhook_secret
from app.platform.extensions import db
from app.platform.models import Order, OrderStatusTransition
from app.platform.models.enums import KeyMode
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.receiver import FakeReceiver
from tests.support.partner_support import add_articles, line_items_order, make_partner
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

STEPS = ["approved", "scheduled", "in_progress", "completed"]
STEP_SECONDS = 0.5
SETTLE_SECONDS = 45.0


@pytest.fixture
def app(make_app):
    # No worker in this process: the jobs wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


@pytest.fixture
def receiver():
    receiver = FakeReceiver(new_webhook_secret()).start()
    yield receiver
    receiver.stop()


def _moves(order_id) -> list[str]:
    db.session.expire_all()
    moves = db.session.scalars(
        sa.select(OrderStatusTransition.to_status)
        .where(OrderStatusTransition.order_id == order_id)
        .order_by(OrderStatusTransition.created_at)
    ).all()
    db.session.rollback()
    return list(moves)


def test_two_workers_run_each_timeline_step_once(app, client, deployment, receiver):
    partner = make_partner(
        webhook_url=receiver.url + "/hooks/chargecars",
        webhook_events=["order_created", "status_changed"],
    )
    partner.integration.webhook_secret = receiver.secret
    # Test orders' callbacks go to the sandbox's own URL with its own secret.
    partner.integration.sandbox_webhook_url = receiver.url + "/hooks/sandbox"
    partner.integration.sandbox_webhook_events = ["order_created", "status_changed"]
    partner.integration.sandbox_webhook_secret = receiver.secret
    add_articles(partner)
    _, plain = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
    db.session.commit()
    headers = {"X-API-Key": plain}
    made = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=headers
    )
    assert made.status_code == 201, made.get_json()
    url = f"/api/v1/partners/{partner.id}/sandbox/orders/GRO-2026-000123/timeline"
    for _ in range(2):  # asked twice: the second finds the order still new
        answer = client.post(url, json={"step_seconds": STEP_SECONDS}, headers=headers)
        assert answer.status_code == 202, answer.get_json()
        assert [s["status"] for s in answer.get_json()["data"]["steps"]] == STEPS
    order_id = db.session.scalar(sa.select(Order.id))
    queue = app.extensions["broker"].queue(timeline.QUEUE)
    for _ in range(3):  # the first step's job again, due at once
        queue.enqueue(timeline.STEP_JOB, str(order_id), "new", STEPS, STEP_SECONDS)

    workers = deployment()
    workers.start_worker()
    workers.start_worker()
    wait_until(lambda: _moves(order_id)[-1:] == ["completed"], SETTLE_SECONDS, "completed")
    wait_until(lambda: len(receiver.events) >= 5, SETTLE_SECONDS, "every callback")
    time.sleep(STEP_SECONDS * 4)  # a doubled step would show by now

    assert _moves(order_id) == ["new", *STEPS]
    assert receiver.rejections == []
    told = Counter(e.payload["status_details"]["to_status"] for e in receiver.events)
    assert told == Counter(["new", *STEPS])
    assert all(e.payload["test"] is True for e in receiver.events)
    assert all(e.headers.get("X-Chargecars-Test") == "true" for e in receiver.events)
