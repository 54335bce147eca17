"""Orders waiting, with two ``worker.py`` processes: a new order tells the desk once.

Make's order-created scenario is processed by a job. The same partner order
delivered several times (as Make retries do, each a new execution) waits in
Redis until two real workers take the deliveries together; each order must
tell each agent and team lead exactly once. The database's unique index on
(user, order) for order notices holds it, whichever worker made the order.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Notification, Order
from app.platform.models.enums import ProcessingState
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.pdok import FakePdok
from tests.support.helpers import serving
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SECRET = "make-secret-2025"  # noqa: S105
ORDERS = 3
DELIVERIES = 3
SETTLE_SECONDS = 180.0


@pytest.fixture
def pdok():
    server = FakePdok()

    # A slow address check keeps both workers inside the same order's intake at once.
    @server.app.before_request
    def _slowly():
        time.sleep(0.3)

    yield from serving(server)


@pytest.fixture
def app(make_app, pdok):
    built = make_app(
        start_embedded_worker=False, MAKE_WEBHOOK_SECRET=SECRET, PDOK_API_BASE=pdok.url
    )
    with opened(built) as app:
        yield app


def _post(client, body, execution: str):
    raw = json.dumps(body)
    signature = hmac.new(SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/webhooks/make/order-created",
        data=raw,
        headers={
            "X-Make-Signature": signature,
            "X-Make-Execution-Id": execution,
            "Content-Type": "application/json",
        },
    )


def _processed(expected: int) -> bool:
    db.session.expire_all()
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    db.session.rollback()
    return len(states) == expected and all(
        s in (ProcessingState.PROCESSED, ProcessingState.FAILED) for s in states
    )


def _told() -> list:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Notification.user_id, Notification.link).where(
            Notification.notification_type == "order_waiting"
        )
    ).all()
    db.session.rollback()
    return rows


def test_duplicate_deliveries_on_two_workers_tell_the_desk_once_per_order(
    app, client, deployment, pdok, make_user
):
    desk = [make_user("agent"), make_user("team_lead")]
    partner = create_partner("50five")
    db.session.commit()
    workers = deployment(MAKE_WEBHOOK_SECRET=SECRET, PDOK_API_BASE=pdok.url)
    workers.start_worker()
    workers.start_worker()
    for n in range(ORDERS):
        body = {
            "customer": {
                "name": f"Klant {n}",
                "email": f"klant{n}@example.com",
                "address": {"street": "Hoofdstraat", "house_number": str(100 + n),
                            "postal_code": "1012 ab"},
            },
            "products": [{"description": "Laadpaal", "quantity": 1}],
            "partner_id": str(partner.organization.id),
            "partner_order_id": f"50F-{n}",
        }
        for delivery in range(DELIVERIES):
            answer = _post(client, body, f"exec-{n}-{delivery}")
            assert answer.status_code in (200, 202), answer.get_json()
    wait_until(lambda: _processed(ORDERS * DELIVERIES), SETTLE_SECONDS, "every delivery")
    orders = db.session.scalars(sa.select(Order)).all()
    assert len(orders) == ORDERS, workers.report()
    wait_until(lambda: len(_told()) >= len(desk) * ORDERS, SETTLE_SECONDS, "the desk told")
    time.sleep(1.0)  # a second notice would have been made by now
    assert Counter(_told()) == {
        (user.id, f"/orders/{order.order_number}"): 1 for user in desk for order in orders
    }, workers.report()
