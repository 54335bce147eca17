"""A customer prepares and moves their own visit, on the deployment.

On the deployment a customer runs (``python wsgi.py`` and two ``python worker.py`` on
PostgreSQL and Redis; the partner's receiver as a fake), a planner plans an order of
a partner's. The workers send the customer the planning message; the customer opens
its link on a phone (375×812, touch, Dutch):

a) the page shows the visit's day and window;
b) two photos go (the meter cupboard and the main fuse), each shown as received;
c) "Afspraak verzetten" offers slots from the planner's own capacity, one is tapped,
   and the new appointment is confirmed.

Then, the workers done: the board and the technician's route list show the new day; the
partner heard one ``visit_scheduled`` and one ``visit_rescheduled`` (reason
"customer"); the customer got exactly one message more (the move's), with the same
link; the photos are with the order.
"""

from __future__ import annotations

import re
from datetime import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.orders.planning.board import week_key
from app.platform.extensions import db
from app.platform.models import CustomerPhoto, Visit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.e2e.test_admin_pages import sign_in_dutch
from tests.e2e.test_customer_move import _sent_links
from tests.e2e.timeouts import ACTION_TIMEOUT_MS
from tests.orders.test_customer_photos import photo_jpeg
from tests.support.planning_support import working_day
from tests.support.proposal_support import (
    app_beside_deployment,
    partner_calling_back,
    partner_receiver,
    told,
    workers_idle,
)
from tests.support.slots_support import CUSTOMER, order_at, plan, technician_at
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

PATH = re.compile(r"/t/[\w-]{22}")
SETTLE_SECONDS = 60.0

receiver = pytest.fixture(partner_receiver, name="receiver")
app = pytest.fixture(app_beside_deployment, name="app")


def _photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_jpeg(1600, 1200)}


def test_a_customer_sends_photos_and_moves_their_visit_on_the_deployment(
    app, deployment, browser, receiver, make_user
):
    planner = make_user("team_lead", email="marieke.bos@chargecars.nl", language="nl")
    anna = technician_at(make_user, "Anna de Vries", CUSTOMER)
    partner = partner_calling_back(receiver)
    order = order_at("CC-2026-01301")
    order.partner_organization_id = partner.organization.id
    order.partner_order_id = "GRO-01301"
    db.session.commit()
    order_id, number = order.id, order.order_number

    topology = deployment(DELIVERY_RETRY_BASE_SECONDS="1")
    topology.start_web()
    topology.start_worker()
    topology.start_worker()
    base_url = topology.base_url

    day = working_day(9)
    plan(order, [anna], day, time(8), time(12), planner)
    wait_until(lambda: len(_sent_links()) == 1, SETTLE_SECONDS, "the planning message sent")
    [path] = _sent_links()

    phone = browser.new_context(
        viewport={"width": 375, "height": 812},
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
    )
    page = phone.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        # a) The link from the message: the day and the window.
        page.goto(base_url + path)
        visit_block = page.get_by_test_id("customer-visit")
        expect(visit_block).to_contain_text(str(day.day))
        expect(visit_block).to_contain_text("08:00 – 12:00")

        # b) Two photos, each received.
        page.get_by_test_id("photo-input-meter_cupboard").set_input_files(_photo("meterkast.jpg"))
        expect(page.get_by_test_id("photo-state-meter_cupboard")).to_have_text("Ontvangen")
        page.get_by_test_id("photo-input-main_fuse").set_input_files(_photo("zekering.jpg"))
        expect(page.get_by_test_id("photo-state-main_fuse")).to_have_text("Ontvangen")

        # c) Another day, from the slots offered.
        page.get_by_test_id("customer-move").tap()
        slots = page.get_by_test_id("move-slot")
        expect(slots.first).to_be_visible()
        chosen = slots.nth(1) if slots.count() > 1 else slots.first
        new_day = chosen.get_attribute("data-day")
        assert new_day != day.isoformat()
        chosen.tap()
        expect(page.get_by_test_id("move-new-day")).to_contain_text(str(int(new_day[-2:])))
    finally:
        phone.close()

    wait_until(lambda: workers_idle(app), SETTLE_SECONDS, "the workers done")
    wait_until(
        lambda: told([order_id])["undelivered"] == 0, SETTLE_SECONDS, "the callbacks delivered"
    )
    counted = told([order_id])
    assert counted["deliveries"] == {
        (order_id, "visit_scheduled"): 1,
        (order_id, "visit_rescheduled"): 1,
    }, counted
    rescheduled = [e.payload for e in receiver.delivered() if e.event == "visit_rescheduled"]
    assert [event["visit"].get("reason") for event in rescheduled] == ["customer"], rescheduled
    # One message more for the customer (the move's), carrying the same link.
    assert _sent_links() == [path, path]
    db.session.expire_all()
    visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order_id))
    assert visit.scheduled_date.isoformat() == new_day
    kinds = db.session.scalars(
        sa.select(CustomerPhoto.kind).where(CustomerPhoto.order_id == order_id)
    ).all()
    assert sorted(kinds) == ["main_fuse", "meter_cupboard"]
    db.session.rollback()

    # The planner's board and the technician's route list show the new day.
    desk = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="nl-NL", timezone_id="Europe/Amsterdam"
    ).new_page()
    desk.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        sign_in_dutch(desk, base_url, planner.email)
        moved_to = visit.scheduled_date
        desk.goto(f"{base_url}/planning/?week={week_key(moved_to)}")
        row = desk.locator(f'[data-testid="board-row"][data-technician="{anna.name}"]')
        cell = row.locator(f'td[data-day="{moved_to.isoformat()}"]')
        expect(
            cell.locator(f'[data-testid="board-stop"][data-visit-order="{number}"]')
        ).to_have_count(1)
        # The technician's route list for that day, as printed for their morning.
        desk.goto(f"{base_url}/planning/technicians/{anna.id}/route?day={moved_to.isoformat()}")
        expect(desk.locator(f'[data-testid="route-stop"][data-order="{number}"]')).to_have_count(1)
    finally:
        desk.context.close()
