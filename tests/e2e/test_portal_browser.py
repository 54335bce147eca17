"""Issue 29 point 2 in a browser: a partner user signs in with a code and walks the portal.

At 1440x900 and 375x812: every page opens, nothing scrolls sideways, and one
failed callback is sent again. With ``PORTAL_SHOTS`` set to a folder, the pages
are saved there (docs/screenshots/portal-*.png were made this way).
"""

from __future__ import annotations

import os

from playwright.sync_api import expect

from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.portal_support import build_world

SHOTS = os.environ.get("PORTAL_SHOTS")
SIZES = ((1440, 900, "desktop"), (375, 812, "phone"))


def _no_sideways_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


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
