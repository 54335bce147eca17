"""An admin turns routing by team suggestion on at 1440×900, and an agent sees a suggestion
the threshold held back and follows it with one click. Both pages are in
Dutch; screenshots go to docs/screenshots/routing-admin.png and routing-suggestion.png
(or SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationThread, RoutingOutcome, RoutingSuggestion
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.helpers import customer_writes
from tests.support.routing_support import INSTALLATION_COMPLAINT, desk, trained_model

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
NAMES = {
    "customer-service": "Anouk de Vries",
    "tech": "Daan Mulder",
    "sales": "Sanne Bakker",
    "management": "Marieke Bos",
}


def test_admin_turns_routing_on_and_an_agent_follows_a_suggestion(live_server, browser, make_user):
    the_desk = desk(make_user)
    for slug, agent in the_desk.agents.items():
        agent.name, agent.language = NAMES[slug], "nl"
    admin = make_user("admin", email="admin@switchboard.test", language="nl")
    admin.name = "Jeroen Smit"
    db.session.commit()
    trained_model(the_desk)

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/admin/assignment/")
        section = page.get_by_test_id("team-suggestions")
        expect(section.get_by_role("heading", name="Teamsuggesties")).to_be_visible()
        expect(section.get_by_test_id("suggestions-accuracy")).to_contain_text("%")
        section.get_by_label("Nieuwe gesprekken toewijzen op de suggestie").check()
        section.get_by_label("Zekerheidsdrempel (%)").fill("90")
        section.get_by_role("button", name="Opslaan").click()
        expect(page.get_by_text("Instellingen van de teamsuggesties opgeslagen.")).to_be_visible()
        expect(section.get_by_label("Nieuwe gesprekken toewijzen op de suggestie")).to_be_checked()
        expect(section.get_by_test_id("suggestions-coverage")).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(SHOTS / "routing-admin.png"))
    finally:
        context.close()

    # A complaint of a customer without an order: Techniek, but not 90 % sure, so the
    # rules give it to Klantenservice and the suggestion waits for the agent.
    message = customer_writes(
        the_desk.whatsapp, factories.contact(), "wamid.e2e", INSTALLATION_COMPLAINT
    )
    thread_id = message.thread_id
    agent = the_desk.agents["customer-service"]

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, agent.email)
        page.goto(f"{live_server.url}/threads/{thread_id}")
        suggestion = page.get_by_test_id("team-suggestion")
        expect(suggestion).to_contain_text("Voorgesteld team")
        expect(suggestion).to_contain_text("Techniek")
        expect(suggestion).to_contain_text(re.compile(r"\d+ % zeker"))
        expect(page.get_by_test_id("assignment-reason")).to_contain_text("Klantenservice")
        # The picture with the conversation list beside it, not its loading line.
        expect(page.locator("#thread-list .thread-row").first).to_be_visible()
        page.screenshot(path=str(SHOTS / "routing-suggestion.png"))
        suggestion.get_by_role("button", name="Naar Techniek sturen").click()
        # Now Techniek's conversation: the agent is back in their own inbox.
        expect(page.get_by_text("Naar Techniek gestuurd.")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/inbox"))
    finally:
        context.close()

    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread_id)
    assert thread.assigned_to_user_id == the_desk.agents["tech"].id
    outcome = db.session.scalar(
        sa.select(RoutingSuggestion.outcome).where(RoutingSuggestion.thread_id == thread_id)
    )
    assert outcome == RoutingOutcome.ACCEPTED
