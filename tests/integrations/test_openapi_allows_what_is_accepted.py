"""What the published API description allows, the API accepts.

An outside schemathesis run found seven operations refusing requests their
schema allowed. Each request below is judged by the document as a client reads
it (``/api/v1/openapi.json``, JSON Schema with formats asserted): when the
document allows it, the API must not refuse it with a 4xx other than those a
valid request may get (401, 403, 404, 409, 429: who you are, what exists, what
state it is in). The few rules a schema cannot state are each published in
words and answered as documented; those are the last tests here.
"""

from __future__ import annotations

import uuid

import jsonschema_rs
import pytest

from app.integrations.api_docs.examples import REQUEST_EXAMPLES
from app.orders.partners.schemas import PartnerOrderIn
from app.platform.auth.services import create_user
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models.enums import OrderStatus, TokenKind
from tests.conftest import opened
from tests.support.helpers import PASSWORD
from tests.support.partner_support import make_partner

CLOSED = "http://127.0.0.1:9"
# What a valid request may still be answered (schemathesis' positive data acceptance).
ACCEPTABLE = {401, 403, 404, 409, 429}
WEBHOOK = {"url": "https://erp.example.com/hooks/switchboard", "events": ["job.created"]}


@pytest.fixture
def app(make_app):
    with opened(make_app(PDOK_API_BASE=f"{CLOSED}/pdok")) as app:
        yield app


