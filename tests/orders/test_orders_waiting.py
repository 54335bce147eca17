"""New work announces itself: the desk's count of orders waiting for a person.

From outside: the count on the "Orders" menu item of the pages a desk member
opens, the live ``orders:waiting`` event a Socket.IO client hears over
WebSocket, and the notifications the desk's API lists.
"""

from __future__ import annotations

import itertools
import re
import time
from contextlib import ExitStack
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.core.status_engine import record_initial_status
from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Notification, Order
from app.platform.models.enums import OrderStatus, TokenKind
from app.platform.transactions import commit
from tests.support.helpers import PASSWORD, AuthActions
from tests.support.live_server import signed_in_session, socket_client
from tests.support.partner_support import line_items_order, make_partner

_numbers = itertools.count(1)


def _order(status=OrderStatus.NEW, **fields) -> Order:
    order = Order(order_number=f"CC-2026-{next(_numbers):05d}", status=status, **fields)
    db.session.add(order)
    db.session.flush()
    return order


def _menu_count(page: str) -> str | None:
    """The count beside "Orders" in the top bar (None: hidden)."""
    match = re.search(
        r'<span class="nav-count"[^>]*data-testid="nav-count-orders_waiting"[^>]*>', page
    )
    assert match, "no count on the Orders menu item"
    if " hidden" in match[0]:
        return None
    return re.search(r"nav-count-orders_waiting[^>]*>([^<]*)<", page)[1]


@pytest.fixture
def waiting(app):
    """Two to review, three to approve (one of them a quote), and orders that wait for no one."""
    for _ in range(2):
        _order(needs_review=True, review_reasons=["address not confirmed by PDOK"])
    _order()
    _order()
    _order(OrderStatus.QUOTE_SENT)
    for status in (OrderStatus.APPROVED, OrderStatus.SCHEDULED, OrderStatus.COMPLETED,
                   OrderStatus.ON_HOLD, OrderStatus.CANCELLED):
        _order(status)
    # A partner's sandbox orders are no one's work.
    _order(is_test=True)
    _order(is_test=True, needs_review=True)
    db.session.commit()
    return 5


@pytest.mark.parametrize("role", ["agent", "team_lead", "manager", "admin"])
def test_every_desk_page_shows_how_many_orders_wait_for_a_person(
    client, auth, make_user, waiting, role
):
    auth.login(make_user(role, language="nl").email)
    for path in ("/inbox", "/orders", "/tasks"):
        page = client.get(path).get_data(as_text=True)
        assert _menu_count(page) == str(waiting), path
    assert 'title="Orders te controleren of goed te keuren"' in page


def test_no_count_when_nothing_waits(client, auth, make_user):
    _order(OrderStatus.APPROVED)
    db.session.commit()
    auth.login(make_user("agent").email)
    assert _menu_count(client.get("/inbox").get_data(as_text=True)) is None


def test_the_count_is_kept_briefly_not_counted_on_every_page(client, auth, make_user, waiting):
    auth.login(make_user("agent").email)
    assert _menu_count(client.get("/inbox").get_data(as_text=True)) == "5"
    # Written straight to the database, past the status engine: nothing announces it,
    # and the next pages read the kept count.
    _order()
    db.session.commit()
    assert _menu_count(client.get("/orders").get_data(as_text=True)) == "5"


def _connect(stack, live_server, user):
    browser = signed_in_session(live_server.url, user.email, PASSWORD)
    return stack.enter_context(socket_client(live_server.url, browser, transports=["websocket"]))


def _heard(connection, event="orders:waiting") -> list:
    return [data for name, data in list(connection.received) if name == event]


