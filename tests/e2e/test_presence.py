"""Presence and mentions: two agents in one conversation see each other and
each other's typing, a crossing reply is held until confirmed, and an @mention picked
in a note reaches the colleague live and leads to the note."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, MessageType
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.helpers import customer_writes


def _agent(make_user, email, name, team):
    user = make_user("agent", email=email, team_id=team.id)
    user.name = name
    db.session.commit()
    return user


def _open(browser, base_url, email, path):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    sign_in(page, base_url, email)
    page.wait_for_url(re.compile(r"/inbox"))
    page.goto(f"{base_url}{path}")
    page.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    return context, page


def test_two_agents_in_one_conversation(live_server, browser, make_user):
    team = factories.team("Klantenservice")
    db.session.commit()
    anouk = _agent(make_user, "anouk@switchboard.test", "Anouk Jansen", team)
    sanne = _agent(make_user, "sanne@switchboard.test", "Sanne de Vries", team)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    db.session.commit()
    thread = customer_writes(whatsapp, jan, "wamid.pr1", "Mijn laadpaal knippert rood").thread
    thread.assigned_team_id = team.id
    db.session.commit()
    path = f"/threads/{thread.id}"
    context_a, a = _open(browser, live_server.url, "anouk@switchboard.test", path)
    context_b, b = _open(browser, live_server.url, "sanne@switchboard.test", path)

    # Each sees the other, never themselves.
    sanne_here = a.locator(f'#presence .avatar[data-user-id="{sanne.id}"]')
    expect(sanne_here).to_have_text("SV")
    expect(sanne_here).to_have_attribute("title", "Sanne de Vries has this conversation open")
    expect(b.locator(f'#presence .avatar[data-user-id="{anouk.id}"]')).to_have_text("AJ")
    expect(a.locator("#presence .avatar")).to_have_count(1)

    # Anouk types a reply; Sanne sees it.
    a.locator("#reply-content").press_sequentially("Goedemiddag Jan, wij sturen een monteur")
    typing = b.get_by_test_id("typing-indicator")
    expect(typing).to_have_text("Anouk Jansen is typing a reply…")

    # Sanne answers first; Anouk's Send is held with a warning, then sent anyway.
    b.locator("#reply-content").fill("Ik kijk ernaar, Jan")
    b.get_by_role("button", name="Send", exact=True).click()
    expect(b.locator("#timeline")).to_contain_text("Ik kijk ernaar, Jan")
    a.get_by_role("button", name="Send", exact=True).click()
    warning = a.get_by_test_id("reply-collision")
    expect(warning).to_contain_text(re.compile(r"Sanne de Vries replied .* ago — send anyway\?"))
    expect(a.locator("#timeline")).to_contain_text("Ik kijk ernaar, Jan")  # brought up to date
    expect(typing).to_have_text("")  # sending ended Anouk's typing line
    assert _replies_by(anouk) == []
    warning.get_by_role("button", name="Send anyway").click()
    expect(a.locator("#timeline")).to_contain_text("Goedemiddag Jan, wij sturen een monteur")
    expect(a.get_by_test_id("reply-collision")).to_have_count(0)
    assert _replies_by(anouk) == ["Goedemiddag Jan, wij sturen een monteur"]

    # Sanne moves on to her inbox: her avatar leaves Anouk's page.
    b.goto(f"{live_server.url}/inbox")
    b.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    expect(sanne_here).to_have_count(0)

    # Anouk mentions her through the picker, with the keyboard.
    a.get_by_role("tab", name="Internal note").click()
    note = a.locator("#note-content")
    note.press_sequentially("@sa")
    picker = a.get_by_test_id("mention-picker")
    expect(picker.get_by_role("option", name="Sanne de Vries")).to_be_visible()
    expect(picker.get_by_role("option")).to_have_count(1)
    note.press("Enter")
    expect(picker).to_be_hidden()
    expect(note).to_have_value("@Sanne de Vries ")
    note.press_sequentially("kun jij Jan morgen bellen?")
    a.get_by_role("button", name="Add note").click()
    expect(a.locator("#timeline")).to_contain_text("@Sanne de Vries kun jij Jan morgen bellen?")

    # Sanne's bell rings live; its link lands on the note, scrolled to and marked.
    expect(b.locator("#bell-count")).to_have_text("1")
    b.locator("#bell").click()
    link = b.locator("#notification-panel").get_by_role(
        "link", name=re.compile("Anouk Jansen mentioned you")
    )
    link.click()
    expect(b).to_have_url(re.compile(rf"/threads/{thread.id}\?message=[^#]+#message-"))
    note_id = b.url.rsplit("#message-", 1)[1]
    target = b.locator(f"#message-{note_id}")
    expect(target).to_contain_text("@Sanne de Vries kun jij Jan morgen bellen?")
    expect(target).to_have_class(re.compile(r"\btl-target\b"))
    expect(target).to_be_in_viewport()
    context_a.close()
    context_b.close()


def _replies_by(user) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CommunicationMessage.message_content).where(
                CommunicationMessage.sender_user_id == user.id,
                CommunicationMessage.message_type == MessageType.OUTGOING,
            )
        )
    )
