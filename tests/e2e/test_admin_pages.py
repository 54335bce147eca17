"""The admin pages in a browser, as a Dutch admin at 1440×900 (and the menu at 375×812).

The live server listens on a free port, never 5000: the API viewer's "Servers"
must be the page's own origin. Every response the pages cause is watched, so a
missing favicon (or anything else) that would 404 in the console fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models.enums import ChannelType
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.helpers import PASSWORD, has_second_factor, second_factor_code
from tests.support.jobs import drain_queues

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")


def sign_in_dutch(page, base_url: str, email: str) -> None:
    """Sign in through the form in Dutch (fields found by name, not by their words)."""
    page.goto(f"{base_url}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    if has_second_factor(email):
        page.wait_for_url("**/login/verify")
        page.locator("input[name=code]").fill(second_factor_code(email))
        page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _dutch_admin_page(browser, live_server, make_user, viewport):
    email = make_user("admin", email="admin@switchboard.test", password=PASSWORD).email
    db.session.remove()
    context = browser.new_context(viewport=viewport, locale="nl-NL", has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    failures: list[str] = []

    def note_failure(response) -> None:
        if response.status >= 400:
            failures.append(f"{response.status} {response.url}")

    page.on("response", note_failure)
    sign_in_dutch(page, live_server.url, email)
    return context, page, failures


def test_admin_pages_at_desk_width(live_server, browser, make_user, running_worker):
    team_slug = factories.team("Klantenservice").slug
    factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    db.session.commit()
    context, page, failures = _dutch_admin_page(browser, live_server, make_user, DESK)
    try:
        page.goto(f"{live_server.url}/admin/channels/")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
        # One row: brand, the main pages, the "Beheer" menu and the account side.
        topbar = page.locator("header.topbar").bounding_box()
        assert topbar["height"] < 60, f"the top bar is {topbar['height']}px high at 1440"
        menu = page.get_by_test_id("admin-menu")
        menu.locator("summary").click()
        expect(menu.locator("a[href='/admin/sla/']")).to_be_visible()
        page.keyboard.press("Escape")
        expect(menu.locator("a[href='/admin/sla/']")).to_be_hidden()

        # A test send through the sandbox fills "Last success"; no JSON anywhere.
        card = page.locator("section[data-provider=sms]")
        card.locator("input[name=recipient]").fill("06 12345678")
        card.locator("button[type=submit]").click()
        last_success = card.locator("p.small").first
        for _attempt in range(40):  # the send is a job: look again until it ran
            if "—" not in last_success.inner_text().splitlines()[0]:
                break
            page.wait_for_timeout(250)
            page.reload()
        assert "—" not in last_success.inner_text().splitlines()[0]
        expect(page.locator("td", has_text="+31612345678").first).to_be_visible()
        assert '{"' not in page.locator("main").inner_text()
        card.locator("details.provider-settings summary").click()
        expect(card.get_by_test_id("settings-sms")).to_contain_text("SMS_AUTH_TOKEN")

        # Assignment rules: a form, and a refused save names the field.
        page.goto(f"{live_server.url}/admin/assignment/")
        assert page.locator("main textarea").count() == 0
        rules = page.locator("section[id^=channel-]").first
        rules.locator("details.rules-editor summary").click()
        complaint = rules.get_by_test_id("rule-complaint")
        complaint.locator("select[name$=default_assignee]").select_option(team_slug)
        complaint.locator("input[name$=escalation_after_hours]").fill("-2")
        rules.locator("button[type=submit]").click()
        errors = page.get_by_test_id("rules-errors")
        expect(errors).to_be_visible()
        hours = page.get_by_test_id("rule-complaint").locator("input[name$=escalation_after_hours]")
        expect(hours).to_have_attribute("aria-invalid", "true")
        expect(hours).to_have_value("-2")

        # Service levels: closed sections, well below the old 4,500 px wall.
        page.goto(f"{live_server.url}/admin/sla/")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 2000, f"/admin/sla is {height}px high"
        sections = page.locator("details.sla-item")
        assert sections.count() >= 3
        sections.first.locator("summary").click()
        expect(sections.first.locator("input[name=name]")).to_be_visible()

        # The API viewer calls the address it was served from.
        page.goto(f"{live_server.url}/api/docs")
        servers = page.locator(".servers select option").first
        expect(servers).to_have_attribute("value", live_server.url)
        assert not live_server.url.endswith(":5000")

        favicon = page.request.get(f"{live_server.url}/favicon.ico")
        assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/")
        assert "max-age=" in favicon.headers["cache-control"]
        assert [f for f in failures if "/admin/assignment/" not in f] == []  # the 422 is ours
    finally:
        context.close()


def test_the_menu_on_a_phone(live_server, browser, make_user):
    factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    db.session.commit()
    context, page, failures = _dutch_admin_page(browser, live_server, make_user, PHONE)
    try:
        page.goto(f"{live_server.url}/admin/sla/")
        nav = page.get_by_test_id("mainnav")
        expect(nav).to_be_hidden()
        page.get_by_test_id("nav-toggle").tap()
        expect(nav).to_be_visible()
        page.get_by_test_id("admin-menu").locator("summary").tap()
        page.get_by_test_id("admin-menu").locator("a[href='/admin/channels/']").tap()
        page.wait_for_url("**/admin/channels/")
        for path in ("/admin/channels/", "/admin/assignment/", "/admin/sla/"):
            page.goto(f"{live_server.url}{path}")
            # Every section opened: the forms inside must fit the phone too.
            page.evaluate("document.querySelectorAll('main details').forEach(d => d.open = true)")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide on a 375px screen"
        assert failures == []
    finally:
        context.close()


def test_the_job_queue_page_in_dutch(app, live_server, browser, make_user):
    """A failed job with its traceback, sent back to its queue."""
    enqueue(
        "app.conversations.notifications.jobs.send_test_notification", "nobody", queue="periodic"
    )
    drain_queues(app)
    email = make_user("admin", email="admin@switchboard.test", password=PASSWORD).email
    db.session.remove()

    def signed_in(viewport):
        context = browser.new_context(
            viewport=viewport, locale="nl-NL", has_touch=viewport is PHONE
        )
        page = context.new_page()
        sign_in_dutch(page, live_server.url, email)
        page.goto(f"{live_server.url}/admin/queues")
        return context, page

    for viewport, name in ((DESK, "queues.png"), (PHONE, "queues-phone.png")):
        context, page = signed_in(viewport)
        try:
            expect(page.get_by_role("heading", name="Takenwachtrijen")).to_be_visible()
            job = page.get_by_test_id("failed-job")
            expect(job).to_contain_text("send_test_notification")
            job.locator("summary").click()
            expect(job.locator("pre.traceback")).to_contain_text("ValueError")
            if SHOTS:
                page.screenshot(path=str(Path(SHOTS) / name), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"the page is {width}px wide"
        finally:
            context.close()
    context, page = signed_in(DESK)
    try:
        page.get_by_test_id("failed-job").get_by_role("button", name="Terugzetten").click()
        expect(page.get_by_text("Geen mislukte taken.")).to_be_visible()
        expect(page.get_by_test_id("queue-periodic")).to_contain_text("1")
    finally:
        context.close()
