"""Signed webhooks are refused once their signed timestamp is too far from our clock.

SendGrid events were once accepted with a two-day-old signed
timestamp. One check (app/platform/webhooks/freshness.py), one setting
(``WEBHOOK_TOLERANCE_SECONDS``, 300 by default) for SendGrid, Stripe, HubSpot and
the partners' Standard Webhooks.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
import stripe

from app.platform.config import Config
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, Integration
from tests.conftest import opened
from tests.fakes.sendgrid import FakeSendGrid

SENDGRID_URL = "/api/v1/webhooks/sendgrid"
STRIPE_SECRET = "whsec_freshness_test"  # noqa: S105
TWO_DAYS = 2 * 24 * 3600


@pytest.fixture
def sendgrid():
    return FakeSendGrid()


@pytest.fixture
def app(make_app, sendgrid):
    app = make_app(
        SENDGRID_API_KEY="SG.test",
        MAIL_FROM="info@chargecars.nl",
        SENDGRID_WEBHOOK_PUBLIC_KEY=sendgrid.verification_key,
    )
    with opened(app) as app:
        yield app


def post_events(client, sendgrid, seconds_ago: int):
    events = [sendgrid.event("delivered", "abc", "jan@example.nl")]
    body, headers = sendgrid.signed_post(events, timestamp=str(int(time.time()) - seconds_ago))
    return client.post(SENDGRID_URL, data=body, headers=headers)


def stored_events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(InboundWebhookEvent))


def test_the_tolerance_is_five_minutes_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("WEBHOOK_TOLERANCE_SECONDS", raising=False)
    assert Config.from_env(str(tmp_path))["WEBHOOK_TOLERANCE_SECONDS"] == 300
    monkeypatch.setenv("WEBHOOK_TOLERANCE_SECONDS", "120")
    assert Config.from_env(str(tmp_path))["WEBHOOK_TOLERANCE_SECONDS"] == 120


def test_sendgrid_events_signed_two_days_ago_are_refused(client, sendgrid):
    replay = post_events(client, sendgrid, TWO_DAYS)
    assert replay.status_code == 401
    error = replay.get_json()["error"]
    assert error["code"] == "stale_signature"
    assert "more than 300 s" in error["message"]
    from_the_future = post_events(client, sendgrid, -TWO_DAYS)
    assert from_the_future.status_code == 401
    assert stored_events() == 0

    assert post_events(client, sendgrid, 240).status_code == 200
    assert stored_events() == 1


def test_one_setting_sets_the_tolerance_of_every_signed_webhook(app, client, sendgrid):
    app.config["WEBHOOK_TOLERANCE_SECONDS"] = 60
    assert post_events(client, sendgrid, 120).status_code == 401
    assert post_events(client, sendgrid, 30).status_code == 200

    db.session.add(
        Integration(
            provider="stripe",
            name="Stripe",
            category="payments",
            auth_method="api_key",
            status="active",
            credentials={"api_key": "sk_test_x", "webhook_secret": STRIPE_SECRET},
            config={},
        )
    )
    db.session.commit()
    payload = '{"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}'
    header = stripe.WebhookSignature.generate_signature_header(
        payload, STRIPE_SECRET, timestamp=int(time.time()) - 120
    )
    refused = client.post(
        "/api/v1/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "stale_signature"
    assert "more than 60 s" in refused.get_json()["error"]["message"]
