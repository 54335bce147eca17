"""Outbound partner callbacks: outbox, signatures, retries, alerts.

Every callback goes to a local receiver that verifies it with the
``standardwebhooks`` package and the hex ``X-ChargeCars-Signature``.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.orders.core import status_engine
from app.orders.core.status_engine import change_entity_status, record_initial_status
from app.orders.deliveries import partner_callbacks
from app.orders.deliveries.services import reenable_endpoint, retry_delivery, send_test_event
from app.orders.partners.services import create_partner, new_webhook_secret
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Contact,
    DeliveryAttempt,
    Notification,
    Order,
    OutboundDelivery,
    SandboxSend,
)
from app.platform.models.enums import OrderStatus, OutboundState, TokenKind
from app.platform.transactions import commit
from tests.conftest import opened
from tests.fakes.receiver import FakeReceiver
from tests.fakes.teams import FakeTeams
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until

BASE = 0.2
HOOK_PATH = "/hooks/chargecars"
PUBLIC_BASE_URL = "https://switchboard.example.nl"
MAPPING = {
    "chargecars_to_partner": {
        "new": "RECEIVED",
        "approved": "CONFIRMED",
        "scheduled": "PLANNED",
        "in_progress": "IN_PROGRESS",
        "completed": "DELIVERED",
    },
    "partner_to_chargecars": {"RECEIVED": "new", "CONFIRMED": "approved"},
}


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


@pytest.fixture
def teams():
    yield from serving(FakeTeams())


@pytest.fixture
def app(make_app, teams):
    app = make_app(
        TEAMS_WEBHOOK_URLS={"operations": teams.url + "/ops", "tech": teams.url + "/tech"},
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        DELIVERY_RETRY_BASE_SECONDS=BASE,
    )
    with opened(app) as app:
        yield app


def partner_order(receiver, events=("status_changed",), *, status=OrderStatus.NEW, **integration):
    """A partner whose webhook is the receiver, and one of its orders (committed)."""
    new = create_partner("Volvo Dealer", webhook_url=receiver.url + HOOK_PATH)
    new.organization.email = "it@volvo-dealer.example"
    partner = new.integration
    partner.webhook_secret = receiver.secret
    partner.webhook_events = list(events)
    partner.status_mapping = MAPPING
    for field, value in integration.items():
        setattr(partner, field, value)
    customer = Contact(display_name="Jan Janssen", email="jan@example.com")
    db.session.add(customer)
    db.session.flush()
    order = Order(
        order_number="CC-2026-00789",
        status=status,
        partner_organization_id=new.organization.id,
        partner_order_id="VLV-2025-789123",
        partner_external_references={
            "partner_order_id": "VLV-2025-789123",
            "partner_customer_id": "CUST-456789",
        },
        end_customer_contact_id=customer.id,
    )
    db.session.add(order)
    db.session.commit()
    return partner, order


def move(order, to_status, reason="Offerte getekend"):
    change_entity_status(order, OrderStatus(to_status), reason)
    commit()


def deliveries() -> list[OutboundDelivery]:
    query = sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at)
    return list(db.session.scalars(query))


def settled(delivery_id):
    def check():
        db.session.expire_all()
        return db.session.get(OutboundDelivery, delivery_id).state in (
            OutboundState.DELIVERED,
            OutboundState.FAILED,
            OutboundState.CANCELLED,
        )

    return check


def attempts(delivery_id) -> list[DeliveryAttempt]:
    return list(
        db.session.scalars(
            sa.select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.attempt_number)
        )
    )


def test_status_change_through_the_api_sends_one_verified_callback(
    app, client, make_user, receiver
):
    partner, order = partner_order(receiver)
    agent = make_user("agent")
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=agent.id)
    db.session.commit()

    answer = client.post(
        f"/api/orders/{order.id}/status",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "to_status": "approved",
            "reason": "Klant belde, korting van 5% gegeven",
            "partner_note": "Offerte getekend",
        },
    )
    assert answer.status_code == 200
    drain_until(app, lambda: len(receiver.events) == 1)

    assert receiver.rejections == []
    [event] = receiver.events
    [delivery] = deliveries()
    transition = db.session.scalars(
        sa.select(status_engine.OrderStatusTransition).where(
            status_engine.OrderStatusTransition.order_id == order.id
        )
    ).one()
    payload = dict(event.payload)
    sent_at = payload.pop("timestamp")
    assert sent_at.endswith("Z")
    assert payload == {
        "event": "status_changed",
        "chargecars_order_id": "CC-2026-00789",
        "partner_order_id": "VLV-2025-789123",
        "partner_customer_id": "CUST-456789",
        "status": "CONFIRMED",
        "status_details": {
            "from_status": "new",
            "to_status": "approved",
            "reason": "Offerte getekend",
            "timestamp": transition.created_at.isoformat().replace("+00:00", "Z"),
        },
        "customer_info": {"name": "Jan Janssen", "email": "jan@example.com"},
    }
    assert event.body == delivery.body.encode()
    assert event.event == "status_changed"
    assert event.webhook_id == delivery.webhook_id and delivery.webhook_id.startswith("msg_")
    assert abs(int(event.headers["Webhook-Timestamp"]) - time.time()) < 30
    db.session.expire_all()
    assert delivery.state == OutboundState.DELIVERED and delivery.delivered_at is not None
    [attempt] = attempts(delivery.id)
    assert attempt.status_code == 200 and attempt.latency_ms > 0
    assert attempt.response_excerpt == '{"received": true}'
    db.session.refresh(partner)
    assert partner.last_sync_at is not None and partner.success_rate == Decimal("100.00")


def test_a_failed_status_change_writes_and_sends_no_callback(app, receiver, monkeypatch):
    _, order = partner_order(receiver)

    def later_hook_fails(order, transition):
        raise RuntimeError("customer notice failed")

    monkeypatch.setattr(
        status_engine, "_hooks", lambda: [partner_callbacks.on_status_change, later_hook_fails]
    )
    with pytest.raises(RuntimeError):
        change_entity_status(order, OrderStatus.APPROVED, "x")
    db.session.rollback()
    drain_queues(app)
    assert deliveries() == [] and receiver.requests == []
    db.session.refresh(order)
    assert order.status == OrderStatus.NEW


def test_illegal_move_through_the_api_writes_no_callback(app, client, make_user, receiver):
    _, order = partner_order(receiver)
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=make_user("agent").id)
    db.session.commit()
    answer = client.post(
        f"/api/orders/{order.id}/status",
        headers={"Authorization": f"Bearer {token}"},
        json={"to_status": "completed"},
    )
    assert answer.status_code == 409
    drain_queues(app)
    assert deliveries() == [] and receiver.requests == []


def test_a_failing_partner_gets_max_attempts_then_people_are_alerted(
    app, make_user, receiver, teams
):
    admin = make_user("admin")
    lead = make_user("team_lead")
    agent = make_user("agent")
    partner, order = partner_order(receiver)
    receiver.behave_next(times=3, status=500, body='{"error": "database down"}')

    move(order, "approved")
    [delivery] = deliveries()
    drain_until(app, settled(delivery.id), timeout=20)

    assert receiver.rejections == []
    assert [e.answered for e in receiver.events] == [500, 500, 500]
    assert {e.webhook_id for e in receiver.events} == {delivery.webhook_id}
    arrivals = [e.arrived_at for e in receiver.events]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    # The backoff doubles: never earlier than BASE, then 2 × BASE. A busy machine may
    # start a retry late (a whole second was seen on a loaded CI run), never early.
    assert BASE - 0.05 <= gaps[0] < BASE + 3
    assert 2 * BASE - 0.05 <= gaps[1] < 2 * BASE + 3
    db.session.expire_all()
    assert delivery.state == OutboundState.FAILED and delivery.attempt_count == 3
    logged = attempts(delivery.id)
    assert [(a.attempt_number, a.status_code) for a in logged] == [(1, 500), (2, 500), (3, 500)]
    assert logged[0].response_excerpt == '{"error": "database down"}'

    # In-app: admins and team leads, linking to the partner's delivery log.
    notified = db.session.scalars(sa.select(Notification)).all()
    assert {n.user_id for n in notified} == {admin.id, lead.id}
    assert agent.id not in {n.user_id for n in notified}
    assert {n.link for n in notified} == {f"/partners/{order.partner_organization_id}/deliveries"}
    assert "CC-2026-00789" in notified[0].title
    # Teams: operations and tech, with a card linking to the same page.
    drain_until(app, lambda: len(teams.requests) == 2)
    for path in ("/ops", "/tech"):
        [card] = teams.cards_to(path)
        assert card["body"][0]["text"] == "Partner callback failed"
        facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
        assert facts["Order"] == "CC-2026-00789" and facts["Attempts"] == "3"
        assert card["actions"][0]["url"] == (
            f"{PUBLIC_BASE_URL}/partners/{order.partner_organization_id}/deliveries"
        )
    # The fallback e-mail to the partner (sandboxed: no SendGrid credentials).
    mail = db.session.scalars(
        sa.select(SandboxSend).where(SandboxSend.provider == "sendgrid")
    ).one()
    assert mail.recipient == "it@volvo-dealer.example"
    sent = mail.request_body["personalizations"][0]["dynamic_template_data"]
    assert sent["chargecars_order_id"] == "CC-2026-00789" and sent["status"] == "CONFIRMED"

    # A person retries from the delivery log: one more attempt, and it gets through.
    retry_delivery(delivery.id, admin)
    drain_until(app, settled(delivery.id))
    db.session.expire_all()
    assert delivery.state == OutboundState.DELIVERED
    assert [e.answered for e in receiver.events] == [500, 500, 500, 200]
    assert receiver.events[-1].webhook_id == delivery.webhook_id
    last = attempts(delivery.id)[-1]
    assert last.attempt_number == 4 and last.triggered_by_user_id == admin.id
    db.session.refresh(partner)
    assert partner.success_rate == Decimal("25.00")
    assert partner.last_sync_at is not None and "HTTP 500" in partner.last_error_message


def test_410_disables_the_endpoint_until_a_person_reenables_it(app, make_user, receiver):
    admin = make_user("admin")
    partner, order = partner_order(receiver)
    receiver.behave_next(status=410, body="gone")
    move(order, "approved")
    [first] = deliveries()
    drain_until(app, settled(first.id))
    db.session.expire_all()
    assert first.state == OutboundState.FAILED and first.attempt_count == 1
    assert partner.webhook_disabled_at is not None and "410" in partner.webhook_disabled_reason

    move(order, "scheduled", "Planned")
    second = deliveries()[1]
    drain_queues(app)
    db.session.expire_all()
    assert second.state == OutboundState.CANCELLED
    assert "disabled" in second.last_error and "410" in second.last_error
    assert len(receiver.requests) == 1
    with pytest.raises(ValueError, match="disabled"):
        retry_delivery(second.id, admin)
    with pytest.raises(ValueError, match="disabled"):
        send_test_event(partner, admin)

    reenable_endpoint(partner, admin)
    retry_delivery(second.id, admin)
    drain_until(app, settled(second.id))
    db.session.expire_all()
    assert second.state == OutboundState.DELIVERED
    assert receiver.delivered()[-1].payload["status"] == "PLANNED"


def test_retry_after_is_honoured(app, receiver):
    _, order = partner_order(receiver)
    receiver.behave_next(status=429, headers={"Retry-After": "1"})
    # When the retry was set for, seen as it is set: how soon a busy test machine
    # gets round to sending it is no measure of the code (2.7 s on a loaded CI).
    planned: list[float] = []

    def note_due(delivery, value, old, initiator):
        if value is not None:
            planned.append((value - utcnow()).total_seconds())

    sa.event.listen(OutboundDelivery.next_attempt_at, "set", note_due)
    try:
        move(order, "approved")
        [delivery] = deliveries()
        drain_until(app, settled(delivery.id))
    finally:
        sa.event.remove(OutboundDelivery.next_attempt_at, "set", note_due)
    first, second = receiver.events
    assert first.answered == 429 and second.answered == 200
    assert any(0.9 <= wait <= 1.0 for wait in planned), planned  # not the 0.2 s backoff
    assert second.arrived_at - first.arrived_at >= 0.95  # and not sent before


def test_a_redirect_is_a_failure_and_is_not_followed(app, receiver):
    _, order = partner_order(receiver, max_delivery_attempts=1)
    receiver.behave_next(status=302, headers={"Location": receiver.url + "/elsewhere"})
    move(order, "approved")
    [delivery] = deliveries()
    drain_until(app, settled(delivery.id))
    db.session.expire_all()
    assert delivery.state == OutboundState.FAILED
    assert [r.path for r in receiver.requests] == [HOOK_PATH]
    [attempt] = attempts(delivery.id)
    assert attempt.status_code == 302 and "not followed" in attempt.error


def test_private_addresses_are_refused_without_retries(app, receiver):
    partner, order = partner_order(receiver)
    app.config["ALLOW_PRIVATE_WEBHOOK_URLS"] = False
    partner.webhook_url = receiver.url.replace("http://", "https://") + HOOK_PATH
    db.session.commit()
    move(order, "approved")
    [delivery] = deliveries()
    drain_until(app, settled(delivery.id))
    db.session.expire_all()
    assert delivery.state == OutboundState.FAILED and delivery.attempt_count == 1
    assert "127.0.0.1" in delivery.last_error and "private" in delivery.last_error
    assert receiver.requests == []


def test_a_name_rebound_to_a_private_address_is_refused_at_connect(app, receiver, monkeypatch):
    """DNS rebinding: public when checked, 127.0.0.1 when the worker connects."""
    import socket

    partner, order = partner_order(receiver)
    app.config["ALLOW_PRIVATE_WEBHOOK_URLS"] = False
    port = receiver.url.rsplit(":", 1)[1]
    partner.webhook_url = f"https://rebind.example:{port}{HOOK_PATH}"
    db.session.commit()
    real_getaddrinfo = socket.getaddrinfo
    answers = []

    def rebinding_dns(host, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, *args, **kwargs)
        address = "93.184.216.34" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    move(order, "approved")
    [delivery] = deliveries()
    drain_until(app, settled(delivery.id))
    db.session.expire_all()

    assert answers == ["93.184.216.34", "127.0.0.1"]  # the check, then the connect
    assert delivery.state == OutboundState.FAILED and delivery.attempt_count == 1
    assert "resolves to 127.0.0.1" in delivery.last_error
    assert receiver.requests == []  # not a byte of the callback reached it


def test_plain_http_is_refused_in_production(app, receiver):
    _, order = partner_order(receiver)
    app.config["ALLOW_PRIVATE_WEBHOOK_URLS"] = False
    move(order, "approved")
    [delivery] = deliveries()
    drain_until(app, settled(delivery.id))
    db.session.expire_all()
    assert delivery.state == OutboundState.FAILED and "https" in delivery.last_error
    assert receiver.requests == []


def test_send_test_event(app, make_user, receiver):
    admin = make_user("admin")
    partner, _ = partner_order(receiver)
    delivery = send_test_event(partner, admin)
    drain_until(app, settled(delivery.id))
    [event] = receiver.events
    assert event.event == "test" and event.payload["test"] is True
    assert event.payload["status"] == "CONFIRMED"
    assert set(event.payload) >= {"chargecars_order_id", "status_details", "customer_info"}
    [attempt] = attempts(delivery.id)
    assert attempt.triggered_by_user_id == admin.id

    partner.webhook_url = None
    db.session.commit()
    with pytest.raises(ValueError, match="no webhook URL"):
        send_test_event(partner, admin)


def test_a_failed_test_event_alerts_nobody(app, make_user, receiver):
    admin = make_user("admin")
    partner, _ = partner_order(receiver)
    receiver.behave_next(status=500)
    delivery = send_test_event(partner, admin)
    drain_until(app, settled(delivery.id))
    db.session.expire_all()
    assert delivery.state == OutboundState.FAILED and delivery.attempt_count == 1
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


@pytest.mark.parametrize(
    ("events", "transition", "expected"),
    [
        (["status_changed"], ("new", "approved"), "status_changed"),
        (["order_approved", "status_changed"], ("new", "approved"), "order_approved"),
        (["order_created"], (None, "new"), "order_created"),
        (["order_completed"], ("in_progress", "completed"), "order_completed"),
        (["installation_completed"], ("in_progress", "completed"), "installation_completed"),
        (["visit_scheduled"], ("approved", "scheduled"), "visit_scheduled"),
        (["order_cancelled"], ("approved", "cancelled"), "order_cancelled"),
        (["order_created"], ("new", "approved"), None),
        ([], ("new", "approved"), None),
    ],
)
def test_the_most_specific_subscribed_event_is_sent(events, transition, expected):
    step = status_engine.OrderStatusTransition(from_status=transition[0], to_status=transition[1])
    assert partner_callbacks.event_for(step, events) == expected


def test_initial_status_sends_order_created(app, receiver):
    _, order = partner_order(receiver, events=["order_created"])
    record_initial_status(order, "Order created via partner API")
    commit()
    drain_until(app, lambda: len(receiver.events) == 1)
    payload = receiver.events[0].payload
    assert payload["event"] == "order_created" and payload["status"] == "RECEIVED"
    assert payload["status_details"]["from_status"] is None


def test_no_callback_without_subscription_mapping_or_partner_reference(app, receiver):
    partner, order = partner_order(receiver, events=["order_completed"])
    move(order, "approved")  # not subscribed
    partner.webhook_events = ["status_changed"]
    db.session.commit()
    move(order, "on_hold", "Wacht op klant")  # no mapping for on_hold
    order.partner_order_id = None
    db.session.commit()
    move(order, "approved", "Verder")  # no partner reference
    partner.is_active = False
    order.partner_order_id = "VLV-2025-789123"
    db.session.commit()
    move(order, "scheduled", "Planned")  # integration inactive
    drain_queues(app)
    assert deliveries() == [] and receiver.requests == []


def test_retry_is_refused_for_a_delivered_callback(app, make_user, receiver):
    _, order = partner_order(receiver)
    move(order, "approved")
    [delivery] = deliveries()
    drain_until(app, settled(delivery.id))
    with pytest.raises(ValueError, match="delivered already"):
        retry_delivery(delivery.id, make_user("admin"))
    with pytest.raises(LookupError):
        retry_delivery(uuid.uuid4(), make_user("admin"))


def test_our_reasons_a_delivery_failed_read_in_the_readers_language(app):
    from flask_babel import force_locale

    from app.orders.deliveries.log import readable_error

    with app.test_request_context(), force_locale("nl"):
        assert readable_error("connection failed (ConnectionError)") == (
            "Geen verbinding met de ontvanger"
        )
        assert readable_error("timed out after 10s") == "Geen antwoord binnen 10 seconden"
        # A receiver's own answer is shown as it came.
        assert readable_error("HTTP 500: upstream down") == "HTTP 500: upstream down"
