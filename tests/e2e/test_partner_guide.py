"""A partner's developer finds the getting-started guide from /api/docs, on a laptop and a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("width, height", [(1440, 900), (375, 812)])
def test_api_docs_lead_to_the_guide_and_its_error_codes(live_server, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/api/docs")
        # A Dutch reader is told the guide is in English.
        page.get_by_role("link", name="Partners: aan de slag en foutcodes (in het Engels)").click()
        expect(page).to_have_url(f"{live_server.url}/api/docs/partners")
        expect(page.get_by_role("heading", name="Getting started", exact=True)).to_be_visible()
        expect(page.locator("pre code.language-python").first).to_contain_text("Webhook(os.environ")
        page.get_by_role("link", name="at the end").click()
        expect(page).to_have_url(f"{live_server.url}/api/docs/partners#error-codes")
        expect(page.get_by_role("heading", name="Error codes")).to_be_in_viewport()
        expect(page.get_by_role("cell", name="ip_not_allowed", exact=True)).to_be_attached()
        # Wide tables and code scroll inside themselves, never the page.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
