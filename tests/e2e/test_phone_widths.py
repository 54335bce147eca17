"""What a walk through the app in Dutch found on a phone and at a desk, held in place.

- The technician's top bar on a 375 px touch phone is one row; the theme select is
  no longer cut to "Thema van h…" (it is an icon that opens the picker) and the
  sign-out and settings links keep their names for screen readers.
- The conversation page at 375 px is no wider than the phone: the composer's four
  tabs in Dutch ("Telefoongesprek vastleggen", "Nieuwe taak") did not wrap, and the page's
  grid column grew to them, so the thread header and everything took 461 px.
- The escalation-ladder card on /admin/sla has its heading at the card's padding.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models.enums import ChannelType, Priority
from tests.e2e.test_admin_pages import DESK, PHONE, _dutch_admin_page, sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.mobile_support import visit


def _phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    return context, page


# What sticks out past the phone's right edge (the failure message names it).
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(0, 8)
  .map((el) => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_technician_top_bar_is_one_row_with_nothing_cut(live_server, browser, make_user):
    technician = make_user("technician", email="monteur@switchboard.test")
    technician.name = "Daan Mulder"
    visit(technician, number="CC-2026-00077")
    db.session.commit()
    db.session.remove()
    context, page = _phone(browser)
    try:
        sign_in_dutch(page, live_server.url, "monteur@switchboard.test")
        expect(page).to_have_url(re.compile(r"/m/$"))
        bar = page.locator("header.topbar")
        assert bar.bounding_box()["height"] < 60, "the phone's top bar wraps onto more rows"
        assert _page_width(page) <= PHONE["width"]
        for control in (
            page.get_by_test_id("theme-switch"),
            page.get_by_role("button", name="Meldingen"),
            page.get_by_role("link", name="Daan Mulder"),
            page.get_by_role("button", name="Uitloggen"),
        ):
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
            assert box["height"] >= 30, f"{control} is too small to tap"

        # The icon still switches the theme, through the phone's own picker.
        page.get_by_test_id("theme-switch").select_option("dark")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        assert bar.bounding_box()["height"] < 60

        page.get_by_role("button", name="Uitloggen").tap()
        expect(page).to_have_url(re.compile(r"/login$"))
    finally:
        context.close()


def test_conversation_page_fits_a_phone(live_server, browser, make_user):
    agent = make_user("agent", email="agent@switchboard.test")
    team = factories.team("Klantenservice")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    contact = factories.contact(
        display_name="Koen de Jong",
        email="koen.dejong.vanderveldenhuizen@xs4all.nl",
        phone="+31651791992",
    )
    thread = factories.thread(
        channel,
        contact,
        thread_subject="Monteur niet verschenen op de afgesproken installatiedatum",
        priority=Priority.HIGH,
        assigned_to_user_id=agent.id,
        assigned_team_id=team.id,
        assignment_reason="Automatisch toegewezen: Klacht → Klantenservice (laagste werkvoorraad)",
    )
    factories.message(thread, "Vandaag zou de monteur tussen 8 en 12 komen.")
    db.session.commit()
    thread_id = thread.id
    db.session.remove()
    context, page = _phone(browser)
    try:
        sign_in_dutch(page, live_server.url, "agent@switchboard.test")
        page.goto(f"{live_server.url}/threads/{thread_id}")
        expect(page.locator("#thread-header")).to_contain_text("koen.dejong")
        assert _page_width(page) <= PHONE["width"], page.evaluate(WIDEST)
        header = page.locator("#thread-header").bounding_box()
        assert header["x"] + header["width"] <= PHONE["width"]
    finally:
        context.close()


def test_escalation_ladder_heading_sits_at_the_card_padding(live_server, browser, make_user):
    context, page, failures = _dutch_admin_page(browser, live_server, make_user, DESK)
    try:
        page.goto(f"{live_server.url}/admin/sla/")
        card = page.get_by_test_id("ladder")
        expect(card.locator("h2")).to_have_text("Escalatieladder")
        gap = card.locator("h2").bounding_box()["y"] - card.bounding_box()["y"]
        assert gap <= 28, f"{gap}px above the ladder's heading"
        assert failures == []
    finally:
        context.close()


def test_phone_menu_still_opens_below_the_one_row_bar(live_server, browser, make_user):
    make_user("manager", email="manager@switchboard.test")
    db.session.remove()
    context, page = _phone(browser)
    try:
        sign_in_dutch(page, live_server.url, "manager@switchboard.test")
        bar = page.locator("header.topbar")
        assert bar.bounding_box()["height"] < 60
        page.get_by_test_id("nav-toggle").tap()
        menu = page.get_by_test_id("mainnav")
        expect(menu.get_by_role("link", name="Statistieken")).to_be_visible()
        assert _page_width(page) <= PHONE["width"]
    finally:
        context.close()
