"""Money: a QuickBooks (or Make.com) payment marks our invoice paid. Stripe refunds
are in ``test_invoice_refunds.py``, which shares the signed-post helpers here.

From the outside: signed provider webhooks posted to ``/api/v1/webhooks/<provider>``,
the webhook job run by the tests' job runner, the QuickBooks payment read back from
the fake QuickBooks API as the job must; then the invoice state, the Payment rows,
the platform events, and the same events again changing nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests
import sqlalchemy as sa
import stripe

from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import (
    InboundWebhookEvent,
    Order,
    OrderInvoice,
    Payment,
    PlatformEvent,
    SyncJob,
)
from app.platform.models.enums import OrderStatus, ProcessingState
from app.platform.transactions import commit
from tests.fakes.quickbooks import REALM, FakeQuickBooks
from tests.fakes.quickbooks import TOKEN as QBO_TOKEN
from tests.orders.test_make_inbound import SECRET as MAKE_SECRET
from tests.orders.test_make_inbound import _post as post_make
from tests.support import factories
from tests.support.jobs import drain_queues, drain_until

STRIPE_SECRET = "whsec_test_refunds_signing_secret"  # noqa: S105
QB_VERIFIER = "qb-verifier-token-payments"  # noqa: S105


@pytest.fixture
def quickbooks(app):
    fake = FakeQuickBooks().start()
    app.config["QUICKBOOKS_API_BASE"] = fake.url
    app.config["SYNC_RETRY_BASE_SECONDS"] = 0.01
    yield fake
    fake.stop()


def quickbooks_integration():
    integration = factories.integration(
        "quickbooks",
        credentials={
            "access_token": QBO_TOKEN,
            "expires_at": time.time() + 3600,
            "verifier_token": QB_VERIFIER,
        },
        config={"realm_id": REALM},
    )
    db.session.commit()
    return integration


def stripe_integration():
    integration = factories.integration(
        "stripe", credentials={"api_key": "sk_test_x", "webhook_secret": STRIPE_SECRET}
    )
    db.session.commit()
    return integration


def completed_order(number: str, total: str) -> Order:
    customer = factories.contact(display_name=f"Klant {number}", email=f"{number}@example.nl")
    db.session.commit()
    order = Order(
        order_number=number,
        status=OrderStatus.IN_PROGRESS,
        account_contact_id=customer.id,
        total_amount=Decimal(total),
    )
    db.session.add(order)
    db.session.commit()
    change_entity_status(order, OrderStatus.COMPLETED, "installed")
    commit()
    return order


def pushed_invoice(app, fake, order: Order) -> dict:
    """Run the invoice push the completed order queued; the fake's invoice for it."""
    job_id = db.session.scalar(sa.select(SyncJob.id).where(SyncJob.object_type == "invoices"))

    def done():
        db.session.expire_all()
        return db.session.get(SyncJob, job_id).status == "completed"

    drain_until(app, done)
    [invoice] = [
        i for i in fake.entities["Invoice"].values() if i["DocNumber"] == order.order_number
    ]
    return invoice


def qbo_payment(fake, invoice_id: str, amount: float, txn_date="2026-11-20") -> dict:
    """A payment recorded in QuickBooks by the bookkeeper, through QuickBooks' own API."""
    invoice = fake.entities["Invoice"][invoice_id]
    answer = requests.post(
        f"{fake.url}/v3/company/{REALM}/payment",
        params={"minorversion": "75"},
        headers={"Authorization": f"Bearer {QBO_TOKEN}"},
        json={
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": amount,
            "TxnDate": txn_date,
            "Line": [
                {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
            ],
        },
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["Payment"]


def qbo_notification(*changes: tuple[str, str, str]) -> str:
    """QuickBooks' eventNotifications body for (entity id, operation, lastUpdated) of Payments."""
    entities = [
        {"name": "Payment", "id": pid, "operation": op, "lastUpdated": at}
        for pid, op, at in changes
    ]
    body = {"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": entities}}]}
    return json.dumps(body)


def post_quickbooks(client, body: str):
    signature = base64.b64encode(
        hmac.new(QB_VERIFIER.encode(), body.encode(), hashlib.sha256).digest()
    ).decode()
    return client.post(
        "/api/v1/webhooks/quickbooks",
        data=body,
        headers={"intuit-signature": signature, "Content-Type": "application/json"},
    )


def stripe_body(event_id: str, event_type: str, obj: dict) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "type": event_type,
            "data": {"object": obj},
        }
    )


