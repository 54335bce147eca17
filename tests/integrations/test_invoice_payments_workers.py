"""Invoice payments with two ``worker.py`` processes: a burst of payment and refund events,
each told several times, gives exactly one Payment per payment and the right sums.

QuickBooks notifies one payment as a ``Create`` and several ``Update`` s; Stripe tells
one refund as ``refund.created``, ``refund.updated`` and ``charge.refunded``; every
call is also delivered twice. Two real workers process them from Redis together,
reading the payment from the fake QuickBooks API. The invoice ledger's unique keys
and row lock must leave one Payment, one refund row per refund id, the invoice sums
right, and no job failed on a duplicate key.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.integrations.payments import apply_payment_succeeded
from app.platform.extensions import db
from app.platform.models import (
    InboundWebhookEvent,
    Order,
    OrderInvoice,
    Payment,
    PaymentRefund,
    PlatformEvent,
    SyncRecord,
)
from app.platform.models.enums import OrderStatus, ProcessingState
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.fakes.quickbooks import REALM, FakeQuickBooks
from tests.integrations.test_invoice_payments import (
    charge_refunded,
    intent,
    post_quickbooks,
    post_stripe,
    qbo_notification,
    qbo_payment,
    quickbooks_integration,
    refund,
    stripe_integration,
)
from tests.support import factories
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SETTLE_SECONDS = 120.0
COPIES = 2  # every call delivered twice


@pytest.fixture
def quickbooks():
    fake = FakeQuickBooks().start()
    yield fake
    fake.stop()


@pytest.fixture
def app(make_app, quickbooks):
    # No worker in this process: the events wait in Redis for the two workers.
    with opened(make_app(start_embedded_worker=False, QUICKBOOKS_API_BASE=quickbooks.url)) as app:
        yield app


@pytest.fixture
def workers(app, quickbooks, deployment):
    return deployment(QUICKBOOKS_API_BASE=quickbooks.url)


def completed(number: str, total: str) -> Order:
    customer = factories.contact(display_name=f"Klant {number}")
    order = Order(
        order_number=number,
        status=OrderStatus.COMPLETED,
        account_contact_id=customer.id,
        total_amount=Decimal(total),
    )
    db.session.add(order)
    db.session.commit()
    return order


def invoice_in_quickbooks(fake, integration, order: Order) -> str:
    """The order's invoice as our push left it: in QuickBooks, its id in our sync records."""
    customer = {"DisplayName": order.order_number}
    invoice = {"Line": [{"Amount": float(order.total_amount)}], "DocNumber": order.order_number}
    fake.entities["Customer"]["1"] = {**customer, "Id": "1", "SyncToken": "0"}
    remote = {
        **invoice,
        "Id": "130",
        "CustomerRef": {"value": "1"},
        "TotalAmt": float(order.total_amount),
        "Balance": float(order.total_amount),
    }
    fake.entities["Invoice"]["130"] = remote
    db.session.add(
        SyncRecord(
            integration_id=integration.id,
            object_type="invoices",
            local_id=str(order.id),
            remote_id="130",
            status="synced",
        )
    )
    db.session.commit()
    return "130"


def burst_calls(qbo_payment_id: str) -> list[tuple[str, tuple]]:
    calls = [
        ("quickbooks", (qbo_notification((qbo_payment_id, "Create", "2026-11-20T09:00:00Z")),))
    ]
    for n in range(1, 4):
        at = f"2026-11-20T09:00:0{n}Z"
        calls.append(("quickbooks", (qbo_notification((qbo_payment_id, "Update", at)),)))
    re_1, re_2 = refund("re_1", 25000), refund("re_2", 15000)
    calls += [
        ("stripe", ("evt_a", "refund.created", refund("re_1", 25000, "pending"))),
        ("stripe", ("evt_b", "charge.refunded", charge_refunded(25000, [re_1], total=100000))),
        ("stripe", ("evt_c", "refund.updated", re_1)),
        ("stripe", ("evt_d", "refund.created", re_2)),
        ("stripe", ("evt_e", "charge.refunded", charge_refunded(40000, [re_1, re_2], 100000))),
        ("stripe", ("evt_f", "refund.updated", re_2)),
    ]
    return calls


