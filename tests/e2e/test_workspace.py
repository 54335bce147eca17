"""The three-pane workspace, unread marks and the keyboard.

Set ``WORKSPACE_SHOTS=<dir>`` to also save the screenshots of the demo data that
docs/ shows (docs/workspace-1440.png, -1920.png, -phone.png).
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.conversations.core import InboundMessage, record_delivery
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    ContactIdentity,
    Order,
    ThreadRead,
)
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    OrderStatus,
    ThreadStatus,
)
from app.platform.transactions import commit
from tests.e2e.test_sign_in import sign_in
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.helpers import receive

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    yield page
    context.close()


def _desk_data(make_user):
    anouk = make_user("agent", email="anouk@switchboard.test")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    email = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678", email="jan@x.nl")
    db.session.add(ContactIdentity(contact_id=jan.id, kind="phone", address="+31612345678"))
    order = Order(
        order_number="CC-2026-00042",
        status=OrderStatus.SCHEDULED,
        end_customer_contact_id=jan.id,
        scheduled_date=date.today() + timedelta(days=2),
    )
    db.session.add(order)
    first = factories.thread(
        whatsapp,
        jan,
        minutes_ago=1,
        thread_subject="Laadpaal knippert rood",
        last_message_preview="Hij knippert sinds vanochtend rood",
    )
    factories.message(first, "Hij knippert sinds vanochtend rood", sender_contact_id=jan.id)
    first.last_customer_message_at = first.last_message_at
    eva = factories.contact(display_name="Eva de Boer")
    second = factories.thread(email, eva, minutes_ago=10, thread_subject="Factuur klopt niet")
    factories.message(second, "Het bedrag klopt niet", sender_contact_id=eva.id)
    third = factories.thread(email, jan, minutes_ago=30, thread_subject="Offerte tweede laadpunt")
    db.session.commit()
    return anouk, first, second, third


def _row(page, thread):
    return page.locator(f'#thread-list .thread-row[data-thread-id="{thread.id}"]')


def test_a_conversation_opens_beside_the_list_and_back_returns(live_server, desk, make_user):
    _, first, second, _ = _desk_data(make_user)
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/inbox")
    expect(_row(desk, first).get_by_test_id("unread-dot")).to_be_visible()

    _row(desk, first).get_by_role("link").click()
    expect(desk).to_have_url(f"{live_server.url}/threads/{first.id}")
    expect(desk.locator("#thread h1")).to_have_text("Laadpaal knippert rood")
    expect(desk.get_by_test_id("thread-list")).to_be_visible()  # the list stays
    expect(_row(desk, first).get_by_test_id("unread-dot")).to_have_count(0)
    expect(_row(desk, first)).to_have_class(re.compile(r"\bis-open\b"))

    panel = desk.get_by_test_id("customer-panel")
    expect(panel.get_by_test_id("customer-channels")).to_contain_text("+31612345678")
    expect(panel.get_by_test_id("customer-channels")).to_contain_text("jan@x.nl")
    orders = panel.get_by_test_id("customer-orders")
    expect(orders).to_contain_text("CC-2026-00042")
    expect(orders).to_contain_text("scheduled")
    expect(orders).to_contain_text("Next visit")
    expect(panel.get_by_test_id("customer-threads")).to_contain_text("Offerte tweede laadpunt")

    _row(desk, second).get_by_role("link").click()
    expect(desk).to_have_url(f"{live_server.url}/threads/{second.id}")
    expect(desk.locator("#thread h1")).to_have_text("Factuur klopt niet")

    desk.go_back()
    expect(desk).to_have_url(f"{live_server.url}/threads/{first.id}")
    expect(desk.locator("#thread h1")).to_have_text("Laadpaal knippert rood")
    desk.go_back()
    expect(desk).to_have_url(f"{live_server.url}/inbox")
    expect(desk.get_by_test_id("workspace-empty")).to_be_visible()

    db.session.expire_all()
    reads = db.session.scalars(sa.select(ThreadRead.thread_id)).all()
    # Read up to the customer message it showed; the second has none to mark.
    assert set(reads) == {first.id}


def test_a_customer_reply_shows_live_in_the_open_pane(live_server, desk, make_user, running_worker):
    _, first, _, _ = _desk_data(make_user)
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/inbox")
    desk.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    _row(desk, first).get_by_role("link").click()
    expect(desk.locator("#thread h1")).to_have_text("Laadpaal knippert rood")

    inbound = InboundMessage(
        external_message_id="wamid.live-1",
        content="Nu doet hij helemaal niets meer",
        received_at=utcnow(),
    )
    receive(db.session.get(CommunicationChannel, first.channel_id), first.contact, inbound)
    commit()

    expect(desk.locator("#timeline")).to_contain_text("Nu doet hij helemaal niets meer")
    expect(_row(desk, first)).to_contain_text("Nu doet hij helemaal niets meer")
    # The agent is looking at it: the list does not call it unread.
    expect(_row(desk, first).get_by_test_id("unread-dot")).to_have_count(0)
    expect(desk.get_by_test_id("thread-list")).to_be_visible()


def test_the_list_is_worked_with_the_keyboard_alone(live_server, desk, make_user):
    anouk, first, second, _ = _desk_data(make_user)
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/inbox")
    desk.wait_for_load_state("load")

    desk.keyboard.press("/")
    expect(desk.get_by_test_id("inbox-search")).to_be_focused()
    desk.keyboard.press("Escape")
    desk.locator("body").click(position={"x": 5, "y": 880})

    desk.keyboard.press("j")
    expect(_row(desk, first)).to_have_class(re.compile(r"\bkb-focus\b"))
    desk.keyboard.press("j")
    expect(_row(desk, second)).to_have_class(re.compile(r"\bkb-focus\b"))
    ring = _row(desk, second).evaluate("row => getComputedStyle(row).outlineStyle")
    assert ring == "solid", "the keyboard's row carries a visible focus ring"
    desk.keyboard.press("k")
    expect(_row(desk, first)).to_have_class(re.compile(r"\bkb-focus\b"))
    desk.keyboard.press("ArrowDown")
    expect(_row(desk, second)).to_have_class(re.compile(r"\bkb-focus\b"))
    desk.keyboard.press("ArrowUp")
    desk.keyboard.press("Enter")
    expect(desk).to_have_url(f"{live_server.url}/threads/{first.id}")
    expect(desk.locator("#thread h1")).to_have_text("Laadpaal knippert rood")
    # Opened by keyboard, the conversation takes focus once it has settled.
    expect(desk.locator("#thread h1")).to_be_focused()

    desk.keyboard.press("r")
    expect(desk.get_by_test_id("reply-content")).to_be_focused()
    desk.keyboard.type("rj")  # typing in the reply box is not a shortcut
    expect(desk.get_by_test_id("reply-content")).to_have_value("rj")
    desk.get_by_test_id("reply-content").fill("")
    desk.get_by_test_id("reply-content").evaluate("box => box.blur()")

    desk.keyboard.press("n")
    expect(desk.get_by_test_id("note-content")).to_be_focused()
    desk.get_by_test_id("note-content").evaluate("box => box.blur()")

    desk.keyboard.press("a")
    expect(desk.get_by_test_id("edit-assignee").locator("option:checked")).to_have_text(anouk.name)
    desk.keyboard.press("e")
    expect(desk.get_by_text(re.compile(r"status from .+ to resolved"))).to_be_visible()
    expect(desk.get_by_test_id("edit-status")).to_have_value("resolved")
    db.session.expire_all()
    saved = db.session.get(CommunicationThread, first.id)
    assert saved.assigned_to_user_id == anouk.id and saved.status == ThreadStatus.RESOLVED

    desk.keyboard.press("?")
    dialog = desk.get_by_test_id("shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Assign it to me")
    desk.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_focus_stays_on_the_header_control_after_an_inline_edit(live_server, desk, make_user):
    _, first, _, _ = _desk_data(make_user)
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/threads/{first.id}")
    desk.get_by_test_id("thread-details-toggle").click()  # folded by default
    priority = desk.get_by_test_id("edit-priority")
    priority.focus()
    priority.select_option("high")
    expect(desk.get_by_text("changed the priority from normal to high")).to_be_visible()
    expect(desk.get_by_test_id("edit-priority")).to_be_focused()


def test_earlier_messages_load_on_scroll_and_keep_the_place(live_server, desk, make_user):
    make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen")
    thread = factories.thread(channel, jan, thread_subject="Lang gesprek")
    start = thread.created_at - timedelta(days=1)
    for i in range(120):
        at = start + timedelta(minutes=i)
        factories.message(thread, f"bericht {i}", sender_contact_id=jan.id, created_at=at)
    db.session.commit()
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/threads/{thread.id}")
    messages = desk.locator("#timeline [data-message-id]")
    expect(messages).to_have_count(50)
    expect(desk.get_by_text("bericht 119", exact=True)).to_be_in_viewport()

    anchor = desk.get_by_text("bericht 70", exact=True)
    anchor.scroll_into_view_if_needed()
    desk.locator(".timeline-scroll").evaluate("box => box.scrollBy(0, -box.scrollHeight)")
    expect(messages).to_have_count(100)
    # The page above was added without moving what is on screen.
    top = desk.locator(".timeline-scroll").bounding_box()["y"]
    before = desk.get_by_text("bericht 70", exact=True).bounding_box()["y"]
    desk.wait_for_timeout(300)
    after = desk.get_by_text("bericht 70", exact=True).bounding_box()["y"]
    assert abs(after - before) < 2 and after >= top - 2000
    desk.locator(".timeline-scroll").evaluate("box => box.scrollBy(0, -box.scrollHeight)")
    expect(messages).to_have_count(120)


def test_a_live_message_keeps_the_earlier_page_and_the_place(
    live_server, desk, make_user, running_worker
):
    make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    thread = factories.thread(channel, jan, thread_subject="Lang gesprek")
    start = thread.created_at - timedelta(days=1)
    for i in range(79):
        at = start + timedelta(minutes=i)
        factories.message(thread, f"bericht {i}", sender_contact_id=jan.id, created_at=at)
    ours = factories.message(
        thread,
        "We komen morgen langs",
        message_type=MessageType.OUTGOING,
        delivery_status=DeliveryStatus.SENT,
        external_message_id="wamid.ours",
        created_at=start + timedelta(minutes=79),
    )
    db.session.commit()
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/threads/{thread.id}")
    desk.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")
    messages = desk.locator("#timeline [data-message-id]")
    expect(messages).to_have_count(50)
    desk.locator(".timeline-scroll").evaluate("box => box.scrollBy(0, -box.scrollHeight)")
    expect(messages).to_have_count(80)
    desk.get_by_text("bericht 5", exact=True).scroll_into_view_if_needed()
    before = desk.get_by_text("bericht 5", exact=True).bounding_box()["y"]

    inbound = InboundMessage(
        external_message_id="wamid.live-late", content="Is er al nieuws?", received_at=utcnow()
    )
    receive(channel, jan, inbound)
    commit()

    expect(desk.locator("#timeline")).to_contain_text("Is er al nieuws?")
    expect(messages).to_have_count(81)
    expect(desk.get_by_text("bericht 0", exact=True)).to_be_attached()
    after = desk.get_by_text("bericht 5", exact=True).bounding_box()["y"]
    assert abs(after - before) < 2, "the message being read stays where it was"

    # Ticks of our message on the latest page still move live.
    record_delivery(db.session.get(CommunicationMessage, ours.id), DeliveryStatus.READ)
    commit()
    tick = desk.locator(f'#message-{ours.id} [data-testid="delivery"]')
    expect(tick).to_have_attribute("data-status", "read")
    expect(messages).to_have_count(81)


def test_a_notification_link_opens_an_old_message_in_a_long_thread(live_server, desk, make_user):
    make_user("agent", email="anouk@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen")
    thread = factories.thread(channel, jan, thread_subject="Lang gesprek")
    start = thread.created_at - timedelta(days=1)
    ids = [
        factories.message(
            thread,
            f"bericht {i}",
            sender_contact_id=jan.id,
            created_at=start + timedelta(minutes=i),
        ).id
        for i in range(90)
    ]
    db.session.commit()
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    target = ids[20]
    desk.goto(f"{live_server.url}/threads/{thread.id}?message={target}#message-{target}")
    linked = desk.locator(f"#message-{target}")
    expect(linked).to_contain_text("bericht 20")
    expect(linked).to_be_in_viewport()
    expect(linked).to_have_class(re.compile("tl-target"))
    shots = Path("/work/shots/fixread")
    if shots.is_dir():
        desk.screenshot(path=str(shots / "notification-link-1440.png"))
        desk.set_viewport_size(PHONE)
        desk.reload()
        expect(linked).to_be_in_viewport()
        desk.screenshot(path=str(shots / "notification-link-375.png"))


def test_a_phone_keeps_the_one_column_flow(live_server, browser, make_user):
    _, first, _, _ = _desk_data(make_user)
    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    try:
        sign_in(phone, live_server.url, "anouk@switchboard.test")
        phone.goto(f"{live_server.url}/inbox")
        expect(phone.get_by_test_id("thread-list")).to_be_visible()
        _row(phone, first).get_by_role("link").click()
        expect(phone).to_have_url(f"{live_server.url}/threads/{first.id}")
        expect(phone.locator("#thread h1")).to_have_text("Laadpaal knippert rood")
        expect(phone.get_by_test_id("thread-list")).to_be_hidden()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "nothing sticks out sideways on a phone"
        phone.get_by_role("link", name="← Inbox").click()
        expect(phone).to_have_url(f"{live_server.url}/inbox")
    finally:
        context.close()


def test_the_demo_workspace_renders_at_every_width(live_server, browser, tmp_path):
    """The demo data in the workspace at 1440, 1920 and on a phone.

    The screenshots go to ``tmp_path``, or to ``WORKSPACE_SHOTS`` (the
    ``docs/`` pictures are taken with ``WORKSPACE_SHOTS=docs``).
    """
    from app.seed.demo import load_demo_data

    load_demo_data()
    db.session.commit()
    unread = db.session.scalar(
        sa.select(sa.func.count()).where(CommunicationThread.last_customer_message_at.is_not(None))
    )
    print(f"demo threads with unread customer messages: {unread}")
    target = Path(os.environ.get("WORKSPACE_SHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    for name, viewport in (
        ("1440", DESKTOP),
        ("1920", {"width": 1920, "height": 1080}),
        ("phone", PHONE),
    ):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server.url, "agent@switchboard.test", "demo1234")
        # Newest first: the conversations with unread customer messages are on top.
        page.goto(f"{live_server.url}/inbox?sort=newest")
        rows = page.locator("#thread-list .thread-row .thread-link")
        if name != "phone":
            rows.nth(1).click()
            expect(page.locator("#customer-panel")).to_be_visible()
            page.keyboard.press("j")
        page.wait_for_timeout(500)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"nothing sticks out sideways at {name}"
        page.screenshot(path=str(target / f"workspace-{name}.png"))
        if name == "phone":
            rows.nth(1).click()
            page.wait_for_load_state("load")
            page.screenshot(path=str(target / "workspace-phone-thread.png"), full_page=True)
        context.close()
