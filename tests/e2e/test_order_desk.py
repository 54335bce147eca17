"""An agent finds an order on the order desk: from the menu at 1440×900,
switching tabs, searching by the customer's phone typed another way, opening it;
on a phone (375 wide) the desk does not scroll sideways. Screenshots go to
docs/screenshots/ (or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Address, Order
from app.platform.models.enums import OrderStatus
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.partner_support import make_partner

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)


def _orders():
    partner = make_partner("Groendus")
    customer = factories.contact(
        display_name="Marieke Jansen", email="marieke@example.nl", phone="+31612345678"
    )
    address = Address(postal_code="3511AB", house_number="12", city="Utrecht")
    db.session.add(address)
    db.session.flush()
    flagged = Order(
        order_number="CC-2026-00101",
        status=OrderStatus.NEW,
        needs_review=True,
        review_reasons=["address not confirmed by PDOK: geen adres gevonden"],
        partner_organization_id=partner.organization.id,
        partner_order_id="GRD-778812",
        end_customer_contact_id=customer.id,
        installation_address_id=address.id,
        created_at=utcnow() - timedelta(days=2),
    )
    approved = Order(
        order_number="CC-2026-00102",
        status=OrderStatus.APPROVED,
        end_customer_contact_id=factories.contact(display_name="Piet de Boer").id,
        installation_preferences={"preferred_date": "2026-12-03"},
    )
    db.session.add_all([flagged, approved])
    db.session.commit()
    return flagged, approved


def test_an_agent_finds_an_order_by_phone_on_the_desk(live_server, browser, make_user):
    agent = make_user("agent", language="nl")
    flagged, approved = _orders()
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="nl-NL", has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, agent.email)
        page.get_by_test_id("mainnav").get_by_role("link", name="Orders").click()
        page.wait_for_url(re.compile(r"/orders$"))
        expect(page.get_by_test_id("count-review")).to_have_text("1")
        expect(page.get_by_test_id("count-to_plan")).to_have_text("1")
        row = page.get_by_test_id("desk-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(flagged.order_number)
        expect(row).to_contain_text("Adres niet bevestigd door PDOK")
        page.screenshot(path=str(SHOTS / "order-desk.png"))

        page.get_by_test_id("tab-to_plan").click()
        expect(page.get_by_test_id("desk-row")).to_contain_text(approved.order_number)

        page.get_by_test_id("desk-search").fill("06 12 34 56 78")
        page.get_by_test_id("desk-search").press("Enter")
        page.wait_for_url(re.compile(r"q=06"))
        expect(page.get_by_test_id("desk-row")).to_have_count(1)
        expect(page.get_by_test_id("desk-row")).to_contain_text("Marieke Jansen")

        page.get_by_role("link", name=flagged.order_number).click()
        page.wait_for_url(re.compile(rf"/orders/{flagged.order_number}$"))
        # The review card, with a fix beside each reason, loads into the order page.
        review = page.get_by_test_id("order-review")
        expect(review.get_by_test_id("review-flag")).to_contain_text("Adres niet bevestigd")
        expect(review.get_by_test_id("keep-address")).to_be_visible()

        # The inbox's search box: an order number typed there goes to the order.
        page.goto(f"{live_server.url}/inbox")
        page.get_by_test_id("inbox-search").fill("cc-2026-00102")
        page.wait_for_url(re.compile(rf"/orders/{approved.order_number}$"))

        # On a phone: rows become cards, nothing scrolls sideways.
        page.set_viewport_size({"width": 375, "height": 812})
        page.goto(f"{live_server.url}/orders?tab=review")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the desk is {width}px wide on a 375px screen"
        page.screenshot(path=str(SHOTS / "order-desk-phone.png"), full_page=True)
        # The review card opens in the row and fits the phone too.
        page.get_by_test_id("desk-review-open").tap()
        expect(page.get_by_test_id("review-card").get_by_test_id("keep-address")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the review card is {width}px wide on a 375px screen"
        page.screenshot(path=str(SHOTS / "order-review-phone.png"), full_page=True)
    finally:
        context.close()
