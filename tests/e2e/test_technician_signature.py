"""On a 375×812 touch phone, in Dutch, the customer signs for the visit with a
finger in the "Afgerond?" dialog; the visit is completed and the agent finds the
signature in the conversation and on the order page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Order, VisitSignature
from app.platform.models.enums import OrderStatus
from tests.e2e.test_sign_in import sign_in
from tests.e2e.test_technician_offline import _wait_until_kept_offline
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support.mobile_support import sign_on_canvas, visit

PHONE = {"width": 375, "height": 812}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "phone-signature.png"


def test_the_customer_signs_on_the_phone_and_the_agent_sees_it(live_server, browser, make_user):
    technician = make_user("technician", email="monteur@switchboard.test", language="nl")
    make_user("agent", email="agent@switchboard.test")
    order = visit(technician, status=OrderStatus.IN_PROGRESS)

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Amsterdam"
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_load_state("load")
        card = page.get_by_test_id("visit").filter(has_text="CC-2026-00042")
        card.get_by_role("button", name="Afgerond").click()
        dialog = page.get_by_role("dialog")
        pad = dialog.get_by_test_id("signature")
        expect(pad).to_be_visible()
        expect(pad).to_contain_text("Handtekening klant")
        expect(pad).to_contain_text("Rond het bezoek af zonder handtekening.")

        # Saving before anyone signed is stopped on the phone itself.
        dialog.get_by_label("Naam ondertekenaar").fill("Jan Jansen")
        dialog.get_by_role("button", name="Handtekening opslaan").click()
        expect(dialog.get_by_text("Laat de klant eerst tekenen.")).to_be_visible()

        canvas = dialog.get_by_test_id("signature-canvas")
        assert (
            page.evaluate(
                "() => getComputedStyle(document.querySelector("
                "'[data-signature-canvas]')).touchAction"
            )
            == "none"
        )
        sign_on_canvas(page, canvas)
        expect(dialog.get_by_text("Laat de klant eerst tekenen.")).to_be_hidden()
        # Completing with a drawing not saved would lose it: asked to save first.
        dialog.get_by_role("button", name="Ja, afgerond").click()
        expect(dialog.get_by_text("Sla de handtekening eerst op, of wis hem.")).to_be_visible()
        for name in ("Wissen", "Handtekening opslaan", "Ja, afgerond"):
            box = dialog.get_by_role("button", name=name).bounding_box()
            assert box["height"] >= 44, name
        canvas_box = canvas.bounding_box()
        assert canvas_box["x"] >= 0 and canvas_box["x"] + canvas_box["width"] <= PHONE["width"]
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        dialog.get_by_text("Sla de handtekening eerst op").evaluate("el => el.hidden = true")
        page.screenshot(path=str(SCREENSHOT))

        dialog.get_by_role("button", name="Handtekening opslaan").click()
        signed = page.get_by_role("dialog").get_by_test_id("signed")
        expect(signed).to_have_text(re.compile(r"^Getekend door Jan Jansen om \d\d:\d\d$"))
        image = page.get_by_role("dialog").get_by_role("img", name="Handtekening van Jan Jansen")
        expect(image).to_be_visible()
        image.evaluate("img => img.decode()")  # loaded, not just in the page
        assert image.evaluate("img => img.naturalWidth") > 300

        page.get_by_role("dialog").get_by_role("button", name="Ja, afgerond").click()
        expect(card.get_by_test_id("visit-status")).to_have_text("afgerond")
    finally:
        phone.close()

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    [signature] = db.session.scalars(sa.select(VisitSignature)).all()
    assert signature.signer_name == "Jan Jansen"
    note = db.session.get(CommunicationMessage, signature.message_id)
    assert note.attachments[0]["mime_type"] == "image/png"

    desk = browser.new_context(viewport={"width": 1280, "height": 800})
    page = desk.new_page()
    try:
        sign_in(page, live_server.url, "agent@switchboard.test")
        page.goto(f"{live_server.url}/threads/{note.thread_id}")
        entry = page.locator("#timeline article.msg-note").filter(has_text="Signed by Jan Jansen")
        expect(entry.get_by_role("img", name="handtekening.png")).to_be_visible()
        page.goto(f"{live_server.url}/orders/{order.order_number}")
        section = page.get_by_test_id("order-signature")
        expect(section).to_contain_text(re.compile(r"Signed by Jan Jansen at \d\d:\d\d"))
        expect(section.get_by_role("img", name="Signature of Jan Jansen")).to_be_visible()
    finally:
        desk.close()


@pytest.mark.full_chromium
def test_a_signature_saved_without_a_signal_goes_with_the_offline_queue(
    live_server, browser, make_user
):
    technician = make_user("technician", email="monteur@switchboard.test", language="nl")
    order = visit(technician, status=OrderStatus.IN_PROGRESS)

    phone = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Amsterdam"
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_load_state("load")
        _wait_until_kept_offline(page)
        card = page.get_by_test_id("visit").filter(has_text="CC-2026-00042")
        card.get_by_role("button", name="Afgerond").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_test_id("signature")).to_be_visible()

        # The signal goes while the customer signs.
        phone.set_offline(True)
        sign_on_canvas(page, dialog.get_by_test_id("signature-canvas"))
        dialog.get_by_label("Naam ondertekenaar").fill("Jan Jansen")
        dialog.get_by_role("button", name="Handtekening opslaan").click()
        expect(dialog.get_by_test_id("signature-queued")).to_be_visible()
        dialog.get_by_role("button", name="Ja, afgerond").click()
        queue = page.get_by_test_id("offline-queue")
        expect(queue.locator("li")).to_have_text(
            [
                re.compile(r"CC-2026-00042 · Handtekening klant: Jan Jansen$"),
                re.compile(r"CC-2026-00042 · Ja, afgerond$"),
            ]
        )
        assert db.session.scalars(sa.select(VisitSignature)).all() == []

        phone.set_offline(False)
        results = page.get_by_test_id("offline-results")
        expect(results.locator("li")).to_have_text(
            [
                re.compile(r"^Verwerkt: .*CC-2026-00042 · Handtekening klant: Jan Jansen$"),
                re.compile(r"^Verwerkt: .*CC-2026-00042 · Ja, afgerond$"),
            ],
            timeout=20_000,
        )
        expect(card.get_by_test_id("visit-status")).to_have_text("afgerond")
    finally:
        phone.close()

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    [signature] = db.session.scalars(sa.select(VisitSignature)).all()
    assert signature.signer_name == "Jan Jansen"
    completed_at = db.session.get(Order, order.id).transitions[-1].created_at
    assert signature.created_at < completed_at  # sent in the order it was made
