"""Suggested replies in the browser: a customer asks about their planned installation date.

The agent has the conversation open (1440×900, Dutch). The customer's WhatsApp
message arrives; the page hears of it and fetches the row of chips, ranked in that
request, above the reply box. The first is the planning template with the order's
real date filled in; Alt+1 puts it into the reply box (nothing is sent), the agent
adds a line, and Send sends exactly that. A phone (375×812) shows the same chips,
and those of a conversation nobody had opened yet (its row asks for itself).
Screenshots: docs/screenshots/composer-suggestions.png and
composer-suggestions-phone.png (or SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationMessage, SuggestionOutcome
from app.platform.models.enums import MessageType
from tests.e2e.settle import wait_for_live_refreshes
from tests.e2e.test_sign_in import sign_in
from tests.support import suggestion_support as support
from tests.support.helpers import customer_writes
from tests.support.topology import wait_until

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
QUESTION = "Goedemorgen, wanneer komt de monteur mijn laadpaal installeren? Dan neem ik vrij."


def _history(found) -> None:
    for n, question in enumerate(support.PLANNING_QUESTIONS):
        support.past_conversation(
            found,
            question,
            template=found.templates["planning"],
            number=f"CC-2026-0090{n}",
            phone=f"+3161000000{n}",
        )
    support.past_conversation(
        found,
        "De factuur klopt niet, het bedrag is te hoog.",
        template=found.templates["invoice"],
        number="CC-2026-00910",
        phone="+31610000010",
    )
    support.past_conversation(
        found,
        "Kan de installatie ook op een andere dag?",
        reply="Dat kan. Welke dagen komen u goed uit? Dan kijken we "
        "samen met de planning naar een nieuw moment.",
        number="CC-2026-00911",
        phone="+31610000011",
    )


def _outgoing(thread_id):
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.thread_id == thread_id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    ).all()
    db.session.rollback()
    return rows


def test_the_planning_question_gets_the_planning_template_with_the_real_date(
    app, live_server, browser, make_user, running_worker
):
    found = support.desk(make_user)
    found.agent.language = "nl"
    _history(found)
    contact, order = support.customer(found)
    thread, _ = support.asking(found, contact, order, "Hallo", minutes_ago=3)
    day = order.scheduled_date.strftime("%d-%m-%Y")
    expected = (
        f"Beste Jan Jansen, uw laadpaal wordt op {day} tussen 08:00 en 12:00 geïnstalleerd "
        "door Ruben Visser. Hij belt u als hij onderweg is."
    )

    desk = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(desk, live_server.url, found.agent.email)
    desk.goto(f"{live_server.url}/threads/{thread.id}")
    expect(desk.get_by_test_id("reply-content")).to_be_visible()
    # The customer's "Hallo" is ranked as the page opens (its row fetches itself).
    expect(desk.get_by_test_id("suggestions")).not_to_have_attribute("aria-busy", "true")

    # The customer asks; the page hears of it and fetches the row, ranked then.
    wait_for_live_refreshes(desk)
    desk.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    customer_writes(found.whatsapp, contact, "wamid.planning", QUESTION)
    first = desk.get_by_test_id("suggestion-1")
    expect(first).to_be_visible(timeout=20_000)
    expect(first.locator(".suggestion-title")).to_have_text("Planning installatie")
    expect(first).to_have_attribute("data-text", expected)
    expect(first.locator(".suggestion-preview")).to_contain_text(f"wordt op {day} tussen")
    expect(desk.get_by_test_id("suggestion-3")).to_be_visible()
    titles = desk.locator(".suggestion-title").all_inner_texts()
    assert len(set(titles)) == 3, titles  # told apart at a glance
    assert _outgoing(thread.id) == []

    # A phone shows the same chips above the reply box.
    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    ).new_page()
    sign_in(phone, live_server.url, found.agent.email)
    phone.goto(f"{live_server.url}/threads/{thread.id}")
    expect(phone.get_by_test_id("suggestion-1")).to_be_visible()
    phone.get_by_test_id("suggestion-1").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "composer-suggestions-phone.png"))
    # Another customer asked while nobody had their conversation open: nothing is
    # ranked yet when it opens, and the row asks for itself.
    piet, piets_order = support.customer(
        found, name="Piet de Vries", phone="+31687654321", number="CC-2026-00043"
    )
    other, _ = support.asking(found, piet, piets_order, QUESTION)
    phone.goto(f"{live_server.url}/threads/{other.id}")
    expect(phone.get_by_test_id("suggestion-1").locator(".suggestion-title")).to_have_text(
        "Planning installatie"
    )
    expect(phone.get_by_test_id("reply-content")).to_be_visible()  # in place, around the row
    expect(phone.locator("#composer #suggestions")).to_have_count(1)
    # A tap on a chip puts it where the agent left the caret, on lines of its own.
    chip = phone.get_by_test_id("suggestion-1")
    text = chip.get_attribute("data-text")
    box = phone.get_by_test_id("reply-content")
    box.fill("Hallo Piet,\n\nGroet")
    box.evaluate("el => el.setSelectionRange(13, 13)")  # after "Hallo Piet,\n\n"
    chip.tap()
    expect(box).to_have_value(f"Hallo Piet,\n\n{text}\nGroet")
    # The customer writes twice in a row: the chips end up answering the second.
    phone.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    customer_writes(found.whatsapp, piet, "wamid.piet.1", QUESTION)
    second = customer_writes(found.whatsapp, piet, "wamid.piet.2", "Of is het al ingepland?")
    expect(phone.get_by_test_id("suggestion-1")).to_have_attribute("data-answers", str(second.id))
    phone.context.close()

    # One key puts it into the reply box; nothing is sent.
    wait_for_live_refreshes(desk)
    desk.get_by_test_id("timeline-scroll").focus()
    desk.keyboard.press("Alt+1")
    box = desk.get_by_test_id("reply-content")
    expect(box).to_have_value(expected)
    expect(box).to_be_focused()
    expect(first).to_have_attribute("aria-pressed", "true")
    assert _outgoing(thread.id) == []
    desk.keyboard.press("End")
    desk.keyboard.type(" Tot dan!")
    desk.screenshot(path=str(SHOTS / "composer-suggestions.png"))

    # Send sends what is in the box, edited.
    desk.locator("#reply-form button[type=submit]").click()
    expect(box).to_have_value("")
    [sent] = wait_until(lambda: _outgoing(thread.id), 15, "the reply stored")
    assert sent.message_content == expected + " Tot dan!"
    outcome = db.session.scalar(sa.select(SuggestionOutcome))
    assert outcome.outcome == "edited" and outcome.user_id == found.agent.id
    # Answered: the row is gone.
    expect(desk.get_by_test_id("suggestions")).to_be_hidden()
    expect(desk.locator(".msg").filter(has_text=re.compile("Tot dan!"))).to_be_visible()
