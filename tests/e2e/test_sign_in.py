"""A person signs in, sees the inbox, signs out; a technician is kept out of admin pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models.enums import ChannelType, Priority
from tests.support import factories
from tests.support.helpers import PASSWORD, has_second_factor, second_factor_code
from tests.support.jobs import drain_queues


def sign_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form; a user with two-factor sign-in types a code too."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if password == PASSWORD and has_second_factor(email):
        page.wait_for_url(re.compile(r"/login/verify$"))
        page.get_by_label("Code").fill(second_factor_code(email))
        page.get_by_role("button", name="Verify").click()


def _some_threads():
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    email = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    jan = factories.contact(display_name="Jan Jansen")
    eva = factories.contact(display_name="Eva de Boer")
    factories.thread(
        whatsapp,
        jan,
        minutes_ago=5,
        thread_subject="Laadpaal werkt niet",
        priority=Priority.URGENT,
        last_message_preview="Hij knippert rood",
    )
    factories.thread(email, eva, minutes_ago=60, thread_subject="Vraag over offerte")
    db.session.commit()


def test_agent_signs_in_sees_inbox_and_signs_out(live_server, page, make_user):
    make_user("agent", email="agent@switchboard.test")
    _some_threads()

    page.goto(f"{live_server.url}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("E-mail").fill("agent@switchboard.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/inbox$"))
    rows = page.locator(".thread-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Jan Jansen")
    expect(rows.first).to_contain_text("Laadpaal werkt niet")
    expect(rows.nth(1)).to_contain_text("Eva de Boer")

    # The WhatsApp filter swaps the list through htmx and pushes the URL.
    page.get_by_role("link", name="WhatsApp", exact=True).click()
    expect(page).to_have_url(re.compile(r"filter=whatsapp"))
    expect(rows).to_have_count(1)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{live_server.url}/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_wrong_password_shows_error(live_server, page, make_user):
    make_user("agent", email="agent@switchboard.test")
    sign_in(page, live_server.url, "agent@switchboard.test", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("Invalid e-mail or password.")


def test_technician_gets_403_on_admin_page(live_server, page, make_user):
    make_user("technician", email="tech@switchboard.test")
    sign_in(page, live_server.url, "tech@switchboard.test")
    expect(page).to_have_url(re.compile(r"/m/$"))

    response = page.goto(f"{live_server.url}/admin/users")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_live_notification_reaches_the_open_page(live_server, page, make_user, app):
    """Browser WebSocket, worker and Socket.IO rooms together: the bell counts up live."""
    make_user("agent", email="agent@switchboard.test")
    sign_in(page, live_server.url, "agent@switchboard.test")
    expect(page).to_have_url(re.compile(r"/inbox$"))
    page.wait_for_function("() => window.switchboardSocket && window.switchboardSocket.connected")

    page.get_by_role("button", name="Notifications").click()
    page.get_by_role("button", name="Send me a test notification").click()
    expect(page.get_by_role("status")).to_contain_text("Test notification queued")
    drain_queues(app)
    expect(page.locator("#bell-count")).to_have_text("1")
    expect(page.locator("#bell-count")).to_be_visible()
