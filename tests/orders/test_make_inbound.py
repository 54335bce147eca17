"""Inbound Make.com scenarios: signed posts, stored, processed by a job."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.orders.core.customer_details import EMAIL_DIFFERS
from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.models import (
    Address,
    Article,
    CommunicationMessage,
    CommunicationThread,
    Contact,
    CustomerFeedback,
    InboundWebhookEvent,
    Order,
    OrderStatusTransition,
    Organization,
    Payment,
)
from app.platform.models.enums import (
    AddressValidation,
    ArticleType,
    ContactType,
    OrderSource,
    OrderStatus,
    Priority,
    ProcessingState,
    ThreadType,
)
from tests.conftest import opened
from tests.support.jobs import drain_queues

SECRET = "make-secret-2025"
ORDER_BODY = {
    "customer": {
        "name": "Jan Janssen",
        "email": "jan@example.com",
        "phone": "06-12345678",
        "address": {"street": "Hoofdstraat", "house_number": "123", "postal_code": "1012 ab"},
    },
    "products": [
        {"sku": "ALF-EVE-S-11KW", "quantity": 1},
        {"description": "Iets onbekends", "quantity": 2},
    ],
    "notes": "Graag in de ochtend",
}


@pytest.fixture
def app(make_app):
    with opened(make_app(MAKE_WEBHOOK_SECRET=SECRET)) as app:
        yield app


def _post(client, scenario, body, *, secret=SECRET, raw=None, headers=None):
    raw = raw if raw is not None else json.dumps(body)
    signature = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    return client.post(
        f"/api/v1/webhooks/make/{scenario}",
        data=raw,
        headers={
            "X-Make-Signature": signature,
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _event(scenario=None) -> InboundWebhookEvent:
    db.session.expire_all()
    query = sa.select(InboundWebhookEvent).order_by(InboundWebhookEvent.created_at.desc())
    if scenario:
        query = query.where(InboundWebhookEvent.event_type == scenario)
    return db.session.scalars(query).first()


def _order(number="CC-2026-00042", status=OrderStatus.SCHEDULED, **fields) -> Order:
    customer = Contact(display_name="Piet Klant", email="piet@example.com")
    db.session.add(customer)
    db.session.flush()
    order = Order(order_number=number, status=status, end_customer_contact_id=customer.id, **fields)
    db.session.add(order)
    db.session.commit()
    return order


# --- the door: signature, scenario, body --------------------------------------------


def test_a_bad_or_missing_signature_is_401_and_stores_nothing(client):
    assert _post(client, "payment-received", {}, secret="wrong").status_code == 401
    unsigned = client.post("/api/v1/webhooks/make/payment-received", json={})
    assert unsigned.status_code == 401
    assert unsigned.json["error"]["code"] == "invalid_signature"
    assert _count(InboundWebhookEvent) == 0


def test_without_a_configured_secret_nothing_is_accepted(make_app):
    with opened(make_app()) as app:
        response = _post(app.test_client(), "payment-received", {})
        assert response.status_code == 401
        assert response.json["error"]["code"] == "not_configured"
        assert "MAKE_WEBHOOK_SECRET" in response.json["error"]["message"]


def test_an_unknown_scenario_is_404_listing_the_known_ones(client):
    response = _post(client, "invoice-paid", {})
    assert response.status_code == 404
    message = response.json["error"]["message"]
    for known in ("order-created", "visit-completed", "payment-received", "customer-feedback"):
        assert known in message


def test_malformed_json_is_400(client):
    response = _post(client, "visit-completed", None, raw="{nope")
    assert response.status_code == 400
    assert _count(InboundWebhookEvent) == 0


@pytest.mark.parametrize(
    ("scenario", "body", "fields"),
    [
        (
            "order-created",
            {"customer": {"name": "", "address": {"postal_code": "12345"}}},
            {"customer.name", "customer.address.postal_code"},
        ),
        (
            "order-created",
            {
                "customer": {
                    "name": "Jan",
                    "address": {"street": "Kerkstraat 1", "postal_code": "1234AB"},
                }
            },
            {"customer.email"},
        ),
        (
            "visit-completed",
            {"completed_at": "2025-06-01T10:00:00"},
            {"order_number", "completed_at"},
        ),
        (
            "payment-received",
            {"order_number": "CC-2026-00042", "amount": "-5", "currency": "euro"},
            {"amount", "currency", "payment_reference"},
        ),
        ("customer-feedback", {"order_number": "CC-2026-00042", "score": 7}, {"score"}),
        (
            "customer-feedback",
            {"order_number": "CC-2026-1", "score": 3, "scale": 7},
            {"order_number", "scale"},
        ),
    ],
)
def test_schema_errors_are_422_naming_the_fields(client, scenario, body, fields):
    response = _post(client, scenario, body)
    assert response.status_code == 422, response.json
    assert fields <= set(response.json["error"]["fields"]), response.json["error"]["fields"]
    assert _count(InboundWebhookEvent) == 0


# --- order-created --------------------------------------------------------------------


def test_order_created_makes_a_checked_order_with_lines(app, client, fake_pdok):
    db.session.add(
        Article(
            sku="ALF-EVE-S-11KW",
            name="Alfen Eve Single 11kW",
            article_type=ArticleType.WALLBOX,
            unit_price=Decimal("899.00"),
        )
    )
    db.session.commit()
    response = _post(client, "order-created", ORDER_BODY, headers={"X-Make-Execution-Id": "exec-1"})
    assert response.status_code == 200
    assert response.json["data"]["duplicate"] is False
    drain_queues(app)

    assert _event().processing_state == ProcessingState.PROCESSED
    order = db.session.scalar(sa.select(Order))
    assert order.source == OrderSource.MAKE and order.status == OrderStatus.NEW
    assert order.order_number.startswith("CC-")
    assert order.notes == "Graag in de ochtend"
    assert order.partner_external_references["make_execution_id"] == "exec-1"
    customer = db.session.get(Contact, order.end_customer_contact_id)
    assert (customer.email, customer.phone) == ("jan@example.com", "+31612345678")
    address = db.session.get(Address, order.installation_address_id)
    assert address.validation_state == AddressValidation.VALID and address.bag_id
    lines = sorted(order.line_items, key=lambda line: line.line_order)
    assert lines[0].article_id is not None and lines[0].unit_price == Decimal("899.00")
    assert lines[1].article_id is None and lines[1].needs_review and lines[1].quantity == 2
    assert order.needs_review  # the unknown product
    assert [t.to_status for t in order.transitions] == ["new"]
    assert fake_pdok.requests, "the address was checked against PDOK"


def test_order_created_twice_makes_one_order(app, client, fake_pdok):
    first = _post(client, "order-created", ORDER_BODY)
    again = _post(client, "order-created", ORDER_BODY)
    assert again.json["data"]["duplicate"] is True
    assert again.json["data"]["event_id"] == first.json["data"]["event_id"]
    drain_queues(app)
    assert _count(Order) == 1


def test_a_partners_order_is_one_order_per_partner_order_id(app, client, fake_pdok):
    partner = create_partner("50five")
    db.session.commit()
    body = dict(ORDER_BODY, partner_id=str(partner.organization.id), partner_order_id="50F-1")
    for execution in ("exec-a", "exec-b"):
        _post(client, "order-created", body, headers={"X-Make-Execution-Id": execution})
    drain_queues(app)
    assert _count(InboundWebhookEvent) == 2
    assert all(
        e.processing_state == ProcessingState.PROCESSED
        for e in db.session.scalars(sa.select(InboundWebhookEvent))
    )
    order = db.session.scalar(sa.select(Order))
    assert _count(Order) == 1
    assert order.partner_organization_id == partner.organization.id
    assert order.partner_order_id == "50F-1"
    assert order.channel_contact_ids and order.account_contact_id == order.partner_contact_id


def test_order_created_never_changes_a_known_customers_addresses(app, client, fake_pdok):
    """A known customer's details stay as they are, through Make too: the order keeps
    what was sent, flagged once."""
    partner = create_partner("50five")
    known = Contact(
        contact_type=ContactType.PERSON, display_name="Marieke Bos", phone="+31612345678"
    )
    db.session.add(known)
    db.session.commit()
    body = dict(ORDER_BODY, partner_id=str(partner.organization.id), partner_order_id="50F-7")
    body["customer"] = {**ORDER_BODY["customer"], "email": "orders@50five.example"}
    # Delivered twice, as two executions: two events, one order, one reason.
    for execution in ("exec-a", "exec-b"):
        _post(client, "order-created", body, headers={"X-Make-Execution-Id": execution})
    drain_queues(app)
    assert _event().processing_state == ProcessingState.PROCESSED
    contact = db.session.get(Contact, known.id)
    assert (contact.email, contact.phone) == (None, "+31612345678")
    order = db.session.scalar(sa.select(Order))
    assert order.end_customer_contact_id == known.id
    assert order.customer_as_sent["email"] == "orders@50five.example"
    assert order.review_reasons.count(EMAIL_DIFFERS) == 1


def test_an_unknown_partner_fails_the_event_and_writes_nothing(app, client, fake_pdok):
    body = dict(ORDER_BODY, partner_id=str(uuid.uuid4()))
    _post(client, "order-created", body)
    drain_queues(app)
    event = _event()
    assert event.processing_state == ProcessingState.FAILED
    assert "no partner" in event.last_error
    assert _count(Order) == _count(Contact) == _count(Address) == 0


def test_a_failure_late_in_order_creation_leaves_nothing_half_written(
    app, client, fake_pdok, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("status engine down")

    monkeypatch.setattr("app.orders.make.orders.record_initial_status", broken)
    _post(client, "order-created", ORDER_BODY)
    drain_queues(app)
    assert "status engine down" in _event().last_error
    assert _count(Order) == _count(Contact) == _count(Address) == _count(Organization) == 0


# --- visit-completed ------------------------------------------------------------------


def test_visit_completed_passes_through_in_progress(app, client):
    order = _order(status=OrderStatus.SCHEDULED)
    body = {
        "order_number": order.order_number,
        "completed_at": "2026-01-15T14:30:00+01:00",
        "technician": "Kees Monteur",
        "notes": "Laadpaal werkt",
    }
    assert _post(client, "visit-completed", body).status_code == 200
    drain_queues(app)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.COMPLETED
    assert order.completed_at == datetime(2026, 1, 15, 13, 30, tzinfo=timezone.utc)
    steps = [(t.from_status, t.to_status) for t in order.transitions]
    assert steps == [("scheduled", "in_progress"), ("in_progress", "completed")]
    assert order.transitions[-1].transition_reason == "Visit completed: Laadpaal werkt"
    assert order.transitions[-1].business_context["technician"] == "Kees Monteur"


def test_visit_completed_for_a_completed_order_changes_nothing(app, client):
    order = _order(status=OrderStatus.COMPLETED)
    _post(client, "visit-completed", {"order_id": str(order.id)})
    drain_queues(app)
    assert _event().processing_state == ProcessingState.PROCESSED
    assert _count(OrderStatusTransition) == 0


def test_visit_completed_for_an_order_not_yet_planned_fails_visibly(app, client):
    order = _order(status=OrderStatus.NEW)
    _post(client, "visit-completed", {"order_number": order.order_number})
    drain_queues(app)
    event = _event()
    assert event.processing_state == ProcessingState.FAILED
    assert "cannot go from new to completed" in event.last_error
    assert _count(OrderStatusTransition) == 0


def test_an_unknown_order_fails_the_event_which_can_be_rerun_later(app, client, make_user, auth):
    _post(client, "visit-completed", {"order_number": "CC-2026-00099"})
    drain_queues(app)
    event = _event()
    assert event.processing_state == ProcessingState.FAILED
    assert event.last_error.endswith("no order CC-2026-00099")

    _order(number="CC-2026-00099", status=OrderStatus.IN_PROGRESS)
    admin = make_user("admin")
    auth.login(admin.email)
    page = client.get("/admin/events/?state=failed")
    assert str(event.id) in page.get_data(as_text=True)
    token = auth.csrf_token(f"/admin/events/{event.id}")
    assert (
        client.post(f"/admin/events/{event.id}/rerun", data={"csrf_token": token}).status_code
        == 303
    )
    drain_queues(app)
    assert _event().processing_state == ProcessingState.PROCESSED
    assert db.session.scalar(sa.select(Order)).status == OrderStatus.COMPLETED


# --- payment-received -----------------------------------------------------------------


def test_a_payment_is_recorded_once_per_reference(app, client):
    order = _order()
    body = {
        "order_number": order.order_number,
        "amount": "1249.50",
        "currency": "eur",
        "payment_reference": "tr_WDqYK6vllg",
        "method": "ideal",
        "paid_at": "2026-01-10T09:00:00Z",
    }
    _post(client, "payment-received", body, headers={"X-Make-Execution-Id": "run-1"})
    _post(client, "payment-received", body, headers={"X-Make-Execution-Id": "run-2"})
    drain_queues(app)
    payments = db.session.scalars(sa.select(Payment)).all()
    assert len(payments) == 1
    payment = payments[0]
    assert payment.order_id == order.id
    assert payment.amount == Decimal("1249.50") and payment.currency == "EUR"
    assert payment.method == "ideal"
    assert payment.paid_at == datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)
    assert all(
        e.processing_state == ProcessingState.PROCESSED
        for e in db.session.scalars(sa.select(InboundWebhookEvent))
    )


def test_a_payment_for_an_unknown_order_fails_and_records_nothing(app, client):
    body = {"order_number": "CC-2026-00001", "amount": 10, "payment_reference": "tr_1"}
    _post(client, "payment-received", body)
    drain_queues(app)
    assert _event().processing_state == ProcessingState.FAILED
    assert _count(Payment) == 0


# --- customer-feedback ----------------------------------------------------------------


def test_a_low_score_opens_a_high_priority_complaint_thread(app, client):
    order = _order()
    body = {"order_number": order.order_number, "score": 2, "comment": "Monteur was te laat"}
    _post(client, "customer-feedback", body)
    drain_queues(app)
    feedback = db.session.scalar(sa.select(CustomerFeedback))
    assert (feedback.score, feedback.comment) == (2, "Monteur was te laat")
    assert feedback.order_id == order.id and feedback.contact_id == order.end_customer_contact_id
    thread = db.session.get(CommunicationThread, feedback.thread_id)
    assert thread.thread_type == ThreadType.COMPLAINT and thread.priority == Priority.HIGH
    assert thread.contact_id == order.end_customer_contact_id and thread.order_id == order.id
    assert thread.response_due_at is not None
    message = db.session.scalar(sa.select(CommunicationMessage))
    assert message.thread_id == thread.id
    assert "Monteur was te laat" in message.message_content


@pytest.mark.parametrize(
    ("score", "scale", "opens_thread"),
    [(3, 5, False), (5, 5, False), (1, 5, True), (6, 10, True), (7, 10, False), (0, 10, True)],
)
def test_what_counts_as_low(app, client, score, scale, opens_thread):
    order = _order()
    _post(
        client,
        "customer-feedback",
        {"order_number": order.order_number, "score": score, "scale": scale},
    )
    drain_queues(app)
    feedback = db.session.scalar(sa.select(CustomerFeedback))
    assert feedback.score == score and feedback.raw["scale"] == scale
    assert (feedback.thread_id is not None) is opens_thread
    assert _count(CommunicationThread) == (1 if opens_thread else 0)


def test_the_same_feedback_response_is_recorded_once(app, client):
    order = _order()
    body = {"order_number": order.order_number, "score": 1, "feedback_id": "resp-77"}
    _post(client, "customer-feedback", body, headers={"X-Make-Execution-Id": "a"})
    _post(client, "customer-feedback", body, headers={"X-Make-Execution-Id": "b"})
    drain_queues(app)
    assert _count(CustomerFeedback) == 1
    assert _count(CommunicationThread) == 1
