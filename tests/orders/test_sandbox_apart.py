"""A test key's traffic stays out of live customers and live limits.

A test order (``sbk_test_…``) finds, makes and links no contact or address:
a known customer's record, conversations and GDPR export stay as they were,
and a new e-mail makes no contact. The partner still reads the customer and
address it sent, through the API, the portal and the callbacks. Test and live
keys each have the partner's per-minute allowance, counted apart.
"""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
import sqlalchemy as sa

from app.orders.partners.keys import issue_partner_key
from app.platform.extensions import db
from app.platform.models import (
    Address,
    Contact,
    ContactIdentity,
    Order,
    Organization,
    OutboundDelivery,
)
from app.platform.models.enums import KeyMode
from tests.support import factories
from tests.support.helpers import csrf_token_from, enroll_two_factor
from tests.support.partner_support import add_articles, line_items_order, make_partner

KNOWN_EMAIL = "jan@example.com"  # line_items_order's customer


@pytest.fixture
def partner(app, fake_pdok):
    partner = make_partner(
        webhook_url="http://127.0.0.1:9/hooks",  # recorded, never answered
        webhook_events=["order_created", "status_changed"],
    )
    add_articles(partner)
    return partner


def _test_key(partner) -> dict:
    _, plain = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
    db.session.commit()
    return {"X-API-Key": plain}


def _order(client, partner, headers, body) -> dict:
    made = client.post(f"/api/v1/partners/{partner.id}/orders", json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    return made.get_json()["data"]


def _shown(client, partner, headers, partner_order_id) -> dict:
    answer = client.get(f"/api/v1/partners/{partner.id}/orders/{partner_order_id}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"]


def _export(client, contact_id) -> dict:
    page = client.get(f"/admin/contacts/{contact_id}/privacy")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(f"/admin/contacts/{contact_id}/export", data={"csrf_token": token})
    assert response.status_code == 200
    return json.loads(zipfile.ZipFile(io.BytesIO(response.get_data())).read("contact.json"))


def _rows() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Contact, Address, Organization, ContactIdentity)
    }


# --- test intake touches no live customer ----------------------------------------


def test_a_test_order_leaves_a_known_customers_record_as_it_was(client, auth, make_user, partner):
    # Jan is a live customer: a live order of his made his contact and address.
    _order(client, partner, partner.headers, line_items_order("LIVE-1"))
    jan = db.session.scalar(sa.select(Contact).where(Contact.email == KNOWN_EMAIL))
    thread = factories.thread(factories.channel(), jan)
    db.session.commit()
    admin = make_user("admin")
    assert auth.login(admin.email).status_code == 302
    before = _export(client, jan.id)
    assert [o["partner_order_id"] for o in before["orders"]] == ["LIVE-1"]
    rows = _rows()

    # A test order with his e-mail, another name and another address.
    sent = line_items_order("SANDBOX-1")
    sent["customer"] = {
        **sent["customer"],
        "name": "Test Persoon",
        "address": {"street": "Kerkstraat 123", "city": "Amsterdam", "postal_code": "1234 AB"},
    }
    number = _order(client, partner, _test_key(partner), sent)["chargecars_order_id"]

    after = _export(client, jan.id)
    assert after["orders"] == before["orders"]
    assert after["addresses"] == before["addresses"]
    assert after["contact"] == before["contact"]
    assert _rows() == rows
    test_order = db.session.scalar(sa.select(Order).where(Order.order_number == number))
    assert test_order.end_customer_contact_id is None
    assert test_order.installation_address_id is None
    assert test_order.account_contact_id is None and test_order.channel_contact_ids == []
    # His conversation's page shows his live order, never the test one.
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert number not in page and "Test Persoon" not in page


