"""The partner API: intake, idempotency, validation, limits, polling."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
import requests
import sqlalchemy as sa

from app.conversations.contacts.identities import EMAIL, claim_addresses_of, contact_with
from app.orders.core.customer_details import EMAIL_DIFFERS, PHONE_DIFFERS
from app.orders.partners.keys import revoke_partner_key, rotate_partner_key
from app.platform.extensions import db
from app.platform.models import (
    Address,
    Contact,
    LineItem,
    Order,
    OrderStatusTransition,
    OutboundDelivery,
    SandboxSend,
)
from app.platform.models.enums import AddressValidation, ContactType
from tests.support.jobs import drain_queues
from tests.support.partner_support import (
    add_articles,
    line_items_order,
    make_partner,
    products_order,
)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _post_order(client, partner, body, **headers):
    return client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=headers or partner.headers
    )


def test_intake_creates_the_order_and_a_duplicate_returns_it(app, client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    response = _post_order(client, partner, line_items_order())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["success"] is True
    data = body["data"]
    assert data["chargecars_order_id"].startswith("CC-")
    assert data["status"] == "received"
    assert data["estimated_processing_time"] == "24-48 hours"
    assert "needs_review" not in data

    order = db.session.scalar(sa.select(Order))
    assert str(order.id) == data["chargecars_order_uuid"]
    assert order.order_number == data["chargecars_order_id"]
    assert order.status.value == "new" and order.source.value == "partner_api"
    assert order.partner_order_id == "GRO-2026-000123"
    refs = order.partner_external_references
    assert refs["partner_customer_id"] == "CUST-456789"
    assert refs["dealer_group_id"] == "VAN_MOSSEL_WEST"
    assert refs["purchase_order_number"] == "PO-20260601-001"
    assert refs["partner_system"] == "groendus_api"

    customer = order.end_customer
    assert (customer.display_name, customer.email, customer.phone) == (
        "Jan Janssen",
        "jan@example.com",
        "+31612345678",
    )
    assert customer.organization.organization_type.value == "customer_individual"
    partner_contact = db.session.get(Contact, order.account_contact_id)
    assert partner_contact.organization_id == partner.organization.id
    assert order.channel_contact_ids == [str(partner_contact.id)]

    address = order.installation_address
    assert address.validation_state == AddressValidation.VALID
    assert (address.street, address.house_number, address.postal_code) == (
        "Hoofdstraat",
        "123",
        "1012AB",
    )
    assert address.bag_id == "0363200000123456"
    assert address.province == "Noord-Holland"
    assert float(address.latitude) == pytest.approx(52.3731)
    assert fake_pdok.requests_to("/free")[0].args["fq"] == "type:adres"

    lines = order.line_items
    assert [(li.partner_sku, li.article.sku, li.needs_review) for li in lines] == [
        ("GRO-ALFEN-11", "ALF-EVE-S-11KW", False),
        ("GRO-INSTALL-1", "INST-BASIC-1P", False),
    ]
    assert lines[0].external_item_reference == "VLV-WALLBOX-001"
    assert str(order.total_amount) == "1644.00"
    assert order.installation_preferences["preferred_date"] == "2026-12-15"
    first = db.session.scalar(sa.select(OrderStatusTransition))
    assert (first.from_status, first.to_status) == (None, "new")
    assert first.business_context["partner_order_id"] == "GRO-2026-000123"

    # The confirmation goes to the partner, once.
    drain_queues(app)
    sent = db.session.scalars(
        sa.select(SandboxSend).where(SandboxSend.provider == "sendgrid")
    ).all()
    assert [s.recipient for s in sent] == ["orders@groendus.example"]
    assert sent[0].request_body["personalizations"][0]["dynamic_template_data"]["order_id"] == (
        order.order_number
    )

    again = _post_order(client, partner, line_items_order())
    assert again.status_code == 200
    assert again.get_json()["data"] == data
    assert _count(Order) == 1
    drain_queues(app)
    assert _count(SandboxSend) == 1


def test_products_shape_with_parent_chain(app, client, fake_pdok):
    master = make_partner("Eneco")
    dealer = make_partner("Eneco Dealer Utrecht", parent=master.organization)
    add_articles(dealer)
    response = _post_order(client, dealer, products_order())
    assert response.status_code == 201, response.get_json()
    order = db.session.scalar(sa.select(Order))
    chain = [
        db.session.get(Contact, uuid.UUID(cid)).organization_id for cid in order.channel_contact_ids
    ]
    assert chain == [dealer.organization.id, master.organization.id]
    assert order.line_items[0].article.sku == "ALF-EVE-S-11KW"
    assert order.installation_address.house_number_addition == "a"
    assert order.partner_external_references["purchase_order"] == "PO-77"
    assert order.installation_preferences["notes"] == "Liefst na 10 uur"


def test_unmapped_sku_and_unknown_address_are_flagged_not_refused(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    body = line_items_order(line_items=[{"sku": "GRO-MYSTERY-9", "quantity": 2}])
    body["customer"]["address"] = {"street": "Nergensstraat 1", "postal_code": "9999ZZ"}
    response = _post_order(client, partner, body)
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert data["needs_review"] is True
    assert any("GRO-MYSTERY-9" in r for r in data["review_reasons"])
    assert any("address not confirmed" in r for r in data["review_reasons"])
    line = db.session.scalar(sa.select(LineItem))
    assert line.article_id is None and line.needs_review and "GRO-MYSTERY-9" in line.note
    assert db.session.scalar(sa.select(Address)).validation_state == AddressValidation.INVALID


def test_pdok_down_keeps_the_order_for_review(client):
    # PDOK_API_BASE points at a closed port in tests.
    partner = make_partner()
    response = _post_order(client, partner, line_items_order())
    assert response.status_code == 201
    assert response.get_json()["data"]["needs_review"] is True
    address = db.session.scalar(sa.select(Address))
    assert address.validation_state == AddressValidation.NEEDS_REVIEW
    assert address.raw_input["postal_code"] == "1012AB"


def test_keys_wrong_key_401_other_partners_key_403(client):
    groendus = make_partner()
    essent = make_partner("Essent")
    url = f"/api/v1/partners/{groendus.id}/orders"
    assert client.post(url, json=line_items_order()).status_code == 401
    bad = client.post(url, json=line_items_order(), headers={"X-API-Key": "sbk_nope"})
    assert bad.status_code == 401
    assert bad.get_json()["error"]["code"] == "invalid_api_key"
    other = client.post(url, json=line_items_order(), headers=essent.headers)
    assert other.status_code == 403
    assert other.get_json() == {
        "success": False,
        "error": {"code": "forbidden", "message": "This API key belongs to another partner."},
    }
    bearer = client.post(
        url, json=line_items_order(), headers={"Authorization": f"Bearer {groendus.api_key}"}
    )
    assert bearer.status_code == 201
    assert _count(Order) == 1


def test_invalid_body_is_422_naming_every_field_and_writes_nothing(client):
    partner = make_partner()
    before = (_count(Contact), _count(Address))
    body = {
        "partner_order_id": "",
        "customer": {
            "name": "Jan",
            "email": "not-an-email",
            "phone": "12",
            "address": {"street": "Hoofdstraat 1", "postal_code": "ABCD12"},
        },
    }
    response = _post_order(client, partner, body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {
        "partner_order_id",
        "customer.email",
        "customer.phone",
        "customer.address.postal_code",
        "line_items",
    }
    assert "Dutch postal code" in error["fields"]["customer.address.postal_code"]
    assert (_count(Order), _count(Contact), _count(Address)) == (0, *before)

    malformed = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        data="{not json",
        headers={**partner.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.get_json()["error"]["code"] == "invalid_json"


def test_rate_limit_429_with_retry_after(client):
    partner = make_partner(rate_limit_per_minute=2)
    url = f"/api/v1/partners/{partner.id}/orders/none/status"
    codes = [client.get(url, headers=partner.headers) for _ in range(3)]
    assert [r.status_code for r in codes] == [404, 404, 429]
    assert 1 <= int(codes[2].headers["Retry-After"]) <= 61
    assert codes[0].headers["X-RateLimit-Limit"] == "2"
    assert codes[2].get_json()["error"]["code"] == "rate_limited"


def test_status_poll_in_partner_words_once_a_minute(client, fake_pdok):
    partner = make_partner()
    _post_order(client, partner, line_items_order())
    url = f"/api/v1/partners/{partner.id}/orders/GRO-2026-000123/status"
    first = client.get(url, headers=partner.headers)
    assert first.status_code == 200
    data = first.get_json()["data"]
    assert data["partner_order_id"] == "GRO-2026-000123"
    assert data["chargecars_order_id"].startswith("CC-")
    assert (data["status"], data["internal_status"]) == ("RECEIVED", "new")
    assert data["updated_at"]
    second = client.get(url, headers=partner.headers)
    assert second.status_code == 429
    assert 50 <= int(second.headers["Retry-After"]) <= 60


def test_integration_config_applies_or_names_fields(client):
    partner = make_partner()
    url = f"/api/v1/partners/{partner.id}/integration-config"
    good = {
        "integration_name": "groendus_portal",
        "authentication_type": "bearer_token",
        "webhook_url": "https://partner.example/webhooks/chargecars",
        "webhook_events": ["status_changed", "order_created"],
        "status_mapping": {
            "chargecars_to_partner": {"new": "RECEIVED"},
            "partner_to_chargecars": {"PAUSED": "on_hold"},
        },
        "alert_email": "ops@groendus.example",
    }
    response = client.post(url, json=good, headers=partner.headers)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["webhook_url"] == "https://partner.example/webhooks/chargecars"
    assert data["webhook_events"] == ["status_changed", "order_created"]
    assert "webhook_secret" not in data

    bad = client.post(
        url,
        json={
            "integration_name": "changed",
            "webhook_events": ["status_changed", "bogus"],
            "status_mapping": {"partner_to_chargecars": {"DONE": "finished"}},
            "colour": "blue",
        },
        headers=partner.headers,
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert {"webhook_events.1", "status_mapping.partner_to_chargecars.DONE", "colour"} <= set(
        fields
    )
    db.session.expire_all()
    assert partner.integration.integration_name == "groendus_portal"


ADMIN_ONLY = {
    "rate_limit_per_minute": 10000,
    "max_delivery_attempts": 10,
    "is_active": True,
    "order_email_address": "info@chargecars.test",
    "sync_enabled": True,
    "sync_frequency": "real_time",
}


@pytest.mark.parametrize("field", list(ADMIN_ONLY))
def test_a_partner_cannot_change_settings_that_are_ours(client, field):
    """Limits, activation and mail routing are set by an admin only."""
    partner = make_partner(rate_limit_per_minute=60, max_delivery_attempts=3)
    url = f"/api/v1/partners/{partner.id}/integration-config"
    before = {key: getattr(partner.integration, key) for key in ADMIN_ONLY}
    response = client.post(
        url,
        json={"webhook_url": "https://partner.example/hook", field: ADMIN_ONLY[field]},
        headers=partner.headers,
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert set(error["fields"]) == {field}
    assert "set by ChargeCars" in error["fields"][field]
    db.session.expire_all()
    integration = db.session.get(type(partner.integration), partner.integration.id)
    assert {key: getattr(integration, key) for key in ADMIN_ONLY} == before
    assert integration.webhook_url is None  # the valid part of the body is not applied either


def test_refused_settings_are_named_beside_the_other_errors(client):
    partner = make_partner()
    response = client.post(
        f"/api/v1/partners/{partner.id}/integration-config",
        json={"rate_limit_per_minute": 10000, "is_active": False, "webhook_events": ["bogus"]},
        headers=partner.headers,
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "rate_limit_per_minute",
        "is_active",
        "webhook_events.0",
    }


def test_a_partner_cannot_map_its_status_to_one_only_we_set(client):
    """Such as DELIVERED → completed would earn commissions and an invoice."""
    partner = make_partner()
    before = dict(partner.integration.status_mapping)
    response = client.post(
        f"/api/v1/partners/{partner.id}/integration-config",
        json={
            "status_mapping": {
                "partner_to_chargecars": {
                    "DELIVERED": "completed",
                    "PLANNED": "scheduled",
                    "CANCELLED": "cancelled",
                    "PAUSED": "on_hold",
                }
            }
        },
        headers=partner.headers,
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {
        "status_mapping.partner_to_chargecars.DELIVERED",
        "status_mapping.partner_to_chargecars.PLANNED",
        "status_mapping.partner_to_chargecars.CANCELLED",
    }
    delivered = fields["status_mapping.partner_to_chargecars.DELIVERED"]
    assert "'completed' is not granted to this partner" in delivered
    db.session.expire_all()
    integration = db.session.get(type(partner.integration), partner.integration.id)
    assert integration.status_mapping == before


def test_rotated_key_works_alongside_the_old_until_revoked(client):
    partner = make_partner()
    old_token = (
        partner.organization
        and db.session.scalars(
            sa.select(__import__("app.platform.models", fromlist=["ApiToken"]).ApiToken)
        ).one()
    )
    _, new_key = rotate_partner_key(old_token)
    db.session.commit()
    url = f"/api/v1/partners/{partner.id}/orders/x/status"
    assert client.get(url, headers=partner.headers).status_code == 404
    assert client.get(url, headers={"X-API-Key": new_key}).status_code == 404
    revoke_partner_key(old_token)
    db.session.commit()
    assert client.get(url, headers=partner.headers).status_code == 401
    assert client.get(url, headers={"X-API-Key": new_key}).status_code == 404


def test_twenty_concurrent_intakes_of_one_order_give_one_order(app, live_server, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    url = f"{live_server.url}/api/v1/partners/{partner.id}/orders"

    def post(_):
        return requests.post(url, json=line_items_order(), headers=partner.headers, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(post, range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["data"]["chargecars_order_uuid"] for r in responses}) == 1
    assert _count(Order) == 1
    assert _count(LineItem) == 2


def test_order_numbers_are_gap_free_under_concurrency(app, live_server, fake_pdok):
    partner = make_partner(rate_limit_per_minute=1000)
    url = f"{live_server.url}/api/v1/partners/{partner.id}/orders"

    def post(n):
        return requests.post(
            url, json=line_items_order(f"GRO-{n:04d}"), headers=partner.headers, timeout=30
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(30)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    numbers = sorted(
        int(n.rsplit("-", 1)[1]) for n in db.session.scalars(sa.select(Order.order_number))
    )
    assert numbers == list(range(1, 31))


# --- intake never changes a known customer's addresses ---------------------------


def _known_customer(**fields) -> Contact:
    """A customer we know by phone (a WhatsApp conversation, say), with its identities."""
    contact = Contact(
        contact_type=ContactType.PERSON,
        display_name="Marieke Bos",
        phone="+31612345678",
        **fields,
    )
    db.session.add(contact)
    db.session.flush()
    claim_addresses_of(contact)
    db.session.commit()
    return contact


def _planted_order(**customer) -> dict:
    body = line_items_order()
    body["customer"] = {**body["customer"], "email": "orders@partner.example", **customer}
    return body


def test_a_partner_cannot_plant_its_email_on_a_customer_known_by_phone(client, fake_pdok):
    # Nothing listens on port 9: the callback is recorded, its delivery fails fast.
    partner = make_partner(webhook_events=["order_created"], webhook_url="http://127.0.0.1:9/h")
    add_articles(partner)
    known = _known_customer()
    response = _post_order(client, partner, _planted_order(name="Iemand Anders"))
    assert response.status_code == 201, response.get_json()
    # The partner is told nothing about our customer: no review flag, no reason.
    assert "needs_review" not in response.get_json()["data"]

    db.session.expire_all()
    contact = db.session.get(Contact, known.id)
    assert (contact.display_name, contact.email, contact.phone) == (
        "Marieke Bos",
        None,
        "+31612345678",
    )
    assert contact_with(EMAIL, "orders@partner.example") is None
    order = db.session.scalar(sa.select(Order))
    assert order.end_customer_contact_id == known.id
    assert order.customer_as_sent == {
        "name": "Iemand Anders",
        "email": "orders@partner.example",
        "phone": "+31612345678",
    }
    assert order.needs_review and order.review_reasons == [EMAIL_DIFFERS]
    # The callback carries what the partner sent, never the contact we hold.
    delivery = db.session.scalar(sa.select(OutboundDelivery))
    assert delivery.payload["customer_info"] == {
        "name": "Iemand Anders",
        "email": "orders@partner.example",
    }
    # The same order again (a partner's retry): one order, one reason.
    again = _post_order(client, partner, _planted_order(name="Iemand Anders"))
    assert again.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(Order)).review_reasons == [EMAIL_DIFFERS]
    poll = client.get(
        f"/api/v1/partners/{partner.id}/orders/GRO-2026-000123/status", headers=partner.headers
    )
    assert poll.get_json()["data"]["needs_review"] is False


def test_the_partners_confirmation_names_the_customer_as_the_partner_sent_it(
    app, client, fake_pdok
):
    partner = make_partner()
    add_articles(partner)
    _known_customer(email="marieke@thuis.example")
    assert _post_order(client, partner, _planted_order(name="Iemand Anders")).status_code == 201
    drain_queues(app)
    confirmation = db.session.scalar(
        sa.select(SandboxSend).where(SandboxSend.recipient == "orders@groendus.example")
    )
    data = confirmation.request_body["personalizations"][0]["dynamic_template_data"]
    assert (data["customer_name"], data["needs_review"], data["review_reasons"]) == (
        "Iemand Anders",
        False,
        [],
    )
    # Nothing was sent to the planted address on the customer's behalf.
    assert (
        db.session.scalar(
            sa.select(SandboxSend).where(SandboxSend.recipient == "orders@partner.example")
        )
        is None
    )


def test_a_customer_found_by_email_keeps_its_phone(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    known = _known_customer(email="marieke@thuis.example")
    # Found by its e-mail; the partner's phone number is not the customer's.
    body = _planted_order(email="Marieke@Thuis.example", phone="06-99999999")
    assert _post_order(client, partner, body).status_code == 201
    db.session.expire_all()
    contact = db.session.get(Contact, known.id)
    assert (contact.email, contact.phone) == ("marieke@thuis.example", "+31612345678")
    order = db.session.scalar(sa.select(Order))
    assert order.end_customer_contact_id == known.id
    assert order.review_reasons == [PHONE_DIFFERS]
    assert order.customer_as_sent["phone"] == "+31699999999"


def test_a_new_customer_is_created_with_what_the_partner_sent_and_not_flagged(client, fake_pdok):
    partner = make_partner()
    add_articles(partner)
    response = _post_order(client, partner, line_items_order())
    assert response.status_code == 201
    order = db.session.scalar(sa.select(Order))
    assert not order.needs_review
    assert (order.end_customer.email, order.end_customer.phone) == (
        "jan@example.com",
        "+31612345678",
    )


def test_the_order_page_shows_agents_what_was_sent_and_why_it_waits(
    client, auth, make_user, fake_pdok
):
    partner = make_partner()
    add_articles(partner)
    _known_customer()
    number = _post_order(client, partner, _planted_order()).get_json()["data"][
        "chargecars_order_id"
    ]
    auth.login(make_user("agent").email)
    page = client.get(f"/orders/{number}").get_data(as_text=True)
    reasons = page.split('data-testid="review-reasons">', 1)[1].split("</ul>", 1)[0]
    assert "The e-mail address sent with this order is not the one on the customer" in reasons
    sent = page.split('data-testid="customer-as-sent">', 1)[1].split("</dl>", 1)[0]
    assert "orders@partner.example" in sent and "the contact has none" in sent
    # The customer card shows the contact as it is: no e-mail.
    assert page.count("orders@partner.example") == 1