def all_processed() -> bool:
    db.session.expire_all()
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    db.session.rollback()
    return bool(states) and all(s == ProcessingState.PROCESSED for s in states)


def test_two_workers_turn_a_burst_of_repeated_money_events_into_one_of_each(
    app, client, workers, quickbooks
):
    qbo = quickbooks_integration()
    qbo.sync_direction = "one_way_in"  # nothing of ours is pushed back meanwhile
    stripe = stripe_integration()
    paid_in_quickbooks = completed("CC-2026-00201", "1499.00")
    refunded_by_stripe = completed("CC-2026-00202", "1000.00")
    invoice_id = invoice_in_quickbooks(quickbooks, qbo, paid_in_quickbooks)
    payment = qbo_payment(quickbooks, invoice_id, 1499.0)
    apply_payment_succeeded(stripe, intent(refunded_by_stripe, 100000))
    commit()

    workers.start_worker()
    workers.start_worker()
    for _copy in range(COPIES):
        for provider, args in burst_calls(payment["Id"]):
            if provider == "quickbooks":
                answer = post_quickbooks(client, *args)
            else:
                answer = post_stripe(client, *args)
            assert answer.status_code == 200, answer.get_json()
    stored = db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id)))
    assert stored == 10  # the second copies were duplicates at the door
    wait_until(all_processed, SETTLE_SECONDS, "every event processed")

    payments = db.session.scalars(sa.select(Payment).order_by(Payment.amount)).all()
    assert [(p.order_id, p.amount, p.method) for p in payments] == [
        (refunded_by_stripe.id, Decimal("1000.00"), "stripe"),
        (paid_in_quickbooks.id, Decimal("1499.00"), "quickbooks"),
    ]
    invoices = {i.order_id: i for i in db.session.scalars(sa.select(OrderInvoice)).all()}
    paid = invoices[paid_in_quickbooks.id]
    assert (paid.state, paid.amount_paid, paid.amount_refunded) == (
        "paid",
        Decimal("1499.00"),
        Decimal("0.00"),
    )
    refunded = invoices[refunded_by_stripe.id]
    assert (refunded.state, refunded.amount_paid, refunded.amount_refunded) == (
        "partly_refunded",
        Decimal("1000.00"),
        Decimal("400.00"),
    )
    refunds = db.session.scalars(sa.select(PaymentRefund).order_by(PaymentRefund.amount)).all()
    assert [(r.external_reference, r.amount, r.status) for r in refunds] == [
        ("re_2", Decimal("150.00"), "succeeded"),
        ("re_1", Decimal("250.00"), "succeeded"),
    ]

    def named(name):
        return db.session.scalars(sa.select(PlatformEvent).where(PlatformEvent.name == name)).all()

    assert len(named("payment.received")) == 1
    # One from the Stripe payment before the burst, one from QuickBooks in it.
    assert sorted(e.source for e in named("invoice.paid")) == ["quickbooks", "stripe"]
    told = sorted(e.payload["invoice"]["amount_refunded"] for e in named("payment.refunded"))
    # Once per rise of the refunded sum: 250 then 400 or 150 then 400 (two workers
    # may take the refunds in either order), or 400 at once.
    assert told in (["250.00", "400.00"], ["150.00", "400.00"], ["400.00"]), told
    assert db.session.scalar(sa.select(sa.func.count(PlatformEvent.id))) == 3 + len(told)
    reads = quickbooks.requests_to(f"/v3/company/{REALM}/payment/{payment['Id']}", "GET")
    assert len(reads) == 4  # each stored QuickBooks event read the payment once
    for worker in workers.workers():
        output = worker.output()
        assert "UniqueViolation" not in output and "Traceback" not in output, output[-3000:]
