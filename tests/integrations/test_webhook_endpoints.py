"""Outgoing webhook endpoints: admin pages, fan-out of platform events, retries, tests.

Every call lands on a local receiver that verifies it with the
``standardwebhooks`` reference library and the endpoint's secret.
"""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from app.integrations.endpoints import create_endpoint, emit_event, parse_form
from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import AuditLog, Order, OutboundDelivery, WebhookEndpoint
from app.platform.models.enums import OrderStatus, OutboundState
from app.platform.transactions import commit
from tests.fakes.receiver import FakeReceiver
from tests.integrations.test_provider_webhooks import make_integration, post_stripe, stripe_event
from tests.support.helpers import serving, signed_in_admin
from tests.support.jobs import drain_queues, drain_until

SECRET_IN_PAGE = re.compile(r"whsec_[A-Za-z0-9+/=]+")
HEADER_TOKEN = "tok-very-secret-123"  # noqa: S105


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver("whsec_placeholder"))


admin = pytest.fixture(signed_in_admin, name="admin")


class Form(dict):
    """A MultiDict stand-in for parse_form."""

    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


def endpoint_for(receiver, user, events=("invoice.paid",), **fields) -> WebhookEndpoint:
    form = Form(
        url=receiver.url + "/hooks/switchboard",
        events=list(events),
        custom_headers=f"Authorization: Bearer {HEADER_TOKEN}\nX-Tenant: chargecars",
        **{k: str(v) for k, v in fields.items()},
    )
    endpoint, secret = create_endpoint(parse_form(form, creating=True), user)
    db.session.commit()
    receiver.secret = secret
    return endpoint


def csrf(auth):
    return auth.csrf_token("/integrations/webhooks/")


# --- admin pages ---------------------------------------------------------------------


def test_admin_creates_an_endpoint_and_sees_the_secret_once(app, client, auth, admin, receiver):
    assert client.get("/integrations/webhooks/").status_code == 200
    answer = client.post(
        "/integrations/webhooks/",
        data={
            "csrf_token": csrf(auth),
            "url": receiver.url + "/hook",
            "description": "ERP",
            "events": ["invoice.paid", "customer.created"],
            "custom_headers": f"Authorization: Bearer {HEADER_TOKEN}",
            "max_attempts": "4",
            "retry_base_seconds": "30",
        },
    )
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    endpoint = db.session.scalar(sa.select(WebhookEndpoint))
    page = answer.get_data(as_text=True)
    assert endpoint.secret in page
    assert endpoint.secret.startswith("whsec_")
    assert (endpoint.events, endpoint.max_attempts, endpoint.retry_base_seconds) == (
        ["invoice.paid", "customer.created"],
        4,
        30,
    )
    assert endpoint.custom_headers == {"Authorization": f"Bearer {HEADER_TOKEN}"}
    assert HEADER_TOKEN not in page
    # Never again: not on the endpoint page, the list, nor in the audit log.
    for path in (f"/integrations/webhooks/{endpoint.id}", "/integrations/webhooks/"):
        shown = client.get(path).get_data(as_text=True)
        assert not SECRET_IN_PAGE.search(shown), path
        assert HEADER_TOKEN not in shown
        assert "Authorization" in shown or path.endswith("webhooks/")
    audit = db.session.scalars(sa.select(AuditLog)).all()
    assert [a.action for a in audit] == ["WEBHOOK_ENDPOINT_CREATED"]
    assert endpoint.secret not in str(audit[0].changes)
    assert HEADER_TOKEN not in str(audit[0].changes)
    assert audit[0].changes["custom_header_names"] == ["Authorization"]


