"""The best slots while the customer is on the line, in a browser.

On the order page (1440×900) the planning section loads "Beste plekken" after it:
three slots with day, window, technician and the driving each adds; one click plans
the first and the order page says so. At 375 wide the slots read without sideways
scrolling. In a conversation about an order, the customer panel loads the same slots
after the conversation; one click plans one and the panel says so, the conversation
staying open. Screenshots: docs/screenshots/planning-slots.png and
conversation-slots.png (or SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import re
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, MessageType
from tests.e2e.axe import axe_violations
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.support import factories
from tests.support.planning_support import working_day
from tests.support.slots_support import days_off, order_at, plan, technician_at

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "docs/screenshots"
)
DESKTOP = {"width": 1440, "height": 900}
NIEUWEGEIN = (Decimal("52.029470"), Decimal("5.091150"))
OVERVECHT = (Decimal("52.115000"), Decimal("5.110000"))
ZEIST = (Decimal("52.089000"), Decimal("5.233000"))
BILTSTRAAT = (Decimal("52.096000"), Decimal("5.134000"))  # Utrecht, the customer
LEUSDEN = (Decimal("52.132000"), Decimal("5.431000"))


def _team(make_user):
    """An agent, three technicians around Utrecht, a visit already planned, days off."""
    agent = make_user("agent", email="agent@switchboard.test", language="nl")
    daan = technician_at(make_user, "Daan Mulder", NIEUWEGEIN, skills=("alfen", "zaptec"))
    sanne = technician_at(make_user, "Sanne Visser", OVERVECHT, skills=("alfen",))
    technician_at(make_user, "Ruben de Jong", ZEIST, skills=("easee",))
    # Daan's first working day already has a morning visit in Leusden; Sanne, who
    # lives nearest the customer, works only the second day of the fortnight.
    first = working_day(1)
    second = working_day((first - local_today()).days + 1)
    plan(order_at("CC-2026-00951", LEUSDEN), [daan], first, time(8, 30), time(11), agent)
    days_off(sanne, first, first)
    days_off(sanne, second + timedelta(days=1), second + timedelta(days=30))
    return agent


def _customer_order(number: str, name: str):
    order = order_at(number, BILTSTRAAT, preferences={"time_window": "ochtend"})
    order.end_customer.display_name = name
    address = order.installation_address
    address.street, address.house_number, address.house_number_addition = "Biltstraat", "88", None
    address.postal_code, address.city = "3572 BE", "Utrecht"
    db.session.commit()
    return order


def test_a_planner_plans_an_order_in_its_best_slot(live_server, browser, make_user):
    email = _team(make_user).email
    number = _customer_order("CC-2026-00952", "Eva de Boer").order_number
    db.session.remove()
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=DESKTOP, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, email)
        page.goto(f"{live_server.url}/orders/{number}")
        slots = page.get_by_test_id("plan-slots")
        expect(slots.get_by_role("heading", name="Beste plekken")).to_be_visible()
        offered = slots.get_by_test_id("slot")
        expect(offered).to_have_count(3)
        first = offered.first
        expect(first).to_contain_text(re.compile(r"\d\d:\d\d–\d\d:\d\d"))
        expect(first.get_by_test_id("slot-cost")).to_have_text(re.compile(r"^\+\d+ min rijden$"))
        # The customer asked for the morning: every slot starts before noon.
        for window in slots.locator(".slot-window").all_inner_texts():
            assert window < "12:00", window
        assert axe_violations(page) == []
        page.locator("#planning").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "planning-slots.png"))

        lead = first.locator(".slot-who").inner_text().split(" + ")[0]
        first.get_by_test_id("slot-plan").click()
        expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
        expect(page.get_by_text(re.compile(r"CC-2026-00952 ingepland: "))).to_be_visible()
        expect(page.get_by_test_id("plan-current")).to_contain_text("Ingepland:")
        expect(page.locator("input[name=technician_ids]:checked")).to_have_count(1)
        checked = page.locator("label.plan-tech:has(input:checked)")
        expect(checked).to_contain_text(lead)
    finally:
        context.close()

    phone = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="nl-NL", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        other = _customer_order("CC-2026-00953", "Sem Bakker").order_number
        db.session.remove()
        sign_in_dutch(page, live_server.url, email)
        page.goto(f"{live_server.url}/orders/{other}")
        expect(page.get_by_test_id("slot")).to_have_count(3)
        page.get_by_test_id("plan-slots").scroll_into_view_if_needed()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the order page is {width}px wide on a 375px screen"
        if os.environ.get("SLOTS_PHONE_SHOT"):
            page.screenshot(path=os.environ["SLOTS_PHONE_SHOT"])
    finally:
        phone.close()


def test_an_agent_plans_from_the_conversation_with_the_customer(live_server, browser, make_user):
    agent = _team(make_user)
    order = _customer_order("CC-2026-00954", "Noor Jansen")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    thread = factories.thread(
        channel,
        order.end_customer,
        order_id=order.id,
        thread_subject="Installatie laadpaal",
        assigned_to_user_id=agent.id,
    )
    factories.message(
        thread,
        "Goedemorgen! Wanneer kunnen jullie de laadpaal komen installeren? "
        "Ik ben 's ochtends thuis.",
        message_type=MessageType.INCOMING,
        sender_contact_id=order.end_customer_contact_id,
    )
    db.session.commit()
    email, thread_id = agent.email, thread.id
    db.session.remove()
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=DESKTOP, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, live_server.url, email)
        page.goto(f"{live_server.url}/threads/{thread_id}")
        panel = page.get_by_test_id("customer-slots")
        title = panel.get_by_role("heading", name="Beste plekken voor CC-2026-00954")
        expect(title).to_be_visible()
        expect(panel.get_by_test_id("slot")).to_have_count(3)
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "conversation-slots.png"))

        typing = "Een moment, ik kijk even in de planning…"
        page.get_by_test_id("reply-content").fill(typing)
        panel.get_by_test_id("slot-plan").first.click()
        expect(panel.get_by_test_id("slot-planned")).to_contain_text("CC-2026-00954 ingepland:")
        # Still on the conversation, the reply being typed untouched.
        expect(page).to_have_url(re.compile(rf"/threads/{thread_id}$"))
        expect(page.get_by_test_id("reply-content")).to_have_value(typing)
    finally:
        context.close()
