"""A test order never reaches our own work.

A partner's test key makes an order and the sandbox moves it to completed;
then we look where a live order would show: the inbox and its API, the
planning board and its list of orders to plan, the staff order pages,
invoices and commissions, the analytics page's figures, the partner
performance figures. A live order beside it shows where one is expected, so
each look can fail.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.analytics.figures import FIGURES, compute
from app.analytics.filters import AnalyticsFilter, local_today
from app.conversations.channels.email.bulk import AUDIENCES
from app.conversations.workspace.customer import customer_panel
from app.orders.partners.keys import issue_partner_key
from app.orders.partners.performance import partner_performance
from app.orders.planning.board import week_key
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Commission,
    CommunicationMessage,
    CommunicationThread,
    Order,
    OrderInvoice,
    OutboundDelivery,
    SyncJob,
)
from app.platform.models.enums import DeliveryKind, KeyMode
from tests.support import factories
from tests.support.helpers import reader_language
from tests.support.partner_support import add_articles, line_items_order, make_partner
from tests.support.planning_support import approved_order

STEPS = ("approved", "scheduled", "in_progress", "completed")

speak = pytest.fixture(reader_language, name="speak")


@pytest.fixture
def partner(app, fake_pdok):
    partner = make_partner(webhook_events=["order_created", "status_changed"])
    add_articles(partner)
    return partner


def _test_headers(partner) -> dict:
    _, plain = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
    db.session.commit()
    return {"X-API-Key": plain}


def _test_order(client, partner, headers, to=STEPS, partner_order_id="SANDBOX-1") -> str:
    made = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(partner_order_id),
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    url = f"/api/v1/partners/{partner.id}/sandbox/orders/{partner_order_id}/status"
    for status in to:
        assert client.post(url, json={"status": status}, headers=headers).status_code == 200
    return made.get_json()["data"]["chargecars_order_id"]


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_completed_test_order_leaves_nothing_behind_but_its_callbacks(app, client, partner):
    number = _test_order(client, partner, _test_headers(partner))
    order = db.session.scalar(sa.select(Order).where(Order.order_number == number))
    assert order.status.value == "completed" and order.is_test
    # No conversation, message, invoice, commission, accounting sync or Make event.
    assert _count(CommunicationThread) == _count(CommunicationMessage) == 0
    assert _count(OrderInvoice) == _count(Commission) == _count(SyncJob) == 0
    kinds = set(db.session.scalars(sa.select(OutboundDelivery.kind)))
    assert kinds <= {DeliveryKind.PARTNER_CALLBACK}


def test_staff_pages_and_apis_do_not_know_a_test_order(app, client, auth, make_user, partner):
    number = _test_order(client, partner, _test_headers(partner), to=("approved",))
    live = approved_order("CC-2026-00777")
    manager = make_user("manager")
    assert auth.login(manager.email).status_code == 302
    # The inbox and its API: nothing of the order.
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    assert number not in inbox.get_data(as_text=True)
    threads = client.get("/api/communication/threads")
    assert threads.status_code == 200
    assert number not in threads.get_data(as_text=True)
    # The planning board and its list of orders to plan: the live one, not the test one.
    monday = local_today() - timedelta(days=local_today().weekday())
    board = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    assert live.order_number in board
    assert number not in board
    # Its pages answer 404, as for an order that does not exist.
    assert client.get(f"/orders/{number}").status_code == 404
    assert client.get(f"/planning/orders/{number}").status_code == 404
    assert client.get(f"/api/orders/{number}").status_code == 404
    assert client.get(f"/orders/{live.order_number}").status_code == 200


def _analytics_page(client) -> str:
    html = client.get("/analytics").get_data(as_text=True)
    # What changes between two renders whatever the data: the CSRF token (it is
    # signed with the time), in the meta tag, the htmx headers and the forms.
    return re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]{20,}", "<token>", html)


def test_analytics_figures_are_the_same_with_a_test_order(app, client, auth, make_user, partner):
    headers = _test_headers(partner)
    manager = make_user("manager")
    assert auth.login(manager.email).status_code == 302
    today = local_today()
    period = AnalyticsFilter(today - timedelta(days=6), today, None)
    before_figures = [compute(key, period, utcnow()).all_rows() for key in FIGURES]
    # This session's read ends here: on SQLite an open transaction would lock the intake out.
    db.session.commit()
    before_page = _analytics_page(client)
    _test_order(client, partner, headers)
    after_figures = [compute(key, period, utcnow()).all_rows() for key in FIGURES]
    assert after_figures == before_figures
    assert _analytics_page(client) == before_page


def test_partner_performance_leaves_test_orders_and_callbacks_out(app, client, partner):
    _test_order(client, partner, _test_headers(partner))
    [figures] = partner_performance(7)
    assert figures.current.orders == 0
    assert figures.current.callbacks_delivered == figures.current.callbacks_failed == 0
    # A live order counts, so the figure can tell.
    made = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order("LIVE-1"),
        headers=partner.headers,
    )
    assert made.status_code == 201
    [figures] = partner_performance(7)
    assert figures.current.orders == 1


def test_a_known_customers_test_order_is_none_of_theirs(app, client, make_user, partner):
    # The sandbox order names a customer we know; the intake leaves the contact
    # alone (tests/test_sandbox_customers.py).
    customer = factories.contact(display_name="Jan Janssen", email="jan@example.com")
    thread = factories.thread(factories.channel(), customer)
    db.session.commit()
    agent = make_user("agent")
    _test_order(client, partner, _test_headers(partner), to=("approved",))
    assert db.session.scalar(sa.select(Order.end_customer_contact_id)) is None
    audience = AUDIENCES["customers_with_open_orders"]

    def in_audience() -> bool:
        return customer.id in {c.id for c in db.session.scalars(audience.contacts())}

    assert customer_panel(thread, agent).orders == []
    assert not in_audience()
    # A live order of theirs shows in both, so each look can tell.
    made = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order("LIVE-1"),
        headers=partner.headers,
    )
    assert made.status_code == 201
    assert [line.order.partner_order_id for line in customer_panel(thread, agent).orders] == [
        "LIVE-1"
    ]
    assert in_audience()


def test_the_staff_delivery_log_marks_a_test_orders_callbacks(
    app, client, auth, make_user, partner, speak
):
    partner.integration.webhook_url = "http://127.0.0.1:9/hooks"  # recorded, never answered
    db.session.commit()
    number = _test_order(client, partner, _test_headers(partner), to=("approved",))
    admin = make_user("admin")
    assert auth.login(admin.email).status_code == 302
    speak("nl")
    page = client.get(f"/partners/{partner.id}/deliveries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert number in html and 'data-testid="test-delivery"' in html and "testorder" in html
    assert f"/orders/{number}" not in html  # no page of ours to link to
