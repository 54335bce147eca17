"""The language hint in the browser: an English customer's WhatsApp message arrives, and the
Dutch agent sees who writes English and the English template first.

Screenshots of the composer at a desk and on a phone (dark) go to docs/screenshots/
(or ``SCREENSHOT_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import TemplateChannelType
from tests.e2e.test_sign_in import sign_in
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import customer_text, fake_whatsapp_server, whatsapp_app

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def app(make_app, fake_whatsapp, tmp_path):
    yield from whatsapp_app(make_app, fake_whatsapp, tmp_path)


def test_an_english_customer_is_named_and_answered_from_english_templates(
    live_server, page, browser, make_user, app
):
    make_user("agent", email="anouk@switchboard.test", language="nl")
    factories.template(
        "Hoi {{customer_name}}, de monteur komt {{visit_moment}}. Groet, ChargeCars",
        template_name="monteur_komt",
        display_name="Monteur komt",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        usage_count=240,
    )
    factories.template(
        "Hi {{customer_name}}, thank you for your message. We will get back to you today.",
        template_name="thanks_en",
        display_name="Thanks for your message",
        language="en",
        usage_count=3,
    )
    db.session.commit()

    raw, headers = wa.signed(
        customer_text("Hi, when will the installer come? I have not heard anything yet.")
    )
    posted = requests.post(
        f"{live_server.url}/api/v1/webhooks/whatsapp",
        data=raw,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    drain_queues(app)  # the webhook's job, then the language job it leads to
    db.session.expire_all()
    message = db.session.scalars(sa.select(CommunicationMessage)).one()
    assert message.language == "en"
    thread = db.session.scalars(sa.select(CommunicationThread)).one()

    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    hint = page.get_by_test_id("language-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("De klant schrijft in het Engels.")
    expect(hint).to_contain_text("Sjablonen in het Engels staan bovenaan.")
    options = page.get_by_test_id("composer-template").locator("option")
    expect(options.nth(1)).to_have_text("Thanks for your message · Engels")
    expect(options.nth(2)).to_have_text("Monteur komt · Nederlands")

    # On a phone, in dark mode: the hint stays above the folded composer options.
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, color_scheme="dark", has_touch=True
    ).new_page()
    sign_in(phone, live_server.url, "anouk@switchboard.test")
    phone.goto(f"{live_server.url}/threads/{thread.id}")
    phone_hint = phone.get_by_test_id("language-hint")
    phone_hint.scroll_into_view_if_needed()
    expect(phone_hint).to_be_visible()
    expect(phone_hint).to_contain_text("De klant schrijft in het Engels.")
    edges = phone_hint.bounding_box()
    assert edges is not None and edges["x"] >= 0 and edges["x"] + edges["width"] <= 375
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "composer-language-hint-phone.png"), full_page=False)
    phone.context.close()

    # The "/" list, typed last: the reply box keeps what is typed as a draft.
    box = page.get_by_test_id("reply-content")
    box.click()
    box.press_sequentially("/")
    menu = page.locator("#canned-menu")
    expect(menu.get_by_role("option").first).to_contain_text("Thanks for your message")
    expect(menu.get_by_role("option").first).to_contain_text("Engels")
    page.screenshot(path=str(SHOTS / "composer-language-hint.png"), full_page=False)
