"""An admin on a phone follows a partner's order from intake to approval, and reads the API docs."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import Contact
from app.platform.models.enums import ContactType
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.partner_support import add_articles, line_items_order, make_partner


def _no_sideways_scroll(page, width: int) -> None:
    # Measured once the page's styles are in: on a loaded machine the text could
    # show (and be measured) before the stylesheet arrived, 404px wide unstyled.
    page.wait_for_load_state("load")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


def test_admin_follows_a_flagged_partner_order_on_a_phone(live_server, browser, make_user):
    make_user("admin", email="admin@switchboard.test")
    partner = make_partner()
    add_articles(partner)
    body = line_items_order(line_items=[{"sku": "GRO-MYSTERY-9", "quantity": 1}])
    answer = requests.post(
        f"{live_server.url}/api/v1/partners/{partner.id}/orders",
        json=body,
        headers=partner.headers,
        timeout=10,
    )
    assert answer.status_code == 201
    number = answer.json()["data"]["chargecars_order_id"]

    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "admin@switchboard.test")
        page.goto(f"{live_server.url}/partners")
        expect(page.get_by_test_id("partner-health")).to_contain_text("Groendus")
        _no_sideways_scroll(page, 390)
        page.get_by_role("link", name="Groendus").first.click()
        expect(page).to_have_url(re.compile(rf"/partners/{partner.id}"))
        expect(page.get_by_text("GRO-ALFEN-11").first).to_be_visible()
        _no_sideways_scroll(page, 390)

        page.goto(f"{live_server.url}/orders/{number}")
        expect(page.get_by_text("GRO-MYSTERY-9").first).to_be_visible()
        _no_sideways_scroll(page, 390)
        page.get_by_label("Move to").select_option("approved")
        page.get_by_label("Reason").fill("Artikel nagevraagd bij Groendus")
        page.get_by_role("button", name="Change status").click()
        expect(page.get_by_text("Artikel nagevraagd bij Groendus").first).to_be_visible()
        expect(page.locator("h1")).to_contain_text("approved")
    finally:
        context.close()


def test_an_agent_sees_what_a_partner_sent_for_a_known_customer(
    live_server, browser, make_user, fake_pdok
):
    """The contact is kept; the order shows what differs, and why."""
    make_user("agent", email="agent@switchboard.test")
    known = Contact(
        contact_type=ContactType.PERSON, display_name="Marieke Bos", phone="+31612345678"
    )
    db.session.add(known)
    db.session.commit()
    partner = make_partner()
    add_articles(partner)
    body = line_items_order()
    body["customer"]["email"] = "orders@partner.example"
    answer = requests.post(
        f"{live_server.url}/api/v1/partners/{partner.id}/orders",
        json=body,
        headers=partner.headers,
        timeout=10,
    )
    assert answer.status_code == 201
    number = answer.json()["data"]["chargecars_order_id"]

    for width, height in ((1440, 900), (375, 812)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            sign_in(page, live_server.url, "agent@switchboard.test")
            page.goto(f"{live_server.url}/orders/{number}")
            # The reason stands in the review card, with its fix beside it.
            expect(page.get_by_test_id("review-card")).to_contain_text(
                "The e-mail address sent with this order is not the one on the customer's contact"
            )
            sent = page.get_by_test_id("customer-as-sent")
            expect(sent).to_contain_text("orders@partner.example")
            expect(sent).to_contain_text("the contact has none")
            expect(page.locator("#customer")).to_contain_text("Marieke Bos")
            _no_sideways_scroll(page, width)
        finally:
            context.close()


def test_api_docs_render_from_the_vendored_viewer(live_server, page):
    page.goto(f"{live_server.url}/api/docs")
    expect(page.get_by_text("/api/v1/partners/{partner_id}/orders").first).to_be_visible()
    expect(page.get_by_text("Send an installation order")).to_be_visible()
