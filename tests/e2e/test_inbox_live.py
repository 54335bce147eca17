"""Filter, open, template, preview, send; a colleague sees it live,
and a customer's new conversation gets a notice in the open inbox."""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models.enums import ChannelType, TemplateChannelType
from tests.e2e.settle import wait_until_wired
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.fakes import whatsapp as wa
from tests.support import factories


def _world(make_user):
    team = factories.team("Klantenservice")
    make_user("agent", email="anouk@switchboard.test", team_id=team.id)
    make_user("agent", email="daan@switchboard.test", team_id=team.id)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp Business")
    email = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678", email="jan@example.nl")
    eva = factories.contact(
        display_name="Eva de Boer", phone="+31687654321", email="eva@example.nl"
    )
    thread = factories.thread(
        whatsapp,
        jan,
        thread_subject="Laadpaal werkt niet",
        assigned_team_id=team.id,
        minutes_ago=3,
        last_message_preview="Hij knippert rood",
    )
    factories.message(thread, "Hij knippert rood", sender_contact_id=jan.id)
    factories.thread(
        email, eva, thread_subject="Vraag over offerte", assigned_team_id=team.id, minutes_ago=1
    )
    factories.template(
        "Beste {{customer_name}}, onze monteur komt morgen tussen 8 en 12 uur.",
        template_name="Monteur morgen",
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
    )
    db.session.commit()
    return thread


def test_agent_replies_with_template_and_colleague_sees_it_live(
    live_server, browser, make_user, running_worker
):
    thread = _world(make_user)
    thread_url = f"{live_server.url}/threads/{thread.id}"

    colleague = browser.new_context(viewport={"width": 1280, "height": 800})
    colleague_thread = colleague.new_page()
    colleague_thread.set_default_timeout(ACTION_TIMEOUT_MS)
    sign_in(colleague_thread, live_server.url, "daan@switchboard.test")
    colleague_thread.goto(thread_url)
    colleague_thread.wait_for_function(
        "() => window.switchboardSocket && window.switchboardSocket.connected"
    )
    colleague_inbox = colleague.new_page()
    colleague_inbox.set_default_timeout(ACTION_TIMEOUT_MS)
    colleague_inbox.goto(f"{live_server.url}/inbox")
    colleague_inbox.wait_for_function(
        "() => window.switchboardSocket && window.switchboardSocket.connected"
    )

    agent = browser.new_context(viewport={"width": 1280, "height": 800})
    page = agent.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator(".thread-row")).to_have_count(2)

    page.get_by_role("link", name="WhatsApp", exact=True).click()
    expect(page).to_have_url(re.compile(r"filter=whatsapp"))
    expect(page.locator(".thread-row")).to_have_count(1)
    page.get_by_role("link", name=re.compile("Laadpaal werkt niet")).click()
    expect(page).to_have_url(thread_url)
    # The URL changes before htmx has wired up the conversation it swapped in; a
    # change event fired before that would send nothing.
    wait_until_wired(page.get_by_test_id("composer-template"))

    page.get_by_test_id("composer-template").select_option(label="Monteur morgen")
    preview = page.get_by_test_id("template-preview")
    expect(preview).to_contain_text(
        "Beste Jan Jansen, onze monteur komt morgen tussen 8 en 12 uur."
    )
    expect(page.get_by_test_id("reply-content")).to_have_value(
        "Beste Jan Jansen, onze monteur komt morgen tussen 8 en 12 uur."
    )
    page.get_by_role("button", name="Send").click()

    sent = page.locator(".msg-outbound").filter(has_text="onze monteur komt morgen")
    expect(sent).to_have_count(1)
    expect(sent.get_by_test_id("delivery")).to_be_visible()
    # The sandbox reports delivered, then read; the ticks follow live.
    expect(sent.get_by_test_id("delivery")).to_have_attribute("data-status", "read")

    seen = colleague_thread.locator(".msg-outbound").filter(has_text="onze monteur komt morgen")
    expect(seen).to_have_count(1)
    row = colleague_inbox.locator(f'.thread-row[data-thread-id="{thread.id}"]')
    expect(row).to_contain_text("onze monteur komt morgen")

    # Customers write while the colleague's inbox is open. In a conversation whose row
    # is in view, the row shows it and nothing else pops up.
    notice = colleague_inbox.get_by_test_id("arrival-notice")
    _customer_writes(live_server, "31612345678", "Jan Jansen", "Hij knippert weer")
    expect(row).to_contain_text("Hij knippert weer")
    expect(notice).to_have_attribute("data-checked", re.compile(".+"))
    expect(notice).to_be_hidden()
    # A new conversation gets a notice naming the customer, linking to it; the list is
    # refreshed under it as before.
    _customer_writes(live_server, "31611122233", "Pieter Dekker", "Graag een offerte")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("New message from Pieter Dekker")
    expect(colleague_inbox.locator(".thread-row")).to_have_count(3)
    notice.get_by_role("link", name="View").click()
    expect(colleague_inbox).to_have_url(re.compile(r"/threads/[0-9a-f-]{36}$"))
    expect(colleague_inbox.locator("#thread")).to_contain_text("Graag een offerte")
    colleague.close()
    agent.close()


def _customer_writes(live_server, wa_id: str, name: str, body: str) -> None:
    """A customer's WhatsApp message as Meta posts it (unsigned: WhatsApp runs in the sandbox),
    taken by the running worker (its consumer on PostgreSQL, its job otherwise)."""
    wamid = f"wamid.live-{wa_id}-{time.monotonic_ns()}"
    payload = wa.webhook(
        contacts=[wa.contact(wa_id, name)],
        # Meta's timestamps are whole seconds: one ahead, so the message is newer than a
        # reply sent within the same second (the preview shows the newest message).
        messages=[wa.text_message(wa_id, body, wamid, int(time.time()) + 1)],
    )
    answer = requests.post(f"{live_server.url}/api/v1/webhooks/whatsapp", json=payload, timeout=10)
    assert answer.status_code == 200, answer.text


def test_empty_reply_is_refused_in_the_browser(live_server, page, make_user):
    thread = _world(make_user)
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("reply-error")).to_have_text("Write a reply before sending.")
    expect(page.locator(".msg-outbound")).to_have_count(0)
