"""Accessibility by keyboard and by ear, in a Dutch browser at 1440×900.

The skip link is the first Tab stop and lands in the page; Tab then meets the list's
parts in the order they show (filters, search, "select all", rows); a conversation is
opened from the inbox with Enter, which takes focus into it, and answered and sent
with the keyboard alone; beside an open conversation a second skip link goes
straight to it; no script error on the way. The planning
board's plan dialog opens by keyboard, closes with Escape and gives focus back.
A message arriving live is written into the polite live region while focus and
the text being typed stay where they were; one the provider delivers late, dated
before everything on screen, appears live too, in its place by time, also in a
conversation longer than a page once the agent has scrolled up to its start.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from app.conversations.core import InboundMessage
from app.orders.planning.board import week_key
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit
from tests.e2e.keyboard import tab_to
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.helpers import customer_writes, receive
from tests.support.planning_support import approved_order, working_day

DESK = {"width": 1440, "height": 900}
# The focused element's id, or its classes.
FOCUSED = "() => document.activeElement.id || document.activeElement.className"
# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")


def _shot_both_schemes(page, name: str) -> None:
    """``name``.png in light colours and ``name``-dark.png, focus left where it is."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for scheme, suffix in (("light", ""), ("dark", "-dark")):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(Path(SHOTS) / f"{name}{suffix}.png"))
    page.emulate_media(color_scheme="light")


def _conversation(make_user):
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id, language="nl")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    thread = factories.thread(
        whatsapp,
        jan,
        thread_subject="Laadpaal knippert rood",
        assigned_team_id=team.id,
        minutes_ago=5,
    )
    factories.message(thread, "Goedemorgen, hij knippert rood", sender_contact_id=jan.id)
    db.session.commit()
    return whatsapp, jan, thread


