"""The delivery engine's parts: signatures, address checks, Retry-After, Make.com, leases."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask import request
from standardwebhooks.webhooks import Webhook

from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.batch import deliver_due
from app.orders.deliveries.jobs import _claim, deliver, requeue_stalled_deliveries
from app.orders.deliveries.make import trigger_make_scenario
from app.orders.deliveries.signing import partner_callback_headers
from app.orders.deliveries.transport import post, retry_after_seconds
from app.orders.partners.services import new_webhook_secret
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Notification, Order, OutboundDelivery
from app.platform.models.enums import DeliveryKind, OrderStatus, OutboundState
from app.platform.security.outbound import UnsafeTarget, check_target
from app.platform.transactions import commit
from app.platform.transports import ratelimit
from app.platform.transports.ratelimit import Limit
from tests.conftest import opened
from tests.fakes import FakeServer
from tests.fakes.receiver import FakeReceiver
from tests.orders.test_deliveries import attempts, deliveries, partner_order, settled
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until

MAKE_SECRET = "make-shared-secret"


def callbacks() -> list[OutboundDelivery]:
    """Partner callbacks only (this module's app also has a Make.com scenario)."""
    return [d for d in deliveries() if d.kind == DeliveryKind.PARTNER_CALLBACK]


class FakeMake(FakeServer):
    """A Make.com custom webhook: takes any JSON and answers "Accepted"."""

    def __init__(self) -> None:
        super().__init__("fake-make")

        @self.app.post("/<path:hook>")
        def accept(hook):
            request.get_json(force=True)
            return "Accepted", 200


@pytest.fixture
def make_hooks():
    yield from serving(FakeMake())


@pytest.fixture
def app(make_app, make_hooks):
    app = make_app(
        MAKE_WEBHOOK_URLS={"order_processing": make_hooks.url + "/order-processing"},
        MAKE_WEBHOOK_SECRET=MAKE_SECRET,
        DELIVERY_RETRY_BASE_SECONDS=0.2,
        DELIVERY_LEASE_SECONDS=5,
    )
    with opened(app) as app:
        yield app


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


def test_signatures_verify_with_the_reference_library_and_the_hex_check():
    secret = new_webhook_secret()
    body = json.dumps({"status": "GEÏNSTALLEERD", "event": "status_changed"}).encode()
    headers = partner_callback_headers(
        event="status_changed", msg_id="msg_abc", body=body, secret=secret
    )
    assert Webhook(secret).verify(body, headers)["status"] == "GEÏNSTALLEERD"
    assert headers["X-ChargeCars-Signature"] == (
        hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    )
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-ChargeCars-Event"] == "status_changed"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "http://93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
    ],
)
def test_internal_or_plain_http_targets_are_refused(url):
    with pytest.raises(UnsafeTarget, match="refused"):
        check_target(url, allow_private=False)


def test_public_https_targets_pass_and_development_allows_local_http():
    check_target("https://93.184.216.34/hook", allow_private=False)  # an IP literal: no lookup
    check_target("http://127.0.0.1:5000/hook", allow_private=True)


def test_the_transport_refuses_a_connection_that_lands_on_a_private_address():
    server = FakeServer("private-receiver").start()
    server.answer_next(204, "")
    url = server.url.replace("127.0.0.1", "localhost") + "/hook"
    try:
        with pytest.raises(UnsafeTarget, match="resolves to 127.0.0.1"):
            post(url, b"{}", {}, allow_private=False)
        assert server.requests == []
        assert post(url, b"{}", {}, allow_private=True).status_code == 204  # development
        assert [r.path for r in server.requests] == ["/hook"]
    finally:
        server.stop()