def test_invalid_form_names_each_field(app, client, auth, admin):
    answer = client.post(
        "/integrations/webhooks/",
        data={
            "csrf_token": csrf(auth),
            "url": "ftp://example.com",
            "events": ["invoice.paid", "order.exploded"],
            "max_attempts": "11",
            "retry_base_seconds": "-1",
            "custom_headers": "webhook-id: mine\nBad Header: x",
        },
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    for field in ("url", "events", "max_attempts", "retry_base_seconds", "custom_headers.line1"):
        assert f'data-field="{field}"' in page, field
    assert "order.exploded" in page
    # Named as the form labels them, a header's line under the headers' label.
    assert "<strong>Attempts</strong>:" in page and "<strong>Custom headers</strong>:" in page
    assert "<strong>max_attempts</strong>" not in page
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0


@pytest.mark.parametrize("role", ["agent", "team_lead", "manager", "technician"])
def test_other_roles_get_403(app, client, auth, make_user, role, receiver):
    owner = make_user("admin")
    endpoint = endpoint_for(receiver, owner)
    user = make_user(role)
    auth.login(user.email)
    token = auth.csrf_token("/m/" if role == "technician" else "/inbox")
    assert client.get("/integrations/webhooks/").status_code == 403
    assert client.get(f"/integrations/webhooks/{endpoint.id}").status_code == 403
    posted = client.post(
        "/integrations/webhooks/",
        data={"csrf_token": token, "url": "https://x.example", "events": ["invoice.paid"]},
    )
    assert posted.status_code == 403
    deleted = client.post(
        f"/integrations/webhooks/{endpoint.id}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 1


def test_edit_keeps_headers_unless_replaced_and_delete_keeps_log(
    app, client, auth, admin, receiver
):
    endpoint = endpoint_for(receiver, admin)
    token = csrf(auth)
    saved = client.post(
        f"/integrations/webhooks/{endpoint.id}",
        data={
            "csrf_token": token,
            "url": endpoint.url,
            "events": ["invoice.paid", "payment.received"],
            "max_attempts": "2",
        },
    )
    assert saved.status_code == 303
    db.session.refresh(endpoint)
    assert endpoint.events == ["invoice.paid", "payment.received"]
    assert endpoint.custom_headers["Authorization"] == f"Bearer {HEADER_TOKEN}"
    emit_event("invoice.paid", {"x": 1}, source="test")
    db.session.commit()
    deleted = client.post(
        f"/integrations/webhooks/{endpoint.id}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(OutboundDelivery.id))) == 1
    actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.created_at)).all()
    assert actions == [
        "WEBHOOK_ENDPOINT_CREATED",
        "WEBHOOK_ENDPOINT_UPDATED",
        "WEBHOOK_ENDPOINT_DELETED",
    ]


# --- deliveries ------------------------------------------------------------------------


def test_provider_event_fans_out_to_subscribed_endpoint_with_custom_headers(
    app, client, make_user, receiver, caplog
):
    caplog.set_level(logging.DEBUG)
    user = make_user("admin")
    endpoint = endpoint_for(receiver, user, events=("invoice.paid",))
    other = FakeReceiver("whsec_x").start()
    try:
        endpoint_for(other, user, events=("customer.created",))
        make_integration("stripe", {"webhook_secret": "whsec_stripe"})
        obj = {"id": "in_1", "object": "invoice", "amount_paid": 12100}
        payload = stripe_event("evt_paid", "invoice.paid", obj)
        assert post_stripe(client, payload, secret="whsec_stripe").status_code == 200  # noqa: S106
        drain_until(app, lambda: receiver.delivered())
        drain_queues(app)
        assert other.events == []
    finally:
        other.stop()
    assert receiver.rejections == []
    [event] = receiver.delivered()
    assert event.payload["type"] == "invoice.paid"
    assert event.payload["source"] == "stripe"
    assert event.payload["data"]["object"]["id"] == "in_1"
    assert event.headers["Authorization"] == f"Bearer {HEADER_TOKEN}"
    assert event.headers["X-Tenant"] == "chargecars"
    assert event.event == "invoice.paid"
    delivery = db.session.scalar(sa.select(OutboundDelivery))
    assert delivery.webhook_endpoint_id == endpoint.id
    assert delivery.state == OutboundState.DELIVERED
    assert endpoint.secret not in caplog.text
    assert HEADER_TOKEN not in caplog.text


def test_retries_on_the_endpoints_own_schedule(app, make_user, receiver):
    user = make_user("admin")
    endpoint = endpoint_for(receiver, user, max_attempts=2, retry_base_seconds=1)
    receiver.behave_next(status=500)
    emit_event("invoice.paid", {"invoice": "F-1"}, source="test")
    commit()
    drain_until(app, lambda: receiver.delivered(), timeout=20)
    delivery = db.session.scalar(sa.select(OutboundDelivery))
    db.session.refresh(delivery)
    assert delivery.state == OutboundState.DELIVERED
    assert [a.status_code for a in delivery.attempts] == [500, 200]
    gap = receiver.events[1].arrived_at - receiver.events[0].arrived_at
    assert gap >= 0.9
    # Both attempts carried the same message id, as Standard Webhooks expects.
    assert receiver.events[0].webhook_id == receiver.events[1].webhook_id == delivery.webhook_id
    assert endpoint.max_attempts == 2


def test_failed_delivery_retried_from_the_log_and_test_event(app, client, auth, admin, receiver):
    endpoint = endpoint_for(receiver, admin, max_attempts=1)
    receiver.behave_next(status=503, body="down")
    emit_event("invoice.paid", {"invoice": "F-2"}, source="test")
    commit()
    drain_queues(app)
    delivery = db.session.scalar(sa.select(OutboundDelivery))
    db.session.refresh(delivery)
    assert delivery.state == OutboundState.FAILED
    page = client.get(f"/integrations/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "HTTP 503" in page and "down" in page
    token = csrf(auth)
    retried = client.post(
        f"/integrations/webhooks/{endpoint.id}/deliveries/{delivery.id}/retry",
        data={"csrf_token": token},
    )
    assert retried.status_code == 303
    drain_until(app, lambda: receiver.delivered())
    db.session.refresh(delivery)
    assert delivery.state == OutboundState.DELIVERED
    assert [a.status_code for a in delivery.attempts] == [503, 200]
    assert delivery.attempts[1].triggered_by_user_id == admin.id

    tested = client.post(f"/integrations/webhooks/{endpoint.id}/test", data={"csrf_token": token})
    assert tested.status_code == 303
    drain_until(app, lambda: len(receiver.delivered()) == 2)
    test_call = receiver.delivered()[-1]
    assert test_call.event == "test"
    assert test_call.payload["type"] == "test"
    assert test_call.headers["X-Tenant"] == "chargecars"
    assert receiver.rejections == []


def test_410_disables_the_endpoint_until_switched_on(app, client, auth, admin, receiver):
    endpoint = endpoint_for(receiver, admin, max_attempts=3)
    receiver.behave_next(status=410)
    emit_event("invoice.paid", {"invoice": "F-3"}, source="test")
    commit()
    drain_queues(app)
    db.session.refresh(endpoint)
    assert endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason
    delivery = db.session.scalar(sa.select(OutboundDelivery))
    db.session.refresh(delivery)
    assert delivery.state == OutboundState.FAILED
    assert len(delivery.attempts) == 1
    # Disabled: new events are not queued to it, retries are refused.
    emit_event("invoice.paid", {"invoice": "F-4"}, source="test")
    commit()
    assert db.session.scalar(sa.select(sa.func.count(OutboundDelivery.id))) == 1
    token = csrf(auth)
    client.post(
        f"/integrations/webhooks/{endpoint.id}/deliveries/{delivery.id}/retry",
        data={"csrf_token": token},
    )
    db.session.refresh(delivery)
    assert delivery.state == OutboundState.FAILED
    switched = client.post(
        f"/integrations/webhooks/{endpoint.id}/active", data={"csrf_token": token, "active": "1"}
    )
    assert switched.status_code == 303
    db.session.refresh(endpoint)
    assert endpoint.disabled_at is None and endpoint.is_active


def test_order_status_changes_reach_endpoints_as_job_events(app, make_user, receiver):
    user = make_user("admin")
    endpoint_for(receiver, user, events=("job.completed",))
    order = Order(order_number="CC-2026-00077", status=OrderStatus.IN_PROGRESS)
    db.session.add(order)
    db.session.commit()
    change_entity_status(order, OrderStatus.ON_HOLD, "wacht op netbeheerder")
    commit()
    change_entity_status(order, OrderStatus.IN_PROGRESS)
    commit()
    change_entity_status(order, OrderStatus.COMPLETED, "opgeleverd")
    commit()
    drain_until(app, lambda: receiver.delivered())
    assert receiver.rejections == []
    [event] = receiver.delivered()
    assert event.payload["type"] == "job.completed"
    assert event.payload["data"]["order_number"] == "CC-2026-00077"
    assert event.payload["data"]["previous_status"] == "in_progress"
