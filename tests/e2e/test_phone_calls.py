"""Phone calls in a browser at 1440×900, in Dutch: an agent logs a call on a conversation.

A duration that cannot be read is refused next to its field with what was
typed kept; a good one puts "📞 14:20 <agent> belde de klant · 4:12 · bereikt"
with the notes in the timeline, and the inbox preview reads "📞 Telefoongesprek 4:12".
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask_login import current_user
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit
from tests.analytics.test_analytics_calls import hand_counted_calls
from tests.e2e.test_sign_in import sign_in
from tests.support import factories
from tests.support.helpers import customer_writes

SHOTS = os.environ.get("SHOTS_DIR")
calls = pytest.fixture(hand_counted_calls, name="calls")


def test_agent_logs_a_call_in_dutch_and_sees_it_in_the_timeline(
    live_server, app, browser, make_user
):
    agent = make_user("agent", email="sarah@switchboard.test")
    agent.name = "Sarah"
    commit()
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    contact = factories.contact(display_name="Jan de Vries")
    message = customer_writes(channel, contact, "wamid.e2e-call", "Wanneer komt de monteur?")
    thread_id = message.thread_id
    db.session.remove()
    # Dutch once signed in (the sign-in helper reads the English login page).
    app.extensions["babel"].locale_selector = lambda: (
        "nl" if current_user.is_authenticated else None
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, "sarah@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread_id}")

    page.get_by_role("tab", name="Telefoongesprek vastleggen").click()
    form = page.get_by_test_id("call-form")
    expect(form).to_be_visible()
    form.get_by_label("Wij belden de klant").check()
    form.get_by_label("Resultaat").select_option("reached")
    form.get_by_label("Duur").fill("4:75")
    form.get_by_label("Notities").fill("Klant gebeld, bezoek ingepland voor dinsdag")
    form.get_by_role("button", name="Telefoongesprek vastleggen").click()

    error = page.get_by_test_id("call-error-duration")
    expect(error).to_have_text("Vul de duur in als mm:ss (4:12) of in minuten (4).")
    duration = page.get_by_label("Duur")
    expect(duration).to_have_value("4:75")
    expect(duration).to_have_attribute("aria-invalid", "true")
    # The message stands right under its field.
    field_box, error_box = duration.bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 20
    expect(page.get_by_label("Notities")).to_have_value(
        "Klant gebeld, bezoek ingepland voor dinsdag"
    )
    expect(page.get_by_test_id("call-entry")).to_have_count(0)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/call-error-1440.png")

    duration.fill("4:12")
    page.get_by_test_id("call-form").get_by_role(
        "button", name="Telefoongesprek vastleggen"
    ).click()
    entry = page.get_by_test_id("call-entry")
    expect(entry).to_have_count(1)
    expect(entry.get_by_test_id("sender")).to_have_text("Sarah belde de klant")
    expect(entry.get_by_test_id("call-facts")).to_have_text("4:12 · bereikt")
    expect(entry).to_contain_text("Klant gebeld, bezoek ingepland voor dinsdag")
    expect(page.get_by_test_id("call-error-duration")).to_have_count(0)
    # A call that reached the customer answered them: in progress, no deadline left.
    expect(page.locator("#thread-header select[name=status]")).to_have_value("in_progress")
    row = page.locator(f'[data-thread-id="{thread_id}"] .preview')
    expect(row).to_contain_text("\U0001f4de Telefoongesprek 4:12")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/call-timeline-1440.png")
        page.emulate_media(color_scheme="dark")
        page.get_by_role("tab", name="Telefoongesprek vastleggen").click()
        page.screenshot(path=f"{SHOTS}/call-dark-1440.png")
        page.set_viewport_size({"width": 375, "height": 812})
        page.reload()
        page.get_by_role("tab", name="Telefoongesprek vastleggen").click()
        page.screenshot(path=f"{SHOTS}/call-form-375.png", full_page=True)
    context.close()


def test_the_calls_card_on_analytics(live_server, app, browser, calls):
    """The managers' card: counts, talk time and the three tables, readable at 1440×900."""
    db.session.remove()
    app.extensions["babel"].locale_selector = lambda: (
        "nl" if current_user.is_authenticated else None
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, "manager@switchboard.test")
    page.goto(f"{live_server.url}/analytics?from=2025-03-03&to=2025-03-09")
    card = page.get_by_test_id("calls-card")
    expect(card.get_by_test_id("calls-total")).to_have_text("4")
    expect(card.get_by_test_id("calls-talk-time")).to_have_text("15 min")
    expect(card.locator('[data-figure="calls_by_outcome"] tbody tr')).to_have_count(3)
    if SHOTS:
        card.scroll_into_view_if_needed()
        card.screenshot(path=f"{SHOTS}/calls-analytics-1440.png")
    # Every table fits its column: nothing clipped or scrolled sideways.
    for table in card.locator("table").all():
        widths = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
        assert widths[0] <= widths[1] + 1, widths
    context.close()
