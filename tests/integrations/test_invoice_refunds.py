"""Money: Stripe refunds update our invoice ("Refund issued → Invoice updated"), and
the agent sees it.

Signed Stripe webhooks posted to ``/api/v1/webhooks/stripe``, the webhook job run by
the tests' job runner; then the invoice, the refund rows and the platform events,
with the same refund told again changing nothing.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Contact, InboundWebhookEvent, Payment, PaymentRefund
from app.platform.models.enums import ChannelType
from tests.integrations.test_invoice_payments import (
    charge_refunded,
    completed_order,
    intent,
    invoice_of,
    platform_events,
    post_stripe,
    processed,
    refund,
    stripe_integration,
)
from tests.support import factories

# --- Stripe refund → invoice updated ------------------------------------------------------------


def test_stripe_refunds_update_the_invoice_once_per_refund(app, client):
    stripe_integration()
    order = completed_order("CC-2026-00103", "1499.00")
    processed(
        app, post_stripe(client, "evt_paid", "payment_intent.succeeded", intent(order, 149900))
    )
    invoice = invoice_of(order)
    assert (invoice.state, invoice.amount_paid) == ("paid", Decimal("1499.00"))
    [paid] = platform_events("invoice.paid")
    assert (paid.source, paid.payload["object_id"]) == ("stripe", "pi_3Paid")
    assert paid.inbound_event_id is not None
    assert len(platform_events("payment.succeeded")) == 1

    # One partial refund, told three ways: refund.created, charge.refunded, refund.updated.
    processed(
        app, post_stripe(client, "evt_r1", "refund.created", refund("re_1", 30000, "pending"))
    )
    processed(
        app,
        post_stripe(
            client, "evt_c1", "charge.refunded", charge_refunded(30000, [refund("re_1", 30000)])
        ),
    )
    processed(app, post_stripe(client, "evt_r1u", "refund.updated", refund("re_1", 30000)))
    assert post_stripe(client, "evt_r1", "refund.created", refund("re_1", 30000)).get_json()[
        "data"
    ] == {"received": 0, "duplicates": 1}

    invoice = invoice_of(order)
    assert (invoice.state, invoice.amount_paid, invoice.amount_refunded) == (
        "partly_refunded",
        Decimal("1499.00"),
        Decimal("300.00"),
    )
    [refunded] = platform_events("payment.refunded")
    assert refunded.payload["object_id"] == "re_1"
    assert refunded.payload["invoice"]["amount_refunded"] == "300.00"
    [row] = db.session.scalars(sa.select(PaymentRefund)).all()
    assert (row.external_reference, row.amount, row.status) == (
        "re_1",
        Decimal("300.00"),
        "succeeded",
    )

    # The rest, first as the charge says it (API versions that list no refunds), then its refund.
    processed(app, post_stripe(client, "evt_c2", "charge.refunded", charge_refunded(149900, [])))
    processed(app, post_stripe(client, "evt_r2", "refund.created", refund("re_2", 119900)))

    invoice = invoice_of(order)
    assert (invoice.state, invoice.amount_refunded) == ("refunded", Decimal("1499.00"))
    assert [e.payload["invoice"]["state"] for e in platform_events("payment.refunded")] == [
        "partly_refunded",
        "refunded",
    ]
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(PaymentRefund.id))) == 2


def test_a_failed_refund_no_longer_counts(app, client):
    stripe_integration()
    order = completed_order("CC-2026-00104", "100.00")
    processed(
        app, post_stripe(client, "evt_paid", "payment_intent.succeeded", intent(order, 10000))
    )
    processed(app, post_stripe(client, "evt_r1", "refund.created", refund("re_9", 4000, "pending")))
    assert invoice_of(order).state == "partly_refunded"
    processed(app, post_stripe(client, "evt_r1f", "refund.updated", refund("re_9", 4000, "failed")))
    invoice = invoice_of(order)
    assert (invoice.state, invoice.amount_refunded) == ("paid", Decimal("0.00"))


def test_refund_of_a_payment_we_do_not_know_is_noted(app, client):
    stripe_integration()
    obj = refund("re_x", 500, intent_id="pi_elsewhere")
    processed(app, post_stripe(client, "evt_rx", "refund.created", obj))
    charge = {**charge_refunded(500, [obj]), "payment_intent": "pi_elsewhere"}
    processed(app, post_stripe(client, "evt_cx", "charge.refunded", charge))

    notes = db.session.scalars(
        sa.select(InboundWebhookEvent.note).order_by(InboundWebhookEvent.created_at)
    ).all()
    assert all("pi_elsewhere is not a payment of ours" in note for note in notes), notes
    assert db.session.scalar(sa.select(sa.func.count(PaymentRefund.id))) == 0
    # The charge's refund is still a platform event, as for any payment taken elsewhere.
    [refunded] = platform_events("payment.refunded")
    assert "order_id" not in refunded.payload


# --- where an agent sees it --------------------------------------------------------------------


def test_the_order_page_and_the_conversation_show_the_invoice(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    stripe_integration()
    order = completed_order("CC-2026-00105", "1499.00")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(whatsapp, db.session.get(Contact, order.account_contact_id))
    db.session.commit()
    auth.login("anouk@switchboard.test")

    def sections():
        page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
        panel = client.get(f"/threads/{thread.id}/customer").get_data(as_text=True)
        invoice = page.split('id="invoice"')[1].split("</section>")[0]
        orders = panel.split('data-testid="customer-orders"')[1].split("</ul>")[0]
        return invoice, orders

    invoice, orders = sections()
    assert ">open<" in invoice and "Invoice paid on" not in invoice
    assert "Invoice open" in orders

    processed(
        app, post_stripe(client, "evt_paid", "payment_intent.succeeded", intent(order, 149900))
    )
    invoice, orders = sections()
    assert ">paid in full<" in invoice and "Invoice paid on 01 Jan 2026" in invoice
    assert "€1,499.00 · Stripe" in invoice.split('data-testid="invoice-payments"')[1]
    assert "Invoice paid on 01-01-2026" in orders

    processed(app, post_stripe(client, "evt_r1", "refund.created", refund("re_1", 30000)))
    invoice, orders = sections()
    assert ">partly refunded<" in invoice
    assert "€300.00 · refunded" in invoice.split('data-testid="invoice-refunds"')[1]
    assert "Invoice paid on 01-01-2026 · €300.00 refunded" in orders
