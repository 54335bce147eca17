"""Merges in the browser: merge two conversations, merge two contacts and undo it.

A conversation merge is previewed and confirmed first.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ContactIdentity
from app.platform.models.enums import ChannelType, MessageType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories


def _message(thread, content, minutes_ago, **fields):
    return factories.message(
        thread, content, created_at=utcnow() - timedelta(minutes=minutes_ago), **fields
    )


def test_an_agent_merges_two_conversations_into_one_timeline(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    kept = factories.thread(mail, jan, thread_subject="Offerte laadpaal", minutes_ago=60)
    other = factories.thread(whatsapp, jan, thread_subject="Monteur komt wanneer", minutes_ago=30)
    _message(kept, "Wat kost een laadpaal?", 60, sender_contact_id=jan.id)
    _message(other, "Wanneer komt de monteur?", 30, sender_contact_id=jan.id)
    _message(kept, "Ongeveer 1200 euro.", 20, message_type=MessageType.OUTGOING)
    db.session.commit()

    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{other.id}")
    page.get_by_test_id("merge-into").click()
    candidates = page.get_by_test_id("merge-candidates")
    expect(candidates).to_contain_text("Offerte laadpaal")
    candidates.get_by_label("Offerte laadpaal").check()
    page.get_by_test_id("merge-thread-submit").click()

    # Nothing is merged yet: the preview says what stays and what moves.
    page.wait_for_url(re.compile(r"/merge/preview\?into="))
    expect(page.get_by_test_id("merge-survives")).to_contain_text("Offerte laadpaal")
    expect(page.get_by_test_id("merge-survives")).to_contain_text("+31612345678")
    expect(page.get_by_test_id("moves-messages")).to_have_text("1")
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.get_by_test_id("merge-confirm").click()

    page.wait_for_url(re.compile(rf"/threads/{kept.id}$"))
    timeline = page.get_by_test_id("timeline-scroll")
    texts = ["Wat kost een laadpaal?", "Wanneer komt de monteur?", "Ongeveer 1200 euro."]
    for text in texts:
        expect(timeline.get_by_text(text)).to_be_visible()
    # One timeline, in the order things happened.
    html = timeline.inner_html()
    assert [html.index(text) for text in texts] == sorted(html.index(text) for text in texts)
    expect(timeline).to_contain_text("Monteur komt wanneer")  # the system line

    page.goto(f"{live_server.url}/threads/{other.id}")
    pointer = page.get_by_test_id("merged-into")
    expect(pointer).to_contain_text("Offerte laadpaal")
    pointer.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/threads/{kept.id}$"))


def test_an_agent_merges_two_contacts_and_undoes_it(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678", email=None)
    twin = factories.contact(
        display_name="J. Jansen", phone="+31687654321", email="jan@voorbeeld.nl"
    )
    db.session.add(ContactIdentity(contact_id=twin.id, kind="phone", address="+31687654321"))
    thread = factories.thread(whatsapp, jan, thread_subject="Laadpaal knippert rood")
    factories.thread(mail, twin, thread_subject="Offerte per mail")
    db.session.commit()

    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    page.get_by_test_id("customer-merge-link").click()
    page.get_by_role("searchbox").fill("06-87654321")
    page.get_by_role("searchbox").press("Enter")
    results = page.get_by_test_id("contact-merge-results")
    expect(results).to_contain_text("J. Jansen")
    results.get_by_role("link").first.click()

    expect(page.get_by_test_id("preview-threads")).to_have_text("1")
    expect(page.get_by_test_id("preview-fills")).to_contain_text("jan@voorbeeld.nl")
    page.get_by_test_id("merge-contact-submit").click()

    expect(page.get_by_test_id("kept-threads")).to_contain_text("Offerte per mail")
    expect(page.get_by_test_id("merged-threads")).not_to_contain_text("Offerte per mail")
    page.get_by_test_id("undo-merge").click()

    expect(page.get_by_test_id("merge-undone")).to_be_visible()
    expect(page.get_by_test_id("merged-threads")).to_contain_text("Offerte per mail")
    expect(page.get_by_test_id("kept-threads")).not_to_contain_text("Offerte per mail")
    expect(page.get_by_test_id("undo-merge")).to_have_count(0)
