"""Templates in the reply box, as an agent uses them.

A template with a value the conversation does not know names it and offers an
input; "/" in the reply box finds a canned response and inserts it.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Order
from app.platform.models.enums import ChannelType, MessageType, OrderStatus, TemplateChannelType
from tests.e2e.test_sign_in import sign_in
from tests.support import factories

# Set to a folder to keep screenshots of the composer (they are not part of the suite).
SHOTS = Path(os.environ["TEMPLATES_SHOTS_DIR"]) if os.environ.get("TEMPLATES_SHOTS_DIR") else None
REMINDER = (
    "Beste {{customer_name}},\n\nOp {{visit_date}} in de {{visit_time}} komt "
    "{{technician_name}} uw laadpaal installeren."
)


def _email_thread(make_user):
    technician = make_user("technician", email="ruben@switchboard.test")
    technician.name = "Ruben Visser"
    outlook = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Klantenservice")
    jan = factories.contact(display_name="Jan Jansen", email="jan@example.nl", phone=None)
    # A visit with a technician and a time window, but no date yet.
    order = Order(
        order_number="CC-2026-00042",
        status=OrderStatus.APPROVED,
        assigned_technician_id=technician.id,
        installation_preferences={"time_window": "ochtend (08:00-12:00)"},
    )
    db.session.add(order)
    db.session.flush()
    thread = factories.thread(
        outlook, jan, thread_subject="Wanneer komt de monteur?", order_id=order.id
    )
    factories.message(thread, "Wanneer komen jullie?", sender_contact_id=jan.id)
    return thread


def _shot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=False)


def test_a_missing_value_is_named_typed_and_sent(live_server, page, make_user):
    anouk = make_user("agent", email="anouk@switchboard.test")
    thread = _email_thread(make_user)
    factories.template(
        REMINDER,
        template_name="visit_reminder",
        display_name="Visit reminder",
        description="The day before the visit.",
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
        subject_template="Herinnering: monteur komt {{visit_date}}",
    )
    db.session.commit()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")

    page.get_by_test_id("composer-template").select_option(label="Visit reminder")
    expect(page.get_by_test_id("template-missing")).to_have_text("Fill in: Visit date.")
    visit_date = page.get_by_label("Visit date")
    expect(visit_date).to_be_empty()
    expect(page.get_by_test_id("variable-error-visit_date")).to_contain_text("no planned visit")
    # What the conversation knows is filled in already.
    expect(page.get_by_label("Customer name")).to_have_value("Jan Jansen")
    expect(page.get_by_label("Technician", exact=True)).to_have_value("Ruben Visser")
    expect(page.get_by_label("Visit time")).to_have_value("ochtend (08:00-12:00)")
    # The input is labelled in the agent's English; the Dutch message says what is missing
    # in Dutch, as the customer would read it if it were sent so.
    expect(page.get_by_test_id("template-preview")).to_contain_text("Op [Bezoekdatum] in de")
    page.get_by_test_id("template-variables").scroll_into_view_if_needed()
    _shot(page, "composer-variables-1440.png")

    visit_date.fill("14-05-2026")
    expect(page.get_by_test_id("template-missing")).to_have_count(0)
    expect(page.get_by_test_id("template-preview")).to_contain_text("Op 14-05-2026 in de ochtend")
    expect(page.get_by_test_id("reply-content")).to_have_value(
        "Beste Jan Jansen,\n\nOp 14-05-2026 in de ochtend (08:00-12:00) komt Ruben Visser uw "
        "laadpaal installeren."
    )
    expect(page.locator("#reply-subject")).to_have_value("Herinnering: monteur komt 14-05-2026")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#timeline")).to_contain_text("Op 14-05-2026 in de ochtend")
    db.session.expire_all()
    # Anouk's reply (the order's own automatic mails are outgoing too).
    sent = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING,
            CommunicationMessage.sender_user_id == anouk.id,
        )
    )
    assert sent.subject == "Herinnering: monteur komt 14-05-2026"
    assert "Ruben Visser" in sent.message_content


def test_slash_finds_a_canned_response_and_inserts_it(live_server, page, make_user):
    make_user("agent", email="anouk@switchboard.test")
    thread = _email_thread(make_user)
    factories.template(
        "Beste {{customer_name}}, bedankt voor uw geduld. We komen er zo snel mogelijk op terug.",
        template_name="thanks_for_waiting",
        display_name="Thanks for waiting",
        description="When an answer takes longer than promised.",
        usage_count=5,
    )
    factories.template(
        "Beste {{customer_name}}, we hebben uw klacht ontvangen.",
        template_name="complaint_received",
        display_name="Complaint received",
        description="First answer to a complaint.",
        usage_count=9,
    )
    factories.template(
        "Onze offerte {{quote_number}} staat voor u klaar tot {{response_date}}.",
        template_name="quote_reminder",
        display_name="Quote reminder",
        variables=["quote_number", "response_date"],
    )
    db.session.commit()
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")

    box = page.get_by_test_id("reply-content")
    box.click()
    box.press_sequentially("Hallo, /")
    menu = page.get_by_role("listbox", name="Templates and canned responses")
    expect(menu.get_by_role("option")).to_have_count(3)
    expect(menu.get_by_role("option").first).to_contain_text("Complaint received")
    expect(menu).to_contain_text("Needs: Reply by (date)")
    _shot(page, "slash-list-1440.png")
    # Esc closes it, and it stays closed while the same word is typed on.
    box.press("Escape")
    expect(menu).to_have_count(0)
    box.press_sequentially("x")
    expect(menu).to_have_count(0)
    box.fill("")

    box.press_sequentially("/wait")
    expect(menu.get_by_role("option")).to_have_count(1)
    expect(menu.get_by_role("option")).to_contain_text("Thanks for waiting")
    box.press("Enter")
    expect(menu).to_have_count(0)
    expect(box).to_have_value(
        "Beste Jan Jansen, bedankt voor uw geduld. We komen er zo snel mogelijk op terug."
    )

    # A template still missing a value is chosen in the select, showing its inputs.
    box.fill("")
    box.press_sequentially("/quote")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.get_by_test_id("composer-template").locator("option:checked")).to_have_text(
        "Quote reminder"
    )
    expect(page.get_by_label("Reply by (date)")).to_be_visible()
    expect(page.get_by_label("Quote number")).to_have_value("CC-2026-00042")


def test_the_composer_on_a_phone(live_server, page, make_user):
    """375 px wide: inputs stack; the "/" list fits the screen."""
    make_user("agent", email="anouk@switchboard.test")
    thread = _email_thread(make_user)
    factories.template(
        REMINDER,
        template_name="visit_reminder",
        display_name="Visit reminder",
        channel_type=TemplateChannelType.EMAIL_OUTLOOK,
    )
    db.session.commit()
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    # A phone folds channel, template and recipients away.
    page.get_by_test_id("composer-options-toggle").click()
    page.get_by_test_id("composer-template").select_option(label="Visit reminder")
    expect(page.get_by_label("Visit date")).to_be_visible()
    page.get_by_test_id("template-variables").scroll_into_view_if_needed()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    _shot(page, "composer-variables-375.png")
    page.get_by_label("Visit date").fill("14-05-2026")
    box = page.get_by_test_id("reply-content")
    expect(box).to_have_value(
        "Beste Jan Jansen,\n\nOp 14-05-2026 in de ochtend (08:00-12:00) komt Ruben Visser uw "
        "laadpaal installeren."
    )
    box.fill("")
    box.press_sequentially("/")
    menu = page.get_by_role("listbox", name="Templates and canned responses")
    expect(menu.get_by_role("option").first).to_be_visible()
    menu_box = menu.bounding_box()
    assert menu_box["x"] >= 0 and menu_box["x"] + menu_box["width"] <= 375
    box.scroll_into_view_if_needed()
    _shot(page, "slash-list-375.png")
