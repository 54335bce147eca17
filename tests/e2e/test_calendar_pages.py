"""The calendar settings in Dutch: on a technician's phone (375×812) and at a desk (1440×900).

The phone's day links to the calendar page; making a link there shows it once
with "Kopiëren" and a webcal:// link, and the feed it names answers. Screenshots
go to ``SCREENSHOTS_DIR`` as calendar-*.png when it is set, for a person to look at.
"""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

from app.platform.extensions import db
from tests.e2e.test_admin_pages import DESK, PHONE, sign_in_dutch
from tests.support.calendar_support import planned_visit
from tests.support.jobs import drain_queues

# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")

WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 8)
  .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""


def _shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_a_technician_makes_a_calendar_link_on_the_phone(app, live_server, browser, make_user):
    technician = make_user("technician", email="monteur@switchboard.test")
    planned_visit(technician)
    drain_queues(app)  # the calendar job puts the visit in the feed
    db.session.remove()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="nl-NL")
    page = context.new_page()
    try:
        sign_in_dutch(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        link = page.get_by_test_id("calendar-link")
        expect(link).to_have_text("Uw bezoeken in de agenda van uw telefoon")
        link.scroll_into_view_if_needed()
        _shoot(page, "calendar-phone-day.png")
        link.click()
        expect(page.get_by_role("heading", name="Agenda", exact=True)).to_be_visible()
        page.get_by_test_id("feed-new").click()
        feed = page.get_by_test_id("feed-url")
        expect(feed).to_have_value(re.compile(r"^http://.*/calendar/sbc_.+\.ics$"))
        webcal = page.get_by_test_id("webcal-link")
        expect(webcal).to_have_attribute("href", re.compile(r"^webcal://.+\.ics$"))
        expect(page.get_by_role("button", name="Kopiëren")).to_be_visible()
        assert page.evaluate(WIDEST) == []
        _shoot(page, "calendar-phone-settings.png")

        url = feed.input_value().replace("http://127.0.0.1:5000", live_server.url)
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        with urllib.request.urlopen(live_server.url + path) as answer:  # noqa: S310
            body = answer.read().decode()
        assert "BEGIN:VCALENDAR" in body and "Bezoek CC-2026-00042" in body
    finally:
        context.close()


def test_an_agents_calendar_settings_at_a_desk(live_server, browser, make_user):
    make_user("agent", email="anouk@switchboard.test")
    db.session.remove()
    context = browser.new_context(viewport=DESK, locale="nl-NL")
    page = context.new_page()
    try:
        sign_in_dutch(page, live_server.url, "anouk@switchboard.test")
        page.goto(f"{live_server.url}/settings/calendar")
        expect(page.get_by_text("wordt een opvolgtaak bij het gesprek")).to_be_visible()
        expect(page.get_by_test_id("calendar-feed")).to_have_count(0)  # no visits, no feed
        page.get_by_test_id("calendar-mailbox").fill("geen adres")
        page.locator("[data-testid=calendar-settings] button[type=submit]").click()
        expect(page.get_by_role("alert")).to_have_text("geen adres is geen e-mailadres.")
        _shoot(page, "calendar-desk-error.png")
        page.get_by_test_id("calendar-mailbox").fill("a.devries@chargecars.nl")
        page.locator("[data-testid=calendar-settings] button[type=submit]").click()
        expect(page.get_by_text("Uw agenda-instellingen zijn opgeslagen.")).to_be_visible()
        expect(page.get_by_test_id("calendar-mailbox")).to_have_value("a.devries@chargecars.nl")
        _shoot(page, "calendar-desk-settings.png")
    finally:
        context.close()
