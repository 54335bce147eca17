"""Every provider's webhook secret is settable (API and form), kept
encrypted, shown only as "set …1234", and verifies that provider's signed calls.

Stripe, HubSpot v3 and QuickBooks end to end: the integration is made (and
connected) through the JSON API with the secret, then a call signed as the
provider documents it goes to ``POST /api/v1/webhooks/<provider>``.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import sqlalchemy as sa
import stripe

from app.integrations import FEATURE
from app.integrations.registry import PROVIDERS
from app.integrations.services import ALL_SECRET_FIELDS
from app.platform.extensions import db
from app.platform.models import Integration
from tests.support.helpers import csrf_token_from, signed_in_admin
from tests.support.webhook_secret_support import (
    CLIENT_SECRET,
    PUBLIC_BASE_URL,
    api_headers,
    app_on_fakes,
    b64_hmac,
    create_connected,
    fake_oauth_provider,
    hubspot_v3_headers,
    patch,
    platform_events,
    stored_keys,
)

oauth_provider = pytest.fixture(fake_oauth_provider, name="oauth_provider")
app = pytest.fixture(app_on_fakes, name="app")
admin = pytest.fixture(signed_in_admin, name="admin")

STRIPE_SECRET = "whsec_SwitchboardStripeSecret7781"  # noqa: S105
QB_VERIFIER = "6b1f0a2e-verifier-token-4490"  # noqa: S105


def test_every_provider_with_a_webhook_has_a_receiver_and_a_processor():
    declared = {key for key, provider in PROVIDERS.items() if provider.webhook}
    # Salesforce signs nothing: its SOAP messages have their own route, known by the org id.
    assert declared | {"salesforce"} == set(FEATURE.webhook_processors)
    assert {"stripe", "hubspot", "quickbooks", "xero", "square", "pipedrive", "zoho_crm"} <= (
        declared
    )
    for provider in PROVIDERS.values():
        if provider.webhook:
            assert str(provider.webhook.label) and len(str(provider.webhook.help)) > 40
            assert provider.webhook.credential in ALL_SECRET_FIELDS


# --- setting the secret -------------------------------------------------------------


def test_verifier_token_is_settable_through_the_api_and_never_returned(app, client, admin):
    created = create_connected(client, "quickbooks", verifier_token=QB_VERIFIER)
    assert created["credentials"]["verifier_token"] == "set …4490"
    shown = client.get(f"/api/integrations/{created['id']}")
    assert QB_VERIFIER not in shown.get_data(as_text=True)
    assert shown.get_json()["data"]["credentials"]["verifier_token"] == "set …4490"
    # Stored encrypted: the column holds no plain text.
    # Read as text past the column's decryption (and by the id as the database keeps it).
    column = Integration.__table__.c.credentials
    raw = db.session.execute(
        sa.select(sa.cast(column, sa.Text)).where(Integration.id == uuid.UUID(created["id"]))
    ).scalar()
    assert QB_VERIFIER not in raw

    rotated = patch(client, created["id"], verifier_token="7c2e-new-verifier-token-9912")
    assert rotated.status_code == 200
    assert rotated.get_json()["data"]["credentials"]["verifier_token"] == "set …9912"
    kept = patch(client, created["id"], verifier_token="", name="QuickBooks NL")
    assert kept.get_json()["data"]["credentials"]["verifier_token"] == "set …9912"
    cleared = patch(client, created["id"], verifier_token=None)
    assert cleared.status_code == 200
    assert cleared.get_json()["data"]["credentials"]["verifier_token"] == "not set"
    logs = client.get(f"/api/integrations/{created['id']}/logs").get_data(as_text=True)
    assert "9912" not in logs and QB_VERIFIER not in logs
    assert '"verifier_token": "removed"' in logs.replace('":"', '": "')


def test_bad_webhook_secrets_are_refused_naming_the_field(app, client, admin):
    headers = api_headers(client)
    not_whsec = client.post(
        "/api/integrations",
        json={"provider": "stripe", "api_key": "sk_test_1234567890", "webhook_secret": "abc123456"},
        headers=headers,
    )
    assert not_whsec.status_code == 422
    assert "whsec_" in not_whsec.get_json()["error"]["fields"]["webhook_secret"]
    wrong_field = client.post(
        "/api/integrations",
        json={"provider": "stripe", "api_key": "sk_test_1234567890", "verifier_token": "x" * 20},
        headers=headers,
    )
    assert wrong_field.status_code == 422
    assert set(wrong_field.get_json()["error"]["fields"]) == {"verifier_token"}
    created = create_connected(client, "quickbooks")
    assert created["credentials"]["verifier_token"] == "not set"
    short = patch(client, created["id"], verifier_token="short")
    assert short.status_code == 422 and "verifier_token" in short.get_json()["error"]["fields"]
    # The OAuth client secret cannot be cleared, only replaced.
    keep = patch(client, created["id"], client_secret=None)
    assert keep.status_code == 422 and "client_secret" in keep.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Integration.id))) == 1


def test_the_settings_form_sets_keeps_and_clears_the_secret(app, client, admin):
    created = create_connected(client, "quickbooks")
    page = client.get(f"/integrations/{created['id']}").get_data(as_text=True)
    assert 'name="verifier_token"' in page and "Show verifier token" in page
    assert f"{PUBLIC_BASE_URL}/api/v1/webhooks/quickbooks" in page

    def save(**fields):
        token = csrf_token_from(client.get(f"/integrations/{created['id']}").get_data(as_text=True))
        return client.post(
            f"/integrations/{created['id']}",
            data={"csrf_token": token, "form": "settings", **fields},
        )

    assert save(verifier_token=QB_VERIFIER).status_code == 303
    page = client.get(f"/integrations/{created['id']}").get_data(as_text=True)
    assert "set …4490" in page and QB_VERIFIER not in page
    assert 'name="clear_verifier_token"' in page
    assert save(verifier_token="").status_code == 303  # blank keeps
    assert "set …4490" in client.get(f"/integrations/{created['id']}").get_data(as_text=True)
    bad = save(verifier_token="two words here")
    assert bad.status_code == 422 and 'data-field="verifier_token"' in bad.get_data(as_text=True)
    assert save(clear_verifier_token="on").status_code == 303
    page = client.get(f"/integrations/{created['id']}").get_data(as_text=True)
    assert "not set" in page and "set …4490" not in page


def test_the_add_form_asks_for_the_providers_own_secret(app, client, admin):
    page = client.get("/integrations/?provider=stripe").get_data(as_text=True)
    assert 'name="webhook_secret"' in page and "whsec_" in page
    token = csrf_token_from(page)
    added = client.post(
        "/integrations/",
        data={
            "csrf_token": token,
            "provider": "stripe",
            "api_key": "sk_test_51SwitchboardKey0000",
            "webhook_secret": STRIPE_SECRET,
        },
    )
    assert added.status_code == 303
    data = client.get("/api/integrations").get_json()["data"][0]
    assert data["credentials"]["webhook_secret"] == "set …7781"
    hubspot = client.get("/integrations/?provider=hubspot").get_data(as_text=True)
    assert "X-HubSpot-Signature-v3" in hubspot and 'name="webhook_secret"' not in hubspot


# --- end to end, per provider -------------------------------------------------------


def _stripe_call(client, secret):
    payload = json.dumps(
        {
            "id": "evt_1SecretsTest",
            "object": "event",
            "created": int(time.time()),
            "type": "customer.created",
            "data": {"object": {"id": "cus_9", "object": "customer"}},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return client.post(
        "/api/v1/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def test_stripe_end_to_end(app, client, admin):
    created = create_connected(client, "stripe", webhook_secret=STRIPE_SECRET)
    assert _stripe_call(client, "whsec_SomeoneElsesSecret00").status_code == 401
    answer = _stripe_call(client, STRIPE_SECRET)
    assert answer.status_code == 200, answer.get_json()
    assert stored_keys() == ["evt_1SecretsTest"]
    assert platform_events(app) == [("customer.created", "cus_9")]
    patch(client, created["id"], webhook_secret=None)
    refused = _stripe_call(client, STRIPE_SECRET)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "not_configured"


HUBSPOT_EVENTS = [
    {
        "eventId": 4001,
        "subscriptionId": 1,
        "portalId": 62515,
        "occurredAt": 1564113600000,
        "subscriptionType": "deal.creation",
        "attemptNumber": 0,
        "objectId": 901,
    }
]


def test_hubspot_v3_end_to_end_with_the_client_secret(app, client, admin):
    create_connected(client, "hubspot", client_secret=CLIENT_SECRET)
    body = json.dumps(HUBSPOT_EVENTS)
    url = PUBLIC_BASE_URL + "/api/v1/webhooks/hubspot"  # the URL HubSpot was given
    wrong = hubspot_v3_headers(body, url, "not-the-client-secret-000")
    assert client.post("/api/v1/webhooks/hubspot", data=body, headers=wrong).status_code == 401
    signed = hubspot_v3_headers(body, url, CLIENT_SECRET)
    answer = client.post("/api/v1/webhooks/hubspot", data=body, headers=signed)
    assert answer.status_code == 200, answer.get_json()
    assert stored_keys() == ["4001"]
    assert platform_events(app) == [("job.created", "901")]


QB_NOTIFICATION = {
    "eventNotifications": [
        {
            "realmId": "9130350000000001",
            "dataChangeEvent": {
                "entities": [
                    {
                        "name": "Payment",
                        "id": "88",
                        "operation": "Create",
                        "lastUpdated": "2026-11-20T10:00:00.000Z",
                    }
                ]
            },
        }
    ]
}


def test_quickbooks_end_to_end_with_the_verifier_token_set_through_the_api(app, client, admin):
    created = create_connected(client, "quickbooks")
    body = json.dumps(QB_NOTIFICATION)
    headers = {"intuit-signature": b64_hmac(QB_VERIFIER, body.encode())}
    # Before the token is set: the existing answer, not a mismatch.
    unset = client.post("/api/v1/webhooks/quickbooks", data=body, headers=headers)
    assert unset.status_code == 401 and unset.get_json()["error"]["code"] == "not_configured"
    assert patch(client, created["id"], verifier_token=QB_VERIFIER).status_code == 200
    wrong = {"intuit-signature": b64_hmac("another-verifier-token", body.encode())}
    refused = client.post("/api/v1/webhooks/quickbooks", data=body, headers=wrong)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_signature"
    answer = client.post("/api/v1/webhooks/quickbooks", data=body, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["data"] == {"received": 1, "duplicates": 0}
    assert stored_keys() == ["9130350000000001:Payment:88:Create:2026-11-20T10:00:00.000Z"]
    assert platform_events(app) == [("payment.received", "88")]