def test_retry_after_as_seconds_or_http_date_capped_at_an_hour():
    now = datetime(2026, 3, 2, 10, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 02 Mar 2026 10:00:30 GMT", now) == 30
    assert retry_after_seconds("Mon, 02 Mar 2026 09:00:00 GMT", now) == 0
    assert retry_after_seconds("999999", now) == 3600
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_status_change_triggers_the_make_scenario_signed(app, make_hooks):
    order = Order(order_number="CC-2026-00100", status=OrderStatus.NEW)
    db.session.add(order)
    db.session.commit()
    change_entity_status(order, OrderStatus.APPROVED, "Akkoord")
    commit()
    drain_until(app, lambda: len(make_hooks.requests) == 1)
    [sent] = make_hooks.requests
    body = sent.json()
    assert sent.path == "/order-processing"
    assert set(body) == {"timestamp", "source", "scenario", "data"}
    assert body["source"] == "switchboard" and body["scenario"] == "order_processing"
    assert body["data"]["order_number"] == "CC-2026-00100"
    assert (body["data"]["from_status"], body["data"]["to_status"]) == ("new", "approved")
    assert sent.headers["X-Make-Signature"] == (
        hmac.new(MAKE_SECRET.encode(), sent.body, hashlib.sha256).hexdigest()
    )
    [delivery] = deliveries()
    db.session.expire_all()
    assert delivery.state == OutboundState.DELIVERED and delivery.order_id == order.id


def test_unconfigured_scenario_is_not_triggered(app):
    assert trigger_make_scenario("inventory_update", {"sku": "WALLBOX-11KW"}) is None
    assert deliveries() == []


def test_over_the_make_rate_limit_waits_instead_of_failing(app, make_hooks, monkeypatch):
    monkeypatch.setitem(ratelimit.LIMITS, "make", Limit(1, 3600))
    first = trigger_make_scenario("order_processing", {"n": 1})
    second = trigger_make_scenario("order_processing", {"n": 2})
    commit()
    drain_until(app, settled(first.id))
    drain_queues(app)
    db.session.expire_all()
    assert first.state == OutboundState.DELIVERED
    assert second.state == OutboundState.PENDING and second.attempt_count == 0
    assert second.next_attempt_at > utcnow()  # the next hourly window
    assert len(make_hooks.requests) == 1


def test_a_claim_is_exclusive_until_its_lease_expires(app, receiver):
    _, order = partner_order(receiver)
    change_entity_status(order, OrderStatus.APPROVED, "x")
    [delivery] = callbacks()
    db.session.commit()  # a plain commit: the job is not queued, as after a crash
    assert _claim(delivery.id) is not None
    assert _claim(delivery.id) is None  # a second worker does not get it
    delivery = db.session.get(OutboundDelivery, delivery.id)
    delivery.claimed_at = utcnow() - timedelta(seconds=6)  # lease (5 s) expired
    db.session.commit()
    claimed, reclaimed = _claim(delivery.id)
    assert reclaimed and claimed.attempt_count == 2


def test_the_sweep_finds_lost_jobs_and_a_dead_workers_delivery(app, receiver):
    partner, order = partner_order(receiver)
    change_entity_status(order, OrderStatus.APPROVED, "x")
    change_entity_status(order, OrderStatus.SCHEDULED, "y")
    db.session.commit()  # plain commit: neither job was queued
    lost_job, dead_worker = callbacks()
    lost_job.next_attempt_at = utcnow() - timedelta(minutes=5)
    dead_worker.state = OutboundState.IN_PROGRESS
    dead_worker.attempt_count = 1
    dead_worker.claimed_at = utcnow() - timedelta(seconds=30)
    db.session.commit()

    assert requeue_stalled_deliveries() == 2
    drain_until(app, lambda: settled(lost_job.id)() and settled(dead_worker.id)())
    db.session.expire_all()
    assert lost_job.state == dead_worker.state == OutboundState.DELIVERED
    logged = attempts(dead_worker.id)
    assert [(a.attempt_number, a.status_code) for a in logged] == [(1, None), (2, 200)]
    assert "worker stopped" in logged[0].error
    assert {e.webhook_id for e in receiver.events} == {lost_job.webhook_id, dead_worker.webhook_id}
    assert requeue_stalled_deliveries() == 0


def test_a_delivery_whose_last_attempt_was_lost_gives_up_and_alerts(app, make_user, receiver):
    admin = make_user("admin")
    partner, order = partner_order(receiver, max_delivery_attempts=1)
    change_entity_status(order, OrderStatus.APPROVED, "x")
    db.session.commit()
    [delivery] = callbacks()
    delivery.state = OutboundState.IN_PROGRESS
    delivery.attempt_count = 1
    delivery.claimed_at = utcnow() - timedelta(seconds=30)
    db.session.commit()
    requeue_stalled_deliveries()
    drain_until(app, settled(delivery.id))
    db.session.expire_all()
    assert delivery.state == OutboundState.FAILED and delivery.attempt_count == 1
    assert "unknown" in delivery.last_error and receiver.requests == []
    notified = db.session.scalars(sa.select(Notification.user_id)).all()
    assert notified == [admin.id]


@pytest.mark.parametrize("job", ["batch", "one"])
def test_a_send_slower_than_the_lease_keeps_its_claim(make_app, receiver, job):
    """A live worker renews its claim while the partner takes its time, so the sweep and
    other workers leave the callback alone: sent once, one attempt, delivered."""
    lease = 0.6
    with opened(make_app(start_embedded_worker=False, DELIVERY_LEASE_SECONDS=lease)) as app:
        _, order = partner_order(receiver)
        change_entity_status(order, OrderStatus.APPROVED, "x")
        db.session.commit()  # a plain commit: no job queued; this test runs it
        [delivery] = callbacks()
        receiver.behave_next(sleep=lease * 5)
        results = []

        def work():
            with app.app_context():
                if job == "batch":
                    results.append(deliver_due(run_seconds=lease))
                else:
                    results.append(deliver(str(delivery.id)))

        worker = threading.Thread(target=work)
        worker.start()
        taken_over = 0
        while worker.is_alive():
            time.sleep(lease / 2)
            taken_over += requeue_stalled_deliveries()
        worker.join()

        assert results == ([1] if job == "batch" else ["delivered"])
        assert taken_over == 0
        assert len(receiver.requests) == 1
        db.session.expire_all()
        assert delivery.state == OutboundState.DELIVERED and delivery.attempt_count == 1
        assert [a.status_code for a in attempts(delivery.id)] == [200]
