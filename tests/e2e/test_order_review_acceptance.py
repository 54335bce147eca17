"""A flagged partner order is found, fixed in place and approved.

On the deployment a customer runs: ``python wsgi.py`` and two ``python worker.py``
on PostgreSQL and Redis, PDOK and the partner's receiver as fakes that speak
their documented formats.

1. The partner posts an order whose address PDOK cannot confirm (the postcode's
   letters mistyped) and whose SKU has no article.
2. An agent at 1440×900 in Dutch, on the inbox, sees the count on "Orders" rise
   live; finds the order on the desk by the customer's phone typed another way;
   opens its review card in the row, takes PDOK's suggestion, maps the SKU to an
   article, and approves it. The count falls back; the partner hears of the
   approval once (the workers deliver it).
3. The partner's next order with that SKU needs no mapping.

What is made in the database directly is what an admin sets up once on pages
other tests walk: the partner with its articles and callback, the agent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import LineItem, Order
from app.platform.models.enums import OrderStatus
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.fakes.pdok import FakePdok
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import PASSWORD, serving
from tests.support.partner_support import add_articles, line_items_order, make_partner
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

DESK = {"width": 1440, "height": 900}
NEW_SKU = "GRO-PULSAR-22"
AGENT = "sanne.visser@chargecars.nl"
# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture
def pdok():
    yield from serving(FakePdok())


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(secret="whsec_unknown"))


@pytest.fixture
def app(make_app):
    # Empties the database and Redis; this process reads what the deployment did.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


@pytest.fixture
def deployed(app, deployment, pdok):
    topology = deployment(PDOK_API_BASE=pdok.url, DELIVERY_RETRY_BASE_SECONDS="1")
    topology.start_web()
    topology.start_worker()
    topology.start_worker()
    return topology


def _send(base_url, partner, partner_order_id: str, **customer) -> dict:
    body = line_items_order(partner_order_id)
    body["customer"].update(customer)
    body["line_items"] = [{"sku": NEW_SKU, "quantity": 1}, {"sku": "GRO-INSTALL-1", "quantity": 1}]
    answer = requests.post(
        f"{base_url}/api/v1/partners/{partner.id}/orders",
        json=body,
        headers=partner.headers,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def test_a_flagged_order_is_found_fixed_in_place_and_approved(
    app, deployed, browser, make_user, receiver
):
    partner = make_partner(
        webhook_url=f"{receiver.url}/hooks/chargecars",
        webhook_events=["order_created", "status_changed"],
    )
    receiver.secret = partner.secret
    add_articles(partner)
    agent = make_user("agent", email=AGENT, language="nl")
    agent.name = "Sanne Visser"
    db.session.commit()
    base_url = deployed.base_url

    context = browser.new_context(viewport=DESK, locale="nl-NL", timezone_id="Europe/Amsterdam")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        page.goto(f"{base_url}/login")
        page.locator("#email").fill(AGENT)
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/inbox$"))
        badge = page.get_by_test_id("nav-count-orders_waiting")
        expect(badge).to_be_hidden()
        # The deployment's CSP allows no eval (which wait_for_function needs): polled.
        wait_until(
            lambda: page.evaluate("() => Boolean(window.switchboardSocket?.connected)"),
            30,
            "the page's live connection",
        )

        # 1. The partner's order: "1012 AC" is not in the BAG (it has 1012 AB).
        sent = _send(
            base_url,
            partner,
            "GRO-2026-880001",
            phone="06-12345678",
            address={"street": "Hoofdstraat 123", "city": "Amsterdam", "postal_code": "1012 AC"},
        )
        number = sent["chargecars_order_id"]

        # 2. The count rises live; the order is found by the phone typed another way.
        expect(badge).to_have_text("1")
        page.get_by_role("link", name=re.compile(r"^Orders")).click()
        page.get_by_test_id("desk-search").fill("+31 6 1234 5678")
        page.get_by_test_id("desk-search").press("Enter")
        row = page.locator(f'[data-testid="desk-row"][data-order="{number}"]')
        expect(row.get_by_test_id("desk-blocks")).to_contain_text("Adres niet bevestigd door PDOK")
        expect(row.get_by_test_id("desk-blocks")).to_contain_text(NEW_SKU)
        row.get_by_test_id("desk-review-open").click()
        card = page.locator(f'[data-testid="review-card"][data-order="{number}"]')
        expect(card.get_by_test_id("review-flag")).to_have_count(2)
        expect(card.get_by_test_id("pdok-suggestions")).to_contain_text(
            "Hoofdstraat 123, 1012AB Amsterdam"
        )
        _shot(page, "order-review-queue.png")

        card.get_by_test_id("use-suggestion").first.click()
        expect(card.get_by_test_id("review-notice")).to_contain_text("Adres bevestigd")
        expect(card.get_by_test_id("review-flag")).to_have_count(1)
        choice = card.get_by_test_id("article-choice")
        choice.select_option(
            choice.locator("option", has_text="Alfen Eve Single").get_attribute("value")
        )
        card.get_by_test_id("map-article").click()
        expect(card.get_by_test_id("review-clean")).to_have_text("Niets meer te controleren.")
        card.get_by_test_id("review-approve").click()
        expect(card.get_by_test_id("review-notice")).to_have_text(f"{number} is goedgekeurd.")
        expect(badge).to_be_hidden()
        # The row says what is left: nothing blocks it, nothing to check.
        expect(row.get_by_test_id("desk-blocks")).to_have_count(0)
        expect(row.get_by_test_id("desk-review-open")).to_have_count(0)
        _shot(page, "order-review-approved.png")
        # The order's history says who fixed what.
        row.get_by_role("link", name=number).click()
        fixes = page.get_by_test_id("review-fix")
        expect(fixes).to_have_count(2)
        expect(fixes.first).to_contain_text("Sanne Visser")
        expect(page.locator("#history")).to_contain_text("Adres bevestigd door PDOK")
        expect(page.get_by_test_id("order-review")).to_have_count(0)
        _shot(page, "order-review-history.png")
    finally:
        context.close()

    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_number == number))
    assert order.status == OrderStatus.APPROVED and order.review_reasons == []
    assert order.installation_address.postal_code == "1012AB"

    # The workers deliver the approval to the partner once, signed.
    def confirmed() -> list:
        # "CONFIRMED" is the partner's word for approved (its status mapping).
        return [e for e in receiver.delivered() if e.payload.get("status") == "CONFIRMED"]

    wait_until(lambda: bool(confirmed()), 60, "the approval callback delivered")
    assert len(confirmed()) == 1 and receiver.rejections == []
    assert confirmed()[0].payload["partner_order_id"] == "GRO-2026-880001"

    # 3. The next order with that SKU needs no mapping.
    following = _send(
        base_url,
        partner,
        "GRO-2026-880002",
        name="Petra de Vries",
        email="petra@example.com",
        phone="+31 6 87654321",
        address={"street": "Oudegracht 5a", "city": "Utrecht", "postal_code": "3511AB"},
    )
    db.session.expire_all()
    next_order = db.session.scalar(
        sa.select(Order).where(Order.order_number == following["chargecars_order_id"])
    )
    assert not any(str(r).startswith("unmapped") for r in next_order.review_reasons)
    line = db.session.scalar(
        sa.select(LineItem).where(
            LineItem.order_id == next_order.id, LineItem.partner_sku == NEW_SKU
        )
    )
    assert line.article_id is not None and not line.needs_review
