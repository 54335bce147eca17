"""An admin changes a mailbox signature, then finds it in the audit log, on a desk and a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.extensions import db
from app.models.enums import ChannelType
from tests import factories
from tests.e2e.test_sign_in import sign_in


def test_admin_finds_their_change_in_the_audit_log(live_server, browser, make_user):
    admin = make_user("admin", email="admin@switchboard.test")
    mailbox = factories.channel(
        ChannelType.EMAIL_OUTLOOK, channel_name="Service mailbox", configuration={}
    )
    db.session.commit()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/admin/channels/")
        page.get_by_label("Service mailbox").fill("Met vriendelijke groet,\nChargeCars")
        page.get_by_test_id(f"mailbox-signature-{mailbox.id}").get_by_role(
            "button", name="Save signature"
        ).click()
        expect(page.get_by_text("Signature of Service mailbox saved.")).to_be_visible()

        navigation = page.get_by_role("navigation", name="Main")
        navigation.get_by_text("Administration").click()  # the set-up pages' menu
        navigation.get_by_role("link", name="Audit log").click()
        entry = page.get_by_test_id("audit-entry").first
        expect(entry).to_contain_text("Mailbox signature saved")
        expect(entry).to_contain_text(admin.name)
        expect(entry).to_contain_text("Signature: — → Met vriendelijke groet,")

        # Filtering is a plain GET form: the URL carries it and can be shared.
        page.get_by_label("Area").select_option(label="Channels")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"area=communication_channel"))
        expect(page.get_by_test_id("audit-entry")).to_have_count(1)
        entry.get_by_role("link", name="Open").click()
        expect(page).to_have_url(re.compile(r"/admin/channels/#signatures$"))
    finally:
        context.close()

    phone = browser.new_context(viewport={"width": 375, "height": 812})
    page = phone.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/admin/audit")
        entry = page.get_by_test_id("audit-entry").first
        expect(entry).to_contain_text("Mailbox signature saved")
        # Stacked: no column headings, each field on its own line, nothing off screen.
        expect(page.locator("table.audit-table thead")).to_be_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the audit page is {width}px wide on a 375px screen"
    finally:
        phone.close()
