"""The partner portal in a browser: a partner user signs in with a code and walks the portal.

At 1440x900 and 375x812: every page opens, nothing scrolls sideways, and one
failed callback is sent again. With ``PORTAL_SHOTS`` set to a folder, the pages
are saved there (docs/screenshots/portal-*.png were made this way).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import Article, Order, PartnerSkuMapping
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.helpers import enroll_two_factor
from tests.support.partner_support import add_articles, line_items_order, make_partner
from tests.support.portal_support import build_world

SHOTS = os.environ.get("PORTAL_SHOTS")
SIZES = ((1440, 900, "desktop"), (375, 812, "phone"))


def _no_sideways_scroll(page, width: int) -> None:
    scroll = _page_width(page)
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _shot(page, name: str, label: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/portal-{name}-{label}.png", full_page=True)


def test_partner_user_walks_the_portal_and_replays_a_callback(live_server, browser, make_user):
    world = build_world(make_user, language="nl")
    alpha = world["alpha"]
    order = alpha.orders[0]
    failed = alpha.deliveries[0]
    for width, height, label in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            sign_in(page, live_server.url, alpha.user_email)
            page.wait_for_url(f"{live_server.url}/portal/")
            table = page.get_by_test_id("orders-table")
            expect(table).to_contain_text("ALPHA-1")
            expect(table).to_contain_text("SUB-1")  # the sub-partner's, marked
            expect(table).not_to_contain_text("BETA-1")
            expect(page.get_by_role("heading", name="Orders")).to_be_visible()
            _no_sideways_scroll(page, width)
            _shot(page, "orders", label)

            page.goto(f"{live_server.url}/portal/orders/{order.id}")
            expect(page.get_by_test_id("order-history")).to_contain_text(
                "Approved, we will call the customer."
            )
            expect(page.get_by_test_id("order-history")).not_to_contain_text("INTERNAL")
            _no_sideways_scroll(page, width)
            _shot(page, "order", label)

            page.goto(f"{live_server.url}/portal/deliveries")
            expect(page.get_by_test_id("deliveries-table")).to_contain_text("HTTP 500")
            _no_sideways_scroll(page, width)
            _shot(page, "deliveries", label)

            page.goto(f"{live_server.url}/portal/deliveries/{failed.id}")
            expect(page.get_by_test_id("payload")).to_contain_text(order.order_number)
            _no_sideways_scroll(page, width)
            _shot(page, "delivery", label)
            if label == "desktop":
                page.get_by_test_id("replay").click()
                expect(page.locator(".flash")).to_contain_text("wachtrij")
                expect(page.get_by_test_id("delivery-state")).to_contain_text("wacht")

            page.goto(f"{live_server.url}/portal/keys")
            expect(page.get_by_test_id("keys-table")).to_contain_text("alpha key")
            _no_sideways_scroll(page, width)
            _shot(page, "keys", label)

            page.goto(f"{live_server.url}/portal/webhook")
            live = page.get_by_test_id("webhook-live")
            expect(live.get_by_label("Webhook-URL (https)")).to_have_value(
                "https://alpha.example/hooks"
            )
            expect(page.get_by_test_id("webhook-sandbox")).to_contain_text("Test (sandbox)")
            _no_sideways_scroll(page, width)
            _shot(page, "webhook", label)

            page.goto(f"{live_server.url}/portal/allowlist")
            expect(page.get_by_test_id("allowlist-form")).to_be_visible()
            _no_sideways_scroll(page, width)

            page.goto(f"{live_server.url}/portal/performance")
            expect(page.get_by_test_id("portal-performance")).to_be_visible()
            _no_sideways_scroll(page, width)
            _shot(page, "performance", label)
        finally:
            context.close()


# What sticks out past the phone's right edge (the failure message names it).
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 8)
  .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""
# References as long as the API takes them, without a space to break at.
LONG_ORDER_ID = "GRO-2026-" + "0123456789" * 9 + "X"
LONG_SKU = "GRO-WALLBOX-ALFEN-EVE-SINGLE-PRO-LINE-11KW-" + "A" * 21


def test_an_api_order_with_long_references_fits_a_phone(
    live_server, browser, client, make_user, fake_pdok
):
    """A partner's own ids run to 100 characters with no space; on a 375 px
    phone the order page wrapped none of them and scrolled sideways."""
    partner = make_partner("Groendus")
    add_articles(partner)
    db.session.add(
        PartnerSkuMapping(
            partner_organization_id=partner.organization.id,
            partner_sku=LONG_SKU,
            article_id=db.session.scalar(
                sa.select(Article.id).where(Article.sku == "ALF-EVE-S-11KW")
            ),
        )
    )
    db.session.commit()
    body = line_items_order(
        LONG_ORDER_ID,
        purchase_order_number="PO-" + "9" * 97,
        line_items=[
            {
                "sku": LONG_SKU,
                "description": "Alfen-Eve-Single-Pro-Line-11kW-met-MID-gecertificeerde-kWh-meter",
                "quantity": 1,
            }
        ],
    )
    body["customer"]["name"] = "Jan-Willem Vanderveldenhuizen-Hoogstraten"
    body["customer"]["address"]["street"] = "Burgemeester-van-Nispen-van-Sevenaerstraat 123"
    response = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
    )
    assert response.status_code == 201, response.get_json()
    order_id = db.session.scalar(sa.select(Order.id).where(Order.partner_order_id == LONG_ORDER_ID))
    user = make_user(
        "partner",
        email="groendus@portal.test",
        partner_organization_id=partner.organization.id,
        language="nl",
    )
    enroll_two_factor(user)
    db.session.commit()
    db.session.remove()

    context = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "groendus@portal.test")
        page.wait_for_url(f"{live_server.url}/portal/")
        expect(page.get_by_test_id("orders-table")).to_contain_text(LONG_ORDER_ID)
        assert _page_width(page) <= 375, page.evaluate(WIDEST)

        page.goto(f"{live_server.url}/portal/orders/{order_id}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_ORDER_ID)
        expect(page.get_by_test_id("order-lines")).to_contain_text(LONG_SKU)
        _shot(page, "order-long-references", "phone")
        assert _page_width(page) <= 375, page.evaluate(WIDEST)
    finally:
        context.close()
