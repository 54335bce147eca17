"""Snooze and bulk actions in the browser: snooze and see it come back; bulk actions.

The clock is controlled: the agent snoozes until tomorrow morning, then the test
moves the wake-up job's clock (``app.conversations.core.snoozing.utcnow``; the live
server and the worker run in the test's process) past that moment, and the app's
own periodic wake-up job (run by the test's worker, as ``worker.py`` runs it)
brings the conversation back. Nothing else is faked.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import ChannelType
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _live(page) -> None:
    page.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")


def test_a_snoozed_conversation_leaves_the_list_and_comes_back(
    live_server, page, make_user, running_worker, monkeypatch
):
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen")
    thread = factories.thread(
        whatsapp, jan, thread_subject="Laadpaal werkt niet", assigned_team_id=team.id
    )
    factories.thread(whatsapp, factories.contact(), assigned_team_id=team.id)
    db.session.commit()

    page.set_default_timeout(ACTION_TIMEOUT_MS)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    row = page.locator(f'.thread-row[data-thread-id="{thread.id}"]')
    expect(page.locator(".thread-row")).to_have_count(2)
    row.get_by_role("link", name=re.compile("Laadpaal werkt niet")).click()
    expect(page).to_have_url(f"{live_server.url}/threads/{thread.id}")
    page.wait_for_load_state("load")
    _live(page)

    page.get_by_test_id("snooze-menu").locator("summary").click()
    page.get_by_role("button", name="Tomorrow morning").click()
    badge = page.get_by_test_id("snoozed-badge")
    tomorrow = (utcnow().astimezone(AMSTERDAM) + timedelta(days=1)).strftime("%d-%m-%Y")
    expect(badge).to_contain_text(f"Snoozed until {tomorrow}")
    # Gone from the open list beside it.
    expect(row).to_have_count(0)
    expect(page.locator(".thread-row")).to_have_count(1)
    db.session.expire_all()
    wake_at = db.session.get(type(thread), thread.id).snoozed_until
    page.wait_for_timeout(6_000)  # a wake-up round or more passes: still asleep
    expect(row).to_have_count(0)

    # The clock moves to a minute past the wake time: back by itself (the wake-up
    # job runs every 5 s).
    monkeypatch.setattr(
        "app.conversations.core.snoozing.utcnow", lambda: wake_at + timedelta(minutes=1)
    )
    expect(row).to_have_count(1, timeout=30_000)
    expect(page.locator("#timeline")).to_contain_text("Snooze ended")
    page.reload()
    expect(page.get_by_test_id("snooze-menu")).to_be_visible()
    expect(page.get_by_test_id("snoozed-badge")).to_have_count(0)


def test_bulk_assign_a_page_and_a_shift_clicked_range(live_server, page, make_user):
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    daan = make_user("agent", email="daan@switchboard.test", team_id=team.id)
    daan.name = "Daan de Vries"
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    for number in range(20):
        factories.thread(
            channel,
            factories.contact(),
            thread_subject=f"Offerte {number:02d}",
            assigned_team_id=team.id,
            minutes_ago=number,
        )
    db.session.commit()

    page.set_default_timeout(ACTION_TIMEOUT_MS)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    rows = page.locator(".thread-row")
    expect(rows).to_have_count(20)
    bar = page.get_by_test_id("bulk-bar")
    expect(bar.get_by_role("button", name="Assign", exact=True)).to_be_hidden()

    page.get_by_test_id("bulk-select-all").check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("20 selected")
    bar.get_by_test_id("bulk-assign-to").select_option(label="Daan de Vries")
    bar.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("20 changed")
    expect(rows.filter(has_text="Daan de Vries")).to_have_count(20)
    expect(page.get_by_test_id("bulk-count")).to_have_text("")

    # Shift-click: the third to the seventh row in two clicks.
    boxes = page.get_by_test_id("bulk-select")
    boxes.nth(2).click()
    boxes.nth(6).click(modifiers=["Shift"])
    expect(page.get_by_test_id("bulk-count")).to_have_text("5 selected")
    for index in range(20):
        if 2 <= index <= 6:
            expect(boxes.nth(index)).to_be_checked()
        else:
            expect(boxes.nth(index)).not_to_be_checked()
    # The rarer actions are under "More"; Escape closes it, and it opens again.
    more = bar.get_by_test_id("bulk-more")
    more.locator("summary").click()
    expect(bar.get_by_test_id("bulk-priority")).to_be_visible()
    page.keyboard.press("Escape")
    expect(bar.get_by_test_id("bulk-priority")).to_be_hidden()
    expect(more.locator("summary")).to_be_focused()
    more.locator("summary").click()
    bar.get_by_test_id("bulk-priority").select_option("urgent")
    bar.get_by_role("button", name="Set priority").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("5 changed")
    expect(page.locator(".thread-row.priority-urgent")).to_have_count(5)
