"""New work announces itself: an agent at 1440×900 sees the count on
"Orders" rise live when an order comes in, and the desk marks an order that waited
too long. Screenshots go to SCREENSHOT_DIR (default: the system's temporary directory)."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from app.orders.core.status_engine import record_initial_status
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.support.helpers import PASSWORD

SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "issue58-o3")


def _arrives(number: str, **fields) -> Order:
    order = Order(order_number=number, status=OrderStatus.NEW, **fields)
    db.session.add(order)
    db.session.flush()
    record_initial_status(order, "Order created via partner API")
    commit()
    return order


def test_the_count_on_orders_rises_live_and_a_late_order_is_marked(
    live_server, browser, make_user
):
    agent = make_user("agent", language="nl")
    late = _arrives(
        "CC-2026-00201", needs_review=True, review_reasons=["address not confirmed by PDOK"],
        created_at=utcnow() - timedelta(days=7),
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.locator("#email").fill(agent.email)
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/inbox$"))
        badge = page.get_by_test_id("nav-count-orders_waiting")
        expect(badge).to_have_text("1")
        # The socket is connected once the page's scripts ran; then a new order arrives.
        page.wait_for_function(
            "() => window.switchboardSocket && window.switchboardSocket.connected"
        )
        _arrives("CC-2026-00202")
        expect(badge).to_have_text("2")
        page.screenshot(path=str(SHOTS / "orders-count-live.png"))

        page.get_by_role("link", name=re.compile(r"^Orders")).click()
        row = page.locator(f'[data-order="{late.order_number}"]')
        expect(row.get_by_test_id("waits-too-long")).to_have_text("wacht te lang")
        page.screenshot(path=str(SHOTS / "orders-waits-too-long.png"))
    finally:
        context.close()


def test_on_a_phone_the_count_sits_beside_orders_in_the_folded_menu(
    live_server, browser, make_user
):
    agent = make_user("agent", language="nl")
    _arrives("CC-2026-00203")
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True, locale="nl-NL"
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.locator("#email").fill(agent.email)
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/inbox$"))
        page.get_by_test_id("nav-toggle").tap()
        badge = page.get_by_test_id("nav-count-orders_waiting")
        expect(badge).to_be_visible()
        expect(badge).to_have_text("1")
        box = badge.bounding_box()
        assert box and box["x"] + box["width"] <= 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(SHOTS / "orders-count-phone.png"))
    finally:
        context.close()
