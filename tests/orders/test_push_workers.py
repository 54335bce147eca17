"""Web Push with two ``worker.py`` processes: a burst of customer messages on
technicians' visits is pushed once each.

Customers on three visits write twenty messages in a burst; each message's push
job is queued three times (its event, a duplicate event, a retried job) before
two real workers start taking them from Redis together. The fake push service
must then have received and decrypted exactly one push per message, on the
right technician's phone, and ``push_deliveries`` hold one row per message.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import PushDelivery
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.helpers import AuthActions, customer_writes
from tests.support.push_support import VAPID_SETTINGS, fake_push_service, visit_with_conversation
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

MESSAGES_PER_VISIT = 7
VISITS = 3
JOBS_PER_MESSAGE = 3
SETTLE_SECONDS = 90.0

push_service = pytest.fixture(fake_push_service, name="push_service")


@pytest.fixture
def app(make_app):
    # No worker in this process: the jobs wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False, **VAPID_SETTINGS)) as app:
        yield app


@pytest.fixture
def workers(app, deployment):
    return deployment(**VAPID_SETTINGS)


def test_two_workers_push_each_customer_message_exactly_once(
    app, make_user, workers, push_service
):
    phones = {}
    written = []
    for n in range(VISITS):
        tech = make_user("technician")
        order, channel, customer, _thread = visit_with_conversation(
            tech, number=f"CC-2026-0010{n}", with_whatsapp=(n == 0),
            contact_fields={"phone": f"+3161234560{n}", "display_name": f"Klant {n}"},
        )
        client = app.test_client()
        auth = AuthActions(client)
        auth.login(tech.email)
        subscription = push_service.subscribe()
        answer = client.post(
            "/m/push/subscription",
            json=subscription,
            headers={"X-CSRFToken": auth.csrf_token("/m/")},
        )
        assert answer.status_code == 201
        phones[order.order_number] = subscription["endpoint"]
        for m in range(MESSAGES_PER_VISIT):
            text = f"Bericht {m} over {order.order_number}"
            message = customer_writes(channel, customer, f"wamid.{n}.{m}", text)
            written.append((order.order_number, text))
            for _ in range(JOBS_PER_MESSAGE - 1):  # a duplicate event, a retried job
                enqueue("app.orders.mobile.push_jobs.push_customer_message", str(message.id))
    assert app.extensions["broker"].queue("default").count >= len(written) * JOBS_PER_MESSAGE

    workers.start_worker()
    workers.start_worker()
    wait_until(
        lambda: len(push_service.received) >= len(written), SETTLE_SECONDS, "every push sent"
    )
    wait_until(
        lambda: app.extensions["broker"].queue("default").count == 0,
        SETTLE_SECONDS,
        "the push jobs taken",
    )
    time.sleep(1.0)  # a second push, if any, would have reached the fake by now

    assert push_service.rejections == []
    received = Counter(
        (push.endpoint, push.payload["body"]) for push in push_service.received
    )
    assert received == Counter((phones[number], text) for number, text in written)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushDelivery)) == len(written)
