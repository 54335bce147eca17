"""The customer's personal link and page: ``/t/<token>`` from every visit message.

All from outside: the link is read from the message the sandbox sent, the page
is fetched as the customer's browser would (signed out), and the desk revokes
the link on the order page's panel.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
import requests
import sqlalchemy as sa

from app.conversations.gdpr.erasure import erase_contact
from app.orders.core.customer_links import customer_link_url, renew_link
from app.orders.mobile.services import AMSTERDAM, local_today
from app.orders.planning import travel
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    OrderStatusTransition,
    TechnicianBase,
    VisitSignature,
)
from app.platform.models.enums import MessageType, OrderStatus
from tests.conftest import opened
from tests.support import factories
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.mobile_support import visit
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number

LINK = re.compile(r"http://127\.0\.0\.1:5000/t/([\w-]{22})\b")
HTMX = {"HX-Request": "true"}


def _sent(order) -> list[str]:
    """The texts sent to the order's customer, oldest first."""
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
        .order_by(CommunicationMessage.created_at)
    ).all()


def _token(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return match[1]


def _planned(app, make_user):
    """An order planned by the planner's dialog, its notice sent: (order, its link's token)."""
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"])
    tech.name = "Ruben Visser"
    order = approved_order(with_whatsapp=False)
    order.partner_organization_id = make_partner("Groendus").organization.id
    order.total_amount = Decimal("1849.00")
    order.line_items[0].unit_price = Decimal("1234.56")
    order.line_items[0].note = "Intern: klant twijfelt over de kabelroute"
    db.session.commit()
    plan_number(order, 1, [tech], working_day(7), planner)
    drain_queues(app)
    [notice] = _sent(order)
    return order, tech, planner, _token(notice)


def _issued(order) -> str:
    """The order's link as a message would carry it (issued now if need be)."""
    token = _token(customer_link_url(order))
    db.session.commit()
    return token


def test_the_planning_and_move_notices_carry_one_link_that_opens_the_page(app, client, make_user):
    order, tech, planner, token = _planned(app, make_user)
    other = visit(None, number="CC-2026-00777", contact_fields={"display_name": "Piet Pieters"})
    other.notes = "Andere klant"
    db.session.commit()
    plan_number(order, 1, [tech], working_day(9), planner, materials="Kabel 25 m")
    drain_queues(app)

    planned, moved = _sent(order)
    assert "Uw afspraak bekijken: http://127.0.0.1:5000/t/" in planned
    assert "verplaatst" in moved and _token(moved) == token

    first = client.get(f"/t/{token}")
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "CC-2026-00101" in page and "Ingepland" in page
    day = working_day(9)
    assert f"{day.day} " in page and str(day.year) in page
    assert "08:00 – 12:00" in page
    assert "Ruben" in page and "Visser" not in page
    assert "Wat kunt u voorbereiden" in page and "meterkast" in page
    # Nothing of prices, internal notes, the technician's notes or anyone else.
    for hidden in (
        "1849",
        "1.849",
        "1234",
        "1.234",
        "Intern: klant",
        "Meterkast in de garage",
        "Sleutel ligt bij de buren",
        "Kabel 25 m",
        "Groendus",
        "CC-2026-00777",
        "Piet Pieters",
        "Andere klant",
        "jan@example.nl",
        "+31612345678",
    ):
        assert hidden not in page, hidden
    # A reload (and another day's visit) opens the same page.
    again = client.get(f"/t/{token}")
    assert again.status_code == 200 and "CC-2026-00101" in again.get_data(as_text=True)


def test_on_my_way_carries_the_link_and_the_page_shows_the_estimated_arrival(
    client, auth, make_user, monkeypatch
):
    tech = make_user("technician")
    tech.name = "Ruben Visser"
    order = visit(tech)
    order.installation_address.latitude = Decimal("52.0894")
    order.installation_address.longitude = Decimal("5.1101")
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
    db.session.commit()
    drives = []

    def twenty_five_minutes(origin, destination, day):
        drives.append((origin.key, destination.key, day))
        return travel.Leg(seconds=25 * 60, metres=21_000)

    monkeypatch.setattr(travel, "leg", twenty_five_minutes)
    token = _issued(order)
    before = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Ingepland" in before and "Verwachte aankomst" not in before

    auth.login(tech.email)
    form = {"tap": "on_the_way", "csrf_token": auth.csrf_token("/m/")}
    assert client.post(f"/m/visits/{order.id}/status", data=form, headers=HTMX).status_code == 200
    auth.logout()

    [told] = _sent(order)
    assert "onderweg" in told and _token(told) == token
    set_off = db.session.scalar(
        sa.select(AuditLog.created_at).where(AuditLog.action == "VISIT_ON_THE_WAY")
    )
    expected = (set_off + timedelta(minutes=25)).astimezone(AMSTERDAM)
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Monteur onderweg" in page
    assert f"rond {expected:%H:%M}" in page and "schatting" in page
    # From the technician's base to the customer's address, today.
    assert drives == [("52.15610,5.38780", "52.08940,5.11010", local_today())]
    # It refreshes itself: htmx asks for the status part, without script a meta refresh.
    assert 'hx-trigger="every 45s"' in page and 'http-equiv="refresh"' in page
    part = client.get(f"/t/{token}", headers=HTMX).get_data(as_text=True)
    assert part.lstrip().startswith("<section") and "<html" not in part
    assert f"rond {expected:%H:%M}" in part


def test_a_completed_order_shows_the_signed_report_and_nothing_internal(client, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.COMPLETED)
    order.completed_at = utcnow() - timedelta(days=2)
    order.line_items[1].note = "Intern: extra meter kabel niet gefactureerd"
    order.line_items[1].unit_price = Decimal("399.00")
    thread = factories.thread(contact_record=order.end_customer, order_id=order.id)
    note = factories.message(thread, "Getekend door J. Jansen")
    db.session.add(
        VisitSignature(
            order_id=order.id, message_id=note.id, technician_id=tech.id, signer_name="J. Jansen"
        )
    )
    db.session.commit()

    page = client.get(f"/t/{_issued(order)}").get_data(as_text=True)
    assert "Geïnstalleerd" in page
    assert "Alfen Eve Single S-line 11 kW" in page and "Installatie tot 10 m kabel" in page
    assert "Getekend door J. Jansen op" in page
    assert "Intern:" not in page and "399" not in page
    assert "Wat kunt u voorbereiden" not in page and "hx-trigger" not in page


def test_wrong_revoked_expired_and_erased_links_get_one_plain_page(app, client, make_user):
    admin = make_user("admin")
    revoked = visit(None, number="CC-2026-00201")
    old = _issued(revoked)
    renew_link(revoked, admin)
    db.session.commit()
    expired = visit(None, number="CC-2026-00202", status=OrderStatus.COMPLETED)
    expired.completed_at = utcnow() - timedelta(days=31)
    lately = visit(None, number="CC-2026-00203", status=OrderStatus.COMPLETED)
    lately.completed_at = utcnow() - timedelta(days=29)
    # Cancelled long ago, though edited since: its cancellation counts.
    cancelled = visit(None, number="CC-2026-00205", status=OrderStatus.CANCELLED)
    db.session.add(
        OrderStatusTransition(
            order_id=cancelled.id,
            from_status="scheduled",
            to_status="cancelled",
            created_at=utcnow() - timedelta(days=31),
        )
    )
    erased = visit(None, number="CC-2026-00204", contact_fields={"display_name": "Eva Weg"})
    db.session.commit()
    erased_token = _issued(erased)
    assert client.get(f"/t/{erased_token}").status_code == 200
    erase_contact(erased.end_customer_contact_id, actor_id=admin.id)
    db.session.commit()

    assert client.get(f"/t/{_issued(lately)}").status_code == 200
    answers = [
        client.get(f"/t/{token}")
        for token in (
            secrets.token_urlsafe(16),  # wrong, of the right length
            "kort",  # wrong, too short
            old,  # revoked
            _issued(expired),  # ended 30 days after completion
            _issued(cancelled),  # ended 30 days after the cancellation
            erased_token,  # the customer's data was erased
        )
    ]
    assert {answer.status_code for answer in answers} == {404}
    bodies = {answer.get_data(as_text=True) for answer in answers}
    assert len(bodies) == 1
    [body] = bodies
    assert "Deze link werkt niet" in body
    for order in (revoked, expired, cancelled, erased):
        assert order.order_number not in body


def test_the_page_is_kept_out_of_search_engines_caches_and_referrers(client):
    order = visit(None)
    for path in (f"/t/{_issued(order)}", f"/t/{secrets.token_urlsafe(16)}"):
        answer = client.get(path)
        assert answer.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"
        assert '<meta name="robots" content="noindex, nofollow">' in answer.get_data(as_text=True)


def test_the_token_never_reaches_the_request_log(live_server, caplog):
    token = _issued(visit(None))
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        assert requests.get(f"{live_server.url}/t/{token}", timeout=10).status_code == 200
        assert requests.get(f"{live_server.url}/t/{token}?lang=en", timeout=10).ok
    assert token not in caplog.text
    assert "GET /t/[redacted] HTTP" in caplog.text
    assert "GET /t/[redacted]?lang=en HTTP" in caplog.text


@pytest.fixture
def throttled_app(make_app):
    with opened(make_app(CUSTOMER_LINK_REQUESTS_PER_MINUTE=3)) as app:
        yield app


def test_one_address_asking_too_often_is_told_to_wait(throttled_app):
    with throttled_app.app_context():
        token = _issued(visit(None))
    client = throttled_app.test_client()
    answers = [client.get(f"/t/{token}") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    # Guessing is counted as much as reading.
    refused = client.get(f"/t/{secrets.token_urlsafe(16)}")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "Probeer het over een minuut opnieuw" in refused.get_data(as_text=True)
    assert refused.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_the_page_speaks_the_customers_language_and_the_switch_sticks(client):
    order = visit(None, contact_fields={"locale": "en"})
    token = _issued(order)

    english = client.get(f"/t/{token}").get_data(as_text=True)
    assert '<html lang="en">' in english and "Scheduled" in english
    assert 'href="?lang=nl"' in english

    switched = client.get(f"/t/{token}?lang=nl")
    assert "Ingepland" in switched.get_data(as_text=True)
    assert "customer_page_language=nl" in switched.headers["Set-Cookie"]
    # Reloaded without the switch in the address: still Dutch.
    assert '<html lang="nl">' in client.get(f"/t/{token}").get_data(as_text=True)


def test_the_desk_revokes_the_link_after_confirming_and_others_may_not(client, auth, make_user):
    order = visit(None)
    old = _issued(order)
    panel_path = f"/orders/{order.order_number}/customer-link"
    agent = make_user("agent")
    auth.login(agent.email)
    assert panel_path in client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    panel = client.get(panel_path).get_data(as_text=True)
    assert f"/t/{old}" in panel and "customer-link-confirm" not in panel
    confirm = client.get(f"{panel_path}?confirm=1").get_data(as_text=True)
    assert "customer-link-confirm" in confirm

    renewed = client.post(panel_path, data={"csrf_token": csrf_token_from(confirm)})
    assert renewed.status_code == 200
    new = _token(renewed.get_data(as_text=True))
    assert new != old
    auth.logout()
    assert client.get(f"/t/{old}").status_code == 404
    assert client.get(f"/t/{new}").status_code == 200

    tech = make_user("technician")
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    assert client.post(panel_path, data={"csrf_token": token}).status_code == 403
    assert client.get(panel_path).status_code == 403
    auth.logout()
    partner = make_partner()
    portal = make_user("partner", two_factor=True, partner_organization_id=partner.organization.id)
    auth.login(portal.email)
    assert client.post(panel_path, data={"csrf_token": token}).status_code in (302, 400, 403, 404)
    auth.logout()
    assert client.get(f"/t/{new}").status_code == 200


def test_the_page_still_opens_while_redis_is_away(throttled_app, monkeypatch, caplog):
    with throttled_app.app_context():
        token = _issued(visit(None))
    client = throttled_app.test_client()

    def unavailable(pipeline, *args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(redis.client.Pipeline, "execute", unavailable)
    with caplog.at_level(logging.WARNING):
        answers = [client.get(f"/t/{token}").status_code for _ in range(5)]
    assert answers == [200] * 5
    assert "customer page requests not counted, Redis unavailable" in caplog.text
