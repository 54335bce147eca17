"""Customer ratings in the browser: resolve, the customer rates on WhatsApp, analytics shows it."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import expect

from app.platform.database import utcnow
from app.platform.extensions import db
from tests.e2e.test_sign_in import sign_in
from tests.fakes import whatsapp as wa
from tests.support.jobs import drain_queues
from tests.support.whatsapp_support import (
    CUSTOMER,
    fake_whatsapp_server,
    whatsapp_app,
    whatsapp_thread,
)

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


@pytest.fixture
def app(make_app, fake_whatsapp, tmp_path):
    yield from whatsapp_app(make_app, fake_whatsapp, tmp_path)


def rating_question(app, fake) -> dict:
    """The interactive list the fake Cloud API received, once the jobs have run."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        drain_queues(app)
        lists = [body for body in fake.sent() if body.get("type") == "interactive"]
        if lists:
            return lists[0]
        time.sleep(0.2)
    raise AssertionError(f"no rating question reached the fake WhatsApp: {fake.sent()}")


def test_a_resolved_whatsapp_conversation_is_rated_and_counted(
    live_server, page, browser, make_user, app, fake_whatsapp
):
    agent = make_user("agent", email="anouk@switchboard.test")
    make_user("manager", email="manon@switchboard.test")
    thread = whatsapp_thread(
        inbound_ago=timedelta(hours=2),
        last_customer_message_at=utcnow() - timedelta(hours=2),
        assigned_to_user_id=agent.id,
    )

    sign_in(page, live_server.url, "anouk@switchboard.test")
    page.goto(f"{live_server.url}/threads/{thread.id}")
    page.get_by_test_id("thread-details-toggle").click()  # folded by default
    page.get_by_test_id("edit-status").select_option("resolved")
    expect(page.locator(".timeline")).to_contain_text(re.compile("resolved|opgelost"))

    question = rating_question(app, fake_whatsapp)
    assert question["to"] == CUSTOMER and question["interactive"]["type"] == "list"
    four = question["interactive"]["action"]["sections"][0]["rows"][3]

    # The customer picks "4" in the list; Meta posts the choice, signed.
    raw, headers = wa.signed(
        wa.webhook(
            contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
            messages=[
                {
                    "from": CUSTOMER,
                    "id": "wamid.rating",
                    "timestamp": str(int(time.time())),
                    "type": "interactive",
                    "interactive": {"type": "list_reply", "list_reply": four},
                }
            ],
        )
    )
    answer = requests.post(
        f"{live_server.url}/api/v1/webhooks/whatsapp",
        data=raw,
        headers={**headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    drain_queues(app)
    db.session.expire_all()

    page.reload()
    expect(page.locator(".timeline")).to_contain_text(re.compile(r"(Customer rated|Klant gaf) 4/5"))

    manager = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(manager, live_server.url, "manon@switchboard.test")
    manager.goto(f"{live_server.url}/analytics")
    figure = manager.locator("#figure-csat_agent")
    expect(figure).to_contain_text(agent.name)
    expect(figure.locator("tbody td[data-col=n]").first).to_have_text("1")
    expect(figure.locator("tbody td[data-col=score]").first).to_have_text("100.0 %")
    manager.context.close()
