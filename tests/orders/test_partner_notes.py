"""A reason typed for colleagues never reaches the partner.

A status change carries an internal reason and, apart from it, a note for the
partner. From outside only: the change is made on the order page (signed-in
form) or through ``POST /api/orders/<id>/status``; the partner's callback
arrives at a receiver that verifies it with the ``standardwebhooks`` library;
the partner reads its status answer with its own key.
"""

from __future__ import annotations

import uuid

import pytest

from app.orders.mobile.services import local_today
from app.orders.partners.services import new_webhook_secret
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Contact, Order
from app.platform.models.enums import OrderStatus, TokenKind
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import csrf_token_from, serving
from tests.support.jobs import drain_until
from tests.support.partner_support import make_partner

INTERNAL = "Klant is lastig, Piet geeft 5% korting buiten de offerte om"
NOTE = "Offerte getekend, we plannen de installatie in."


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


@pytest.fixture
def partner(receiver):
    made = make_partner(
        webhook_url=receiver.url + "/hooks/chargecars",
        webhook_events=["status_changed"],
        webhook_secret=receiver.secret,
    )
    return made


def _order(partner, partner_order_id: str) -> Order:
    customer = Contact(display_name="Jan Janssen", email=f"{partner_order_id}@example.com")
    db.session.add(customer)
    db.session.flush()
    order = Order(
        order_number=f"CC-2026-{uuid.uuid4().int % 100000:05d}",
        status=OrderStatus.NEW,
        partner_organization_id=partner.organization.id,
        partner_order_id=partner_order_id,
        partner_external_references={"partner_order_id": partner_order_id},
        end_customer_contact_id=customer.id,
    )
    db.session.add(order)
    db.session.commit()
    return order


def _staff_token(make_user) -> dict:
    agent = make_user("agent")
    _, token = issue_token(TokenKind.PERSONAL, "notes", user_id=agent.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _partner_status(client, partner, partner_order_id: str) -> dict:
    answer = client.get(
        f"/api/v1/partners/{partner.id}/orders/{partner_order_id}/status",
        headers=partner.headers,
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_partner_reads_the_note_and_never_the_internal_reason(
    app, client, make_user, receiver, partner
):
    order = _order(partner, "VLV-NOTE-1")
    moved = client.post(
        f"/api/orders/{order.order_number}/status",
        json={"to_status": "approved", "reason": INTERNAL, "partner_note": NOTE},
        headers=_staff_token(make_user),
    )
    assert moved.status_code == 200, moved.get_json()
    # Our own API shows both to colleagues, each under its name.
    [transition] = moved.get_json()["data"]["transitions"]
    assert (transition["reason"], transition["partner_note"]) == (INTERNAL, NOTE)

    drain_until(app, lambda: len(receiver.events) == 1)
    assert receiver.rejections == []
    [callback] = receiver.events
    assert callback.payload["status_details"]["reason"] == NOTE
    assert "korting" not in callback.body.decode()

    answer = _partner_status(client, partner, "VLV-NOTE-1")
    assert answer["data"]["status_details"]["reason"] == NOTE
    assert answer["data"]["status_details"]["to_status"] == "approved"
    assert "korting" not in str(answer)


def test_an_internal_reason_alone_tells_the_partner_nothing(
    app, client, auth, make_user, receiver, partner
):
    order = _order(partner, "VLV-NOTE-2")
    agent = make_user("agent")
    auth.login(agent.email)
    csrf = csrf_token_from(client.get(f"/orders/{order.order_number}").get_data(as_text=True))
    moved = client.post(
        f"/orders/{order.order_number}/status",
        data={"csrf_token": csrf, "to_status": "on_hold", "reason": INTERNAL, "partner_note": ""},
    )
    assert moved.status_code == 303

    drain_until(app, lambda: len(receiver.events) == 1)
    [callback] = receiver.events
    assert callback.payload["status_details"]["reason"] is None
    assert "korting" not in callback.body.decode()

    answer = _partner_status(client, partner, "VLV-NOTE-2")
    assert answer["data"]["status_details"]["reason"] is None
    assert "korting" not in str(answer)


def test_the_order_page_asks_for_both_and_its_history_says_which_is_which(
    client, auth, make_user, partner
):
    order = _order(partner, "VLV-NOTE-3")
    agent = make_user("agent")
    auth.login(agent.email)
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert 'name="reason"' in page and 'name="partner_note"' in page
    assert "Internal reason (colleagues only)" in page
    assert "Note for the partner (the partner sees this)" in page

    csrf = csrf_token_from(page)
    form = {"csrf_token": csrf, "to_status": "approved", "reason": INTERNAL, "partner_note": NOTE}
    client.post(f"/orders/{order.order_number}/status", data=form)
    history = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    history = history.split('id="history"', 1)[1].split("</section>", 1)[0]
    internal = history.split('data-testid="internal-reason"', 1)[1].split("</span>", 1)[0]
    shared = history.split('data-testid="partner-note"', 1)[1].split("</span>", 1)[0]
    assert "Internal:" in internal and "korting" in internal
    assert "To the partner:" in shared and "installatie" in shared


def test_a_too_long_partner_note_is_refused_naming_the_field(client, make_user, partner):
    order = _order(partner, "VLV-NOTE-4")
    refused = client.post(
        f"/api/orders/{order.order_number}/status",
        json={"to_status": "approved", "partner_note": "x" * 2001},
        headers=_staff_token(make_user),
    )
    assert refused.status_code == 422
    assert "partner_note" in refused.get_json()["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.NEW


def test_a_technicians_tap_tells_the_partner_a_fixed_note_not_our_reason(
    app, client, auth, make_user, receiver, partner
):
    tech = make_user("technician")
    order = _order(partner, "VLV-NOTE-5")
    order.status = OrderStatus.SCHEDULED
    order.assigned_technician_id = tech.id
    order.scheduled_date = local_today()
    db.session.commit()
    auth.login(tech.email)
    tapped = client.post(
        f"/m/visits/{order.id}/status",
        data={"tap": "started", "csrf_token": auth.csrf_token("/m/")},
    )
    assert tapped.status_code in (200, 303)

    drain_until(app, lambda: len(receiver.events) == 1)
    [callback] = receiver.events
    assert callback.payload["status_details"]["reason"] == "Installation started"
    assert "on site" not in callback.body.decode()
    assert tech.name not in callback.body.decode()
