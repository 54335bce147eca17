"""The customer moves their visit on a phone (375×812, touch): the link from the planning
message the sandbox sent, "Afspraak verzetten", a slot tapped, the new appointment
confirmed; axe-core finds nothing serious or critical on the move page in light or dark.

Screenshots go to ``SCREENSHOTS_DIR`` as customer-move*.png when it is set.
"""

from __future__ import annotations

import json
import re
from datetime import time

import sqlalchemy as sa
from playwright.sync_api import expect

from app.platform.extensions import db
from app.platform.models import SandboxSend, Visit
from tests.e2e.test_customer_page import PHONE, _no_serious_violations, _shoot
from tests.support.jobs import drain_queues
from tests.support.planning_support import approved_order, working_day
from tests.support.slots_support import CUSTOMER, plan, technician_at

PATH = re.compile(r"/t/[\w-]{22}")


def _sent_links() -> list[str]:
    """The page's path in each message the sandbox transport recorded, oldest first."""
    db.session.expire_all()
    bodies = db.session.scalars(sa.select(SandboxSend.request_body).order_by(SandboxSend.id)).all()
    db.session.rollback()
    return [match[0] for body in bodies if (match := PATH.search(json.dumps(body)))]


def test_the_customer_moves_their_visit_to_an_offered_slot(app, live_server, browser, make_user):
    planner = make_user("team_lead", language="nl")
    anna = technician_at(make_user, "Anna Dichtbij", CUSTOMER)
    order = approved_order(with_whatsapp=False, preferences={"time_window": None})
    order.installation_address.latitude, order.installation_address.longitude = CUSTOMER
    db.session.commit()
    day = working_day(9)
    plan(order, [anna], day, time(8), time(12), planner)
    drain_queues(app)
    [path] = _sent_links()
    order_id = order.id
    db.session.remove()

    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nl-NL", color_scheme="light"
    )
    page = context.new_page()
    try:
        page.goto(live_server.url + path)
        page.get_by_test_id("customer-move").tap()
        expect(page.get_by_role("heading", name="Uw afspraak verzetten")).to_be_visible()
        slots = page.get_by_test_id("move-slot")
        expect(slots.first).to_be_visible()
        assert 1 <= slots.count() <= 6
        expect(page.get_by_test_id("call-back")).to_be_visible()
        assert "Anna" not in page.content()
        _no_serious_violations(page, "move")
        _shoot(page, "customer-move.png")
        page.emulate_media(color_scheme="dark")
        _shoot(page, "customer-move-dark.png")
        page.emulate_media(color_scheme="light")

        chosen = slots.nth(1) if slots.count() > 1 else slots.first
        new_day = chosen.get_attribute("data-day")
        chosen.tap()
        expect(page.get_by_role("heading", name="Uw nieuwe afspraak:")).to_be_visible()
        expect(page.get_by_test_id("move-new-day")).to_contain_text(str(int(new_day[-2:])))
        _no_serious_violations(page, "moved")
        _shoot(page, "customer-move-done.png")

        page.get_by_test_id("move-back").tap()
        expect(page.get_by_test_id("customer-visit")).to_contain_text(str(int(new_day[-2:])))
    finally:
        context.close()

    drain_queues(app)
    visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order_id))
    assert visit.scheduled_date.isoformat() == new_day
    # One message more, with the same link: the planning message, then the move's.
    assert _sent_links() == [path, path]
