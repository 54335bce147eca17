"""The customer confirms tomorrow's visit on their phone (375×812, touch), from the
page the reminder links to; axe-core finds nothing serious or critical in light or
dark colours, before and after.

A screenshot goes to ``SCREENSHOTS_DIR`` as customer-confirm-ask.png and
customer-confirm.png when it is set.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.orders.mobile.services import local_today
from app.platform.extensions import db
from tests.conftest import opened
from tests.e2e.test_customer_page import _no_serious_violations, _phone, _sandbox_link, _shoot
from tests.support.jobs import drain_queues
from tests.support.planning_support import approved_order
from tests.support.visits_support import plan_number


@pytest.fixture
def app(make_app):
    # Reminders from midnight on: tomorrow's visit is confirmable whenever this runs.
    with opened(make_app(VISIT_REMINDER_TIME="00:00")) as app:
        yield app


def test_the_customer_confirms_tomorrows_visit(app, live_server, browser, make_user):
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"])
    tech.name = "Ruben Visser"
    order = approved_order(with_whatsapp=False)
    plan_number(order, 1, [tech], local_today() + timedelta(days=1), planner)
    drain_queues(app)
    path = _sandbox_link()
    db.session.remove()

    page = _phone(browser)
    try:
        page.goto(live_server.url + path)
        confirm = page.get_by_test_id("customer-confirm")
        expect(confirm).to_contain_text("Komt de afspraak u nog steeds uit?")
        _no_serious_violations(page, "asked to confirm")
        _shoot(page, "customer-confirm-ask.png")
        page.get_by_test_id("customer-confirm-button").tap()
        expect(confirm).to_have_attribute("data-state", "confirmed")
        expect(confirm).to_contain_text("U heeft de afspraak bevestigd")
        assert page.url.endswith("#cp-confirm")
        _no_serious_violations(page, "confirmed")
        _shoot(page, "customer-confirm.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        page.context.close()
