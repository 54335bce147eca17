"""On a 375 px phone a technician completes a visit and adds a photo; the agent sees both."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationThread, Order
from app.platform.models.enums import OrderStatus
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.mobile_support import png_bytes, visit

PHONE = {"width": 375, "height": 740}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a 375px screen"


def test_technician_completes_a_visit_and_the_agent_sees_it(live_server, browser, make_user):
    technician = make_user("technician", email="monteur@switchboard.test")
    make_user("agent", email="agent@switchboard.test")
    factories.template(
        "De status van uw bestelling {{order_id}} is gewijzigd naar: {{order_status}}.",
        template_name="order_status_update",
        whatsapp_template_name="order_status_update",
    )
    order = visit(technician)

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        card = page.get_by_test_id("visit").filter(has_text="CC-2026-00042")
        expect(card).to_contain_text("Stationsstraat 12 A, 3511 AB Utrecht")
        expect(card.get_by_role("link", name="Open in maps")).to_have_attribute(
            "href", re.compile(r"^https://www\.google\.com/maps/search/\?api=1&query=")
        )
        expect(card.get_by_role("link", name="Call +31612345678")).to_have_attribute(
            "href", "tel:+31612345678"
        )
        _no_sideways_scroll(page)

        # Tap targets are thumb-sized.
        box = card.get_by_role("button", name="Started").bounding_box()
        assert box["height"] >= 44

        # htmx wires the buttons once the deferred scripts ran; a tap before that
        # posts the form natively (the flash path), which this test is not about.
        page.wait_for_load_state("load")
        card.get_by_role("button", name="Started").click()
        expect(card.get_by_test_id("visit-notice")).to_have_text("CC-2026-00042: visit started.")
        expect(card.get_by_test_id("visit-status")).to_have_text("in progress")

        card.get_by_label("Photo").set_input_files(
            {"name": "meterkast.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}
        )
        card.get_by_label("Caption").fill("Meterkast na installatie")
        card.get_by_role("button", name="Upload photo").click()
        expect(card.get_by_test_id("visit-notice")).to_have_text(
            "CC-2026-00042: photo added to the conversation."
        )
        expect(page).to_have_url(re.compile(r"/m/$"))  # htmx swapped the card in place

        card.get_by_role("button", name="Completed").click()
        # Completing is asked about first (tests/e2e/test_technician_safety.py).
        page.get_by_role("dialog").get_by_role("button", name="Yes, completed").click()
        expect(card.get_by_test_id("visit-notice")).to_have_text("CC-2026-00042: visit completed.")
        expect(card.get_by_test_id("visit-status")).to_have_text("completed")
        # A completed visit takes no more photos.
        expect(card.get_by_label("Photo")).to_have_count(0)
        _no_sideways_scroll(page)
    finally:
        phone.close()

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    thread_id = db.session.scalar(
        sa.select(CommunicationThread.id).where(CommunicationThread.order_id == order.id)
    )

    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    page = desk.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "agent@switchboard.test")
        expect(page).to_have_url(re.compile(r"/inbox$"))
        page.goto(f"{live_server.url}/threads/{thread_id}")
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("Test technician started the visit on site.")
        expect(timeline).to_contain_text("Test technician completed the visit.")
        # The customer's milestone notice went out in the same conversation.
        expect(timeline).to_contain_text("is gewijzigd naar: Afgerond")
        note = timeline.locator("article.msg-note").filter(has_text="Meterkast na installatie")
        image = note.get_by_role("img", name="meterkast.png")
        expect(image).to_be_visible()
        # decode() waits until the picture has loaded (visible is only its box).
        assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") == 40
        expect(note.get_by_test_id("attachment-link")).to_have_text("meterkast.png")
    finally:
        desk.close()
