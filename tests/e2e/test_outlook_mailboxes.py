"""An admin adds a shared mailbox with its team on the mailbox page, in Dutch, at 1440×900."""

from __future__ import annotations

import os

from playwright.sync_api import expect

from app.platform.extensions import db
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories

SCREENSHOT = os.environ.get("OUTLOOK_MAILBOX_SCREENSHOT")


def test_admin_adds_a_shared_mailbox(app, live_server, browser, make_user):
    admin = make_user("admin", email="admin@switchboard.test", language="nl")
    planning = str(factories.team("Planning").id)
    db.session.commit()
    app.config["GRAPH_MAILBOX"] = "klantenservice@chargecars.nl"

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/admin/mailboxes/")
        expect(page.get_by_role("heading", name="Mailboxen", exact=True)).to_be_visible()
        expect(page.get_by_test_id("mailbox-klantenservice@chargecars.nl")).to_contain_text(
            "standaard"
        )

        form = page.get_by_test_id("add-mailbox")
        form.get_by_label("E-mailadres").fill("planning@chargecars")
        form.get_by_label("Team voor nieuwe gesprekken").select_option(label="Planning")
        form.get_by_role("button", name="Mailbox toevoegen").click()
        expect(page.get_by_role("alert")).to_have_text("planning@chargecars is geen e-mailadres.")
        # What was typed stays, team included.
        expect(form.get_by_label("E-mailadres")).to_have_value("planning@chargecars")
        expect(form.get_by_label("Team voor nieuwe gesprekken")).to_have_value(planning)

        form.get_by_label("E-mailadres").fill("planning@chargecars.nl")
        form.get_by_label("Naam in Switchboard").fill("Planning")
        form.get_by_label("Handtekening").fill("Team Planning\n020 123 4567")
        form.get_by_role("button", name="Mailbox toevoegen").click()
        expect(page.get_by_text("Mailbox planning@chargecars.nl is toegevoegd")).to_be_visible()
        card = page.get_by_test_id("mailbox-planning@chargecars.nl")
        expect(card).to_contain_text("actief")
        expect(card.get_by_label("Team voor nieuwe gesprekken")).to_have_value(planning)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1440, f"the mailbox page is {width}px wide at 1440px"
        if SCREENSHOT:
            page.screenshot(path=SCREENSHOT, full_page=True)
    finally:
        context.close()

    # On a phone, in the dark theme: one column, nothing off screen.
    phone = browser.new_context(viewport={"width": 375, "height": 812}, color_scheme="dark")
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/admin/mailboxes/")
        expect(page.get_by_test_id("mailbox-planning@chargecars.nl")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the mailbox page is {width}px wide on a 375px screen"
        if SCREENSHOT:
            page.screenshot(path=SCREENSHOT.replace(".png", "-phone.png"), full_page=True)
    finally:
        phone.close()
