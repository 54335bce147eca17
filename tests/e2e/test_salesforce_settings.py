"""Salesforce settings in the browser: an admin sets the Salesforce organization ID.

The settings page of a Salesforce integration has the field (no other provider
does); a wrong id is refused naming the field, the right one is kept. With
``SCREENSHOTS_DIR`` set, the page is photographed at 1440×900.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import Integration
from tests.e2e.test_sign_in import sign_in

SHOTS = os.environ.get("SCREENSHOTS_DIR")
ORG_ID = "00D5g000004AbCdEAK"  # its checksum: capitals at D, A and C


def _integration(provider: str, category: str) -> Integration:
    integration = Integration(
        provider=provider,
        name=provider.title(),
        category=category,
        auth_method="oauth2",
        status="inactive",
        credentials={"client_id": "cid", "client_secret": "a-client-secret-value"},
        config={},
    )
    db.session.add(integration)
    db.session.commit()
    return integration


def test_an_admin_sets_the_organization_id(live_server, browser, make_user):
    admin = make_user("admin", email="beheer@switchboard.test")
    salesforce = _integration("salesforce", "crm")
    hubspot = _integration("hubspot", "crm")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/integrations/{hubspot.id}")
        expect(page.get_by_test_id("settings-form")).to_be_visible()
        expect(page.locator("input[name=organization_id]")).to_have_count(0)

        page.goto(f"{live_server.url}/integrations/{salesforce.id}")
        field = page.get_by_label("Salesforce organization ID")
        field.fill("0055g000004AbCd")  # a user's id, not the organization's
        page.get_by_test_id("settings-form").get_by_role("button", name="Save").click()
        expect(page.get_by_test_id("settings-form")).to_contain_text("organization ID")
        expect(page.get_by_label("Salesforce organization ID")).to_have_value("0055g000004AbCd")

        page.get_by_label("Salesforce organization ID").fill(ORG_ID)
        page.get_by_test_id("settings-form").get_by_role("button", name="Save").click()
        expect(page.get_by_label("Salesforce organization ID")).to_have_value(ORG_ID)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / "salesforce-settings.png"), full_page=True)
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.get(Integration, salesforce.id).config["organization_id"] == ORG_ID