@pytest.fixture
def published(client):
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def admin(app):
    user = create_user("beheer@allows.test", "Beheer", "admin", PASSWORD)
    _, token = issue_token(TokenKind.PERSONAL, "allows", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def partner(app):
    return make_partner("Allows Partner", granted_statuses=OrderStatus.values())


def _allows(published: dict, method: str, path: str, body=None, query=None) -> bool:
    """Whether the published document allows this request's body and query."""
    operation = published["paths"][path][method.lower()]
    if body is not None:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        root = {"components": published["components"], **schema}
        if not jsonschema_rs.validator_for(root, validate_formats=True).is_valid(body):
            return False
    for name, value in (query or {}).items():
        (parameter,) = [p for p in operation["parameters"] if p["name"] == name]
        validator = jsonschema_rs.validator_for(parameter["schema"], validate_formats=True)
        if not validator.is_valid(value):
            return False
    return True


def _held_to_the_document(published, answer, method, path, body=None, query=None) -> bool:
    """True when the document allows the request; then its answer must not refuse it."""
    if not _allows(published, method, path, body, query):
        return False
    assert answer.status_code < 400 or answer.status_code in ACCEPTABLE, (
        f"{method} {path}: the document allows {body or query!r}, answered "
        f"{answer.status_code} {answer.get_json()}"
    )
    return True


def _order(partner_order_id: str, **address) -> dict:
    body = {**REQUEST_EXAMPLES[PartnerOrderIn], "partner_order_id": partner_order_id}
    customer = body["customer"]
    body["customer"] = {**customer, "address": {**customer["address"], **address}}
    return body


def test_partner_orders_with_the_number_in_the_street(client, published, partner):
    path = "/api/v1/partners/{partner_id}/orders"
    held = 0
    for n, street in enumerate((" 12", "\t7", "\u0661 3", "Dorpsweg 7-b", "Laan 1 ")):
        body = _order(f"STREET-{n}", street=street, house_number=None)
        answer = client.post(
            f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
        )
        held += _held_to_the_document(published, answer, "POST", path, body)
    assert held >= 3  # the check is not empty: most of these are allowed


def test_new_webhook_endpoints_take_every_number_and_header_the_document_allows(
    client, published, admin
):
    held = 0
    for n, extra in enumerate(
        (
            {"max_attempts": 4.0, "retry_base_seconds": 60.0},
            {"custom_headers": {"X-Tenant": "acme"}},
            {"custom_headers": {"Content-Type": "text/plain"}},
            {"custom_headers": {"webhook-id": "mine"}},
            {"custom_headers": {"HOST": "evil.example"}},
        )
    ):
        body = {**WEBHOOK, "description": f"endpoint {n}", **extra}
        answer = client.post("/api/webhooks", json=body, headers=admin)
        held += _held_to_the_document(published, answer, "POST", "/api/webhooks", body)
    assert held >= 2


def test_changed_webhook_endpoints_take_what_the_document_allows(client, published, admin):
    endpoint = client.post("/api/webhooks", json=WEBHOOK, headers=admin).get_json()["data"]
    path = "/api/webhooks/{endpoint_id}"
    held = 0
    for change in ({"events": None}, {"is_active": None}, {"max_attempts": 2.0}):
        answer = client.patch(f"/api/webhooks/{endpoint['id']}", json=change, headers=admin)
        held += _held_to_the_document(published, answer, "PATCH", path, change)
    assert held >= 1


def test_the_delivery_log_pages_as_the_document_says(client, published, admin):
    endpoint = client.post("/api/webhooks", json=WEBHOOK, headers=admin).get_json()["data"]
    path = "/api/webhooks/{endpoint_id}/deliveries"
    held = 0
    for before in ("nope", str(uuid.uuid4())):
        answer = client.get(
            f"/api/webhooks/{endpoint['id']}/deliveries?before={before}", headers=admin
        )
        held += _held_to_the_document(published, answer, "GET", path, query={"before": before})
    assert held == 1


SEND_TIMES = ("2099-01-01T09:00:00Z", "2100-12-31T23:59:59-23:59", "morgen", "", None)
EMAIL = {"to": "klant@example.com", "template_id": "order_confirmation"}


def test_e_mails_take_every_send_at_the_document_allows(client, published, admin):
    path = "/api/v1/external/send-email"
    held = 0
    for send_at in SEND_TIMES:
        body = {**EMAIL, "send_at": send_at}
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code < 500, (body, answer.get_json())
        held += _held_to_the_document(published, answer, "POST", path, body)
    assert held >= 3
    # Outside the years 2000-2100 (year 9999's last hours are year 10000 in UTC):
    # refused, not taken and then never sent.
    far = {**EMAIL, "send_at": "9999-12-31T23:59:59-23:59"}
    answer = client.post(path, json=far, headers=admin)
    assert answer.status_code == 422 and "send_at" in answer.get_json()["error"]["fields"]


def test_bulk_e_mails_take_every_send_at_the_document_allows(client, published, admin):
    path = "/api/v1/external/send-bulk-email"
    held = 0
    for send_at in SEND_TIMES:
        body = {
            "list_id": "customers_with_open_orders",
            "template_id": "order_confirmation",
            "send_at": send_at,
        }
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code < 500, (body, answer.get_json())
        held += _held_to_the_document(published, answer, "POST", path, body)
    assert held >= 3


def test_whatsapp_sends_take_every_number_and_template_the_document_allows(
    client, published, admin
):
    path = "/api/v1/external/send-whatsapp"
    twenty = {"type": "body", "parameters": [{"type": "text", "text": "x"}] * 20}
    held = 0
    for body in (
        {"to": 31612345678.0, "type": "text", "text": {"body": "Hallo"}},
        {"to": "31612345678", "type": "template", "template": {"name": "t", "components": []}},
        {
            "to": "31612345678",
            "type": "template",
            "template": {"name": "t", "components": [twenty, twenty]},
        },
    ):
        answer = client.post(path, json=body, headers=admin)
        held += _held_to_the_document(published, answer, "POST", path, body)
    assert held >= 2


# -- the rules a schema cannot state: published in words, answered as documented --------


def test_a_send_at_in_the_past_is_refused_as_published(client, published, admin):
    body = {"to": "klant@example.com", "template_id": "order_confirmation"}
    past = {**body, "send_at": "2001-01-01T09:00:00Z"}
    assert _allows(published, "POST", "/api/v1/external/send-email", past)
    answer = client.post("/api/v1/external/send-email", json=past, headers=admin)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"send_at": "must not be in the past"}
    schema = published["components"]["schemas"]["SendEmailIn"]["properties"]["send_at"]
    assert "must not lie in the past" in schema["description"]


def test_header_names_equal_but_for_case_are_refused_as_published(client, published, admin):
    body = {**WEBHOOK, "custom_headers": {"X-Tenant": "a", "x-tenant": "b"}}
    assert _allows(published, "POST", "/api/webhooks", body)
    answer = client.post("/api/webhooks", json=body, headers=admin)
    assert answer.status_code == 422
    assert list(answer.get_json()["error"]["fields"]) == ["custom_headers.x-tenant"]
    assert "differ only in case" in published["paths"]["/api/webhooks"]["post"]["description"]
