"""The other providers that send signed webhooks, each verified with
its documented scheme, from the outside.

Each integration is made and connected through the JSON API with its webhook
secret; calls go to ``POST /api/v1/webhooks/<provider>`` signed as the provider
signs them: Xero (``x-xero-signature``, with its intent-to-receive check),
Square (``x-square-hmacsha256-signature`` over notification URL + body),
Pipedrive (HTTP Basic user and password set on the webhook), Zoho CRM (the
notification's ``token``) and FreshBooks (``X-FreshBooks-Hmac-SHA256`` over the
form fields as JSON).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from tests.support.helpers import signed_in_admin
from tests.support.webhook_secret_support import (
    PUBLIC_BASE_URL,
    app_on_fakes,
    b64_hmac,
    create_connected,
    fake_oauth_provider,
    patch,
    platform_events,
    stored_keys,
    stored_text,
)

oauth_provider = pytest.fixture(fake_oauth_provider, name="oauth_provider")
app = pytest.fixture(app_on_fakes, name="app")
admin = pytest.fixture(signed_in_admin, name="admin")

XERO_KEY = "nX3v2Zb+Yk7w0q5aXeroWebhooksKey/Ab1234=="  # noqa: S105
SQUARE_KEY = "Sq9-signature-key-ab12XYZ5678"  # noqa: S105
PIPEDRIVE_AUTH = "switchboard:pipedrive-hook-pass-3321"
ZOHO_TOKEN = "TOKEN_FOR_VERIFICATION_OF_1000000068001"  # noqa: S105


def _post(client, provider: str, body: str, headers: dict):
    return client.post(
        f"/api/v1/webhooks/{provider}",
        data=body,
        headers={"Content-Type": "application/json", **headers},
    )


# --- Xero -------------------------------------------------------------------------

XERO_EVENT = {
    "resourceUrl": "https://api.xero.com/api.xro/2.0/Contacts/717f2bfc-c6d4-41fd-b238",
    "resourceId": "717f2bfc-c6d4-41fd-b238",
    "eventDateUtc": "2026-11-20T01:15:39.902",
    "eventType": "CREATE",
    "eventCategory": "CONTACT",
    "tenantId": "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f",
    "tenantType": "ORGANISATION",
}


def _xero(events: list) -> str:
    return json.dumps(
        {
            "events": events,
            "firstEventSequence": 1,
            "lastEventSequence": len(events) or 1,
            "entropy": "S0m3r4Nd0mt3xt",
        }
    )


def test_xero_intent_to_receive_and_events(app, client, admin):
    created = create_connected(client, "xero", webhook_secret=XERO_KEY)
    assert created["credentials"]["webhook_secret"] == "set …34=="
    # Intent to receive: an empty, signed batch gets 200; a wrongly signed one 401.
    empty = _xero([])
    good = _post(client, "xero", empty, {"x-xero-signature": b64_hmac(XERO_KEY, empty.encode())})
    assert good.status_code == 200 and good.get_json()["data"]["received"] == 0
    bad = _post(client, "xero", empty, {"x-xero-signature": b64_hmac("wrong", empty.encode())})
    assert bad.status_code == 401
    assert _post(client, "xero", empty, {}).status_code == 401

    body = _xero([XERO_EVENT])
    signed = {"x-xero-signature": b64_hmac(XERO_KEY, body.encode())}
    assert _post(client, "xero", body, signed).get_json()["data"] == {
        "received": 1,
        "duplicates": 0,
    }
    assert _post(client, "xero", body, signed).get_json()["data"]["duplicates"] == 1
    assert stored_keys() == [
        "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f:CONTACT:717f2bfc-c6d4-41fd-b238:CREATE:"
        "2026-11-20T01:15:39.902"
    ]
    assert platform_events(app) == [("customer.created", "717f2bfc-c6d4-41fd-b238")]

    patch(client, created["id"], webhook_secret=None)
    unset = _post(client, "xero", body, signed)
    assert unset.status_code == 401 and unset.get_json()["error"]["code"] == "not_configured"


# --- Square -----------------------------------------------------------------------

SQUARE_EVENT = {
    "merchant_id": "6SSW7HV8K2ST5",
    "type": "customer.created",
    "event_id": "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",
    "created_at": "2026-11-20T21:54:57.157Z",
    "data": {
        "type": "customer",
        "id": "QPTXM8PQNX3Q726ZYHPMNP46XC",
        "object": {"customer": {"id": "QPTXM8PQNX3Q726ZYHPMNP46XC", "given_name": "Amelia"}},
    },
}
SQUARE_URL = PUBLIC_BASE_URL + "/api/v1/webhooks/square"  # the subscription's URL


def test_square_signature_over_notification_url_and_body(app, client, admin):
    created = create_connected(client, "square", webhook_secret=SQUARE_KEY)
    body = json.dumps(SQUARE_EVENT)
    header = "x-square-hmacsha256-signature"
    signed = {header: b64_hmac(SQUARE_KEY, SQUARE_URL.encode() + body.encode())}
    body_only = {header: b64_hmac(SQUARE_KEY, body.encode())}
    other_url = {header: b64_hmac(SQUARE_KEY, b"https://elsewhere.example/hook" + body.encode())}
    assert _post(client, "square", body, body_only).status_code == 401
    assert _post(client, "square", body, other_url).status_code == 401
    answer = _post(client, "square", body, signed)
    assert answer.status_code == 200, answer.get_json()
    assert stored_keys() == ["6a8f5f28-54a1-4eb0-a98a-3111513fd4fc"]
    assert platform_events(app) == [("customer.created", "QPTXM8PQNX3Q726ZYHPMNP46XC")]
    patch(client, created["id"], webhook_secret=None)
    unset = _post(client, "square", body, signed)
    assert unset.get_json()["error"]["code"] == "not_configured"


# --- Pipedrive --------------------------------------------------------------------

PIPEDRIVE_V1 = {
    "v": 1,
    "matches_filters": {"current": []},
    "meta": {
        "v": 1,
        "action": "added",
        "object": "person",
        "id": 42,
        "company_id": 7,
        "user_id": 9,
        "host": "acme.pipedrive.com",
        "timestamp": 1763675000,
        "timestamp_micro": 1763675000384700,
        "webhook_id": "12345678",
        "type": "general",
    },
    "current": {"id": 42, "name": "Jan de Vries"},
    "previous": None,
    "event": "added.person",
    "retry": 0,
}
PIPEDRIVE_V2 = {
    "meta": {
        "action": "create",
        "entity": "deal",
        "entity_id": "77",
        "id": "9f5c1b7e-2d44-4e0f-8a47-0c1f6a1b2c3d",
        "company_id": "7",
        "version": "2.0",
        "timestamp": "2026-11-20T10:00:00.000Z",
    },
    "data": {"id": 77, "title": "Laadpaal Utrecht"},
    "previous": None,
}


def _basic(credentials: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def test_pipedrive_basic_auth_v1_and_v2(app, client, admin):
    created = create_connected(client, "pipedrive", webhook_password=PIPEDRIVE_AUTH)
    assert created["credentials"]["webhook_password"] == "set …3321"
    v1 = json.dumps(PIPEDRIVE_V1)
    wrong = _post(client, "pipedrive", v1, _basic("switchboard:guessed-password-1"))
    assert wrong.status_code == 401
    assert _post(client, "pipedrive", v1, {}).status_code == 401
    assert _post(client, "pipedrive", v1, _basic(PIPEDRIVE_AUTH)).status_code == 200
    assert _post(client, "pipedrive", v1, _basic(PIPEDRIVE_AUTH)).get_json()["data"] == {
        "received": 0,
        "duplicates": 1,
    }
    v2 = json.dumps(PIPEDRIVE_V2)
    assert _post(client, "pipedrive", v2, _basic(PIPEDRIVE_AUTH)).status_code == 200
    assert stored_keys() == [
        "12345678:person:42:added:1763675000384700",
        "9f5c1b7e-2d44-4e0f-8a47-0c1f6a1b2c3d",
    ]
    assert platform_events(app) == [("customer.created", "42"), ("job.created", "77")]
    assert "pipedrive-hook-pass" not in stored_text()  # the Authorization header is not kept
    no_colon = patch(client, created["id"], webhook_password="onlyapassword")
    assert no_colon.status_code == 422
    assert "user:password" in no_colon.get_json()["error"]["fields"]["webhook_password"]
    patch(client, created["id"], webhook_password=None)
    unset = _post(client, "pipedrive", v1, _basic(PIPEDRIVE_AUTH))
    assert unset.status_code == 401 and unset.get_json()["error"]["code"] == "not_configured"


# --- Zoho CRM ---------------------------------------------------------------------


def _zoho(token: str, ids=("4150868000001234001", "4150868000001234002")) -> str:
    return json.dumps(
        {
            "server_time": 1763675045432,
            "query_params": {},
            "module": "Contacts",
            "resource_uri": "https://www.zohoapis.eu/crm/v6/Contacts",
            "ids": list(ids),
            "affected_fields": [],
            "operation": "insert",
            "channel_id": "1000000068001",
            "token": token,
        }
    )


def test_zoho_crm_notification_token(app, client, admin):
    created = create_connected(client, "zoho_crm", notification_token=ZOHO_TOKEN)
    assert _post(client, "zoho_crm", _zoho("TOKEN_SOMEONE_GUESSED_0001"), {}).status_code == 401
    answer = _post(client, "zoho_crm", _zoho(ZOHO_TOKEN), {})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["data"] == {"received": 2, "duplicates": 0}
    assert stored_keys() == [
        "1000000068001:Contacts:insert:4150868000001234001:1763675045432",
        "1000000068001:Contacts:insert:4150868000001234002:1763675045432",
    ]
    assert platform_events(app) == [
        ("customer.created", "4150868000001234001"),
        ("customer.created", "4150868000001234002"),
    ]
    assert ZOHO_TOKEN not in stored_text()  # each record's event is kept without the token
    too_long = patch(client, created["id"], notification_token="x" * 51)
    assert (
        too_long.status_code == 422
        and "notification_token" in too_long.get_json()["error"]["fields"]
    )
    patch(client, created["id"], notification_token=None)
    unset = _post(client, "zoho_crm", _zoho(ZOHO_TOKEN), {})
    assert unset.get_json()["error"]["code"] == "not_configured"


# --- FreshBooks -------------------------------------------------------------------

FRESHBOOKS_VERIFIER = "scADVVi5QuKuj5qTjVkbJNYQe7V7USpGd"  # noqa: S105
FRESHBOOKS_FIELDS = {
    "name": "invoice.create",
    "object_id": "1234567",
    "account_id": "6BApk",
    "business_id": "6543",
    "identity_id": "1234",
    "user_id": "1",
}


def _freshbooks(client, fields: dict, verifier: str):
    """Posted as FreshBooks does: form fields, signed over ``json.dumps`` of them."""
    signature = b64_hmac(verifier, json.dumps(fields).encode())
    return client.post(
        "/api/v1/webhooks/freshbooks",
        data=urlencode(fields),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-FreshBooks-Hmac-SHA256": signature,
        },
    )


def test_freshbooks_form_signed_with_the_verifier(app, client, admin):
    created = create_connected(client, "freshbooks", webhook_secret=FRESHBOOKS_VERIFIER)
    assert _freshbooks(client, FRESHBOOKS_FIELDS, "not-the-verifier-0000").status_code == 401
    tampered = dict(FRESHBOOKS_FIELDS, object_id="999")
    signature = b64_hmac(FRESHBOOKS_VERIFIER, json.dumps(FRESHBOOKS_FIELDS).encode())
    forged = client.post(
        "/api/v1/webhooks/freshbooks",
        data=urlencode(tampered),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-FreshBooks-Hmac-SHA256": signature,
        },
    )
    assert forged.status_code == 401
    answer = _freshbooks(client, FRESHBOOKS_FIELDS, FRESHBOOKS_VERIFIER)
    assert answer.status_code == 200, answer.get_json()
    paid = dict(FRESHBOOKS_FIELDS, name="payment.create", object_id="88")
    assert _freshbooks(client, paid, FRESHBOOKS_VERIFIER).status_code == 200
    assert [key.split(":")[0] for key in stored_keys()] == ["invoice.create", "payment.create"]
    assert platform_events(app) == [("invoice.created", "1234567"), ("payment.received", "88")]
    patch(client, created["id"], webhook_secret=None)
    unset = _freshbooks(client, FRESHBOOKS_FIELDS, FRESHBOOKS_VERIFIER)
    assert unset.get_json()["error"]["code"] == "not_configured"
