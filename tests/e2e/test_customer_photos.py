"""The customer's photos in a browser: sent from a phone (375×812, touch) on the page
the planning message links to, then seen and approved by a planner at 1440×900.

axe-core finds nothing serious or critical on the page with its photo section, in
light or dark colours. Screenshots go to ``SCREENSHOTS_DIR`` (customer-photos.png,
customer-photos-desk.png) when it is set, for a person to look at.
"""

from __future__ import annotations

from playwright.sync_api import expect

from app.platform.extensions import db
from tests.e2e.axe import axe_violations
from tests.e2e.test_customer_page import _no_serious_violations, _phone, _sandbox_link, _shoot
from tests.e2e.test_sign_in import sign_in
from tests.orders.test_customer_photos import photo_jpeg
from tests.support.jobs import drain_queues
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number


def _photo(name: str, width: int, height: int) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_jpeg(width, height)}


def test_the_customer_sends_two_photos_and_the_planner_approves_one(
    app, live_server, browser, make_user
):
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"])
    order = approved_order(with_whatsapp=False)
    plan_number(order, 1, [tech], working_day(7), planner)
    drain_queues(app)
    path = _sandbox_link()
    number, email = order.order_number, planner.email
    db.session.remove()

    page = _phone(browser)
    try:
        page.goto(live_server.url + path)
        section = page.get_by_test_id("customer-photos")
        expect(section.get_by_role("heading", name="Foto's voor de monteur")).to_be_visible()
        for kind in ("meter_cupboard", "main_fuse", "charger_spot", "cable_route"):
            expect(page.get_by_test_id(f"photo-state-{kind}")).to_have_text("Nog nodig")
            field = page.get_by_test_id(f"photo-input-{kind}")
            expect(field).to_have_attribute("capture", "environment")
            expect(field).to_have_attribute("accept", "image/*")

        # Chosen (or taken) photos go at once: htmx sends the form on change.
        page.get_by_test_id("photo-input-meter_cupboard").set_input_files(
            _photo("meterkast.jpg", 1600, 1200)
        )
        expect(page.get_by_test_id("photo-state-meter_cupboard")).to_have_text("Ontvangen")
        page.get_by_test_id("photo-input-main_fuse").set_input_files(
            _photo("zekering.jpg", 1200, 1600)
        )
        expect(page.get_by_test_id("photo-state-main_fuse")).to_have_text("Ontvangen")
        expect(page.get_by_test_id("photo-state-charger_spot")).to_have_text("Nog nodig")

        # A file that is no photo is refused by its field, in words.
        page.get_by_test_id("photo-input-charger_spot").set_input_files(
            {"name": "laadpaal.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all"}
        )
        expect(page.get_by_test_id("photo-error-charger_spot")).to_contain_text(
            "Dit bestand is geen foto"
        )
        page.reload()
        expect(page.get_by_test_id("photo-state-main_fuse")).to_have_text("Ontvangen")
        _no_serious_violations(page, "photos")
        page.get_by_test_id("customer-photos").scroll_into_view_if_needed()
        _shoot(page, "customer-photos.png")
    finally:
        page.context.close()

    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        sign_in(desk, live_server.url, email)
        desk.goto(f"{live_server.url}/orders/{number}")
        panel = desk.get_by_test_id("customer-photos-panel")
        expect(panel).to_be_visible()
        for kind in ("meter_cupboard", "main_fuse"):
            thumb = panel.get_by_test_id(f"desk-photo-link-{kind}").locator("img")
            thumb.scroll_into_view_if_needed()  # lazily loaded: only once in view
            expect(thumb).to_be_visible()
            assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0, kind
        expect(panel.get_by_test_id("desk-photo-state-charger_spot")).to_have_text(
            "nog niet verstuurd"
        )
        panel.get_by_test_id("desk-photo-approve-meter_cupboard").click()
        expect(desk.get_by_test_id("desk-photo-state-meter_cupboard")).to_have_text("in orde")
        expect(desk.get_by_test_id("desk-photo-state-main_fuse")).to_have_text("te beoordelen")
        desk.get_by_test_id("desk-photo-reason-main_fuse").fill("Het getal is niet leesbaar.")
        desk.get_by_test_id("desk-photo-reason-main_fuse").press("Enter")  # asks, never approves
        expect(desk.get_by_test_id("desk-photo-state-main_fuse")).to_have_text("opnieuw gevraagd")
        expect(desk.get_by_test_id("desk-photo-state-meter_cupboard")).to_have_text("in orde")
        assert axe_violations(desk) == []
        desk.get_by_test_id("customer-photos-panel").scroll_into_view_if_needed()
        _shoot(desk, "customer-photos-desk.png")
    finally:
        desk.context.close()