def post_stripe(client, event_id: str, event_type: str, obj: dict):
    payload = stripe_body(event_id, event_type, obj)
    header = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET)
    return client.post(
        "/api/v1/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def intent(order: Order, cents: int, intent_id="pi_3Paid") -> dict:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": cents,
        "amount_received": cents,
        "currency": "eur",
        "status": "succeeded",
        "created": 1767225600,
        "metadata": {"order_id": str(order.id)},
    }


def refund(refund_id: str, cents: int, status="succeeded", intent_id="pi_3Paid") -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": cents,
        "currency": "eur",
        "charge": "ch_3Paid",
        "payment_intent": intent_id,
        "status": status,
        "created": 1767312000,
    }


def charge_refunded(cents_refunded: int, refunds: list[dict], total=149900) -> dict:
    return {
        "id": "ch_3Paid",
        "object": "charge",
        "amount": total,
        "amount_captured": total,
        "amount_refunded": cents_refunded,
        "currency": "eur",
        "payment_intent": "pi_3Paid",
        "refunded": cents_refunded >= total,
        "refunds": {"object": "list", "data": refunds, "has_more": False},
    }


def invoice_of(order: Order) -> OrderInvoice:
    db.session.expire_all()
    return db.session.scalar(sa.select(OrderInvoice).where(OrderInvoice.order_id == order.id))


def platform_events(name: str) -> list[PlatformEvent]:
    return db.session.scalars(
        sa.select(PlatformEvent)
        .where(PlatformEvent.name == name)
        .order_by(PlatformEvent.created_at)
    ).all()


def processed(app, answer) -> None:
    assert answer.status_code == 200, answer.get_json()
    drain_queues(app)
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    assert set(states) == {ProcessingState.PROCESSED}, states


# --- QuickBooks payment recorded → invoice marked paid -------------------------------------


def test_quickbooks_payments_mark_our_invoice_partly_paid_then_paid_once(app, client, quickbooks):
    quickbooks_integration()
    order = completed_order("CC-2026-00101", "1499.00")
    assert invoice_of(order).state == "open"  # opened when the order was completed
    remote_invoice = pushed_invoice(app, quickbooks, order)

    first = qbo_payment(quickbooks, remote_invoice["Id"], 500.0, txn_date="2026-11-18")
    body = qbo_notification((first["Id"], "Create", "2026-11-18T10:00:00.000Z"))
    processed(app, post_quickbooks(client, body))

    invoice = invoice_of(order)
    assert (invoice.state, invoice.amount_paid, invoice.paid_at) == (
        "partly_paid",
        Decimal("500.00"),
        None,
    )
    [received] = platform_events("payment.received")
    assert received.payload["order_number"] == "CC-2026-00101"
    assert received.payload["invoice"]["state"] == "partly_paid"
    assert platform_events("invoice.paid") == []

    rest = qbo_payment(quickbooks, remote_invoice["Id"], 999.0, txn_date="2026-11-20")
    body = qbo_notification(
        (rest["Id"], "Create", "2026-11-20T09:00:00.000Z"),
        # QuickBooks tells of an edit of the first payment too (same amount).
        (first["Id"], "Update", "2026-11-20T09:00:01.000Z"),
    )
    processed(app, post_quickbooks(client, body))

    invoice = invoice_of(order)
    assert invoice.state == "paid"
    assert (invoice.amount_due, invoice.amount_paid) == (Decimal("1499.00"), Decimal("1499.00"))
    assert invoice.paid_at.date().isoformat() == "2026-11-20"
    payments = db.session.scalars(sa.select(Payment).order_by(Payment.amount)).all()
    assert [(p.amount, p.method, p.external_reference) for p in payments] == [
        (
            Decimal("500.00"),
            "quickbooks",
            f"quickbooks:{REALM}:{first['Id']}:{remote_invoice['Id']}",
        ),
        (
            Decimal("999.00"),
            "quickbooks",
            f"quickbooks:{REALM}:{rest['Id']}:{remote_invoice['Id']}",
        ),
    ]
    assert len(platform_events("payment.received")) == 2
    [paid] = platform_events("invoice.paid")
    assert paid.payload["invoice"]["amount_paid"] == "1499.00"
    reads = [r.path for r in quickbooks.requests if r.method == "GET" and "/payment/" in r.path]
    assert len(reads) == 3  # each notification read the payment from the API

    # Redelivered as sent (a duplicate at the door) and as a fresh Update: nothing changes.
    assert post_quickbooks(client, body).get_json()["data"]["duplicates"] == 2
    again = qbo_notification((rest["Id"], "Update", "2026-11-21T08:00:00.000Z"))
    processed(app, post_quickbooks(client, again))
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 2
    assert len(platform_events("payment.received")) == 2
    assert len(platform_events("invoice.paid")) == 1
    assert invoice_of(order).amount_paid == Decimal("1499.00")


