"""One order, from a partner's API call to a planned visit on the
technician's phone, and back to the partner and the technician's calendar.

Judged on the deployment a customer runs: ``python wsgi.py`` and two ``python
worker.py`` on PostgreSQL and Redis, Microsoft Graph and the partner's receiver as
fakes that speak their documented formats. Everyone acts as they would:

1. the partner is made with the documented CLI, configures its callbacks and sends
   the order over the partner API (with an ``Idempotency-Key``, sent twice);
2. a manager approves it on the order page and plans it on the week board
   (1440×900, Dutch);
3. the technician sees it on ``/m/`` (375×812, touch), taps "Onderweg" twice at
   once (bad signal), starts, adds a photo, has the customer sign and completes.

Then the partner's endpoint holds the signed callbacks in order (created, planned,
in progress, completed), the customer got exactly one planning message and one
"on my way", and the technician's Outlook calendar holds the visit once.

What is made in the database directly is what an admin sets up once on pages
other tests walk: the Outlook channel, the staff with their two-factor sign-in
and the technician's working hours.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.platform.extensions import db
from app.platform.models import (
    CalendarEvent,
    CommunicationMessage,
    CommunicationThread,
    Order,
    TechnicianSchedule,
    VisitSignature,
)
from app.platform.models.enums import ChannelType, MessageType, OrderStatus
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.fakes.receiver import FakeReceiver
from tests.integrations.test_integration_hub_outside import cli
from tests.support import factories
from tests.support.helpers import PASSWORD, second_factor_code, serving
from tests.support.mobile_support import png_bytes, sign_on_canvas
from tests.support.outlook_support import MAILBOX, GraphForProcesses
from tests.support.partner_support import line_items_order
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SETTLE_SECONDS = 90.0
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
PARTNER_ORDER = "GRO-2026-770001"
TECHNICIAN = "daan.mulder@chargecars.nl"
MANAGER = "marieke.bos@chargecars.nl"
# What the partner calls our statuses (its chargecars_to_partner mapping).
PARTNER_WORDS = {
    "new": "RECEIVED",
    "approved": "CONFIRMED",
    "scheduled": "PLANNED",
    "in_progress": "INSTALLING",
    "completed": "DELIVERED",
}
# Screenshots for a person to look at, only when asked for (SCREENSHOTS_DIR=...).
SHOTS = os.environ.get("SCREENSHOTS_DIR")
EVENTS = ["order_created", "visit_scheduled", "installation_started", "installation_completed"]


@pytest.fixture
def graph(monkeypatch):
    fake = GraphForProcesses(mailbox=MAILBOX).start()
    # The deployment's processes copy this environment: they trust the fake's TLS.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    yield fake
    fake.stop()


@pytest.fixture
def receiver():
    # The partner's secret is known once the CLI made the partner (step 1).
    yield from serving(FakeReceiver(secret="whsec_unknown"))


@pytest.fixture
def app(make_app):
    # Empties the database and Redis; this process reads what the deployment did.
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


@pytest.fixture
def deployed(app, deployment, graph):
    topology = deployment(
        **graph.app_config(),
        # A tap applies at once (undo is judged in tests/e2e/test_technician_offline.py).
        VISIT_UNDO_SECONDS="0",
        SEND_UNDO_SECONDS="0",
        DELIVERY_RETRY_BASE_SECONDS="1",
    )
    topology.start_web()
    topology.start_worker()
    topology.start_worker()
    return topology


def _staff(make_user):
    """What an admin sets up once: the Outlook mailbox, a manager, a technician with hours."""
    factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    manager = make_user("manager", email=MANAGER, language="nl")
    manager.name = "Marieke Bos"
    technician = make_user("technician", email=TECHNICIAN, language="nl")
    technician.name = "Daan Mulder"
    every_day = ["07:00", "20:00"]
    db.session.add(
        TechnicianSchedule(
            user_id=technician.id,
            weekly_hours={
                day: every_day for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        )
    )
    db.session.commit()
    return manager, technician


def _partner_sends_the_order(base_url: str, topology, receiver) -> tuple[dict, str]:
    """Step 1: the partner made by the CLI, its callbacks configured, the order sent."""
    [made] = cli(topology, ["partners", "create", "Groendus"])
    receiver.secret = made["webhook_secret"]
    headers = {"X-API-Key": made["api_key"]}
    partner = made["partner_id"]
    config = requests.post(
        f"{base_url}/api/v1/partners/{partner}/integration-config",
        json={
            "integration_name": "groendus_portal",
            "authentication_type": "api_key",
            "webhook_url": f"{receiver.url}/hooks/chargecars",
            "webhook_events": EVENTS,
            "status_mapping": {"chargecars_to_partner": PARTNER_WORDS},
        },
        headers=headers,
        timeout=30,
    )
    assert config.status_code == 200, config.text

    body = line_items_order(PARTNER_ORDER)
    sent = {**headers, "Idempotency-Key": "groendus-770001"}
    first = requests.post(
        f"{base_url}/api/v1/partners/{partner}/orders", json=body, headers=sent, timeout=30
    )
    assert first.status_code == 201, first.text
    # A timeout on the partner's side makes it send again: the same answer, no second order.
    again = requests.post(
        f"{base_url}/api/v1/partners/{partner}/orders", json=body, headers=sent, timeout=30
    )
    assert (again.status_code, again.json()) == (201, first.json())
    return first.json()["data"], made["api_key"]


def _manager_approves_and_plans(browser, base_url: str, number: str, technician) -> None:
    """Step 2, at 1440×900 in Dutch: approve on the order page, plan on the board."""
    today = local_today()
    context = browser.new_context(viewport=DESK, locale="nl-NL", timezone_id="Europe/Amsterdam")
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(page, base_url, MANAGER)
        page.goto(f"{base_url}/orders/{number}")
        page.locator("#to-status").select_option("approved")
        page.locator("#reason").fill("Adres nagekeken met de klant")
        page.locator("#partner-note").fill("Order confirmed")
        page.get_by_role("button", name="Status wijzigen").click()
        expect(page.get_by_test_id("order-planning")).to_be_visible()

        monday = today - timedelta(days=today.weekday())
        page.goto(f"{base_url}/planning/?week={week_key(monday)}")
        waiting = page.get_by_test_id("unplanned-order").filter(has_text=number)
        expect(waiting).to_contain_text("Jan Janssen")
        waiting.get_by_test_id("plan-open").click()
        dialog = page.get_by_test_id("plan-dialog")
        dialog.locator('input[name="date"]').fill(today.isoformat())
        dialog.locator('input[name="window_start"]').fill("08:00")
        dialog.locator('input[name="window_end"]').fill("12:00")
        dialog.get_by_label(re.compile(technician.name)).check()
        dialog.get_by_test_id("plan-submit").click()
        row = page.locator(f'[data-testid="board-row"][data-technician="{technician.name}"]')
        # A Saturday or Sunday (where Amsterdam is) has its column too.
        expect(row.locator(f'td[data-day="{today.isoformat()}"]')).to_contain_text(number)
        expect(page.get_by_test_id("unplanned-order").filter(has_text=number)).to_have_count(0)
    finally:
        context.close()


def _technician_does_the_visit(browser, base_url: str, number: str) -> None:
    """Step 3 on the phone: on the way (twice at once), started, photo, signature, done."""
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
    )
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        page.goto(f"{base_url}/login")
        page.locator("#email").fill(TECHNICIAN)
        page.locator("#password").fill(PASSWORD)
        page.locator("form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/m/$"))
        page.wait_for_load_state("load")
        card = page.get_by_test_id("visit").filter(has_text=number)
        expect(card.get_by_test_id("visit-window")).to_contain_text("08:00–12:00")
        expect(card).to_contain_text("Garage via de zijdeur")  # the customer's access note
        _shot(page, "order-e2e-phone-day.png")

        # Bad signal: the tap goes out twice at the same moment.
        answers = card.locator("form.m-taps").evaluate(
            """form => Promise.all([1, 2].map(() => {
                const body = new FormData(form);
                body.set("tap", "on_the_way");
                return fetch(form.action, {method: "POST", body}).then(r => r.status);
            }))"""
        )
        assert all(status < 500 for status in answers), answers
        page.reload()
        card = page.get_by_test_id("visit").filter(has_text=number)
        expect(card).to_contain_text("Onderweg sinds")
        expect(card.get_by_role("button", name="Onderweg")).to_have_count(0)

        card.get_by_role("button", name="Begonnen").click()
        expect(card.get_by_test_id("visit-status")).to_have_text("in behandeling")
        card.get_by_label("Foto").set_input_files(
            {"name": "laadpaal.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}
        )
        card.get_by_role("button", name="Foto uploaden").click()
        expect(card.get_by_test_id("visit-notice")).to_contain_text("foto")

        card.get_by_role("button", name="Afgerond").click()
        dialog = page.get_by_role("dialog")
        sign_on_canvas(page, dialog.get_by_test_id("signature-canvas"))
        dialog.get_by_label("Naam ondertekenaar").fill("Jan Janssen")
        dialog.get_by_role("button", name="Handtekening opslaan").click()
        expect(page.get_by_role("dialog").get_by_test_id("signed")).to_contain_text("Jan Janssen")
        page.get_by_role("dialog").get_by_role("button", name="Ja, afgerond").click()
        expect(card.get_by_test_id("visit-status")).to_have_text("afgerond")
        _shot(page, "order-e2e-phone-done.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def _outbound(thread_ids, text: str) -> list[CommunicationMessage]:
    return list(
        db.session.scalars(
            sa.select(CommunicationMessage).where(
                CommunicationMessage.thread_id.in_(thread_ids),
                CommunicationMessage.message_type == MessageType.OUTGOING,
                CommunicationMessage.message_content.ilike(f"%{text}%"),
            )
        )
    )


def test_one_order_from_the_partner_to_the_phone_and_back(
    app, deployed, browser, receiver, graph, make_user
):
    manager, technician = _staff(make_user)
    assert second_factor_code(manager.email)  # the manager's pages need the second step
    base_url = deployed.base_url

    accepted, _key = _partner_sends_the_order(base_url, deployed, receiver)
    number = accepted["chargecars_order_id"]
    _manager_approves_and_plans(browser, base_url, number, technician)
    _technician_does_the_visit(browser, base_url, number)

    # The partner's endpoint: every callback verified, in the order things happened.
    def all_callbacks():
        return [e.event for e in receiver.events] == EVENTS and receiver.events

    try:
        wait_until(all_callbacks, SETTLE_SECONDS, "the partner's four callbacks", every=0.25)
    except AssertionError:
        raise AssertionError(
            f"callbacks: {[e.event for e in receiver.events]}\n{deployed.report()}"
        ) from None
    assert receiver.rejections == []
    statuses = [e.payload["status"] for e in receiver.events]
    assert statuses == ["RECEIVED", "PLANNED", "INSTALLING", "DELIVERED"]
    assert all(e.payload["partner_order_id"] == PARTNER_ORDER for e in receiver.events)
    planned = receiver.events[1].payload
    assert planned["visit"] == {
        "number": 1,
        "purpose": None,
        "date": local_today().isoformat(),
        "window_start": "08:00",
        "window_end": "12:00",
    }
    # Only what was meant for the partner: the planner's internal reason stays home.
    assert b"Adres nagekeken" not in b"".join(e.body for e in receiver.events)

    db.session.expire_all()
    order = db.session.scalar(sa.select(Order).where(Order.order_number == number))
    assert order.status == OrderStatus.COMPLETED
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Order.id)).where(Order.partner_order_id == PARTNER_ORDER)
        )
        == 1
    )
    [signature] = db.session.scalars(
        sa.select(VisitSignature).where(VisitSignature.order_id == order.id)
    ).all()
    assert signature.signer_name == "Jan Janssen"

    # The customer: one planning message and one "on my way", however often tapped.
    threads = list(
        db.session.scalars(
            sa.select(CommunicationThread.id).where(CommunicationThread.order_id == order.id)
        )
    )

    def told():
        db.session.expire_all()
        planned = _outbound(threads, "ingepland")
        on_the_way = _outbound(threads, "onderweg")
        db.session.rollback()
        return (planned, on_the_way) if planned and on_the_way else None

    planned, on_the_way = wait_until(told, SETTLE_SECONDS, "the customer's messages")
    assert len(planned) == 1, [m.message_content for m in planned]
    assert len(on_the_way) == 1, [m.message_content for m in on_the_way]
    assert local_today().strftime("%d-%m-%Y") in planned[0].message_content
    assert "08:00" in planned[0].message_content and "12:00" in planned[0].message_content

    # The technician's Outlook calendar holds the visit, once, at its window.
    def in_calendar():
        return graph.events_of(TECHNICIAN)

    [event] = wait_until(in_calendar, SETTLE_SECONDS, "the visit in the technician's calendar")
    assert number in event["subject"]
    assert event["start"]["dateTime"].startswith(f"{local_today().isoformat()}T08:00")
    assert event["end"]["dateTime"].startswith(f"{local_today().isoformat()}T12:00")
    assert (
        db.session.scalar(
            sa.select(sa.func.count(CalendarEvent.id)).where(CalendarEvent.order_id == order.id)
        )
        == 1
    )
