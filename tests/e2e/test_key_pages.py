"""A partner's keys, secret and allow-list in a browser, as a Dutch admin at 1440×900.

The partner's page issues a read-only test key with an expiry (shown once),
rotates the signing secret with a 2-hour overlap and saves an IP allow-list;
the API tokens page issues a personal token. ``SCREENSHOTS_DIR`` keeps the pages.
"""

from __future__ import annotations

import os

from playwright.sync_api import expect

from app.platform.extensions import db
from tests.e2e.test_admin_pages import DESK, PHONE, _dutch_admin_page
from tests.support.partner_support import make_partner


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def test_keys_secret_and_allowlist_on_the_partner_page(live_server, browser, make_user):
    partner = make_partner("Groendus")
    partner_id = partner.id
    db.session.remove()
    context, page, failures = _dutch_admin_page(browser, live_server, make_user, DESK)
    try:
        page.goto(f"{live_server.url}/partners/{partner_id}")
        form = page.get_by_test_id("issue-key-form")
        form.locator("input[name=name]").fill("Sandbox lezer")
        form.locator("select[name=mode]").select_option("test")
        form.locator("select[name=scope]").select_option("read")
        form.locator("input[name=expires_at]").fill("2099-12-31")
        form.locator("button[type=submit]").click()
        expect(page.get_by_test_id("new-api-key")).to_contain_text("sbk_test_")
        row = page.locator("tr", has_text="Sandbox lezer")
        expect(row).to_contain_text("alleen lezen")
        expect(row).to_contain_text("test")

        rotate = page.get_by_test_id("rotate-secret-form")
        rotate.locator("input[name=overlap_hours]").fill("2")
        rotate.locator("button[type=submit]").click()
        expect(page.get_by_test_id("new-webhook-secret")).to_contain_text("whsec_")
        expect(page.get_by_test_id("shown-once")).to_contain_text("2 uur")
        expect(page.get_by_test_id("secret-overlap")).to_be_visible()

        allow = page.get_by_test_id("allowlist-form")
        allow.locator("textarea").fill("203.0.113.0/24\n2001:db8::/32")
        allow.locator("button[type=submit]").click()
        expect(page.locator("#ip-allowlist")).to_have_value("203.0.113.0/24\n2001:db8::/32")
        _shot(page, "admin-partner-keys.png")
        keys_table = page.locator("#keys .table-wrap")
        if os.environ.get("SCREENSHOTS_DIR"):
            page.locator("#keys").screenshot(
                path=os.path.join(os.environ["SCREENSHOTS_DIR"], "admin-partner-keys-card.png")
            )
            page.locator("#webhook").screenshot(
                path=os.path.join(os.environ["SCREENSHOTS_DIR"], "admin-partner-webhook-card.png")
            )

        # The whole table fits the card at desk width: Rotate and Revoke in view.
        widths = keys_table.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] <= widths[1] + 2, widths

        page.goto(f"{live_server.url}/admin/api-tokens/")
        form = page.get_by_test_id("issue-token-form")
        form.locator("input[name=name]").fill("Rapportage")
        form.locator("select[name=user_id]").select_option(index=1)
        form.locator("select[name=scope]").select_option("read")
        form.locator("button[type=submit]").click()
        expect(page.get_by_test_id("new-api-token")).to_contain_text("sbp_")
        expect(page.get_by_test_id("api-tokens")).to_contain_text("Rapportage")
        _shot(page, "admin-api-tokens.png")
        assert failures == []
    finally:
        context.close()


def test_the_token_page_fits_a_phone(live_server, browser, make_user):
    context, page, failures = _dutch_admin_page(browser, live_server, make_user, PHONE)
    try:
        page.goto(f"{live_server.url}/admin/api-tokens/")
        expect(page.get_by_test_id("issue-token-form")).to_be_visible()
        # Wide tables scroll inside their card; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        _shot(page, "admin-api-tokens-phone.png")
        assert failures == []
    finally:
        context.close()
