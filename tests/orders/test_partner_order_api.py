"""The partner's order API (list, detail, change, cancel, config, events)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.orders.core.customer_details import PHONE_DIFFERS
from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.partner_events import EVENT_NAMES, EVENTS
from app.orders.partners.keys import issue_partner_key
from app.platform.extensions import db
from app.platform.models import AuditLog, Contact, Order
from app.platform.models.enums import KeyMode, OrderStatus
from tests.support.partner_support import add_articles, line_items_order, make_partner


def _create(client, partner, partner_order_id: str, **overrides) -> Order:
    response = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(partner_order_id, **overrides),
        headers=partner.headers,
    )
    assert response.status_code == 201, response.get_json()
    return db.session.scalar(sa.select(Order).where(Order.partner_order_id == partner_order_id))


def _move(order: Order, *statuses: OrderStatus, note: str | None = None, reason=None) -> None:
    for status in statuses:
        change_entity_status(order, status, reason=reason, partner_note=note)
    db.session.commit()


def test_list_filters_and_walks_three_pages_newest_first(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    orders = [_create(client, partner, f"GRO-{n}") for n in range(5)]
    _move(orders[1], OrderStatus.APPROVED)
    url = f"/api/v1/partners/{partner.id}/orders"

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, query_string=query, headers=partner.headers).get_json()
        assert body["success"] is True and len(body["data"]) <= 2
        seen += [row["partner_order_id"] for row in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    # Newest change first: the approved one moved last.
    assert seen == ["GRO-1", "GRO-4", "GRO-3", "GRO-2", "GRO-0"]

    # Our status name or the partner's own word for it.
    for word in ("approved", "CONFIRMED"):
        rows = client.get(url, query_string={"status": word}, headers=partner.headers)
        assert [r["partner_order_id"] for r in rows.get_json()["data"]] == ["GRO-1"]
        assert rows.get_json()["data"][0]["status"] == "CONFIRMED"
    rows = client.get(url, query_string={"status": "new,approved"}, headers=partner.headers)
    assert len(rows.get_json()["data"]) == 5

    db.session.refresh(orders[1])
    since = orders[1].updated_at.isoformat()
    rows = client.get(url, query_string={"updated_since": since}, headers=partner.headers)
    assert [r["partner_order_id"] for r in rows.get_json()["data"]] == ["GRO-1"]

    for query, field in (
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"status": "DONE"}, "status"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        bad = client.get(url, query_string=query, headers=partner.headers)
        assert bad.status_code == 422
        assert field in bad.get_json()["error"]["fields"]


def test_a_key_sees_its_own_mode_and_partner_only(client, fake_pdok, make_user):
    partner = make_partner()
    other = make_partner("Other Partner")
    add_articles(partner)
    _create(client, partner, "GRO-LIVE")
    sandboxed = _create(client, partner, "GRO-TEST")
    sandboxed.is_test = True
    db.session.commit()
    url = f"/api/v1/partners/{partner.id}/orders"

    live = client.get(url, headers=partner.headers).get_json()["data"]
    assert [row["partner_order_id"] for row in live] == ["GRO-LIVE"]
    assert client.get(f"{url}/GRO-TEST", headers=partner.headers).status_code == 404

    _, test_key = issue_partner_key(partner.organization, "sandbox", mode=KeyMode.TEST)
    db.session.commit()
    test_headers = {"X-API-Key": test_key}
    rows = client.get(url, headers=test_headers).get_json()["data"]
    assert [(r["partner_order_id"], r["is_test"]) for r in rows] == [("GRO-TEST", True)]
    assert client.get(f"{url}/GRO-TEST", headers=test_headers).status_code == 200
    assert client.get(f"{url}/GRO-LIVE", headers=test_headers).status_code == 404

    for path in ("", "/GRO-LIVE"):
        refused = client.get(f"{url}{path}", headers=other.headers)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "forbidden"
    assert client.get(url).status_code == 401


def test_detail_shows_partner_notes_never_internal_reasons(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    order = _create(client, partner, "GRO-1")
    _move(order, OrderStatus.APPROVED, note="We call to plan", reason="INTERN: klant lastig")
    response = client.get(f"/api/v1/partners/{partner.id}/orders/GRO-1", headers=partner.headers)
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["status"] == "CONFIRMED" and data["internal_status"] == "approved"
    assert data["customer"] == {
        "name": "Jan Janssen",
        "email": "jan@example.com",
        "phone": "+31612345678",
    }
    assert data["address"]["house_number"] == "123"
    assert data["address"]["postal_code"] == "1012AB"
    assert data["installation_preferences"]["time_preference"] == "morning"
    assert [line["sku"] for line in data["lines"]] == ["GRO-ALFEN-11", "GRO-INSTALL-1"]
    assert data["visit"] is None and data["changeable"] is True
    assert [h["to_status"] for h in data["history"]] == ["new", "approved"]
    assert data["history"][-1]["reason"] == "We call to plan"
    text = response.get_data(as_text=True)
    assert "INTERN" not in text and "Order created via partner API" not in text
    assert "partner_system" not in data["partner_references"]
    # Not the once-a-minute status poll: asking again is answered.
    again = client.get(f"/api/v1/partners/{partner.id}/orders/GRO-1", headers=partner.headers)
    assert again.status_code == 200


def test_patch_changes_the_orders_copy_until_planned(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    order = _create(client, partner, "GRO-1")
    contact_id = order.end_customer_contact_id
    url = f"/api/v1/partners/{partner.id}/orders/GRO-1"

    changed = client.patch(
        url,
        json={
            "customer": {"name": "Jan K. Janssen", "phone": "06 87654321"},
            "installation_preferences": {"time_preference": "afternoon"},
        },
        headers=partner.headers,
    )
    assert changed.status_code == 200, changed.get_json()
    data = changed.get_json()["data"]
    assert data["customer"]["phone"] == "+31687654321"
    assert data["customer"]["name"] == "Jan K. Janssen"
    assert data["customer"]["email"] == "jan@example.com"
    assert data["installation_preferences"]["time_preference"] == "afternoon"
    assert data["installation_preferences"]["access_notes"] == "Garage via de zijdeur"
    db.session.expire_all()
    # The contact keeps what we hold; the new phone waits for a colleague.
    contact = db.session.get(Contact, contact_id)
    assert contact.phone == "+31612345678"
    order = db.session.get(Order, order.id)
    assert PHONE_DIFFERS in order.review_reasons
    assert PHONE_DIFFERS not in data["review_reasons"]
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "PARTNER_CHANGE"))
    assert audit.changes["customer"]["phone"] == "+31687654321"

    invalid = client.patch(
        url,
        json={"customer": {"email": "nope", "phone": ""}, "address": {}},
        headers=partner.headers,
    )
    assert invalid.status_code == 422
    assert {"customer.email", "customer.phone", "address"} <= set(
        invalid.get_json()["error"]["fields"]
    )
    # Nothing to change: the order as it is.
    unchanged = client.patch(url, json={}, headers=partner.headers)
    assert unchanged.status_code == 200
    assert unchanged.get_json()["data"]["customer"]["name"] == "Jan K. Janssen"
    not_json = client.patch(url, data="{", headers=partner.headers)
    assert not_json.status_code == 400

    order.scheduled_date = date(2026, 12, 15)
    db.session.commit()
    locked = client.patch(url, json={"customer": {"name": "X"}}, headers=partner.headers)
    assert locked.status_code == 409
    assert locked.get_json()["error"]["code"] == "order_locked"
    assert "planned" in locked.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).customer_as_sent["name"] == "Jan K. Janssen"

    order = db.session.get(Order, order.id)
    order.scheduled_date = None
    _move(order, OrderStatus.ON_HOLD)
    locked = client.patch(url, json={"customer": {"name": "X"}}, headers=partner.headers)
    assert locked.status_code == 409 and "on_hold" in locked.get_json()["error"]["message"]


def test_cancel_through_the_status_engine(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    order = _create(client, partner, "GRO-1")
    started = _create(client, partner, "GRO-2")
    url = f"/api/v1/partners/{partner.id}/orders"

    missing = client.post(f"{url}/GRO-1/cancel", json={}, headers=partner.headers)
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    blank = client.post(f"{url}/GRO-1/cancel", json={"reason": "  "}, headers=partner.headers)
    assert blank.status_code == 422

    done = client.post(
        f"{url}/GRO-1/cancel", json={"reason": "Customer moved"}, headers=partner.headers
    )
    assert done.status_code == 200, done.get_json()
    data = done.get_json()["data"]
    assert data["internal_status"] == "cancelled" and data["status"] == "CANCELLED"
    assert data["history"][-1]["reason"] == "Customer moved"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.CANCELLED

    again = client.post(f"{url}/GRO-1/cancel", json={"reason": "x"}, headers=partner.headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "illegal_transition"

    _move(started, OrderStatus.APPROVED, OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS)
    refused = client.post(f"{url}/GRO-2/cancel", json={"reason": "x"}, headers=partner.headers)
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert "in_progress" in message and "completed, on_hold, scheduled" in message
    db.session.expire_all()
    assert db.session.get(Order, started.id).status == OrderStatus.IN_PROGRESS
    assert (
        client.post(f"{url}/NOPE/cancel", json={"reason": "x"}, headers=partner.headers).status_code
        == 404
    )


def test_integration_config_is_read_without_its_secret(client):
    partner = make_partner(webhook_url="https://partner.example/hooks")
    response = client.get(
        f"/api/v1/partners/{partner.id}/integration-config", headers=partner.headers
    )
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["webhook_url"] == "https://partner.example/hooks"
    assert data["partner_id"] == partner.id
    text = response.get_data(as_text=True)
    assert partner.secret not in text and "secret" not in text
    assert "api_credentials" not in data


def test_events_are_the_catalogue(client):
    partner = make_partner()
    response = client.get(f"/api/v1/partners/{partner.id}/events", headers=partner.headers)
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert tuple(event["name"] for event in data) == EVENT_NAMES
    assert [event["description"] for event in data] == [event.sent_when for event in EVENTS]
    by_name = {event["name"]: event for event in data}
    approved = by_name["order_approved"]
    assert approved["order_status"] == "approved"
    assert approved["example_payload"]["event"] == "order_approved"
    assert approved["example_payload"]["status"] == "CONFIRMED"
    assert by_name["order_completed"]["alias_of"] == "installation_completed"
    assert by_name["visit_scheduled"]["example_payload"]["visit"]["date"]
