"""The customer confirms tomorrow's visit on their own page (the e-mail reminder's way).

From outside: the page is fetched signed out, as the link in the reminder opens it,
"Bevestigen" is posted from its form, and what follows is read where people see it:
the partner's callback rows, the board and the technician's card.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.core.customer_links import customer_link_url
from app.orders.deliveries.partner_events import VISIT_CONFIRMED
from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.platform.extensions import db
from app.platform.models import OutboundDelivery, VisitReminder
from app.platform.models.enums import DeliveryKind
from tests.conftest import opened
from tests.support.helpers import csrf_token_from
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order
from tests.support.visits_support import plan_number

TOKEN = re.compile(r"/t/([\w-]{22})\b")


@pytest.fixture
def app(make_app):
    # Reminders from midnight on, so tomorrow's visit is confirmable at any hour the
    # test runs.
    with opened(make_app(VISIT_REMINDER_TIME="00:00")) as app:
        yield app


def _planned(app, make_user, day):
    planner = make_user("team_lead", language="nl")
    tech = make_user("technician", skills=["alfen"], language="nl")
    partner = make_partner(
        webhook_url="https://partner.example/hook", webhook_events=[VISIT_CONFIRMED]
    )
    order = approved_order(
        with_whatsapp=False,
        partner_organization_id=partner.organization.id,
        partner_order_id="GRO-12",
    )
    plan_number(order, 1, [tech], day, planner)
    drain_queues(app)
    token = TOKEN.search(customer_link_url(order))[1]
    db.session.commit()
    return order, planner, tech, token


def _confirmed_callbacks() -> list[dict]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(OutboundDelivery).where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
    )
    return [row.payload for row in rows if row.payload.get("event") == VISIT_CONFIRMED]


def _confirm(client, token: str):
    page = client.get(f"/t/{token}").get_data(as_text=True)
    return client.post(f"/t/{token}/confirm", data={"csrf_token": csrf_token_from(page)})


def test_a_customer_confirms_tomorrows_visit_on_their_page_once(app, client, auth, make_user):
    day = local_today() + timedelta(days=1)
    order, planner, tech, token = _planned(app, make_user, day)

    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'data-testid="customer-confirm" data-state="ask"' in page
    assert "Ja, bevestigen" in page

    answer = _confirm(client, token)
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/t/{token}#cp-confirm")
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'data-state="confirmed"' in page and "U heeft de afspraak bevestigd" in page

    [callback] = _confirmed_callbacks()
    assert callback["partner_order_id"] == "GRO-12"
    assert callback["visit"]["date"] == day.isoformat()
    reminder = db.session.scalars(sa.select(VisitReminder)).one()
    assert (reminder.channel, reminder.visit_date) == ("page", day)
    assert reminder.confirmed_at is not None

    # Pressed again (a second tab, the back button): nothing more reaches the partner.
    assert _confirm(client, token).status_code == 303
    assert len(_confirmed_callbacks()) == 1

    auth.login(planner.email)
    monday = day - timedelta(days=day.weekday())
    board = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    assert 'data-testid="visit-confirmation">Bevestigd door klant<' in board
    auth.logout()
    auth.login(tech.email)
    card = client.get(f"/m/visits/{order.id}/card").get_data(as_text=True)
    assert 'data-testid="visit-confirmation">Bevestigd door klant<' in card


def test_a_visit_days_away_is_not_asked_to_be_confirmed_yet(app, client, make_user):
    order, _planner, _tech, token = _planned(app, make_user, local_today() + timedelta(days=4))

    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'data-testid="customer-confirm"' not in page
    # A form posted anyway (an old tab) changes nothing.
    answer = client.post(f"/t/{token}/confirm", data={"csrf_token": csrf_token_from(page)})
    assert answer.status_code == 303
    assert db.session.scalars(sa.select(VisitReminder)).all() == []
    assert _confirmed_callbacks() == []


def test_a_wrong_token_confirms_nothing_and_gets_the_plain_page(app, client, make_user):
    _order, _planner, _tech, token = _planned(app, make_user, local_today() + timedelta(days=1))
    page = client.get(f"/t/{token}").get_data(as_text=True)  # a session's form token
    answer = client.post("/t/" + "x" * 22 + "/confirm", data={"csrf_token": csrf_token_from(page)})
    assert answer.status_code == 404
    # The same plain page as the link itself answers: nothing says what was wrong.
    assert answer.get_data() == client.get("/t/" + "x" * 22).get_data()
    assert _confirmed_callbacks() == []