def _open_live(page, live_server, thread) -> None:
    """Anouk signed in on ``thread``'s page, its live connection up."""
    sign_in_dutch(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    page.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")


def _desk(browser):
    context = browser.new_context(viewport=DESK, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    return context, page


def test_skip_link_then_inbox_thread_and_composer_by_keyboard(live_server, browser, make_user):
    _whatsapp, _jan, thread = _conversation(make_user)
    context, page = _desk(browser)
    try:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in_dutch(page, live_server.url, "anouk@switchboard.test")
        page.goto(f"{live_server.url}/inbox")
        page.wait_for_load_state("load")
        expect(page.get_by_test_id("bulk-select-all")).to_be_visible()

        # The first Tab stop is "Naar de inhoud", shown while it has focus.
        page.keyboard.press("Tab")
        skip = page.get_by_test_id("skip-link")
        expect(skip).to_be_focused()
        expect(skip).to_have_text("Naar de inhoud")
        expect(skip).to_be_in_viewport()
        _shot_both_schemes(page, "skip-link")
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()

        # Tab follows the list as it shows: the filter tabs and the search above come
        # before "select all", which comes before the rows.
        stops = []
        while not page.evaluate("() => document.activeElement.matches('.bulk-select-all')"):
            assert len(stops) < 40, stops
            page.keyboard.press("Tab")
            stops.append(page.evaluate(FOCUSED))
        assert any("filter" in stop for stop in stops) and "inbox-q" in stops, stops

        # From there, Tab reaches the conversation's row; Enter opens it, and focus
        # goes into the conversation, to its heading (not left in the list).
        tab_to(page, f'#thread-list .thread-link[href$="/threads/{thread.id}"]')
        row = page.locator(f'.thread-row[data-thread-id="{thread.id}"]')
        assert row.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
        _shot_both_schemes(page, "focus-visible")
        page.keyboard.press("Enter")
        expect(page.locator(f'#thread[data-thread-id="{thread.id}"]')).to_be_visible()
        expect(page.locator("#thread h1")).to_be_focused()
        expect(page.locator("#thread h1")).to_have_text("Laadpaal knippert rood")

        # On to the reply box (past the header's controls and the timeline).
        tab_to(page, "#reply-content")
        box = page.locator("#reply-content")
        assert box.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
        page.keyboard.type("We komen morgen tussen 8 en 12 uur.")
        _shot_both_schemes(page, "focus-visible-composer")
        page.keyboard.press("Control+Enter")
        expect(page.locator("#timeline")).to_contain_text("We komen morgen tussen 8 en 12 uur.")
        expect(box).to_have_value("")

        # The conversation's own page: "Naar het gesprek" is the second stop, past the
        # list straight to the heading.
        page.goto(f"{live_server.url}/threads/{thread.id}")
        page.wait_for_load_state("load")
        page.keyboard.press("Tab")
        expect(skip).to_be_focused()
        page.keyboard.press("Tab")
        to_conversation = page.get_by_test_id("skip-to-conversation")
        expect(to_conversation).to_be_focused()
        expect(to_conversation).to_have_text("Naar het gesprek")
        expect(to_conversation).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("#thread h1")).to_be_focused()
        assert errors == [], errors
    finally:
        context.close()


def test_the_plan_dialog_by_keyboard(live_server, browser, make_user):
    manager = make_user("manager", email="marieke@switchboard.test", language="nl")
    make_user("technician", language="nl")
    order = approved_order("CC-2026-00700")
    db.session.commit()
    day = working_day(7)
    week = week_key(day - timedelta(days=day.weekday()))
    context, page = _desk(browser)
    try:
        sign_in_dutch(page, live_server.url, manager.email)
        page.goto(f"{live_server.url}/planning/?week={week}")
        page.wait_for_load_state("load")
        plan = page.get_by_test_id("unplanned-order").filter(has_text=order.order_number)
        tab_to(page, f'[data-order="{order.order_number}"] [data-testid="plan-open"]')
        page.keyboard.press("Enter")
        dialog = page.get_by_test_id("plan-dialog")
        expect(dialog.get_by_test_id("plan-form")).to_be_visible()
        # Focus moved into the dialog, to its first field.
        expect(dialog.locator('input[name="date"]')).to_be_focused()
        _shot_both_schemes(page, "plan-dialog-keyboard")

        page.keyboard.press("Escape")
        expect(dialog.get_by_test_id("plan-form")).to_have_count(0)
        expect(plan.get_by_test_id("plan-open")).to_be_focused()

        # Open again and close with the close button, by keyboard too.
        page.keyboard.press("Enter")
        expect(dialog.locator('input[name="date"]')).to_be_focused()
        tab_to(page, '[data-testid="plan-close"]', backwards=True)
        page.keyboard.press("Enter")
        expect(dialog.get_by_test_id("plan-form")).to_have_count(0)
        expect(plan.get_by_test_id("plan-open")).to_be_focused()
    finally:
        context.close()


def test_a_live_message_is_announced_and_focus_stays(live_server, browser, make_user):
    whatsapp, jan, thread = _conversation(make_user)
    context, page = _desk(browser)
    try:
        _open_live(page, live_server, thread)
        box = page.locator("#reply-content")
        box.focus()
        page.keyboard.type("Ik kijk het even na")
        region = page.get_by_test_id("live-announcer")
        expect(region).to_have_attribute("aria-live", "polite")
        expect(region).to_have_text("")

        customer_writes(whatsapp, jan, "wamid.a11y1", "Hij doet het weer!")

        expect(region).to_have_text(re.compile("Nieuw bericht in dit gesprek van Jan Jansen"))
        expect(page.locator("#timeline")).to_contain_text("Hij doet het weer!")
        expect(box).to_be_focused()
        expect(box).to_have_value("Ik kijk het even na")
    finally:
        context.close()


def test_a_message_delivered_late_appears_live_in_its_place(live_server, browser, make_user):
    whatsapp, jan, thread = _conversation(make_user)
    context, page = _desk(browser)
    try:
        _open_live(page, live_server, thread)
        bodies = page.locator("#timeline .msg-body")
        expect(bodies).to_have_text(["Goedemorgen, hij knippert rood"])

        # Sent ten minutes ago, before the message on screen, and only delivered now
        # (a phone without signal): the provider's moment is the message's time.
        late = InboundMessage(
            external_message_id="wamid.late1",
            content="Ik stuur zo een foto van de meterkast",
            received_at=utcnow() - timedelta(minutes=10),
        )
        receive(whatsapp, jan, late)
        commit()  # and the listeners after it: the live update

        expect(bodies).to_have_text(
            ["Ik stuur zo een foto van de meterkast", "Goedemorgen, hij knippert rood"]
        )
        _shot_both_schemes(page, "late-message-in-place")
    finally:
        context.close()


def test_a_late_message_finds_its_place_once_every_earlier_page_is_loaded(
    live_server, browser, make_user
):
    whatsapp, jan, thread = _conversation(make_user)
    start = utcnow() - timedelta(days=1)
    for n in range(59):  # with the first: 60, more than a page of 50
        at = start + timedelta(minutes=n)
        factories.message(thread, f"Bericht {n}", sender_contact_id=jan.id, created_at=at)
    db.session.commit()
    context, page = _desk(browser)
    try:
        _open_live(page, live_server, thread)
        messages = page.locator("#timeline [data-message-id]")
        expect(messages).to_have_count(50)
        # Scrolled up to the start: the earlier page is loaded above the latest part.
        page.get_by_test_id("timeline-earlier").scroll_into_view_if_needed()
        expect(page.get_by_test_id("timeline-earlier")).to_have_count(0)
        expect(messages).to_have_count(60)

        # Sent between "Bericht 2" and "Bericht 3", delivered only now.
        late = InboundMessage(
            external_message_id="wamid.late2",
            content="Vergeten te zeggen: de meterkast is in de garage",
            received_at=start + timedelta(minutes=2, seconds=30),
        )
        receive(whatsapp, jan, late)
        commit()

        expect(messages).to_have_count(61)
        bodies = page.locator("#timeline .msg-body")
        expect(bodies.nth(3)).to_have_text("Vergeten te zeggen: de meterkast is in de garage")
        expect(bodies.nth(2)).to_have_text("Bericht 2")
        expect(bodies.nth(4)).to_have_text("Bericht 3")
        ids = messages.evaluate_all("rows => rows.map(row => row.dataset.messageId)")
        assert len(ids) == len(set(ids)) == 61
        bodies.nth(3).scroll_into_view_if_needed()
        _shot_both_schemes(page, "late-message-long-conversation")
    finally:
        context.close()