def _wait_for_count(connection, count: int, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heard = _heard(connection)
        if heard and heard[-1]["count"] == count:
            return heard[-1]
        time.sleep(0.02)
    raise AssertionError(f"no orders:waiting with {count}: {connection.received}")


def test_the_desk_hears_the_count_move_live_and_no_one_else_does(
    app, client, live_server, make_user, fake_pdok
):
    partner = make_partner("Groendus")
    desk = {role: make_user(role) for role in ("agent", "team_lead", "manager", "admin")}
    technician = make_user("technician")
    _, token = issue_token(TokenKind.PERSONAL, "desk", user_id=desk["agent"].id)
    db.session.commit()

    with ExitStack() as stack:
        live = {role: _connect(stack, live_server, user) for role, user in desk.items()}
        technician_live = _connect(stack, live_server, technician)
        response = client.post(
            f"/api/v1/partners/{partner.id}/orders",
            json=line_items_order("GRO-LIVE-1"),
            headers=partner.headers,
        )
        assert response.status_code == 201, response.get_json()
        for connection in live.values():
            assert _wait_for_count(connection, 1) == {"count": 1, "label": "1"}
        number = response.get_json()["data"]["chargecars_order_id"]
        # Approved: it leaves the desk's waiting work, and the count says so at once.
        approved = client.post(
            f"/api/orders/{number}/status",
            headers={"Authorization": f"Bearer {token}"},
            json={"to_status": "approved"},
        )
        assert approved.status_code == 200, approved.get_json()
        for connection in live.values():
            _wait_for_count(connection, 0)
        time.sleep(0.3)
        assert not _heard(technician_live), technician_live.received
    # A page opened now agrees with what was heard: the change recounted the kept count.
    auth = AuthActions(client)
    auth.login(desk["agent"].email)
    assert _menu_count(client.get("/inbox").get_data(as_text=True)) is None


def _notifications(client, user) -> list[dict]:
    _, token = issue_token(TokenKind.PERSONAL, "n", user_id=user.id)
    db.session.commit()
    response = client.get("/api/notifications", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return [n for n in response.get_json()["data"] if n["type"] == "order_waiting"]


def test_a_new_order_tells_the_desk_once_with_a_link(client, auth, make_user, fake_pdok):
    partner = make_partner("Groendus")
    agents = [make_user("agent", language="nl"), make_user("agent")]
    lead = make_user("team_lead")
    others = [make_user("technician"), make_user("manager")]
    gone = make_user("agent", is_active_account=False)
    body = line_items_order("GRO-NOTIFY-1")

    first = client.post(f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers)
    assert first.status_code == 201, first.get_json()
    number = first.get_json()["data"]["chargecars_order_id"]
    # The partner sends it again (a retry): the same order, and nobody is told twice.
    again = client.post(f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers)
    assert again.status_code in (200, 201), again.get_json()
    assert again.get_json()["data"]["chargecars_order_id"] == number

    for user in (*agents, lead):
        told = _notifications(client, user)
        assert len(told) == 1, user.email
        assert told[0]["link"] == f"/orders/{number}"
        assert number in told[0]["title"]
        assert told[0]["message"] == "From Groendus."
    # An order made approved at once, and a partner's test order, wait for no one.
    approved = _order(OrderStatus.APPROVED)
    record_initial_status(approved, "made approved")
    record_initial_status(_order(is_test=True), "sandbox")
    commit()
    assert len(_notifications(client, lead)) == 1
    for user in others:
        assert _notifications(client, user) == [], user.role
    # A deactivated account cannot sign in to ask; nothing was made for it either.
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(Notification.user_id == gone.id)
    )
    # In the reader's language in the bell, and the link opens the order.
    auth.login(agents[0].email)
    panel = client.get("/notifications").get_data(as_text=True)
    assert f"Nieuwe order goed te keuren: {number}" in panel or (
        f"Nieuwe order te controleren: {number}" in panel
    )
    assert client.get(f"/orders/{number}").status_code == 200



def test_an_order_waiting_longer_than_the_working_hours_allowed_is_marked(
    app, client, auth, make_user
):
    week_ago = utcnow() - timedelta(days=7)
    late = _order(needs_review=True, created_at=week_ago)
    late_new = _order(created_at=week_ago)
    fresh = _order(created_at=utcnow() - timedelta(minutes=1))
    planned = _order(OrderStatus.APPROVED, created_at=week_ago)
    db.session.commit()
    auth.login(make_user("agent", language="nl").email)

    marked = set()
    for tab in ("review", "new", "to_plan"):
        page = client.get(f"/orders?tab={tab}").get_data(as_text=True)
        for number, row in re.findall(r'data-order="([^"]+)"[^>]*>(.*?)</tr>', page, re.S):
            if 'data-testid="waits-too-long">wacht te lang<' in row:
                marked.add(number)
    assert marked == {late.order_number, late_new.order_number}
    assert fresh.order_number not in marked and planned.order_number not in marked

    # A week is less than the hours allowed here: nothing is marked.
    app.config["ORDER_WAIT_HOURS"] = 400
    assert "waits-too-long" not in client.get("/orders?tab=review").get_data(as_text=True)
