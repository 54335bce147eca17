"""Issue 13.12 in the browser: drafts, Undo send, Ctrl+Enter, emoji and WhatsApp's countdown."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.database import utcnow
from app.extensions import db
from app.models import CommunicationMessage, MessageDraft
from app.models.enums import DeliveryStatus, MessageType
from tests.conftest import opened
from tests.e2e.test_sign_in import sign_in
from tests.fakes import whatsapp as wa
from tests.whatsapp_support import whatsapp_thread

HOLD_SECONDS = 3
# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture
def fake_whatsapp():
    server = wa.FakeWhatsApp().start()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, fake_whatsapp, tmp_path):
    built = make_app(
        WHATSAPP_API_BASE=fake_whatsapp.url,
        WHATSAPP_API_VERSION=wa.VERSION,
        WHATSAPP_PHONE_NUMBER_ID=wa.PHONE_NUMBER_ID,
        WHATSAPP_ACCESS_TOKEN=wa.ACCESS_TOKEN,
        WHATSAPP_APP_SECRET=wa.APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=wa.VERIFY_TOKEN,
        ATTACHMENTS_DIR=str(tmp_path / "attachments"),
        SEND_UNDO_SECONDS=HOLD_SECONDS,
    )
    with opened(built) as app:
        yield app


@pytest.fixture
def desk(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def conversation(live_server, desk, make_user, running_worker):
    """Jan's WhatsApp conversation (he wrote 20 h 47 min ago), open in the agent's browser."""
    make_user("agent", email="anouk@switchboard.test")
    thread = whatsapp_thread(inbound_ago=timedelta(hours=20, minutes=47, seconds=30))
    sign_in(desk, live_server.url, "anouk@switchboard.test")
    desk.goto(f"{live_server.url}/threads/{thread.id}")
    desk.wait_for_load_state("load")
    return thread


def _sent_bodies(fake):
    return [message["text"]["body"] for message in fake.sent()]


def _screenshot(page, name):
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


def test_a_draft_comes_back_after_a_reload(conversation, desk, live_server):
    box = desk.get_by_test_id("reply-content")
    box.fill("We komen donderdag tussen 8 en 12 uur")
    expect(desk.get_by_test_id("draft-status").first).to_have_text("Draft saved")
    _screenshot(desk, "draft-saved-1440.png")
    desk.reload()
    expect(desk.get_by_test_id("reply-content")).to_have_value(
        "We komen donderdag tussen 8 en 12 uur"
    )
    # A note's draft is its own.
    desk.get_by_role("tab", name="Internal note").click()
    desk.get_by_test_id("note-content").fill("Klant wil liever 's middags")
    desk.get_by_role("tab", name="Reply").click()  # leaving the box saves at once
    deadline = time.monotonic() + 5
    kinds = []
    while kinds != ["note", "reply"] and time.monotonic() < deadline:
        time.sleep(0.1)
        db.session.expire_all()
        kinds = sorted(db.session.scalars(sa.select(MessageDraft.kind)))
    assert kinds == ["note", "reply"]
    desk.reload()
    desk.get_by_role("tab", name="Internal note").click()
    expect(desk.get_by_test_id("note-content")).to_have_value("Klant wil liever 's middags")


def test_send_then_undo_sends_nothing_and_puts_the_text_back(
    conversation, desk, fake_whatsapp
):
    desk.get_by_test_id("reply-content").fill("Sorry, verkeerde klant")
    desk.get_by_role("button", name="Send").click()
    held = desk.locator('[data-status="held"]')
    expect(held).to_contain_text("Sending…")
    _screenshot(desk, "undo-send-1440.png")
    desk.get_by_test_id("undo-send").click()
    expect(desk.get_by_test_id("reply-content")).to_have_value("Sorry, verkeerde klant")
    expect(held).to_have_count(0)
    time.sleep(HOLD_SECONDS + 1.5)
    assert fake_whatsapp.sent() == []
    db.session.expire_all()
    assert db.session.scalar(
        sa.select(sa.func.count()).where(CommunicationMessage.message_type == MessageType.OUTGOING)
    ) == 0


def test_ctrl_enter_sends_and_after_the_hold_it_goes_out(conversation, desk, fake_whatsapp):
    box = desk.get_by_test_id("reply-content")
    box.fill("We komen morgen langs.")
    box.press("Control+Enter")
    expect(desk.locator('[data-status="held"]')).to_be_visible()
    expect(box).to_have_value("")
    # The hold passes: Undo goes, the message is sent and its ticks move on.
    expect(desk.get_by_test_id("undo-send")).to_have_count(0, timeout=HOLD_SECONDS * 1000 + 2000)
    deadline = time.monotonic() + 15
    while not fake_whatsapp.sent() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _sent_bodies(fake_whatsapp) == ["We komen morgen langs."]
    last_tick = desk.locator('[data-testid="delivery"]').last
    expect(last_tick).not_to_have_attribute("data-status", "held")
    db.session.expire_all()
    status = db.session.scalar(
        sa.select(CommunicationMessage.delivery_status).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert status != DeliveryStatus.PENDING


def test_an_emoji_is_inserted_at_the_cursor(conversation, desk):
    box = desk.get_by_test_id("reply-content")
    box.fill("Bedankt en tot morgen")
    box.evaluate("el => el.setSelectionRange(8, 8)")  # after "Bedankt "
    desk.get_by_test_id("emoji-toggle").first.click()
    expect(desk.locator("[data-emoji-panel]").first).to_be_visible()
    _screenshot(desk, "emoji-1440.png")
    desk.get_by_role("button", name="Insert 👍").click()
    expect(box).to_have_value("Bedankt 👍en tot morgen")
    expect(desk.locator("[data-emoji-panel]").first).to_be_hidden()


def test_the_whatsapp_window_counts_down(conversation, desk):
    countdown = desk.get_by_test_id("whatsapp-window-countdown")
    expect(countdown).to_have_text("Window closes in 3 h 12 min")
    closes_at = countdown.get_attribute("data-window-closes-at")
    assert closes_at.startswith((utcnow() + timedelta(hours=3)).strftime("%Y-%m-%d"))
    desk.set_viewport_size({"width": 375, "height": 812})
    desk.get_by_test_id("reply-content").scroll_into_view_if_needed()
    _screenshot(desk, "composer-375.png")
