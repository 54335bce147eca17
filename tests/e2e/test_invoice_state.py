"""Invoice state in the browser: the agent sees the order's invoice paid and refunded,
on the order page and beside the customer's conversation."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from app.integrations.payments import apply_payment_succeeded
from app.orders.invoices.ledger import record_refund
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import ChannelType, OrderStatus
from app.platform.transactions import commit
from tests.e2e.test_sign_in import sign_in
from tests.support import factories

# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")


def _screenshot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


def _paid_then_partly_refunded():
    jan = factories.contact(display_name="Jan de Vries", phone="+31612345678")
    order = Order(
        order_number="CC-2026-00301",
        status=OrderStatus.COMPLETED,
        account_contact_id=jan.id,
        end_customer_contact_id=jan.id,
        total_amount=Decimal("1849.00"),
    )
    db.session.add(order)
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    thread = factories.thread(channel, jan, thread_subject="Laadpaal factuur", order_id=order.id)
    factories.message(thread, "Ik heb betaald, klopt dat?", sender_contact_id=jan.id)
    stripe = factories.integration("stripe", credentials={"api_key": "sk_test_x"})
    db.session.commit()
    intent = {
        "id": "pi_3Browser",
        "amount_received": 184900,
        "currency": "eur",
        "created": 1763640000,  # 20 Nov 2025
        "metadata": {"order_id": str(order.id)},
    }
    payment = apply_payment_succeeded(stripe, intent)
    record_refund(
        payment,
        external_reference="re_browser",
        amount=Decimal("249.00"),
        currency="eur",
        status="succeeded",
        refunded_at=None,
        raw={},
    )
    commit()
    return order, thread


def test_the_agent_sees_the_invoice_paid_and_refunded(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    order, thread = _paid_then_partly_refunded()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")

    page.goto(f"{live_server.url}/orders/{order.order_number}")
    card = page.locator("#invoice")
    expect(card.get_by_test_id("invoice-state")).to_have_text("partly refunded")
    expect(card.get_by_test_id("invoice-paid-on")).to_have_text("Invoice paid on 20 Nov 2025")
    expect(card.get_by_test_id("invoice-refunds")).to_contain_text("€249.00")
    card.scroll_into_view_if_needed()
    _screenshot(page, "payments-order-invoice-1440.png")

    page.goto(f"{live_server.url}/threads/{thread.id}")
    line = page.get_by_test_id("customer-orders").get_by_test_id("order-invoice")
    expect(line).to_have_text("Invoice paid on 20-11-2025 · €249.00 refunded")
    _screenshot(page, "payments-conversation-invoice-1440.png")