def test_quickbooks_payment_for_an_invoice_we_do_not_know_is_noted(
    app, client, auth, make_user, quickbooks
):
    quickbooks_integration()
    order = completed_order("CC-2026-00102", "250.00")
    pushed_invoice(app, quickbooks, order)
    # An invoice someone made in QuickBooks itself, paid there.
    customer_ref = next(iter(quickbooks.entities["Customer"].values()))["Id"]
    foreign = requests.post(
        f"{quickbooks.url}/v3/company/{REALM}/invoice",
        params={"minorversion": "75"},
        headers={"Authorization": f"Bearer {QBO_TOKEN}"},
        json={
            "CustomerRef": {"value": customer_ref},
            "Line": [
                {
                    "Amount": 80.0,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
        timeout=5,
    ).json()["Invoice"]
    payment = qbo_payment(quickbooks, foreign["Id"], 80.0)

    processed(app, post_quickbooks(client, qbo_notification((payment["Id"], "Create", "t1"))))

    event = db.session.scalar(
        sa.select(InboundWebhookEvent).where(InboundWebhookEvent.event_type == "Payment.Create")
    )
    assert event.attempts == 1 and event.last_error is None
    assert f"invoice {foreign['Id']}" in event.note and "not one of our orders" in event.note
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
    assert invoice_of(order).state == "open"
    # Still a payment in the books: endpoints hear of it as before, without an order.
    [received] = platform_events("payment.received")
    assert "order_id" not in received.payload and received.payload["object_id"] == payment["Id"]
    # The admin's events page says why nothing was recorded.
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test")
    detail = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    assert "Note: " in detail and "not one of our orders" in detail


def test_quickbooks_unreadable_payment_fails_the_event_without_retrying(app, client, quickbooks):
    quickbooks_integration()
    processed_before = post_quickbooks(client, qbo_notification(("999", "Create", "t1")))
    assert processed_before.status_code == 200
    drain_queues(app)
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.processing_state == ProcessingState.FAILED
    assert "Object Not Found" in event.last_error and event.attempts == 1
    assert db.session.scalar(sa.select(sa.func.count(PlatformEvent.id))) == 0


def test_a_make_payment_marks_the_invoice_paid_once(app, client):
    app.config["MAKE_WEBHOOK_SECRET"] = MAKE_SECRET
    order = completed_order("CC-2026-00106", "1249.50")
    body = {
        "order_number": order.order_number,
        "amount": "1249.50",
        "currency": "eur",
        "payment_reference": "tr_WDqYK6vllg",
        "method": "ideal",
        "paid_at": "2026-01-10T09:00:00Z",
    }
    for run in ("run-1", "run-2"):  # the scenario run twice
        post_make(client, "payment-received", body, headers={"X-Make-Execution-Id": run})
    drain_queues(app)

    invoice = invoice_of(order)
    assert (invoice.state, invoice.amount_paid) == ("paid", Decimal("1249.50"))
    assert invoice.paid_at == datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_the_json_order_api_shows_the_invoice(app, client, auth, make_user):
    app.config["MAKE_WEBHOOK_SECRET"] = MAKE_SECRET
    order = completed_order("CC-2026-00107", "800.00")
    agent = make_user("agent")
    auth.login(agent.email)
    assert client.get(f"/api/orders/{order.order_number}").get_json()["data"]["invoice"] == {
        "state": "open",
        "currency": "EUR",
        "amount_due": "800.00",
        "amount_paid": "0.00",
        "amount_refunded": "0.00",
        "paid_at": None,
    }
    body = {
        "order_number": order.order_number,
        "amount": "800.00",
        "currency": "eur",
        "payment_reference": "tr_api",
        "method": "ideal",
        "paid_at": "2026-01-11T09:00:00Z",
    }
    post_make(client, "payment-received", body, headers={"X-Make-Execution-Id": "run-api"})
    drain_queues(app)
    shown = client.get(f"/api/orders/{order.order_number}").get_json()["data"]["invoice"]
    assert (shown["state"], shown["paid_at"]) == ("paid", "2026-01-11T09:00:00+00:00")
