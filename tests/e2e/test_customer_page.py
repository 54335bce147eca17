"""The customer's page on a phone (375×812, touch): opened from the planning message
the sandbox sent, switched to English and back, on the way and done; axe-core finds
nothing serious or critical in light or dark colours.

Screenshots go to ``SCREENSHOTS_DIR`` as customer-page*.png when it is set, for a
person to look at.
"""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.orders.core.customer_links import customer_link_url
from app.orders.mobile.services import local_today
from app.orders.mobile.visits import mark_on_the_way
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import SandboxSend, TechnicianBase, VisitSignature
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.e2e.axe import axe_violations
from tests.e2e.test_content_security_policy import assert_htmx_as_configured
from tests.e2e.test_sign_in import sign_in
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.mobile_support import visit
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number

SHOTS = os.environ.get("SCREENSHOTS_DIR")
PHONE = {"width": 375, "height": 812}
PATH = re.compile(r"/t/[\w-]{22}")


def _shoot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def _no_serious_violations(page, name: str) -> None:
    """axe in light colours, then again in dark."""
    page.emulate_media(color_scheme="light")
    assert axe_violations(page) == [], name
    page.emulate_media(color_scheme="dark")
    assert axe_violations(page) == [], f"{name} (dark)"
    page.emulate_media(color_scheme="light")


def _sandbox_link() -> str:
    """The page's path in the message the sandbox transport recorded."""
    bodies = db.session.scalars(sa.select(SandboxSend.request_body)).all()
    found = [match[0] for body in bodies if (match := PATH.search(json.dumps(body)))]
    assert len(found) == 1, bodies
    return found[0]


def _phone(browser):
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="nl-NL", color_scheme="light"
    )
    return context.new_page()


def test_the_customer_opens_the_link_from_the_planning_message(
    app, live_server, browser, make_user
):
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"])
    tech.name = "Ruben Visser"
    order = approved_order(with_whatsapp=False)
    plan_number(order, 1, [tech], working_day(7), planner)
    drain_queues(app)
    path = _sandbox_link()
    db.session.remove()

    page = _phone(browser)
    try:
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", name="De installatie van uw laadpaal")).to_be_visible()
        assert_htmx_as_configured(page)  # it refreshes on the visit's day only: loaded all the same
        expect(page.get_by_test_id("customer-stage")).to_have_text("Ingepland")
        expect(page.get_by_test_id("customer-visit")).to_contain_text("Ruben")
        expect(page.get_by_test_id("customer-visit")).to_contain_text("08:00 – 12:00")
        expect(page.get_by_test_id("customer-preparations")).to_contain_text("meterkast")
        assert "CC-2026-00101" in page.content()
        _no_serious_violations(page, "planned")
        _shoot(page, "customer-page.png")
        page.emulate_media(color_scheme="dark")
        _shoot(page, "customer-page-dark.png")
        page.emulate_media(color_scheme="light")

        page.get_by_test_id("language-en").tap()
        expect(page.get_by_test_id("customer-stage")).to_have_text("Scheduled")
        page.reload()
        expect(page.get_by_role("heading", name="Your charger installation")).to_be_visible()
        page.get_by_test_id("language-nl").tap()
        expect(page.get_by_test_id("customer-stage")).to_have_text("Ingepland")

        page.goto(live_server.url + "/t/" + "x" * 22)
        expect(page.get_by_role("heading", name="Deze link werkt niet")).to_be_visible()
        _no_serious_violations(page, "unknown link")
    finally:
        page.context.close()


def test_the_page_on_the_way_and_when_done(app, live_server, browser, make_user):
    tech = make_user("technician")
    tech.name = "Ruben Visser"
    on_way = visit(tech, number="CC-2026-00301")
    on_way.installation_address.latitude = Decimal("52.0894")
    on_way.installation_address.longitude = Decimal("5.1101")
    db.session.add(
        TechnicianBase(
            user_id=tech.id,
            start_label="Amersfoort",
            start_postal_code="3811AA",
            start_house_number="1",
            start_latitude=Decimal("52.1561"),
            start_longitude=Decimal("5.3878"),
        )
    )
    done = visit(tech, number="CC-2026-00302", status=OrderStatus.COMPLETED)
    done.completed_at = utcnow() - timedelta(hours=3)
    thread = factories.thread(contact_record=done.end_customer, order_id=done.id)
    note = factories.message(thread, "Getekend door Jan Jansen")
    db.session.add(
        VisitSignature(
            order_id=done.id, message_id=note.id, technician_id=tech.id, signer_name="Jan Jansen"
        )
    )
    db.session.commit()
    mark_on_the_way(on_way, tech, local_today())
    commit()
    on_way_url = customer_link_url(on_way).replace("http://127.0.0.1:5000", live_server.url)
    done_url = customer_link_url(done).replace("http://127.0.0.1:5000", live_server.url)
    db.session.commit()
    db.session.remove()

    page = _phone(browser)
    try:
        page.goto(on_way_url)
        expect(page.get_by_test_id("customer-stage")).to_have_text("Monteur onderweg")
        expect(page.get_by_test_id("customer-arrival")).to_contain_text(
            re.compile(r"rond \d\d:\d\d")
        )
        expect(page.get_by_test_id("customer-arrival")).to_contain_text("schatting")
        _no_serious_violations(page, "on the way")
        _shoot(page, "customer-page-on-the-way.png")

        page.goto(done_url)
        expect(page.get_by_test_id("customer-stage")).to_have_text("Geïnstalleerd")
        expect(page.get_by_test_id("customer-signed")).to_contain_text("Getekend door Jan Jansen")
        _no_serious_violations(page, "done")
        _shoot(page, "customer-page-done.png")
    finally:
        page.context.close()


def test_the_desk_revokes_the_link_on_the_order_page(app, live_server, browser, make_user):
    email = make_user("agent").email
    order = visit(None, number="CC-2026-00401")
    old = customer_link_url(order)  # at the app's public address, as messages carry it
    db.session.commit()
    db.session.remove()

    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        sign_in(page, live_server.url, email)
        page.goto(f"{live_server.url}/orders/CC-2026-00401")
        panel = page.get_by_test_id("customer-link-panel")
        expect(page.get_by_test_id("customer-link-url")).to_have_value(old)
        panel.get_by_test_id("customer-link-revoke").click()
        panel.get_by_test_id("customer-link-confirm").click()
        expect(page.get_by_test_id("customer-link-renewed")).to_be_visible()
        new = page.get_by_test_id("customer-link-url").input_value()
        assert PATH.search(new) and new != old
        assert axe_violations(page) == []
        page.get_by_test_id("customer-link-panel").scroll_into_view_if_needed()
        _shoot(page, "customer-link-panel.png")
        page.goto(old.replace("http://127.0.0.1:5000", live_server.url))
        expect(page.get_by_test_id("customer-link-unknown")).to_be_visible()
    finally:
        page.context.close()
