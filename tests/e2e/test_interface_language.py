"""The interface language in a browser: an agent switches it to Dutch and back to automatic.

Chromium asks for English (en-US), so the interface starts in English; the choice
is saved on the user and the scripts' texts follow it (static/js/i18n.js reads the
JSON base.html puts in <body data-ui-texts>).
"""

from __future__ import annotations

from playwright.sync_api import expect

from app.platform.extensions import db
from tests.e2e.test_sign_in import sign_in


def script_text(page, key: str, params: dict | None = None) -> str:
    """``t(key, params)`` in the page, once its deferred scripts have run."""
    page.wait_for_function("() => typeof window.t === 'function'")
    return page.evaluate("([key, params]) => window.t(key, params)", [key, params])


def test_an_agent_chooses_dutch_and_every_page_follows(live_server, page, make_user):
    email = make_user("agent").email
    db.session.remove()
    sign_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/settings/preferences")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert script_text(page, "draft_saved") == "Draft saved"

    page.get_by_test_id("language-select").select_option("nl")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_have_text("Uw voorkeuren zijn opgeslagen.")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_test_id("language-select")).to_have_value("nl")
    assert script_text(page, "draft_saved") == "Concept opgeslagen"
    assert script_text(page, "window_closes_minutes", {"minutes": 5}) == "Venster sluit over 5 min"

    page.goto(f"{live_server.url}/inbox")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()

    # Automatic again: the browser's English.
    page.goto(f"{live_server.url}/settings/preferences")
    page.get_by_test_id("language-select").select_option("")
    page.get_by_role("button", name="Voorkeuren opslaan").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("status")).to_have_text("Your preferences are saved.")
