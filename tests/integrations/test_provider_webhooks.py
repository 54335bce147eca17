"""Provider webhooks of the integration hub: Stripe, HubSpot v3 and QuickBooks signatures.

Stripe events are signed with the ``stripe`` package's own helper; HubSpot and
QuickBooks signatures are built as their documentation describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import sqlalchemy as sa
import stripe

from app.platform.extensions import db
from app.platform.models import Contact, InboundWebhookEvent, Integration, PlatformEvent, SyncJob
from app.platform.models.enums import ProcessingState
from tests.fakes.hubspot import TOKEN as HUBSPOT_TOKEN
from tests.fakes.hubspot import FakeHubSpot
from tests.support.jobs import drain_queues, drain_until

STRIPE_SECRET = "whsec_test_stripe_signing_secret"  # noqa: S105
HUBSPOT_SECRET = "hubspot-client-secret-0000"  # noqa: S105
QB_VERIFIER = "qb-verifier-token-1111"  # noqa: S105
STRIPE_URL = "/api/v1/webhooks/stripe"
HUBSPOT_URL = "/api/v1/webhooks/hubspot"
QB_URL = "/api/v1/webhooks/quickbooks"


def make_integration(provider: str, credentials: dict, status: str = "active") -> Integration:
    integration = Integration(
        provider=provider,
        name=provider.title(),
        category={"stripe": "payments", "hubspot": "crm"}.get(provider, "accounting"),
        auth_method="api_key",
        status=status,
        credentials=credentials,
        config={},
    )
    db.session.add(integration)
    db.session.commit()
    return integration


def stripe_event(event_id="evt_1Test", event_type="customer.created", obj=None) -> str:
    obj = obj or {"id": "cus_123", "object": "customer", "email": "jan@example.nl"}
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": event_type,
        "data": {"object": obj},
    }
    return json.dumps(body)


def post_stripe(client, payload: str, secret=STRIPE_SECRET, timestamp=None, header=None):
    header = header or stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp
    )
    return client.post(
        STRIPE_URL,
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


@pytest.fixture
def stripe_integration(app):
    return make_integration("stripe", {"api_key": "sk_test_x", "webhook_secret": STRIPE_SECRET})


# --- Stripe ------------------------------------------------------------------------


def test_stripe_event_signed_by_stripe_is_accepted_once(app, client, stripe_integration):
    payload = stripe_event()
    header = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET)
    # The signature is Stripe's own: its library accepts it too.
    assert stripe.Webhook.construct_event(payload, header, STRIPE_SECRET).id == "evt_1Test"

    first = post_stripe(client, payload, header=header)
    again = post_stripe(client, payload)  # Stripe's retry: same id, new signature time

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["data"] == {"received": 1, "duplicates": 0}
    assert again.status_code == 200
    assert again.get_json()["data"] == {"received": 0, "duplicates": 1}
    drain_queues(app)
    events = db.session.scalars(sa.select(InboundWebhookEvent)).all()
    assert [(e.source, e.dedupe_key, e.processing_state) for e in events] == [
        ("stripe", "evt_1Test", ProcessingState.PROCESSED)
    ]
    assert events[0].raw_body == payload.encode()  # stored exactly as sent
    platform = db.session.scalars(sa.select(PlatformEvent)).all()
    assert [(p.name, p.source, p.integration_id) for p in platform] == [
        ("customer.created", "stripe", stripe_integration.id)
    ]
    assert platform[0].payload["object_id"] == "cus_123"
    assert platform[0].inbound_event_id == events[0].id


def test_stripe_stale_timestamp_is_refused(app, client, stripe_integration):
    payload = stripe_event()
    stale = post_stripe(client, payload, timestamp=int(time.time()) - 301)
    assert stale.status_code == 401
    assert stale.get_json()["error"]["code"] == "stale_signature"
    within = post_stripe(client, payload, timestamp=int(time.time()) - 290)
    assert within.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 1


def test_stripe_wrong_secret_and_missing_header_are_refused(app, client, stripe_integration):
    payload = stripe_event()
    wrong = post_stripe(client, payload, secret="whsec_someone_else")  # noqa: S106
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "invalid_signature"
    missing = client.post(STRIPE_URL, data=payload, content_type="application/json")
    assert missing.status_code == 401
    tampered = post_stripe(
        client,
        payload.replace("jan@", "eve@"),
        header=stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET),
    )
    assert tampered.status_code == 401
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


def test_stripe_any_v1_signature_may_match(app, client, stripe_integration):
    payload = stripe_event()
    now = int(time.time())
    good = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET, now)
    header = f"t={now},v1={'0' * 64},{good.split(',')[1]}"
    assert post_stripe(client, payload, header=header).status_code == 200


def test_the_integration_whose_secret_verifies_receives_the_event(app, client):
    make_integration("stripe", {"webhook_secret": "whsec_first"})
    second = make_integration("stripe", {"webhook_secret": STRIPE_SECRET})
    assert post_stripe(client, stripe_event()).status_code == 200
    drain_queues(app)
    assert db.session.scalar(sa.select(PlatformEvent.integration_id)) == second.id


def test_unknown_provider_inactive_integration_malformed_and_oversized(app, client):
    assert client.post("/api/v1/webhooks/pipedrive", data="{}").status_code == 404
    make_integration("stripe", {"webhook_secret": STRIPE_SECRET}, status="inactive")
    answer = post_stripe(client, stripe_event())
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "no_integration"
    make_integration("stripe", {"webhook_secret": STRIPE_SECRET})
    assert post_stripe(client, "{not json").status_code == 400
    assert post_stripe(client, json.dumps({"id": "nope"})).status_code == 400
    huge = json.dumps({"id": "evt_big", "pad": "x" * (1024 * 1024)})
    assert post_stripe(client, huge).status_code == 413
    # The channels' own webhooks still win over /api/v1/webhooks/<provider>.
    assert client.get("/api/v1/webhooks/whatsapp").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


@pytest.mark.parametrize(
    ("stripe_type", "platform_name"),
    [
        ("invoice.paid", "invoice.paid"),
        ("payment_intent.succeeded", "payment.succeeded"),
        ("charge.refunded", "payment.refunded"),
    ],
)
def test_stripe_events_route_to_platform_events(
    app, client, stripe_integration, stripe_type, platform_name
):
    obj = {"id": "obj_1", "object": stripe_type.split(".")[0], "amount": 1000, "metadata": {}}
    assert post_stripe(client, stripe_event("evt_r1", stripe_type, obj)).status_code == 200
    drain_queues(app)
    assert db.session.scalars(sa.select(PlatformEvent.name)).all() == [platform_name]
    state = db.session.scalar(sa.select(InboundWebhookEvent.processing_state))
    assert state == ProcessingState.PROCESSED


def test_unrouted_stripe_event_is_processed_without_platform_event(app, client, stripe_integration):
    payload = stripe_event("evt_x", "balance.available", {"id": "bal", "object": "balance"})
    assert post_stripe(client, payload).status_code == 200
    drain_queues(app)
    assert db.session.scalar(sa.select(sa.func.count(PlatformEvent.id))) == 0


# --- HubSpot v3 ----------------------------------------------------------------------


def hubspot_headers(body: str, uri: str, secret=HUBSPOT_SECRET, timestamp_ms=None) -> dict:
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    source = f"POST{uri}{body}{timestamp}".encode()
    signature = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest())
    return {
        "X-HubSpot-Signature-v3": signature.decode(),
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


HUBSPOT_BATCH = [
    {
        "eventId": 100,
        "subscriptionId": 1,
        "portalId": 62515,
        "occurredAt": 1564113600000,
        "subscriptionType": "contact.creation",
        "attemptNumber": 0,
        "objectId": 123,
        "changeSource": "CRM",
    },
    {
        "eventId": 101,
        "subscriptionId": 2,
        "portalId": 62515,
        "occurredAt": 1564113600000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 456,
        "propertyName": "dealstage",
        "propertyValue": "closedwon",
    },
]


def test_hubspot_v3_signature_and_per_event_dedupe(app, client):
    make_integration("hubspot", {"client_secret": HUBSPOT_SECRET, "access_token": "x"})
    body = json.dumps(HUBSPOT_BATCH)
    uri = "http://localhost" + HUBSPOT_URL  # the URL as the request arrives
    first = client.post(HUBSPOT_URL, data=body, headers=hubspot_headers(body, uri))
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["data"] == {"received": 2, "duplicates": 0}
    # A batch that repeats event 101 and adds 102: only 102 is new.
    second_batch = [HUBSPOT_BATCH[1], dict(HUBSPOT_BATCH[0], eventId=102)]
    body2 = json.dumps(second_batch)
    # Signed for the public URL, as HubSpot sees us behind a proxy.
    public = app.config["PUBLIC_BASE_URL"] + HUBSPOT_URL
    again = client.post(HUBSPOT_URL, data=body2, headers=hubspot_headers(body2, public))
    assert again.get_json()["data"] == {"received": 1, "duplicates": 1}
    drain_queues(app)
    keys = db.session.scalars(
        sa.select(InboundWebhookEvent.dedupe_key).order_by(InboundWebhookEvent.dedupe_key)
    ).all()
    assert keys == ["100", "101", "102"]
    names = sorted(db.session.scalars(sa.select(PlatformEvent.name)).all())
    assert names == ["customer.created", "customer.created", "job.updated"]
    job = db.session.scalar(sa.select(PlatformEvent).where(PlatformEvent.name == "job.updated"))
    assert job.payload["property_value"] == "closedwon"
    assert job.payload["object_id"] == "456"


def test_hubspot_bad_signature_and_stale_timestamp(app, client):
    make_integration("hubspot", {"client_secret": HUBSPOT_SECRET})
    body = json.dumps(HUBSPOT_BATCH)
    uri = "http://localhost" + HUBSPOT_URL
    wrong = client.post(HUBSPOT_URL, data=body, headers=hubspot_headers(body, uri, "other"))
    assert wrong.status_code == 401
    old = int(time.time() * 1000) - 5 * 60 * 1000 - 1000
    stale = client.post(
        HUBSPOT_URL, data=body, headers=hubspot_headers(body, uri, timestamp_ms=old)
    )
    assert stale.status_code == 401
    assert stale.get_json()["error"]["code"] == "stale_signature"
    wrong_uri = hubspot_headers(body, "http://localhost/api/v1/webhooks/other")
    assert client.post(HUBSPOT_URL, data=body, headers=wrong_uri).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


# --- QuickBooks -----------------------------------------------------------------------


def intuit_signature(body: str, token=QB_VERIFIER) -> str:
    return base64.b64encode(
        hmac.new(token.encode(), body.encode(), hashlib.sha256).digest()
    ).decode()


QB_NOTIFICATION = {
    "eventNotifications": [
        {
            "realmId": "1185883450",
            "dataChangeEvent": {
                "entities": [
                    {
                        "name": "Invoice",
                        "id": "130",
                        "operation": "Create",
                        "lastUpdated": "2025-01-31T10:00:00.000Z",
                    },
                    {
                        "name": "Invoice",
                        "id": "129",
                        "operation": "Update",
                        "lastUpdated": "2025-01-31T10:00:01.000Z",
                    },
                    {
                        "name": "Payment",
                        "id": "77",
                        "operation": "Create",
                        "lastUpdated": "2025-01-31T10:00:02.000Z",
                    },
                ]
            },
        }
    ]
}


def test_quickbooks_signature_routing_and_dedupe(app, client):
    make_integration("quickbooks", {"verifier_token": QB_VERIFIER, "access_token": "x"})
    body = json.dumps(QB_NOTIFICATION)
    headers = {"intuit-signature": intuit_signature(body), "Content-Type": "application/json"}
    first = client.post(QB_URL, data=body, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["data"] == {"received": 3, "duplicates": 0}
    assert client.post(QB_URL, data=body, headers=headers).get_json()["data"]["duplicates"] == 3
    drain_queues(app)
    names = sorted(db.session.scalars(sa.select(PlatformEvent.name)).all())
    assert names == ["invoice.created", "invoice.updated", "payment.received"]
    payment = db.session.scalar(
        sa.select(PlatformEvent).where(PlatformEvent.name == "payment.received")
    )
    assert payment.payload["realm_id"] == "1185883450"
    assert payment.payload["object_id"] == "77"


def test_quickbooks_bad_signature_and_malformed(app, client):
    make_integration("quickbooks", {"verifier_token": QB_VERIFIER})
    body = json.dumps(QB_NOTIFICATION)
    bad = {"intuit-signature": intuit_signature(body, "not-the-token")}
    assert client.post(QB_URL, data=body, headers=bad).status_code == 401
    assert client.post(QB_URL, data=body).status_code == 401
    odd = json.dumps({"eventNotifications": []})
    answer = client.post(QB_URL, data=odd, headers={"intuit-signature": intuit_signature(odd)})
    assert answer.status_code == 400
    assert "eventNotifications" in answer.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(InboundWebhookEvent.id))) == 0


def test_hubspot_contact_event_pulls_contacts_for_a_real_time_integration(app, client):
    fake = FakeHubSpot().start()
    try:
        app.config["HUBSPOT_API_BASE"] = fake.url
        integration = make_integration(
            "hubspot", {"client_secret": HUBSPOT_SECRET, "api_key": HUBSPOT_TOKEN}
        )
        integration.sync_frequency = "real_time"
        integration.sync_direction = "two_way"
        db.session.commit()
        fake.add("contacts", {"email": "nieuw@example.nl", "firstname": "Nina"})
        body = json.dumps(HUBSPOT_BATCH[:1])
        uri = "http://localhost" + HUBSPOT_URL
        assert (
            client.post(HUBSPOT_URL, data=body, headers=hubspot_headers(body, uri)).status_code
            == 200
        )
        drain_until(
            app,
            lambda: (
                db.session.scalar(
                    sa.select(sa.func.count(Contact.id)).where(Contact.email == "nieuw@example.nl")
                )
                == 1
            ),
        )
        job = db.session.scalar(sa.select(SyncJob))
        assert (job.object_type, job.direction) == ("contacts", "in")
    finally:
        fake.stop()