def test_a_test_order_with_a_new_email_makes_no_contact_and_shows_what_was_sent(
    client, auth, make_user, partner
):
    rows = _rows()
    test = _test_key(partner)
    sent = line_items_order("SANDBOX-2")
    sent["customer"] = {**sent["customer"], "name": "Nieuwe Klant", "email": "nieuw@example.nl"}
    number = _order(client, partner, test, sent)["chargecars_order_id"]
    assert _rows() == rows
    assert db.session.scalar(sa.select(Contact).where(Contact.email == "nieuw@example.nl")) is None

    # The partner API shows the customer and the address (in the BAG's spelling),
    # as a live order with the same body shows them.
    shown = _shown(client, partner, test, "SANDBOX-2")
    assert shown["chargecars_order_id"] == number and shown["is_test"] is True
    assert shown["customer"] == {
        "name": "Nieuwe Klant",
        "email": "nieuw@example.nl",
        "phone": "+31612345678",
    }
    expected_address = {
        "street": "Hoofdstraat",
        "house_number": "123",
        "house_number_addition": None,
        "postal_code": "1012AB",
        "city": "Amsterdam",
    }
    assert shown["address"] == expected_address
    _order(client, partner, partner.headers, {**sent, "partner_order_id": "LIVE-2"})
    assert _shown(client, partner, partner.headers, "LIVE-2")["address"] == expected_address

    # Its callback carries the customer as sent.
    [callback] = db.session.scalars(
        sa.select(OutboundDelivery).where(OutboundDelivery.is_test.is_(True))
    )
    assert callback.payload["customer_info"] == {
        "name": "Nieuwe Klant",
        "email": "nieuw@example.nl",
    }

    # The portal lists it (found by its postal code) and shows its customer and address.
    user = make_user(
        "partner", email="sandbox@portal.test", partner_organization_id=partner.organization.id
    )
    enroll_two_factor(user)
    db.session.commit()
    assert auth.login(user.email).status_code == 302
    listed = client.get("/portal/?q=1012ab&mode=test")
    assert listed.status_code == 200
    html = listed.get_data(as_text=True)
    assert number in html and "Nieuwe Klant" in html and "1012AB" in html
    order_id = db.session.scalar(sa.select(Order.id).where(Order.order_number == number))
    detail = client.get(f"/portal/orders/{order_id}")
    assert detail.status_code == 200
    assert "Hoofdstraat 123, 1012AB Amsterdam" in detail.get_data(as_text=True)


def test_a_partners_change_to_a_test_orders_customer_is_kept_on_the_order(client, partner):
    test = _test_key(partner)
    rows = _rows()
    _order(client, partner, test, line_items_order("SANDBOX-3"))
    changed = client.patch(
        f"/api/v1/partners/{partner.id}/orders/SANDBOX-3",
        json={"customer": {"email": "ander@example.nl"}},
        headers=test,
    )
    assert changed.status_code == 200, changed.get_json()
    assert _shown(client, partner, test, "SANDBOX-3")["customer"]["email"] == "ander@example.nl"
    assert _rows() == rows


# --- test and live traffic count apart --------------------------------------------


def _fresh_minute() -> None:
    # The counter is per clock minute: start early in one, so every call below
    # falls in the same window.
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def _use_up(client, url, headers, limit) -> None:
    answers = [client.get(url, headers=headers) for _ in range(limit + 1)]
    assert [a.status_code for a in answers] == [200] * limit + [429]
    refused = answers[-1]
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 61


@pytest.mark.parametrize("first", ["test", "live"])
def test_test_and_live_keys_each_have_the_rate_limit(app, client, first):
    partner = make_partner(rate_limit_per_minute=3)
    keys = {"test": _test_key(partner), "live": partner.headers}
    other = "live" if first == "test" else "test"
    url = f"/api/v1/partners/{partner.id}/orders"
    _fresh_minute()
    _use_up(client, url, keys[first], 3)
    # The other mode's key still has its whole minute.
    _use_up(client, url, keys[other], 3)


def test_polling_a_test_orders_status_leaves_the_live_ones_poll(client, partner):
    test = _test_key(partner)
    _order(client, partner, test, line_items_order("SAME-ID"))
    _order(client, partner, partner.headers, line_items_order("SAME-ID"))
    url = f"/api/v1/partners/{partner.id}/orders/SAME-ID/status"
    assert client.get(url, headers=test).status_code == 200
    live = client.get(url, headers=partner.headers)
    assert live.status_code == 200, live.get_json()
    assert not live.get_json()["data"]["chargecars_order_id"].startswith("CC-TEST-")
    again = client.get(url, headers=test)
    assert again.status_code == 429 and again.headers["Retry-After"]
