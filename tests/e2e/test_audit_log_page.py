"""An admin changes a mailbox signature, then finds it in the audit log, on a desk and a phone."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories


def test_admin_finds_their_change_in_the_audit_log(live_server, browser, make_user):
    admin = make_user("admin", email="admin@switchboard.test")
    mailbox = factories.channel(
        ChannelType.EMAIL_OUTLOOK, channel_name="Service mailbox", configuration={}
    )
    db.session.commit()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
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
    page.set_default_timeout(ACTION_TIMEOUT_MS)
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


def test_the_changes_column_fits_beside_the_others_in_dutch(live_server, browser, make_user):
    """Dutch names are longer ("Samengevoegde gesprekken", "Tweestapsverificatie
    aangezet"): the short columns wrap, the changes stay on the screen."""
    admin = make_user("admin", email="beheer@switchboard.test", language="nl")
    ids = {name: str(uuid.uuid4()) for name in ("kept_thread_id", "merged_thread_id", "contact_id")}
    moved = {"feedback": 0, "messages": 3, "tasks": 0}
    for table, action, changes in (
        ("conversation_merges", "conversation_merge", {**ids, "moved": moved}),
        ("users", "two_factor_enabled", {"two_factor": "on"}),
        ("users", "density_changed", {"density": {"from": "comfortable", "to": "compact"}}),
    ):
        record_change(table, uuid.uuid4(), action, changes, user_id=admin.id, ip_address="::1")
    db.session.commit()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in(page, live_server.url, admin.email)
        page.goto(f"{live_server.url}/admin/audit")
        expect(page.get_by_test_id("audit-entry").first).to_contain_text("Weergavedichtheid: ruim")
        widths = page.locator(".audit-wrap").evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] <= widths[1], f"the audit table is {widths[0]}px in {widths[1]}px"
    finally:
        context.close()
